//! `lease6` rows (addresses and delegated prefixes) and the JSON Kea's lease6 commands use.

use std::net::Ipv6Addr;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Map, Value};
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::{hex_colon, parse_hex, Args, FieldError};

/// Kea's lease types by code.
pub const LEASE_TYPES: [(i16, &str); 3] = [(0, "IA_NA"), (1, "IA_TA"), (2, "IA_PD")];

/// A `lease6` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Lease6Row {
    /// Address or prefix, as text.
    pub address: String,
    /// DUID.
    pub duid: Option<Vec<u8>>,
    /// Valid lifetime.
    pub valid_lifetime: Option<i64>,
    /// cltt + valid lifetime.
    pub expire: Option<DateTime<Utc>>,
    /// Subnet id.
    pub subnet_id: Option<i64>,
    /// Preferred lifetime.
    pub pref_lifetime: Option<i64>,
    /// 0 IA_NA, 1 IA_TA, 2 IA_PD.
    pub lease_type: Option<i16>,
    /// IAID.
    pub iaid: Option<i32>,
    /// Prefix length.
    pub prefix_len: Option<i16>,
    /// Forward DNS updated.
    pub fqdn_fwd: Option<bool>,
    /// Reverse DNS updated.
    pub fqdn_rev: Option<bool>,
    /// Host name.
    pub hostname: Option<String>,
    /// State.
    pub state: Option<i64>,
    /// Hardware address.
    pub hwaddr: Option<Vec<u8>>,
    /// JSON text.
    pub user_context: Option<String>,
    /// Pool id.
    pub pool_id: i64,
}

const COLUMNS: &str = "host(address) AS address, duid, valid_lifetime, expire, subnet_id, \
    pref_lifetime, lease_type, iaid, prefix_len, fqdn_fwd, fqdn_rev, hostname, state, hwaddr, \
    user_context, pool_id";

fn type_name(code: i16) -> &'static str {
    LEASE_TYPES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| *n)
        .unwrap_or("IA_NA")
}

impl Lease6Row {
    /// Kea's JSON for the lease.
    pub fn to_kea(&self) -> Value {
        let lft = self.valid_lifetime.unwrap_or(0);
        let cltt = self.expire.map(|e| e.timestamp() - lft).unwrap_or(0);
        let mut m = Map::new();
        m.insert("ip-address".into(), self.address.clone().into());
        m.insert(
            "duid".into(),
            hex_colon(self.duid.as_deref().unwrap_or_default()).into(),
        );
        m.insert("iaid".into(), (self.iaid.unwrap_or(0) as u32).into());
        m.insert(
            "type".into(),
            type_name(self.lease_type.unwrap_or(0)).into(),
        );
        m.insert("prefix-len".into(), self.prefix_len.unwrap_or(128).into());
        m.insert("valid-lft".into(), lft.into());
        m.insert(
            "preferred-lft".into(),
            self.pref_lifetime.unwrap_or(0).into(),
        );
        m.insert("cltt".into(), cltt.into());
        m.insert("subnet-id".into(), self.subnet_id.unwrap_or(0).into());
        m.insert("pool-id".into(), self.pool_id.into());
        m.insert("fqdn-fwd".into(), self.fqdn_fwd.unwrap_or(false).into());
        m.insert("fqdn-rev".into(), self.fqdn_rev.unwrap_or(false).into());
        m.insert(
            "hostname".into(),
            self.hostname.clone().unwrap_or_default().into(),
        );
        m.insert("state".into(), self.state.unwrap_or(0).into());
        if let Some(hw) = self.hwaddr.as_deref().filter(|h| !h.is_empty()) {
            m.insert("hw-address".into(), hex_colon(hw).into());
        }
        if let Some(uc) = &self.user_context {
            let v = serde_json::from_str(uc).unwrap_or_else(|_| Value::String(uc.clone()));
            m.insert("user-context".into(), v);
        }
        Value::Object(m)
    }
}

/// Which leases to read. Empty means all.
#[derive(Debug, Default, Clone)]
pub struct Lease6Filter {
    /// Exactly this address.
    pub address: Option<Ipv6Addr>,
    /// Of this type.
    pub lease_type: Option<i16>,
    /// In one of these subnets.
    pub subnets: Option<Vec<i64>>,
    /// With this DUID.
    pub duid: Option<Vec<u8>>,
    /// With this IAID.
    pub iaid: Option<i32>,
    /// With this host name (case-insensitive).
    pub hostname: Option<String>,
    /// Addresses above this one.
    pub after: Option<Ipv6Addr>,
    /// At most this many.
    pub limit: Option<i64>,
}

/// Reads leases, ordered by address.
pub async fn select(pool: &PgPool, f: &Lease6Filter) -> sqlx::Result<Vec<Lease6Row>> {
    let mut q: QueryBuilder<Postgres> =
        QueryBuilder::new(format!("SELECT {COLUMNS} FROM lease6 WHERE true"));
    if let Some(a) = f.address {
        q.push(" AND address = ")
            .push_bind(a.to_string())
            .push("::inet");
    }
    if let Some(t) = f.lease_type {
        q.push(" AND lease_type = ").push_bind(t);
    }
    if let Some(s) = &f.subnets {
        q.push(" AND subnet_id = ANY(")
            .push_bind(s.clone())
            .push(")");
    }
    if let Some(d) = &f.duid {
        q.push(" AND duid = ").push_bind(d.clone());
    }
    if let Some(i) = f.iaid {
        q.push(" AND iaid = ").push_bind(i);
    }
    if let Some(h) = &f.hostname {
        q.push(" AND lower(hostname) = lower(")
            .push_bind(h.clone())
            .push(")");
    }
    if let Some(a) = f.after {
        q.push(" AND address > ")
            .push_bind(a.to_string())
            .push("::inet");
    }
    // The table's inet column, not the text alias of the same name.
    q.push(" ORDER BY lease6.address");
    if let Some(l) = f.limit {
        q.push(" LIMIT ").push_bind(l);
    }
    q.build_query_as::<Lease6Row>().fetch_all(pool).await
}

/// A lease as given to `lease6-add` / `lease6-update`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLease6 {
    /// Address or prefix.
    pub address: Ipv6Addr,
    /// Subnet id.
    pub subnet_id: i64,
    /// DUID.
    pub duid: Vec<u8>,
    /// IAID.
    pub iaid: i32,
    /// Type code.
    pub lease_type: i16,
    /// Prefix length.
    pub prefix_len: i16,
    /// Valid lifetime.
    pub valid_lifetime: i64,
    /// Preferred lifetime.
    pub pref_lifetime: i64,
    /// Expiry.
    pub expire: DateTime<Utc>,
    /// Forward DNS done.
    pub fqdn_fwd: bool,
    /// Reverse DNS done.
    pub fqdn_rev: bool,
    /// Host name.
    pub hostname: String,
    /// State.
    pub state: i64,
    /// Hardware address.
    pub hwaddr: Option<Vec<u8>>,
    /// User context JSON text.
    pub user_context: Option<String>,
}

pub(crate) fn prefix_holds(prefix: &str, a: Ipv6Addr) -> bool {
    let Some((net, len)) = prefix.split_once('/') else {
        return false;
    };
    let (Ok(net), Ok(len)) = (net.parse::<Ipv6Addr>(), len.parse::<u32>()) else {
        return false;
    };
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len.min(128))
    };
    u128::from(net) & mask == u128::from(a) & mask
}

pub(crate) fn subnets6(config: &Value) -> Vec<&Map<String, Value>> {
    let mut out = Vec::new();
    let Some(d6) = config.get("Dhcp6") else {
        return out;
    };
    let mut lists = vec![d6.get("subnet6")];
    if let Some(Value::Array(nets)) = d6.get("shared-networks") {
        lists.extend(nets.iter().map(|n| n.get("subnet6")));
    }
    for list in lists.into_iter().flatten() {
        if let Value::Array(a) = list {
            out.extend(a.iter().filter_map(Value::as_object));
        }
    }
    out
}

/// The lease type code of a `type` argument.
pub fn parse_type(args: &Args<'_>) -> Result<Option<i16>, FieldError> {
    match args.str("type")? {
        None => Ok(None),
        Some(t) => LEASE_TYPES
            .iter()
            .find(|(_, n)| *n == t)
            .map(|(c, _)| Some(*c))
            .ok_or_else(|| FieldError::new("type", format!("'{t}' is not IA_NA, IA_TA or IA_PD"))),
    }
}

/// Checks `lease6-add`/`lease6-update` arguments; as for IPv4, the subnet is checked
/// against (or found in) the running `Dhcp6` configuration when it has subnets.
pub fn parse_new(args: &Args<'_>, config: &Value) -> Result<NewLease6, FieldError> {
    let address: Ipv6Addr = {
        let s = args.req_str("ip-address")?;
        s.parse()
            .map_err(|_| FieldError::new("ip-address", format!("'{s}' is not an IPv6 address")))?
    };
    let subnets = subnets6(config);
    let holding = subnets.iter().find(|s| {
        s.get("subnet")
            .and_then(Value::as_str)
            .is_some_and(|p| prefix_holds(p, address))
    });
    let lease_type = parse_type(args)?.unwrap_or(0);
    let mut subnet_cfg = None;
    let subnet_id = match args.int("subnet-id", 0, u32::MAX as i64)? {
        Some(id) if !subnets.is_empty() => {
            let s = subnets
                .iter()
                .find(|s| s.get("id").and_then(Value::as_i64) == Some(id))
                .ok_or_else(|| {
                    FieldError::new(
                        "subnet-id",
                        format!("Invalid subnet-id: No IPv6 subnet with subnet-id={id} currently configured."),
                    )
                })?;
            let prefix = s.get("subnet").and_then(Value::as_str).unwrap_or("?");
            // A delegated prefix lies outside the subnet by design.
            if lease_type != 2 && !prefix_holds(prefix, address) {
                return Err(FieldError::new(
                    "ip-address",
                    format!(
                        "The address {address} does not belong to subnet {prefix}, subnet-id={id}"
                    ),
                ));
            }
            subnet_cfg = Some(*s);
            id
        }
        Some(id) => id,
        None => {
            let s = holding.ok_or_else(|| {
                FieldError::new(
                    "subnet-id",
                    format!("subnet-id not specified and no configured subnet holds {address}"),
                )
            })?;
            subnet_cfg = Some(*s);
            s.get("id").and_then(Value::as_i64).ok_or_else(|| {
                FieldError::new("subnet-id", "the subnet holding the address has no id")
            })?
        }
    };
    let duid = parse_hex("duid", args.req_str("duid")?)?;
    let iaid = args.req_int("iaid", 0, u32::MAX as i64)? as u32 as i32;
    let cfg_lft = |k: &str| {
        subnet_cfg
            .and_then(|s| s.get(k))
            .or_else(|| config.get("Dhcp6").and_then(|d| d.get(k)))
            .and_then(Value::as_i64)
    };
    let valid_lifetime = match args.int("valid-lft", 0, u32::MAX as i64)? {
        Some(v) => v,
        None => cfg_lft("valid-lifetime").unwrap_or(7200),
    };
    let pref_lifetime = match args.int("preferred-lft", 0, u32::MAX as i64)? {
        Some(v) => v,
        None => cfg_lft("preferred-lifetime").unwrap_or(3600),
    };
    let expire = match args.int("expire", 0, i64::from(u32::MAX) * 2)? {
        Some(e) => Utc
            .timestamp_opt(e, 0)
            .single()
            .ok_or_else(|| FieldError::new("expire", "not a valid time"))?,
        None => Utc::now() + chrono::Duration::seconds(valid_lifetime),
    };
    let default_len = if lease_type == 2 { 64 } else { 128 };
    let prefix_len = args.int("prefix-len", 1, 128)?.unwrap_or(default_len) as i16;
    if lease_type != 2 && prefix_len != 128 {
        return Err(FieldError::new(
            "prefix-len",
            "must be 128 for an address lease",
        ));
    }
    let hostname = args.str("hostname")?.unwrap_or("").to_string();
    if hostname.len() > 255 {
        return Err(FieldError::new("hostname", "longer than 255 characters"));
    }
    Ok(NewLease6 {
        address,
        subnet_id,
        duid,
        iaid,
        lease_type,
        prefix_len,
        valid_lifetime,
        pref_lifetime,
        expire,
        fqdn_fwd: args.bool("fqdn-fwd")?.unwrap_or(false),
        fqdn_rev: args.bool("fqdn-rev")?.unwrap_or(false),
        hostname,
        state: args.int("state", 0, 4)?.unwrap_or(0),
        hwaddr: args
            .str("hw-address")?
            .map(|h| parse_hex("hw-address", h))
            .transpose()?,
        user_context: args
            .map("user-context")?
            .map(|m| Value::Object(m.clone()).to_string()),
    })
}

const INSERT: &str = "INSERT INTO lease6 (address, duid, valid_lifetime, expire, subnet_id, \
    pref_lifetime, lease_type, iaid, prefix_len, fqdn_fwd, fqdn_rev, hostname, state, hwaddr, \
    user_context) VALUES ($1::inet, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

const UPDATE: &str = "UPDATE lease6 SET duid = $2, valid_lifetime = $3, expire = $4, \
    subnet_id = $5, pref_lifetime = $6, lease_type = $7, iaid = $8, prefix_len = $9, \
    fqdn_fwd = $10, fqdn_rev = $11, hostname = $12, state = $13, hwaddr = $14, \
    user_context = $15 WHERE address = $1::inet";

fn bind<'q>(
    q: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    l: &'q NewLease6,
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    q.bind(l.address.to_string())
        .bind(&l.duid)
        .bind(l.valid_lifetime)
        .bind(l.expire)
        .bind(l.subnet_id)
        .bind(l.pref_lifetime)
        .bind(l.lease_type)
        .bind(l.iaid)
        .bind(l.prefix_len)
        .bind(l.fqdn_fwd)
        .bind(l.fqdn_rev)
        .bind(&l.hostname)
        .bind(l.state)
        .bind(&l.hwaddr)
        .bind(&l.user_context)
}

/// Inserts a lease; one already at the address is a unique violation.
pub async fn insert(pool: &PgPool, l: &NewLease6) -> sqlx::Result<()> {
    bind(sqlx::query(INSERT), l).execute(pool).await.map(|_| ())
}

/// Replaces the lease at the address; `false` when there is none (and not `force_create`).
pub async fn update(pool: &PgPool, l: &NewLease6, force_create: bool) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let n = bind(sqlx::query(UPDATE), l)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        if !force_create {
            return Ok(false);
        }
        bind(sqlx::query(INSERT), l).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Deletes the lease at an address; `false` when there was none.
pub async fn delete(pool: &PgPool, a: Ipv6Addr) -> sqlx::Result<bool> {
    let n = sqlx::query("DELETE FROM lease6 WHERE address = $1::inet")
        .bind(a.to_string())
        .execute(pool)
        .await?
        .rows_affected();
    Ok(n > 0)
}

/// Deletes every lease of a subnet (or of all); returns how many per subnet.
pub async fn wipe(pool: &PgPool, subnet: Option<i64>) -> sqlx::Result<Vec<(i64, i64)>> {
    let rows: Vec<(Option<i64>, i64)> = sqlx::query_as(
        "WITH d AS (DELETE FROM lease6 WHERE $1::bigint IS NULL OR subnet_id = $1 RETURNING subnet_id) \
         SELECT subnet_id, count(*) FROM d GROUP BY subnet_id ORDER BY subnet_id",
    )
    .bind(subnet)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(s, n)| (s.unwrap_or(0), n)).collect())
}

/// JSON list of several leases.
pub fn to_kea_list(rows: &[Lease6Row]) -> Value {
    json!(rows.iter().map(Lease6Row::to_kea).collect::<Vec<_>>())
}
