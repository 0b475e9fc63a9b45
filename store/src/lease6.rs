//! DHCPv6 leases in Kea's `lease6` table (addresses and delegated prefixes): the
//! DHCPv6 engine's lookups, allocation and state changes, and the reads and writes of
//! Kea's lease6 commands.
//!
//! Columns as Kea fills them: `address` an `inet` (Kea 3.x's type; a Kea 2.2 database
//! is converted by the migrations), for a delegated prefix the prefix itself (its
//! first address, `prefix_len` its length; 128 for an address); the IAID as the signed
//! 32-bit value of its unsigned number (4141405567 is stored as -153561729);
//! `expire` = cltt + `valid_lifetime` (the database's clock, so servers sharing a
//! database agree); `hwaddr_source` Kea's bit for where the MAC came from (1 raw,
//! 2 IPv6 link-local, 4 DUID, 8 RFC 6939, 16 remote-id, 32 subscriber-id,
//! 64 DOCSIS CMTS, 128 DOCSIS modem); `state` from [`LeaseState`].
//!
//! The database arbitrates every allocation as for [`lease4`](crate::lease4):
//! `address` is the primary key and [`commit_many`] takes an address (or prefix)
//! with `INSERT … ON CONFLICT (address) DO UPDATE … WHERE` the row there is expired
//! or already this client's IA. Two servers racing for one address: the loser's
//! statement waits for the winner's transaction, finds the row taken and leaves
//! that lease out of its result. A lease belongs to the (DUID, IAID, lease type) of
//! its IA.
//!
//! Every engine function takes a `&mut PgConnection`, so the caller can put a lease
//! change and what it causes (an NCR, say) into one transaction.

use std::collections::HashSet;
use std::net::Ipv6Addr;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};

use crate::codec::{cond, order_limit, u32_from_db, v6_from_db, v6_to_db};
use crate::lease4::wipe_table;
use crate::{Error, LeaseState, Result};

/// `lease6.lease_type` (Kea's `lease6_types` table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseType {
    /// 0: a non-temporary address.
    Na,
    /// 1: a temporary address.
    Ta,
    /// 2: a delegated prefix.
    Pd,
}

impl LeaseType {
    /// Every type with its code and Kea's name, in code order.
    pub const ALL: [(LeaseType, i16, &'static str); 3] = [
        (LeaseType::Na, 0, "IA_NA"),
        (LeaseType::Ta, 1, "IA_TA"),
        (LeaseType::Pd, 2, "IA_PD"),
    ];

    /// The column value.
    pub fn code(self) -> i16 {
        Self::ALL.iter().find(|t| t.0 == self).map_or(0, |t| t.1)
    }

    /// Kea's name (`IA_NA`, `IA_TA`, `IA_PD`).
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|t| t.0 == self)
            .map_or("IA_NA", |t| t.2)
    }

    /// The type of a column value (unknown values read as `Na`).
    pub fn from_code(code: i16) -> LeaseType {
        Self::ALL
            .iter()
            .find(|t| t.1 == code)
            .map_or(LeaseType::Na, |t| t.0)
    }

    /// The type Kea names so.
    pub fn from_name(name: &str) -> Option<LeaseType> {
        Self::ALL.iter().find(|t| t.2 == name).map(|t| t.0)
    }
}

/// One `lease6` row.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease6 {
    /// The address, or the delegated prefix's first address.
    pub address: Ipv6Addr,
    /// The client's DUID.
    pub duid: Option<Vec<u8>>,
    /// Valid lifetime, seconds.
    pub valid_lifetime: u32,
    /// When the lease ends.
    pub expire: DateTime<Utc>,
    /// Subnet id.
    pub subnet_id: u32,
    /// Preferred lifetime, seconds.
    pub pref_lifetime: u32,
    /// Address or prefix.
    pub lease_type: LeaseType,
    /// The IA's IAID.
    pub iaid: u32,
    /// Prefix length (128 for an address).
    pub prefix_len: u8,
    /// A forward DNS update was made.
    pub fqdn_fwd: bool,
    /// A reverse DNS update was made.
    pub fqdn_rev: bool,
    /// The client's host name.
    pub hostname: Option<String>,
    /// Lease state.
    pub state: LeaseState,
    /// The client's hardware address, when known.
    pub hwaddr: Option<Vec<u8>>,
    /// Its hardware type (1 Ethernet), when known.
    pub hwtype: Option<u16>,
    /// Where the hardware address came from (Kea's `lease_hwaddr_source` bit), when
    /// known.
    pub hwaddr_source: Option<u32>,
    /// Free-form JSON, as Kea keeps it.
    pub user_context: Option<String>,
    /// The configured `pool-id` (0 when none).
    pub pool_id: u32,
}

/// What to write for a lease (the row minus what the database decides: `expire` is
/// now + `valid_lifetime`, `state` 0, `user_context` kept or NULL).
#[derive(Debug, Clone, PartialEq)]
pub struct NewLease6 {
    /// The address, or the delegated prefix (its first address).
    pub address: Ipv6Addr,
    /// The client's DUID.
    pub duid: Vec<u8>,
    /// The IA's IAID.
    pub iaid: u32,
    /// Address ([`LeaseType::Na`]) or prefix ([`LeaseType::Pd`]).
    pub lease_type: LeaseType,
    /// 128 for an address, the delegated length for a prefix.
    pub prefix_len: u8,
    /// Valid lifetime, seconds; `expire` becomes now + this.
    pub valid_lifetime: u32,
    /// Preferred lifetime, seconds.
    pub pref_lifetime: u32,
    /// Subnet id.
    pub subnet_id: u32,
    /// A forward DNS update is made for this lease.
    pub fqdn_fwd: bool,
    /// A reverse DNS update is made for this lease.
    pub fqdn_rev: bool,
    /// The client's FQDN, with its trailing dot as Kea writes it.
    pub hostname: Option<String>,
    /// The client's hardware address, when known.
    pub hwaddr: Option<Vec<u8>>,
    /// Its hardware type.
    pub hwtype: Option<u16>,
    /// Where it came from (Kea's `lease_hwaddr_source` bit).
    pub hwaddr_source: Option<u32>,
    /// `pool-id` of the pool or pd-pool the lease came from (0 when none).
    pub pool_id: u32,
}

/// One IA's lookup for [`probe`]: the client's leases for this IA in these
/// subnets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey {
    /// The subnets searched (a shared network's, say).
    pub subnet_ids: Vec<u32>,
    /// The client's DUID.
    pub duid: Vec<u8>,
    /// The IA's IAID.
    pub iaid: u32,
    /// IA_NA or IA_PD.
    pub ty: LeaseType,
}

const COLUMNS: &str = "host(address) AS address, duid, valid_lifetime, expire, subnet_id, \
    pref_lifetime, lease_type, iaid, prefix_len, fqdn_fwd, fqdn_rev, hostname, state, hwaddr, \
    hwtype, hwaddr_source, user_context, pool_id";

/// [`COLUMNS`] plus the row's `inet` key as `pk`, for statements that join on it.
const KEYED_COLUMNS: &str = "lease6.address AS pk, host(lease6.address) AS address, duid, \
    valid_lifetime, expire, subnet_id, pref_lifetime, lease_type, iaid, prefix_len, fqdn_fwd, \
    fqdn_rev, hostname, state, hwaddr, hwtype, hwaddr_source, user_context, pool_id";

/// The DUID a declined lease carries (Kea's `DUID::EMPTY`).
const EMPTY_DUID: [u8; 3] = [0, 0, 0];

/// A `smallint` column's value.
fn small(column: &'static str, v: u32) -> Result<i16> {
    i16::try_from(v).map_err(|_| Error::OutOfRange {
        column,
        value: u64::from(v),
    })
}

/// The IAID as Kea stores it: the unsigned value's bits as a signed `integer`.
fn iaid_to_db(iaid: u32) -> i32 {
    iaid as i32
}

fn from_row(row: &sqlx::postgres::PgRow) -> Result<Lease6> {
    Ok(Lease6 {
        address: v6_from_db(row.try_get("address")?)?,
        duid: row.try_get("duid")?,
        valid_lifetime: u32_from_db(row.try_get("valid_lifetime")?),
        expire: row
            .try_get::<Option<DateTime<Utc>>, _>("expire")?
            .unwrap_or_default(),
        subnet_id: u32_from_db(row.try_get("subnet_id")?),
        pref_lifetime: u32_from_db(row.try_get("pref_lifetime")?),
        lease_type: LeaseType::from_code(row.try_get::<Option<i16>, _>("lease_type")?.unwrap_or(0)),
        iaid: row.try_get::<Option<i32>, _>("iaid")?.unwrap_or(0) as u32,
        prefix_len: row
            .try_get::<Option<i16>, _>("prefix_len")?
            .unwrap_or(128)
            .clamp(0, 128) as u8,
        fqdn_fwd: row.try_get::<Option<bool>, _>("fqdn_fwd")?.unwrap_or(false),
        fqdn_rev: row.try_get::<Option<bool>, _>("fqdn_rev")?.unwrap_or(false),
        hostname: row.try_get("hostname")?,
        state: LeaseState::from_code(row.try_get::<Option<i64>, _>("state")?.unwrap_or(0)),
        hwaddr: row.try_get("hwaddr")?,
        hwtype: row
            .try_get::<Option<i16>, _>("hwtype")?
            .map(|v| v.max(0) as u16),
        hwaddr_source: row
            .try_get::<Option<i16>, _>("hwaddr_source")?
            .map(|v| v.max(0) as u32),
        user_context: row.try_get("user_context")?,
        pool_id: u32_from_db(row.try_get("pool_id")?),
    })
}

/// Which leases to read. Empty means all.
#[derive(Debug, Default, Clone)]
pub struct Lease6Filter {
    /// Exactly this address.
    pub address: Option<Ipv6Addr>,
    /// Of this type (its code).
    pub lease_type: Option<i16>,
    /// In one of these subnets.
    pub subnets: Option<Vec<i64>>,
    /// With this DUID.
    pub duid: Option<Vec<u8>>,
    /// With this IAID (as the column stores it).
    pub iaid: Option<i32>,
    /// With this host name (case-insensitive).
    pub hostname: Option<String>,
    /// Addresses above this one (keyset paging).
    pub after: Option<Ipv6Addr>,
    /// At most this many.
    pub limit: Option<i64>,
}

/// Reads the leases matching `f`, ordered by address.
pub async fn select<'e>(db: impl sqlx::PgExecutor<'e>, f: &Lease6Filter) -> Result<Vec<Lease6>> {
    let mut q: QueryBuilder<Postgres> =
        QueryBuilder::new(format!("SELECT {COLUMNS} FROM lease6 WHERE true"));
    cond(&mut q, " AND address = ", f.address.map(v6_to_db), "::inet");
    cond(&mut q, " AND lease_type = ", f.lease_type, "");
    cond(&mut q, " AND subnet_id = ANY(", f.subnets.clone(), ")");
    cond(&mut q, " AND duid = ", f.duid.clone(), "");
    cond(&mut q, " AND iaid = ", f.iaid, "");
    cond(
        &mut q,
        " AND lower(hostname) = lower(",
        f.hostname.clone(),
        ")",
    );
    cond(&mut q, " AND address > ", f.after.map(v6_to_db), "::inet");
    // The table's inet column, not the text alias of the same name.
    order_limit(&mut q, "lease6.address", f.limit);
    q.build()
        .fetch_all(db)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

const INSERT: &str = "INSERT INTO lease6 (address, duid, valid_lifetime, expire, subnet_id, \
    pref_lifetime, lease_type, iaid, prefix_len, fqdn_fwd, fqdn_rev, hostname, state, hwaddr, \
    hwtype, hwaddr_source, user_context, pool_id) \
    VALUES ($1::inet, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";

// pool_id stays as it is.
const UPDATE: &str = "UPDATE lease6 SET duid = $2, valid_lifetime = $3, expire = $4, \
    subnet_id = $5, pref_lifetime = $6, lease_type = $7, iaid = $8, prefix_len = $9, \
    fqdn_fwd = $10, fqdn_rev = $11, hostname = $12, state = $13, hwaddr = $14, \
    hwtype = $15, hwaddr_source = $16, user_context = $17 WHERE address = $1::inet";

type Query<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

/// Binds `l`'s columns but `pool_id` to $1..$17, in [`INSERT`]'s order.
fn bind<'q>(q: Query<'q>, l: &'q Lease6) -> Result<Query<'q>> {
    let hwtype = l
        .hwtype
        .map(|t| small("hwtype", u32::from(t)))
        .transpose()?;
    let source = l
        .hwaddr_source
        .map(|s| small("hwaddr_source", s))
        .transpose()?;
    Ok(q.bind(v6_to_db(l.address))
        .bind(&l.duid)
        .bind(i64::from(l.valid_lifetime))
        .bind(l.expire)
        .bind(i64::from(l.subnet_id))
        .bind(i64::from(l.pref_lifetime))
        .bind(l.lease_type.code())
        .bind(iaid_to_db(l.iaid))
        .bind(i16::from(l.prefix_len))
        .bind(l.fqdn_fwd)
        .bind(l.fqdn_rev)
        .bind(&l.hostname)
        .bind(l.state.code())
        .bind(&l.hwaddr)
        .bind(hwtype)
        .bind(source)
        .bind(&l.user_context))
}

fn insert_query(l: &Lease6) -> Result<Query<'_>> {
    Ok(bind(sqlx::query(INSERT), l)?.bind(i64::from(l.pool_id)))
}

/// Writes `l` as a new row; a lease already on the address is a unique violation.
pub async fn insert<'e>(db: impl sqlx::PgExecutor<'e>, l: &Lease6) -> Result<()> {
    insert_query(l)?.execute(db).await?;
    Ok(())
}

/// Replaces the lease on `l.address` (its `pool_id` stays); `false` when there is none
/// and `force_create` is not set, else the lease is inserted. One transaction.
pub async fn update(pool: &PgPool, l: &Lease6, force_create: bool) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let n = bind(sqlx::query(UPDATE), l)?
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        if !force_create {
            return Ok(false);
        }
        insert_query(l)?.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Deletes the lease on `a`; `false` when there was none.
pub async fn delete<'e>(db: impl sqlx::PgExecutor<'e>, a: Ipv6Addr) -> Result<bool> {
    let n = sqlx::query("DELETE FROM lease6 WHERE address = $1::inet")
        .bind(v6_to_db(a))
        .execute(db)
        .await?
        .rows_affected();
    Ok(n > 0)
}

/// Deletes every lease of `subnet` (of all with `None`); returns how many per subnet.
pub async fn wipe<'e>(
    db: impl sqlx::PgExecutor<'e>,
    subnet: Option<i64>,
) -> Result<Vec<(i64, i64)>> {
    wipe_table(db, "lease6", subnet).await
}

/// The lease on `address` (an address, or a delegated prefix's first address), in
/// whatever state.
pub async fn get<'e>(db: impl sqlx::PgExecutor<'e>, address: Ipv6Addr) -> Result<Option<Lease6>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM lease6 WHERE address = $1::inet"
    ))
    .bind(v6_to_db(address))
    .fetch_optional(db)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// What the DHCPv6 engine asks once for a batch of requests before it chooses their
/// addresses, in one statement: each key's leases (`duid`, `iaid`, `ty` in its
/// `subnet_ids`), in any state — expired and released ones too, so a returning client
/// gets its previous address back when it is still free — newest `expire` first, in the
/// order of `keys`; and which of `candidates` are taken ([`leased_among`]).
pub async fn probe(
    conn: &mut PgConnection,
    keys: &[ClientKey],
    candidates: &[Ipv6Addr],
) -> Result<(Vec<Vec<Lease6>>, HashSet<Ipv6Addr>)> {
    let mut answers = vec![Vec::new(); keys.len()];
    let mut taken = HashSet::new();
    if keys.is_empty() && candidates.is_empty() {
        return Ok((answers, taken));
    }
    let duid: Vec<&[u8]> = keys.iter().map(|k| k.duid.as_slice()).collect();
    let iaid: Vec<i32> = keys.iter().map(|k| iaid_to_db(k.iaid)).collect();
    let ty: Vec<i16> = keys.iter().map(|k| k.ty.code()).collect();
    // Each key's subnets as (key number, subnet id) pairs: arrays of arrays must be
    // rectangular in PostgreSQL, subnet lists are not.
    let (pair_key, pair_subnet): (Vec<i64>, Vec<i64>) = keys
        .iter()
        .enumerate()
        .flat_map(|(i, k)| {
            k.subnet_ids
                .iter()
                .map(move |s| (i as i64 + 1, i64::from(*s)))
        })
        .unzip();
    let text: Vec<String> = candidates.iter().map(|a| v6_to_db(*a)).collect();
    // Per key, a lookup on the (duid, iaid, subnet_id) index; the candidates by primary
    // key (key number 0).
    let rows = sqlx::query(&format!(
        "SELECT q.i AS key_number, o.* \
           FROM unnest($1::bytea[], $2::int[], $3::smallint[]) WITH ORDINALITY AS q(d, ia, ty, i) \
           CROSS JOIN LATERAL ( \
             SELECT {COLUMNS} FROM lease6 l \
              WHERE l.duid = q.d AND l.iaid = q.ia AND l.lease_type = q.ty \
                AND l.subnet_id = ANY(ARRAY( \
                      SELECT p.s FROM unnest($4::bigint[], $5::bigint[]) AS p(k, s) WHERE p.k = q.i))) o \
         UNION ALL \
         SELECT 0::bigint, {COLUMNS} FROM lease6 l \
          WHERE l.address = ANY($6::inet[]) AND l.expire >= now() \
         ORDER BY key_number, expire DESC"
    ))
    .bind(&duid)
    .bind(&iaid)
    .bind(&ty)
    .bind(&pair_key)
    .bind(&pair_subnet)
    .bind(&text)
    .fetch_all(conn)
    .await?;
    for row in &rows {
        let n: i64 = row.try_get("key_number")?;
        if n == 0 {
            taken.insert(v6_from_db(row.try_get("address")?)?);
        } else if let Some(answer) = usize::try_from(n - 1).ok().and_then(|i| answers.get_mut(i)) {
            answer.push(from_row(row)?);
        }
    }
    Ok((answers, taken))
}

/// Of `candidates` (addresses or prefixes), the first without an unexpired lease (its
/// index). A declined address is held until its probation ends; released and
/// reclaimed leases have expired. Checks only the lease table: the caller has left
/// out reserved addresses.
pub async fn first_unleased(
    conn: &mut PgConnection,
    candidates: &[Ipv6Addr],
) -> Result<Option<usize>> {
    let taken = leased_among(conn, candidates).await?;
    Ok(candidates.iter().position(|a| !taken.contains(a)))
}

/// Runs `ANALYZE lease6`, so that query plans follow the table's growth (a plan made
/// while the table was nearly empty scans it whole; autovacuum may take a minute).
pub async fn analyze(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("ANALYZE lease6").execute(conn).await?;
    Ok(())
}

/// Of `candidates`, those with a row whose lease has not expired (active, or declined
/// and still in probation): the ones [`first_unleased`] would skip. One primary-key
/// lookup for all, so the engine can probe the candidates of many requests at once.
pub async fn leased_among(
    conn: &mut PgConnection,
    candidates: &[Ipv6Addr],
) -> Result<HashSet<Ipv6Addr>> {
    if candidates.is_empty() {
        return Ok(HashSet::new());
    }
    let text: Vec<String> = candidates.iter().map(|a| v6_to_db(*a)).collect();
    // A primary-key lookup of the candidates, which no plan turns into a scan of the
    // whole table.
    let taken: Vec<String> = sqlx::query_scalar(
        "SELECT host(address) FROM lease6 WHERE address = ANY($1::inet[]) AND expire >= now()",
    )
    .bind(&text)
    .fetch_all(conn)
    .await?;
    taken.iter().map(|t| v6_from_db(t)).collect()
}

/// Writes `lease` if its address (or prefix) is free for its IA: see [`commit_many`].
/// `None` when another client holds it.
pub async fn commit(conn: &mut PgConnection, lease: &NewLease6) -> Result<Option<Lease6>> {
    Ok(commit_many(conn, std::slice::from_ref(lease)).await?.pop())
}

/// Writes many leases in one statement, each only if its address (or prefix) is free
/// for its IA: no row there, or an expired one (in any state: a declined address once
/// its probation is over, a released or reclaimed one), or one of the same DUID, IAID
/// and lease type that is not declined. `expire` becomes now + `valid_lifetime`,
/// `state` 0; a row taken over keeps its `user_context`. This is also how a lease is
/// extended (RENEW, REBIND): the owner's row passes the test.
///
/// Returns the rows written, in address order; a lease missing from the result lost
/// its address or prefix to another client (or repeated an address earlier in
/// `leases`). The rows are written in address order, so two batches racing for
/// overlapping addresses wait for each other instead of deadlocking.
pub async fn commit_many(conn: &mut PgConnection, leases: &[NewLease6]) -> Result<Vec<Lease6>> {
    // Address order, each address once (the first lease asking for it).
    let mut order: Vec<&NewLease6> = leases.iter().collect();
    order.sort_by_key(|l| l.address);
    order.dedup_by_key(|l| l.address);
    if order.is_empty() {
        return Ok(Vec::new());
    }
    let address: Vec<String> = order.iter().map(|l| v6_to_db(l.address)).collect();
    let duid: Vec<&[u8]> = order.iter().map(|l| l.duid.as_slice()).collect();
    let num = |f: fn(&NewLease6) -> u32| order.iter().map(|l| i64::from(f(l))).collect::<Vec<_>>();
    let valid = num(|l| l.valid_lifetime);
    let pref = num(|l| l.pref_lifetime);
    let subnet = num(|l| l.subnet_id);
    let pool = num(|l| l.pool_id);
    let ty: Vec<i16> = order.iter().map(|l| l.lease_type.code()).collect();
    let iaid: Vec<i32> = order.iter().map(|l| iaid_to_db(l.iaid)).collect();
    let plen: Vec<i16> = order.iter().map(|l| i16::from(l.prefix_len)).collect();
    let fwd: Vec<bool> = order.iter().map(|l| l.fqdn_fwd).collect();
    let rev: Vec<bool> = order.iter().map(|l| l.fqdn_rev).collect();
    let hostname: Vec<Option<&str>> = order.iter().map(|l| l.hostname.as_deref()).collect();
    let hwaddr: Vec<Option<&[u8]>> = order.iter().map(|l| l.hwaddr.as_deref()).collect();
    let hwtype = order
        .iter()
        .map(|l| l.hwtype.map(|t| small("hwtype", u32::from(t))).transpose())
        .collect::<Result<Vec<Option<i16>>>>()?;
    let source = order
        .iter()
        .map(|l| {
            l.hwaddr_source
                .map(|s| small("hwaddr_source", s))
                .transpose()
        })
        .collect::<Result<Vec<Option<i16>>>>()?;
    sqlx::query(&format!(
        "INSERT INTO lease6 AS l (address, duid, valid_lifetime, expire, subnet_id, pref_lifetime, \
                                  lease_type, iaid, prefix_len, fqdn_fwd, fqdn_rev, hostname, state, \
                                  hwaddr, hwtype, hwaddr_source, user_context, pool_id) \
         SELECT a::inet, d, vl, now() + make_interval(secs => vl), sid, pl, ty, ia, plen, ff, fr, hn, 0, \
                hw, ht, hs, NULL, pid \
           FROM unnest($1::text[], $2::bytea[], $3::bigint[], $4::bigint[], $5::bigint[], \
                       $6::smallint[], $7::int[], $8::smallint[], $9::bool[], $10::bool[], \
                       $11::text[], $12::bytea[], $13::smallint[], $14::smallint[], $15::bigint[]) \
                WITH ORDINALITY AS t(a, d, vl, sid, pl, ty, ia, plen, ff, fr, hn, hw, ht, hs, pid, i) \
          ORDER BY t.i \
         ON CONFLICT (address) DO UPDATE SET duid = EXCLUDED.duid, \
           valid_lifetime = EXCLUDED.valid_lifetime, expire = EXCLUDED.expire, \
           subnet_id = EXCLUDED.subnet_id, pref_lifetime = EXCLUDED.pref_lifetime, \
           lease_type = EXCLUDED.lease_type, iaid = EXCLUDED.iaid, prefix_len = EXCLUDED.prefix_len, \
           fqdn_fwd = EXCLUDED.fqdn_fwd, fqdn_rev = EXCLUDED.fqdn_rev, hostname = EXCLUDED.hostname, \
           state = 0, hwaddr = EXCLUDED.hwaddr, hwtype = EXCLUDED.hwtype, \
           hwaddr_source = EXCLUDED.hwaddr_source, pool_id = EXCLUDED.pool_id \
         WHERE l.expire < now() \
            OR (l.state <> 1 AND l.duid = EXCLUDED.duid AND l.iaid = EXCLUDED.iaid \
                AND l.lease_type = EXCLUDED.lease_type) \
         RETURNING {COLUMNS}"
    ))
    .bind(&address)
    .bind(&duid)
    .bind(&valid)
    .bind(&subnet)
    .bind(&pref)
    .bind(&ty)
    .bind(&iaid)
    .bind(&plen)
    .bind(&fwd)
    .bind(&rev)
    .bind(&hostname)
    .bind(&hwaddr)
    .bind(&hwtype)
    .bind(&source)
    .bind(&pool)
    .fetch_all(conn)
    .await?
    .iter()
    .map(from_row)
    .collect::<Result<Vec<_>>>()
    .map(|mut rows| {
        rows.sort_by_key(|l| l.address);
        rows
    })
}

/// A client's RELEASE of one address or prefix: the IA's assigned lease on `address`
/// becomes released (state 3, valid and preferred lifetimes 0, expired now, DNS flags
/// cleared) and is kept, so that the client gets it back if it is still free when it
/// returns (Kea ≥ 2.7's lease affinity). Returns the lease as it was before, or `None`
/// when `address` holds no assigned lease of this DUID, IAID and type.
pub async fn release(
    conn: &mut PgConnection,
    address: Ipv6Addr,
    ty: LeaseType,
    duid: &[u8],
    iaid: u32,
) -> Result<Option<Lease6>> {
    let row = sqlx::query(&format!(
        "WITH old AS ( \
           SELECT {KEYED_COLUMNS} FROM lease6 \
            WHERE address = $1::inet AND lease_type = $2 AND duid = $3 AND iaid = $4 AND state = 0 \
              FOR UPDATE) \
         UPDATE lease6 l SET state = 3, valid_lifetime = 0, pref_lifetime = 0, expire = now(), \
                fqdn_fwd = false, fqdn_rev = false \
           FROM old WHERE l.address = old.pk \
         RETURNING old.*"
    ))
    .bind(v6_to_db(address))
    .bind(ty.code())
    .bind(duid)
    .bind(iaid_to_db(iaid))
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// A client's DECLINE of an address, as Kea does it: the IA's assigned address lease
/// becomes declined (state 1) with the empty DUID 00:00:00, no hardware address, host
/// name or DNS flags, preferred lifetime 0 and valid lifetime `probation` seconds, so
/// the address stays out of use until then. Only addresses are declined: a delegated
/// prefix never is (DECLINE carries no IA_PD; `address` naming a prefix finds
/// nothing). Returns the lease as it was before, or `None` when `address` holds no
/// assigned address lease of this DUID and IAID.
pub async fn decline(
    conn: &mut PgConnection,
    address: Ipv6Addr,
    duid: &[u8],
    iaid: u32,
    probation: u32,
) -> Result<Option<Lease6>> {
    let row = sqlx::query(&format!(
        "WITH old AS ( \
           SELECT {KEYED_COLUMNS} FROM lease6 \
            WHERE address = $1::inet AND lease_type = $2 AND duid = $3 AND iaid = $4 AND state = 0 \
              FOR UPDATE) \
         UPDATE lease6 l SET state = 1, duid = $6, hwaddr = NULL, hwtype = NULL, \
                hwaddr_source = NULL, hostname = NULL, fqdn_fwd = false, fqdn_rev = false, \
                pref_lifetime = 0, valid_lifetime = $5, expire = now() + make_interval(secs => $5) \
           FROM old WHERE l.address = old.pk \
         RETURNING old.*"
    ))
    .bind(v6_to_db(address))
    .bind(LeaseType::Na.code())
    .bind(duid)
    .bind(iaid_to_db(iaid))
    .bind(i64::from(probation))
    .bind(&EMPTY_DUID[..])
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Reclaims up to `limit` expired leases of `subnet_ids` (Kea's lease reclamation),
/// addresses and prefixes alike: assigned leases past their `expire` and declined
/// ones past their probation become state 2 (expired-reclaimed), DNS flags cleared.
/// Rows another server is reclaiming at the same moment are skipped (`SKIP LOCKED`).
/// Returns the leases as they were, oldest `expire` first, so the caller can remove
/// their DNS entries in the same transaction.
pub async fn reclaim_expired(
    conn: &mut PgConnection,
    subnet_ids: &[u32],
    limit: u32,
) -> Result<Vec<Lease6>> {
    let ids: Vec<i64> = subnet_ids.iter().map(|i| i64::from(*i)).collect();
    sqlx::query(&format!(
        "WITH old AS ( \
           SELECT {KEYED_COLUMNS} FROM lease6 \
            WHERE state IN (0, 1) AND expire < now() AND subnet_id = ANY($1::bigint[]) \
            ORDER BY expire LIMIT $2 FOR UPDATE SKIP LOCKED), \
         done AS ( \
           UPDATE lease6 l SET state = 2, fqdn_fwd = false, fqdn_rev = false \
             FROM old WHERE l.address = old.pk \
           RETURNING old.*) \
         SELECT * FROM done ORDER BY expire, pk"
    ))
    .bind(&ids)
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Deletes leases of `subnet_ids` that were reclaimed or released more than
/// `hold_secs` seconds ago (Kea's `hold-reclaimed-time`): the client is not coming
/// back for that address or prefix. Returns how many rows went.
pub async fn flush_reclaimed(
    conn: &mut PgConnection,
    subnet_ids: &[u32],
    hold_secs: u32,
) -> Result<u64> {
    let ids: Vec<i64> = subnet_ids.iter().map(|i| i64::from(*i)).collect();
    let done = sqlx::query(
        "DELETE FROM lease6 WHERE state IN (2, 3) AND subnet_id = ANY($1::bigint[]) \
           AND expire < now() - make_interval(secs => $2)",
    )
    .bind(&ids)
    .bind(i64::from(hold_secs))
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Leases of type `ty` in `subnet_id` counted by state: (assigned, declined). As for
/// [`lease4::count_active`](crate::lease4::count_active) and Kea's `lease6_stat`
/// (`assigned-nas` / `assigned-pds`, `declined-addresses`): by state, expired or not,
/// since a lease stays assigned until it is reclaimed.
pub async fn count_active(
    conn: &mut PgConnection,
    subnet_id: u32,
    ty: LeaseType,
) -> Result<(u64, u64)> {
    let (assigned, declined): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE state = 0), count(*) FILTER (WHERE state = 1) \
         FROM lease6 WHERE subnet_id = $1 AND lease_type = $2 AND state IN (0, 1)",
    )
    .bind(i64::from(subnet_id))
    .bind(ty.code())
    .fetch_one(conn)
    .await?;
    Ok((assigned as u64, declined as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_by_code_and_name() {
        for (t, code, name) in LeaseType::ALL {
            assert_eq!(LeaseType::from_code(code), t);
            assert_eq!(LeaseType::from_name(name), Some(t));
            assert_eq!((t.code(), t.name()), (code, name));
        }
        assert_eq!(LeaseType::from_name("IA_XX"), None);
    }
}
