//! DHCPv6 leases in Kea's `lease6` table (addresses and delegated prefixes): the reads
//! and writes of Kea's lease6 commands. tern serves no DHCPv6 yet; the API keeps the
//! table as Kea's lease_cmds would.
//!
//! Columns as Kea fills them: `address` an `inet` (Kea 3.x's type; a Kea 2.2 database
//! is converted by the migrations), the IAID as the signed 32-bit value of its unsigned
//! number, `expire` = cltt + `valid_lifetime`.

use std::net::Ipv6Addr;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

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

const COLUMNS: &str = "host(address) AS address, duid, valid_lifetime, expire, subnet_id, \
    pref_lifetime, lease_type, iaid, prefix_len, fqdn_fwd, fqdn_rev, hostname, state, hwaddr, \
    hwtype, hwaddr_source, user_context, pool_id";

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
