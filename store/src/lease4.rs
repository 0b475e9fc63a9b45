//! DHCPv4 leases in Kea's `lease4` table: lookups, allocation and state changes.
//!
//! The database arbitrates every allocation: `lease4.address` is the primary key, and
//! an address is taken with `INSERT … ON CONFLICT (address) DO UPDATE … WHERE` the row
//! there is expired or already the client's own. When two allocators (threads, or tern
//! appliances sharing one PostgreSQL) race for one address, the loser's statement waits
//! for the winner's transaction, then finds the row taken and returns nothing; the loser
//! tries the next candidate. Candidates are searched from a per-client offset in the
//! pool (the caller hashes the client identifier), so concurrent allocators rarely pick
//! the same address in the first place.
//!
//! Columns are filled as Kea fills them: the address as an unsigned 32-bit number,
//! `expire` = time of the client's transmission + `valid_lifetime` (the database's
//! clock, so appliances sharing a database agree), `state` from [`LeaseState`].
//!
//! Every function takes a `&mut PgConnection`, so the caller can put a lease change and
//! what it causes (an NCR, say) into one transaction.

use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};
use tern_ncr::{LeaseName, NameChangeRequest};

use crate::codec::{cond, order_limit, u32_from_db, v4_from_db, v4_to_db};
use crate::{NcrSource, Result};

/// `lease4.state` / `lease6.state` (Kea's `lease_state` table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    /// 0: assigned (Kea calls it "default").
    Default,
    /// 1: the client said the address is used by someone else; held for the
    /// decline probation period.
    Declined,
    /// 2: expired and reclaimed.
    ExpiredReclaimed,
    /// 3: released by the client; kept so it gets the same address back.
    Released,
    /// 4: registered (DHCPv6 address registration).
    Registered,
}

impl LeaseState {
    /// The column value.
    pub fn code(self) -> i64 {
        match self {
            LeaseState::Default => 0,
            LeaseState::Declined => 1,
            LeaseState::ExpiredReclaimed => 2,
            LeaseState::Released => 3,
            LeaseState::Registered => 4,
        }
    }

    /// The state for a column value (unknown values read as `Default`).
    pub fn from_code(code: i64) -> Self {
        match code {
            1 => LeaseState::Declined,
            2 => LeaseState::ExpiredReclaimed,
            3 => LeaseState::Released,
            4 => LeaseState::Registered,
            _ => LeaseState::Default,
        }
    }
}

/// One `lease4` row.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease4 {
    /// The leased address.
    pub address: Ipv4Addr,
    /// Client hardware address (chaddr).
    pub hwaddr: Option<Vec<u8>>,
    /// Client identifier (option 61), when the client sent one.
    pub client_id: Option<Vec<u8>>,
    /// Lease lifetime in seconds.
    pub valid_lifetime: u32,
    /// When the lease ends.
    pub expire: DateTime<Utc>,
    /// Subnet id.
    pub subnet_id: u32,
    /// A forward DNS update was made for this lease.
    pub fqdn_fwd: bool,
    /// A reverse DNS update was made for this lease.
    pub fqdn_rev: bool,
    /// The client's host name.
    pub hostname: Option<String>,
    /// Lease state.
    pub state: LeaseState,
    /// Free-form JSON, as Kea keeps it.
    pub user_context: Option<String>,
    /// The configured `pool-id` of the pool the address came from (0 when none).
    pub pool_id: u32,
}

/// What to write for a lease (the row minus what the database decides).
#[derive(Debug, Clone, PartialEq)]
pub struct NewLease4 {
    /// The address.
    pub address: Ipv4Addr,
    /// Client hardware address.
    pub hwaddr: Vec<u8>,
    /// Client identifier, when sent.
    pub client_id: Option<Vec<u8>>,
    /// Lifetime in seconds; `expire` becomes now + this.
    pub valid_lifetime: u32,
    /// Subnet id.
    pub subnet_id: u32,
    /// Forward DNS update made.
    pub fqdn_fwd: bool,
    /// Reverse DNS update made.
    pub fqdn_rev: bool,
    /// Host name.
    pub hostname: Option<String>,
    /// `pool-id`.
    pub pool_id: u32,
}

/// Who a lease belongs to. With `client_id` set, leases match on the client
/// identifier (Kea's `match-client-id`), or on the hardware address when the lease has
/// no client identifier; otherwise on the hardware address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner<'a> {
    /// Hardware address (chaddr).
    pub hwaddr: &'a [u8],
    /// Client identifier to match on, if matching by client id.
    pub client_id: Option<&'a [u8]>,
}

/// An inclusive range of addresses to allocate from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressRange {
    /// First address.
    pub first: Ipv4Addr,
    /// Last address.
    pub last: Ipv4Addr,
    /// Its `pool-id`.
    pub pool_id: u32,
}

impl Lease4 {
    /// The name this lease holds in DNS, as its removal NCR is made from it
    /// ([`tern_ncr::removal_ncr`]): `None` unless the lease is assigned and has a host
    /// name.
    pub fn dns_name(&self) -> Option<LeaseName<'_>> {
        if self.state != LeaseState::Default {
            return None;
        }
        Some(LeaseName {
            fqdn: self.hostname.as_deref()?,
            forward: self.fqdn_fwd,
            reverse: self.fqdn_rev,
            address: IpAddr::V4(self.address),
            client_id: self.client_id.as_deref(),
            // The lease row keeps no hardware type; DHCPv4 leases are Ethernet's.
            htype: 1,
            hwaddr: self.hwaddr.as_deref().unwrap_or_default(),
            valid_lifetime: self.valid_lifetime,
        })
    }
}

impl Owner<'_> {
    /// Whether `lease` is this owner's (the rule of the SQL queries, in Rust).
    pub fn owns(&self, lease: &Lease4) -> bool {
        let hw = lease.hwaddr.as_deref() == Some(self.hwaddr);
        match self.client_id {
            Some(cid) => match lease.client_id.as_deref() {
                Some(c) => c == cid,
                None => hw,
            },
            None => hw,
        }
    }
}

impl AddressRange {
    /// Number of addresses.
    pub fn size(&self) -> u64 {
        u64::from(u32::from(self.last)) - u64::from(u32::from(self.first)) + 1
    }
}

const COLUMNS: &str = "address, hwaddr, client_id, valid_lifetime, expire, subnet_id, fqdn_fwd, fqdn_rev, hostname, state, user_context, pool_id";

/// SQL predicate "row `l` belongs to the owner in $A (client id) / $B (hwaddr)": with a
/// client id, a lease with that client id, or one without any client id on the same
/// hardware address (as Kea matches them); without, the hardware address.
fn owner_sql(l: &str, cid: usize, hw: usize) -> String {
    format!(
        "(CASE WHEN ${cid}::bytea IS NOT NULL \
           THEN {l}.client_id = ${cid}::bytea OR ({l}.client_id IS NULL AND {l}.hwaddr = ${hw}::bytea) \
           ELSE {l}.hwaddr = ${hw}::bytea END)"
    )
}

fn from_row(row: &sqlx::postgres::PgRow) -> Result<Lease4> {
    Ok(Lease4 {
        address: v4_from_db(row.try_get("address")?),
        hwaddr: row.try_get("hwaddr")?,
        client_id: row.try_get("client_id")?,
        valid_lifetime: u32_from_db(row.try_get("valid_lifetime")?),
        expire: row
            .try_get::<Option<DateTime<Utc>>, _>("expire")?
            .unwrap_or_default(),
        subnet_id: u32_from_db(row.try_get("subnet_id")?),
        fqdn_fwd: row.try_get::<Option<bool>, _>("fqdn_fwd")?.unwrap_or(false),
        fqdn_rev: row.try_get::<Option<bool>, _>("fqdn_rev")?.unwrap_or(false),
        hostname: row.try_get("hostname")?,
        state: LeaseState::from_code(row.try_get::<Option<i64>, _>("state")?.unwrap_or(0)),
        user_context: row.try_get("user_context")?,
        pool_id: u32_from_db(row.try_get("pool_id")?),
    })
}

/// The lease on `address`, in whatever state.
pub async fn get<'e>(db: impl sqlx::PgExecutor<'e>, address: Ipv4Addr) -> Result<Option<Lease4>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM lease4 WHERE address = $1"))
        .bind(v4_to_db(address))
        .fetch_optional(db)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The client's most recent lease in `subnet_id` that is not declined (it may have
/// expired or been released: a returning client gets its previous address back when
/// it is still free).
pub async fn find_by_owner(
    conn: &mut PgConnection,
    subnet_id: u32,
    owner: Owner<'_>,
) -> Result<Option<Lease4>> {
    let row = sqlx::query(&by_owner_sql(owner))
        .bind(i64::from(subnet_id))
        .bind(owner.client_id)
        .bind(owner.hwaddr)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The query of [`find_by_owner`] ($1 subnet id, $2 client id, $3 hwaddr).
fn by_owner_sql(owner: Owner<'_>) -> String {
    // Spelled out per case (not with CASE) so the planner uses the
    // (client_id, subnet_id) and (hwaddr, subnet_id) indexes; `subnet_id + 0` keeps it
    // off the subnet_id index, which a table without statistics (new, or grown since
    // the last ANALYZE) makes look as good and which reads every lease of the subnet.
    let who = if owner.client_id.is_some() {
        "(l.client_id = $2::bytea OR (l.client_id IS NULL AND l.hwaddr = $3::bytea))"
    } else {
        "($2::bytea IS NULL AND l.hwaddr = $3::bytea)"
    };
    format!(
        "SELECT {COLUMNS} FROM lease4 l WHERE subnet_id + 0 = $1 AND state <> 1 AND {who} \
         ORDER BY expire DESC LIMIT 1"
    )
}

/// [`find_by_owner`] and whether `candidate` has no unexpired lease, in one round trip:
/// what a DHCPDISCOVER needs in the common cases (a returning client, or a new one
/// whose first candidate address is free).
pub async fn find_by_owner_or_probe(
    conn: &mut PgConnection,
    subnet_id: u32,
    owner: Owner<'_>,
    candidate: Ipv4Addr,
) -> Result<(Option<Lease4>, bool)> {
    let probe = Probe {
        subnet_id,
        hwaddr: owner.hwaddr.to_vec(),
        client_id: owner.client_id.map(<[u8]>::to_vec),
        candidate,
    };
    let mut answers = find_by_owner_or_probe_many(conn, &[probe]).await?;
    Ok(answers.pop().unwrap_or((None, false)))
}

/// One DHCPDISCOVER's lookup for [`find_by_owner_or_probe_many`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The subnet searched.
    pub subnet_id: u32,
    /// The client's hardware address.
    pub hwaddr: Vec<u8>,
    /// The client identifier to match on, if matching by client id.
    pub client_id: Option<Vec<u8>>,
    /// The first candidate address of the client's pool search.
    pub candidate: Ipv4Addr,
}

/// [`find_by_owner_or_probe`] for many clients in one statement, answers in order.
pub async fn find_by_owner_or_probe_many(
    conn: &mut PgConnection,
    probes: &[Probe],
) -> Result<Vec<(Option<Lease4>, bool)>> {
    if probes.is_empty() {
        return Ok(Vec::new());
    }
    let subnet: Vec<i64> = probes.iter().map(|p| i64::from(p.subnet_id)).collect();
    let cid: Vec<Option<&[u8]>> = probes.iter().map(|p| p.client_id.as_deref()).collect();
    let hw: Vec<&[u8]> = probes.iter().map(|p| p.hwaddr.as_slice()).collect();
    let cand: Vec<i64> = probes.iter().map(|p| v4_to_db(p.candidate)).collect();
    // The owner test as [`by_owner_sql`] spells it, per row; each arm can use its index.
    let rows = sqlx::query(&format!(
        "SELECT o.*, NOT EXISTS (SELECT 1 FROM lease4 c WHERE c.address = q.cand AND c.expire >= now()) \
                AS candidate_free \
           FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bigint[]) WITH ORDINALITY \
                AS q(s, cid, hw, cand, i) \
           LEFT JOIN LATERAL ( \
             SELECT {COLUMNS} FROM lease4 l \
              WHERE l.subnet_id + 0 = q.s AND l.state <> 1 \
                AND ((q.cid IS NOT NULL AND l.client_id = q.cid) \
                     OR (l.hwaddr = q.hw AND (q.cid IS NULL OR l.client_id IS NULL))) \
              ORDER BY l.expire DESC LIMIT 1) o ON true \
          ORDER BY q.i"
    ))
    .bind(&subnet)
    .bind(&cid)
    .bind(&hw)
    .bind(&cand)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            let free: bool = row.try_get("candidate_free")?;
            let lease = match row.try_get::<Option<i64>, _>("address")? {
                Some(_) => Some(from_row(row)?),
                None => None,
            };
            Ok((lease, free))
        })
        .collect()
}

/// Deletes the lease on `address`; returns the row as it was.
pub async fn delete(conn: &mut PgConnection, address: Ipv4Addr) -> Result<Option<Lease4>> {
    let row = sqlx::query(&format!(
        "DELETE FROM lease4 WHERE address = $1 RETURNING {COLUMNS}"
    ))
    .bind(v4_to_db(address))
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Deletes the lease on `address` and, in the same transaction, queues the NCR that
/// `removal` makes from the deleted row (its DNS removal), if any. Returns whether
/// there was a lease, and the queued NCR's id.
pub async fn delete_queueing_removal(
    pool: &PgPool,
    address: Ipv4Addr,
    removal: impl FnOnce(&Lease4) -> Option<NameChangeRequest>,
    source: NcrSource,
) -> Result<(bool, Option<i64>)> {
    let mut tx = pool.begin().await?;
    let Some(old) = delete(&mut tx, address).await? else {
        return Ok((false, None));
    };
    let id = match removal(&old) {
        Some(n) => Some(crate::ncr_queue::enqueue(&mut *tx, &n, source).await?),
        None => None,
    };
    tx.commit().await?;
    Ok((true, id))
}

/// Runs `ANALYZE lease4`, so that query plans follow the table's growth (a plan made
/// while the table was nearly empty scans it whole; autovacuum may take a minute).
pub async fn analyze(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("ANALYZE lease4").execute(conn).await?;
    Ok(())
}

/// Whether `address` is free for `owner`: no row, or an expired one (in any state,
/// a declined address included once its probation is over), or the owner's own
/// (unless declined).
pub async fn is_available(
    conn: &mut PgConnection,
    address: Ipv4Addr,
    owner: Owner<'_>,
) -> Result<bool> {
    let taken: Option<bool> = sqlx::query_scalar(&format!(
        "SELECT NOT (l.expire < now() OR (l.state <> 1 AND {})) FROM lease4 l WHERE address = $1",
        owner_sql("l", 2, 3)
    ))
    .bind(v4_to_db(address))
    .bind(owner.client_id)
    .bind(owner.hwaddr)
    .fetch_optional(conn)
    .await?;
    Ok(!taken.unwrap_or(false))
}

/// Writes the lease for `lease.address` if the address is free for `owner` (see
/// [`is_available`]); `expire` becomes now + `valid_lifetime`, `state` 0. Returns the
/// row as written, or `None` when someone else holds the address.
pub async fn commit(
    conn: &mut PgConnection,
    lease: &NewLease4,
    owner: Owner<'_>,
) -> Result<Option<Lease4>> {
    let row = sqlx::query(&format!(
        "INSERT INTO lease4 AS l ({COLUMNS}) \
         VALUES ($1, $3, $4, $5, now() + make_interval(secs => $5), $6, $7, $8, $9, 0, NULL, $10) \
         ON CONFLICT (address) DO UPDATE SET hwaddr = EXCLUDED.hwaddr, client_id = EXCLUDED.client_id, \
           valid_lifetime = EXCLUDED.valid_lifetime, expire = EXCLUDED.expire, subnet_id = EXCLUDED.subnet_id, \
           fqdn_fwd = EXCLUDED.fqdn_fwd, fqdn_rev = EXCLUDED.fqdn_rev, hostname = EXCLUDED.hostname, \
           state = 0, pool_id = EXCLUDED.pool_id \
         WHERE l.expire < now() OR (l.state <> 1 AND {}) \
         RETURNING {COLUMNS}",
        owner_sql("l", 2, 3)
    ))
    .bind(v4_to_db(lease.address))
    .bind(owner.client_id)
    .bind(&lease.hwaddr)
    .bind(lease.client_id.as_deref())
    .bind(i64::from(lease.valid_lifetime))
    .bind(i64::from(lease.subnet_id))
    .bind(lease.fqdn_fwd)
    .bind(lease.fqdn_rev)
    .bind(lease.hostname.as_deref())
    .bind(i64::from(lease.pool_id))
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The rows on `addresses` (in whatever state), locked for this transaction. Rows are
/// locked in address order, so two batches locking overlapping sets cannot deadlock.
pub async fn get_many_for_update(
    conn: &mut PgConnection,
    addresses: &[Ipv4Addr],
) -> Result<Vec<Lease4>> {
    let nums: Vec<i64> = addresses.iter().map(|a| v4_to_db(*a)).collect();
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM lease4 WHERE address = ANY($1::bigint[]) ORDER BY address FOR UPDATE"
    ))
    .bind(&nums)
    .fetch_all(conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// [`commit`] for many leases in one statement (distinct addresses): each is written
/// if its address is free for its owner, the owner being the lease's own `client_id`
/// (when set) and `hwaddr`, as [`Owner`] matches. Returns the rows written; a lease
/// missing from the result lost its address to another client.
pub async fn commit_many(conn: &mut PgConnection, leases: &[NewLease4]) -> Result<Vec<Lease4>> {
    if leases.is_empty() {
        return Ok(Vec::new());
    }
    let col = |f: fn(&NewLease4) -> i64| leases.iter().map(f).collect::<Vec<i64>>();
    let address = col(|l| v4_to_db(l.address));
    let valid = col(|l| i64::from(l.valid_lifetime));
    let subnet = col(|l| i64::from(l.subnet_id));
    let pool = col(|l| i64::from(l.pool_id));
    let hwaddr: Vec<&[u8]> = leases.iter().map(|l| l.hwaddr.as_slice()).collect();
    let client_id: Vec<Option<&[u8]>> = leases.iter().map(|l| l.client_id.as_deref()).collect();
    let fwd: Vec<bool> = leases.iter().map(|l| l.fqdn_fwd).collect();
    let rev: Vec<bool> = leases.iter().map(|l| l.fqdn_rev).collect();
    let hostname: Vec<Option<&str>> = leases.iter().map(|l| l.hostname.as_deref()).collect();
    sqlx::query(&format!(
        "INSERT INTO lease4 AS l ({COLUMNS}) \
         SELECT a, hw, cid, vl, now() + make_interval(secs => vl), sid, ff, fr, hn, 0, NULL, pid \
           FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bigint[], $5::bigint[], \
                       $6::bool[], $7::bool[], $8::text[], $9::bigint[]) \
                AS t(a, hw, cid, vl, sid, ff, fr, hn, pid) \
         ON CONFLICT (address) DO UPDATE SET hwaddr = EXCLUDED.hwaddr, client_id = EXCLUDED.client_id, \
           valid_lifetime = EXCLUDED.valid_lifetime, expire = EXCLUDED.expire, subnet_id = EXCLUDED.subnet_id, \
           fqdn_fwd = EXCLUDED.fqdn_fwd, fqdn_rev = EXCLUDED.fqdn_rev, hostname = EXCLUDED.hostname, \
           state = 0, pool_id = EXCLUDED.pool_id \
         WHERE l.expire < now() OR (l.state <> 1 AND \
           (CASE WHEN EXCLUDED.client_id IS NOT NULL \
              THEN l.client_id = EXCLUDED.client_id OR (l.client_id IS NULL AND l.hwaddr = EXCLUDED.hwaddr) \
              ELSE l.hwaddr = EXCLUDED.hwaddr END)) \
         RETURNING {COLUMNS}"
    ))
    .bind(&address)
    .bind(&hwaddr)
    .bind(&client_id)
    .bind(&valid)
    .bind(&subnet)
    .bind(&fwd)
    .bind(&rev)
    .bind(&hostname)
    .bind(&pool)
    .fetch_all(conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Of `candidates`, the first without an unexpired lease (its index). Checks only the
/// lease table: the caller has left out reserved addresses.
pub async fn first_unleased(
    conn: &mut PgConnection,
    candidates: &[Ipv4Addr],
) -> Result<Option<usize>> {
    let nums: Vec<i64> = candidates.iter().map(|a| v4_to_db(*a)).collect();
    // A primary-key lookup of the candidates, which no plan turns into a scan of the
    // whole table (an anti-join can, when the table looked small at planning time).
    let taken: Vec<i64> = sqlx::query_scalar(
        "SELECT address FROM lease4 WHERE address = ANY($1::bigint[]) AND expire >= now()",
    )
    .bind(&nums)
    .fetch_all(conn)
    .await?;
    Ok(nums.iter().position(|a| !taken.contains(a)))
}

/// A free address in `ranges` for `subnet_id`, searched from `offset` (taken modulo the
/// total size) and wrapping around: no unexpired lease on it, no reservation for it in
/// the `hosts` table (in this subnet), and not in `excluded` (reservations from the
/// configuration). Changes nothing: pass the result to [`commit`], which decides.
pub async fn find_free(
    conn: &mut PgConnection,
    subnet_id: u32,
    ranges: &[AddressRange],
    offset: u64,
    excluded: &[Ipv4Addr],
) -> Result<Option<(Ipv4Addr, u32)>> {
    let total: u64 = ranges.iter().map(AddressRange::size).sum();
    if total == 0 {
        return Ok(None);
    }
    let excluded: Vec<i64> = excluded.iter().map(|a| v4_to_db(*a)).collect();
    // Walk the ranges as one sequence, starting at `offset`; a step of 256 candidates
    // per query keeps each query cheap however big the pool is.
    const STEP: u64 = 256;
    let mut done = 0u64;
    while done < total {
        let n = STEP.min(total - done);
        let mut cands: Vec<i64> = Vec::with_capacity(n as usize);
        let mut pools: Vec<i64> = Vec::with_capacity(n as usize);
        for i in 0..n {
            if let Some((a, p)) = nth_address(ranges, (offset + done + i) % total) {
                cands.push(v4_to_db(a));
                pools.push(i64::from(p));
            }
        }
        let found: Option<(i64, i64)> = sqlx::query_as(
            "SELECT c.a, c.p FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS c(a, p, i) \
             WHERE c.a <> ALL($4::bigint[]) \
               AND NOT EXISTS (SELECT 1 FROM lease4 l WHERE l.address = c.a AND l.expire >= now()) \
               AND NOT EXISTS (SELECT 1 FROM hosts h WHERE h.ipv4_address = c.a AND h.dhcp4_subnet_id = $3) \
             ORDER BY c.i LIMIT 1",
        )
        .bind(&cands)
        .bind(&pools)
        .bind(i64::from(subnet_id))
        .bind(&excluded)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some((a, p)) = found {
            return Ok(Some((Ipv4Addr::from(a as u32), p as u32)));
        }
        done += n;
    }
    Ok(None)
}

/// Takes a free address from `ranges` for `lease` (whose `address` and `pool_id` are
/// replaced): [`find_free`] then [`commit`], moving on when another allocator won the
/// race. `None` when the pools are exhausted.
pub async fn allocate(
    conn: &mut PgConnection,
    lease: &NewLease4,
    owner: Owner<'_>,
    ranges: &[AddressRange],
    offset: u64,
    excluded: &[Ipv4Addr],
) -> Result<Option<Lease4>> {
    let total: u64 = ranges.iter().map(AddressRange::size).sum();
    let mut offset = offset;
    // Each lost race moves on by one; a bound keeps a pathological case finite.
    for attempt in 0..64u64 {
        let Some((address, pool_id)) =
            find_free(conn, lease.subnet_id, ranges, offset, excluded).await?
        else {
            return Ok(None);
        };
        let mut l = lease.clone();
        l.address = address;
        l.pool_id = pool_id;
        if let Some(row) = commit(conn, &l, owner).await? {
            return Ok(Some(row));
        }
        // Lost: the winners are around that address, so jump to a pseudo-random
        // spot (derived from the client and the attempt) rather than queue behind them.
        let pos = position(ranges, address).unwrap_or(0);
        offset = (pos + 1 + scatter(owner.hwaddr, attempt)) % total.max(1);
    }
    Ok(None)
}

/// A well-mixed number from a client identifier and an attempt count (FNV-1a, then a
/// 64-bit finalizer).
fn scatter(id: &[u8], attempt: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.iter().chain(&attempt.to_le_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// The address at position `pos` of `ranges` taken as one sequence, with its pool id.
pub fn nth_address(ranges: &[AddressRange], mut pos: u64) -> Option<(Ipv4Addr, u32)> {
    for r in ranges {
        if pos < r.size() {
            return Some((Ipv4Addr::from(u32::from(r.first) + pos as u32), r.pool_id));
        }
        pos -= r.size();
    }
    None
}

fn position(ranges: &[AddressRange], a: Ipv4Addr) -> Option<u64> {
    let mut base = 0;
    let v = u32::from(a);
    for r in ranges {
        if (u32::from(r.first)..=u32::from(r.last)).contains(&v) {
            return Some(base + u64::from(v - u32::from(r.first)));
        }
        base += r.size();
    }
    None
}

/// A client's DHCPRELEASE: the owner's active lease on `address` becomes released
/// (state 3, lifetime 0, expired now; DNS flags cleared), kept so that the client gets
/// the address back if it is still free when it returns. Returns the lease as it was
/// before, or `None` when the address was not the owner's.
pub async fn release(
    conn: &mut PgConnection,
    address: Ipv4Addr,
    owner: Owner<'_>,
) -> Result<Option<Lease4>> {
    let before = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM lease4 l WHERE address = $1 AND state = 0 AND {} FOR UPDATE",
        owner_sql("l", 2, 3)
    ))
    .bind(v4_to_db(address))
    .bind(owner.client_id)
    .bind(owner.hwaddr)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(before) = before.as_ref().map(from_row).transpose()? else {
        return Ok(None);
    };
    sqlx::query(
        "UPDATE lease4 SET state = 3, valid_lifetime = 0, expire = now(), fqdn_fwd = false, fqdn_rev = false \
         WHERE address = $1",
    )
    .bind(v4_to_db(address))
    .execute(conn)
    .await?;
    Ok(Some(before))
}

/// A client's DHCPDECLINE: the owner's lease on `address` becomes declined, as Kea
/// does it: identifiers and host name cleared, state 1, lifetime = `probation` seconds,
/// so the address stays out of use until then. Returns the lease as it was before,
/// or `None` when the address was not the owner's.
pub async fn decline(
    conn: &mut PgConnection,
    address: Ipv4Addr,
    owner: Owner<'_>,
    probation: u32,
) -> Result<Option<Lease4>> {
    let before = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM lease4 l WHERE address = $1 AND state = 0 AND {} FOR UPDATE",
        owner_sql("l", 2, 3)
    ))
    .bind(v4_to_db(address))
    .bind(owner.client_id)
    .bind(owner.hwaddr)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(before) = before.as_ref().map(from_row).transpose()? else {
        return Ok(None);
    };
    sqlx::query(
        "UPDATE lease4 SET state = 1, hwaddr = ''::bytea, client_id = NULL, hostname = NULL, \
         fqdn_fwd = false, fqdn_rev = false, valid_lifetime = $2, \
         expire = now() + make_interval(secs => $2) WHERE address = $1",
    )
    .bind(v4_to_db(address))
    .bind(i64::from(probation))
    .execute(conn)
    .await?;
    Ok(Some(before))
}

/// Reclaims up to `limit` expired leases of `subnet_ids` (Kea's lease reclamation):
/// state 2 (expired-reclaimed), DNS flags cleared. Rows another server is reclaiming
/// at the same moment are skipped (`SKIP LOCKED`). Returns the leases as they were,
/// so the caller can remove their DNS entries in the same transaction.
pub async fn reclaim_expired(
    conn: &mut PgConnection,
    subnet_ids: &[u32],
    limit: u32,
) -> Result<Vec<Lease4>> {
    let ids: Vec<i64> = subnet_ids.iter().map(|i| i64::from(*i)).collect();
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM lease4 WHERE state IN (0, 1) AND expire < now() \
           AND subnet_id = ANY($1::bigint[]) ORDER BY expire LIMIT $2 FOR UPDATE SKIP LOCKED"
    ))
    .bind(&ids)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    let leases = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    if leases.is_empty() {
        return Ok(leases);
    }
    let addrs: Vec<i64> = leases.iter().map(|l| v4_to_db(l.address)).collect();
    sqlx::query(
        "UPDATE lease4 SET state = 2, fqdn_fwd = false, fqdn_rev = false \
          WHERE address = ANY($1::bigint[])",
    )
    .bind(&addrs)
    .execute(conn)
    .await?;
    Ok(leases)
}

/// Deletes leases of `subnet_ids` that were reclaimed or released more than
/// `hold_secs` seconds ago (Kea's `hold-reclaimed-time`): the client is not coming
/// back for that address. Returns how many rows went.
pub async fn flush_reclaimed(
    conn: &mut PgConnection,
    subnet_ids: &[u32],
    hold_secs: u32,
) -> Result<u64> {
    let ids: Vec<i64> = subnet_ids.iter().map(|i| i64::from(*i)).collect();
    let done = sqlx::query(
        "DELETE FROM lease4 WHERE state IN (2, 3) AND subnet_id = ANY($1::bigint[]) \
           AND expire < now() - make_interval(secs => $2)",
    )
    .bind(&ids)
    .bind(i64::from(hold_secs))
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Leases of `subnet_id` counted by state: (assigned, declined).
pub async fn count_active(conn: &mut PgConnection, subnet_id: u32) -> Result<(u64, u64)> {
    // By state, expired or not: as Kea counts them (an expired lease stays assigned
    // until it is reclaimed).
    let (assigned, declined): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE state = 0), count(*) FILTER (WHERE state = 1) \
         FROM lease4 WHERE subnet_id = $1 AND state IN (0, 1)",
    )
    .bind(i64::from(subnet_id))
    .fetch_one(conn)
    .await?;
    Ok((assigned as u64, declined as u64))
}

/// Which leases to read (Kea's lease4-get* commands, the REST lease list). Empty means
/// all.
#[derive(Debug, Default, Clone)]
pub struct LeaseFilter {
    /// Exactly this address.
    pub address: Option<Ipv4Addr>,
    /// In one of these subnets.
    pub subnets: Option<Vec<i64>>,
    /// With this hardware address.
    pub hwaddr: Option<Vec<u8>>,
    /// With this client id.
    pub client_id: Option<Vec<u8>>,
    /// With this host name (case-insensitive).
    pub hostname: Option<String>,
    /// In this state.
    pub state: Option<i64>,
    /// Addresses above this one (keyset paging).
    pub after: Option<Ipv4Addr>,
    /// At most this many.
    pub limit: Option<i64>,
}

/// Reads the leases matching `f`, ordered by address.
pub async fn select<'e>(db: impl sqlx::PgExecutor<'e>, f: &LeaseFilter) -> Result<Vec<Lease4>> {
    let mut q: QueryBuilder<Postgres> =
        QueryBuilder::new(format!("SELECT {COLUMNS} FROM lease4 WHERE true"));
    cond(&mut q, " AND address = ", f.address.map(v4_to_db), "");
    cond(&mut q, " AND subnet_id = ANY(", f.subnets.clone(), ")");
    cond(&mut q, " AND hwaddr = ", f.hwaddr.clone(), "");
    cond(&mut q, " AND client_id = ", f.client_id.clone(), "");
    cond(
        &mut q,
        " AND lower(hostname) = lower(",
        f.hostname.clone(),
        ")",
    );
    cond(&mut q, " AND state = ", f.state, "");
    cond(&mut q, " AND address > ", f.after.map(v4_to_db), "");
    order_limit(&mut q, "address", f.limit);
    q.build()
        .fetch_all(db)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Writes `l` as a new row, every column as given (Kea's `lease4-add`); a lease already
/// on the address is a unique violation (`lease4_pkey`).
pub async fn insert<'e>(db: impl sqlx::PgExecutor<'e>, l: &Lease4) -> Result<()> {
    let sql = format!(
        "INSERT INTO lease4 ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    );
    bind_row(sqlx::query(&sql), l)
        .bind(i64::from(l.pool_id))
        .execute(db)
        .await?;
    Ok(())
}

type Query<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

/// Binds `l`'s columns but `pool_id` to $1..$11, in [`COLUMNS`] order.
fn bind_row<'q>(q: Query<'q>, l: &'q Lease4) -> Query<'q> {
    q.bind(v4_to_db(l.address))
        .bind(&l.hwaddr)
        .bind(&l.client_id)
        .bind(i64::from(l.valid_lifetime))
        .bind(l.expire)
        .bind(i64::from(l.subnet_id))
        .bind(l.fqdn_fwd)
        .bind(l.fqdn_rev)
        .bind(&l.hostname)
        .bind(l.state.code())
        .bind(&l.user_context)
}

/// Replaces the lease on `l.address` with `l` (its `pool_id` stays); `false` when there
/// is none and `force_create` is not set, else the lease is inserted. One transaction.
pub async fn update(pool: &PgPool, l: &Lease4, force_create: bool) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let n = bind_row(
        sqlx::query(
            "UPDATE lease4 SET hwaddr = $2, client_id = $3, valid_lifetime = $4, expire = $5, \
             subnet_id = $6, fqdn_fwd = $7, fqdn_rev = $8, hostname = $9, state = $10, \
             user_context = $11 WHERE address = $1",
        ),
        l,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        if !force_create {
            return Ok(false);
        }
        insert(&mut *tx, l).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Deletes every lease of `subnet` (of all subnets with `None`); returns how many went
/// per subnet, by subnet id.
pub async fn wipe<'e>(
    db: impl sqlx::PgExecutor<'e>,
    subnet: Option<i64>,
) -> Result<Vec<(i64, i64)>> {
    wipe_table(db, "lease4", subnet).await
}

/// [`wipe`] for `lease4` or `lease6`.
pub(crate) async fn wipe_table<'e>(
    db: impl sqlx::PgExecutor<'e>,
    table: &str,
    subnet: Option<i64>,
) -> Result<Vec<(i64, i64)>> {
    let rows: Vec<(Option<i64>, i64)> = sqlx::query_as(&format!(
        "WITH d AS (DELETE FROM {table} WHERE $1::bigint IS NULL OR subnet_id = $1 RETURNING subnet_id) \
         SELECT subnet_id, count(*) FROM d GROUP BY subnet_id ORDER BY subnet_id"
    ))
    .bind(subnet)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(s, n)| (s.unwrap_or(0), n)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_span_ranges() {
        let r = [
            AddressRange {
                first: Ipv4Addr::new(10, 0, 0, 10),
                last: Ipv4Addr::new(10, 0, 0, 19),
                pool_id: 0,
            },
            AddressRange {
                first: Ipv4Addr::new(10, 0, 1, 0),
                last: Ipv4Addr::new(10, 0, 1, 4),
                pool_id: 7,
            },
        ];
        assert_eq!(r[0].size(), 10);
        assert_eq!(position(&r, Ipv4Addr::new(10, 0, 0, 10)), Some(0));
        assert_eq!(position(&r, Ipv4Addr::new(10, 0, 1, 2)), Some(12));
        assert_eq!(position(&r, Ipv4Addr::new(10, 0, 2, 2)), None);
        assert_eq!(
            LeaseState::from_code(LeaseState::Released.code()),
            LeaseState::Released
        );
    }
}
