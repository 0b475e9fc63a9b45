//! `lease4` rows: reading with filters and keyset paging, adding, replacing, deleting,
//! and the JSON Kea's lease commands use for a lease.

use std::net::Ipv4Addr;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Map, Value};
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::{hex_colon, parse_hex, v4_from_db, v4_to_db, Args, FieldError};

/// A `lease4` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Lease4Row {
    /// Address as Kea's bigint.
    pub address: i64,
    /// Hardware address.
    pub hwaddr: Option<Vec<u8>>,
    /// Client identifier (option 61).
    pub client_id: Option<Vec<u8>>,
    /// Valid lifetime, seconds.
    pub valid_lifetime: Option<i64>,
    /// cltt + valid lifetime.
    pub expire: Option<DateTime<Utc>>,
    /// Subnet id.
    pub subnet_id: Option<i64>,
    /// Forward DNS updated.
    pub fqdn_fwd: Option<bool>,
    /// Reverse DNS updated.
    pub fqdn_rev: Option<bool>,
    /// Client's host name.
    pub hostname: Option<String>,
    /// Kea's lease state.
    pub state: Option<i64>,
    /// JSON text.
    pub user_context: Option<String>,
    /// Pool id.
    pub pool_id: i64,
}

const COLUMNS: &str = "address, hwaddr, client_id, valid_lifetime, expire, subnet_id, fqdn_fwd, \
                       fqdn_rev, hostname, state, user_context, pool_id";

impl Lease4Row {
    /// The address.
    pub fn ip(&self) -> Ipv4Addr {
        v4_from_db(self.address)
    }

    /// Kea's JSON for the lease (`lease4-get` and friends).
    pub fn to_kea(&self) -> Value {
        let lft = self.valid_lifetime.unwrap_or(0);
        let cltt = self.expire.map(|e| e.timestamp() - lft).unwrap_or(0);
        let mut m = Map::new();
        m.insert("ip-address".into(), self.ip().to_string().into());
        m.insert(
            "hw-address".into(),
            hex_colon(self.hwaddr.as_deref().unwrap_or_default()).into(),
        );
        if let Some(c) = self.client_id.as_deref().filter(|c| !c.is_empty()) {
            m.insert("client-id".into(), hex_colon(c).into());
        }
        m.insert("valid-lft".into(), lft.into());
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
        if let Some(uc) = &self.user_context {
            let v = serde_json::from_str(uc).unwrap_or_else(|_| Value::String(uc.clone()));
            m.insert("user-context".into(), v);
        }
        Value::Object(m)
    }
}

/// Which leases to read. Empty means all.
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

/// Reads leases, ordered by address.
pub async fn select(pool: &PgPool, f: &LeaseFilter) -> sqlx::Result<Vec<Lease4Row>> {
    let mut q: QueryBuilder<Postgres> =
        QueryBuilder::new(format!("SELECT {COLUMNS} FROM lease4 WHERE true"));
    if let Some(a) = f.address {
        q.push(" AND address = ").push_bind(v4_to_db(a));
    }
    if let Some(s) = &f.subnets {
        q.push(" AND subnet_id = ANY(")
            .push_bind(s.clone())
            .push(")");
    }
    if let Some(h) = &f.hwaddr {
        q.push(" AND hwaddr = ").push_bind(h.clone());
    }
    if let Some(c) = &f.client_id {
        q.push(" AND client_id = ").push_bind(c.clone());
    }
    if let Some(h) = &f.hostname {
        q.push(" AND lower(hostname) = lower(")
            .push_bind(h.clone())
            .push(")");
    }
    if let Some(s) = f.state {
        q.push(" AND state = ").push_bind(s);
    }
    if let Some(a) = f.after {
        q.push(" AND address > ").push_bind(v4_to_db(a));
    }
    q.push(" ORDER BY address");
    if let Some(l) = f.limit {
        q.push(" LIMIT ").push_bind(l);
    }
    q.build_query_as::<Lease4Row>().fetch_all(pool).await
}

/// One lease by address.
pub async fn get(pool: &PgPool, a: Ipv4Addr) -> sqlx::Result<Option<Lease4Row>> {
    Ok(select(
        pool,
        &LeaseFilter {
            address: Some(a),
            ..Default::default()
        },
    )
    .await?
    .into_iter()
    .next())
}

/// A lease as given to `lease4-add` / `lease4-update`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLease4 {
    /// Address.
    pub address: Ipv4Addr,
    /// Subnet id.
    pub subnet_id: i64,
    /// Hardware address.
    pub hwaddr: Vec<u8>,
    /// Client id.
    pub client_id: Option<Vec<u8>>,
    /// Valid lifetime.
    pub valid_lifetime: i64,
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
    /// User context (JSON text).
    pub user_context: Option<String>,
}

/// Default valid lifetime when neither the subnet nor `Dhcp4` sets one (Kea's default).
pub const DEFAULT_VALID_LIFETIME: i64 = 7200;

/// Checks `lease4-add`/`lease4-update` arguments against the running configuration: when
/// it has `Dhcp4` subnets, the subnet must exist and hold the address, and a missing
/// `subnet-id` is taken from the subnet holding the address.
pub fn parse_new(args: &Args<'_>, config: &Value) -> Result<NewLease4, FieldError> {
    let address = args.req_v4("ip-address")?;
    let subnets = super::subnets4(config);
    let mut lifetime = None;
    let subnet_id = match args.int("subnet-id", 0, u32::MAX as i64)? {
        Some(id) if !subnets.is_empty() => {
            let s = subnets
                .iter()
                .find(|s| s.get("id").and_then(Value::as_i64) == Some(id))
                .ok_or_else(|| {
                    FieldError::new(
                        "subnet-id",
                        format!("Invalid subnet-id: No IPv4 subnet with subnet-id={id} currently configured."),
                    )
                })?;
            if super::subnet4_for(config, address).map(|(i, _)| i) != Some(id) {
                let prefix = s.get("subnet").and_then(Value::as_str).unwrap_or("?");
                return Err(FieldError::new(
                    "ip-address",
                    format!(
                        "The address {address} does not belong to subnet {prefix}, subnet-id={id}"
                    ),
                ));
            }
            lifetime = s.get("valid-lifetime").and_then(Value::as_i64);
            id
        }
        Some(id) => id,
        None => match super::subnet4_for(config, address) {
            Some((id, lft)) => {
                lifetime = lft;
                id
            }
            None => {
                return Err(FieldError::new(
                    "subnet-id",
                    format!("subnet-id not specified and no configured subnet holds {address}"),
                ))
            }
        },
    };
    let hwaddr = parse_hex("hw-address", args.req_str("hw-address")?)?;
    if hwaddr.len() > 20 {
        return Err(FieldError::new("hw-address", "longer than 20 bytes"));
    }
    let client_id = args
        .str("client-id")?
        .map(|c| parse_hex("client-id", c))
        .transpose()?;
    let global_lft = config
        .get("Dhcp4")
        .and_then(|d| d.get("valid-lifetime"))
        .and_then(Value::as_i64);
    let valid_lifetime = match args.int("valid-lft", 0, u32::MAX as i64)? {
        Some(v) => v,
        None => lifetime.or(global_lft).unwrap_or(DEFAULT_VALID_LIFETIME),
    };
    let expire = match args.int("expire", 0, i64::from(u32::MAX) * 2)? {
        Some(e) => Utc
            .timestamp_opt(e, 0)
            .single()
            .ok_or_else(|| FieldError::new("expire", "not a valid time"))?,
        None => Utc::now() + chrono::Duration::seconds(valid_lifetime),
    };
    let state = args.int("state", 0, 4)?.unwrap_or(0);
    let hostname = args.str("hostname")?.unwrap_or("").to_string();
    if hostname.len() > 255 {
        return Err(FieldError::new("hostname", "longer than 255 characters"));
    }
    Ok(NewLease4 {
        address,
        subnet_id,
        hwaddr,
        client_id,
        valid_lifetime,
        expire,
        fqdn_fwd: args.bool("fqdn-fwd")?.unwrap_or(false),
        fqdn_rev: args.bool("fqdn-rev")?.unwrap_or(false),
        hostname,
        state,
        user_context: args
            .map("user-context")?
            .map(|m| Value::Object(m.clone()).to_string()),
    })
}

/// Inserts a lease; a lease already at the address is a unique violation (`lease4_pkey`).
pub async fn insert<'e>(db: impl sqlx::PgExecutor<'e>, l: &NewLease4) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO lease4 (address, hwaddr, client_id, valid_lifetime, expire, subnet_id, \
         fqdn_fwd, fqdn_rev, hostname, state, user_context) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(v4_to_db(l.address))
    .bind(&l.hwaddr)
    .bind(&l.client_id)
    .bind(l.valid_lifetime)
    .bind(l.expire)
    .bind(l.subnet_id)
    .bind(l.fqdn_fwd)
    .bind(l.fqdn_rev)
    .bind(&l.hostname)
    .bind(l.state)
    .bind(&l.user_context)
    .execute(db)
    .await
    .map(|_| ())
}

/// Replaces the lease at the address; `false` when there is none (and `force_create` is
/// not set). One transaction.
pub async fn update(pool: &PgPool, l: &NewLease4, force_create: bool) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let n = sqlx::query(
        "UPDATE lease4 SET hwaddr = $2, client_id = $3, valid_lifetime = $4, expire = $5, \
         subnet_id = $6, fqdn_fwd = $7, fqdn_rev = $8, hostname = $9, state = $10, \
         user_context = $11 WHERE address = $1",
    )
    .bind(v4_to_db(l.address))
    .bind(&l.hwaddr)
    .bind(&l.client_id)
    .bind(l.valid_lifetime)
    .bind(l.expire)
    .bind(l.subnet_id)
    .bind(l.fqdn_fwd)
    .bind(l.fqdn_rev)
    .bind(&l.hostname)
    .bind(l.state)
    .bind(&l.user_context)
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

/// Deletes the lease at an address; `false` when there was none.
pub async fn delete(pool: &PgPool, a: Ipv4Addr) -> sqlx::Result<bool> {
    let n = sqlx::query("DELETE FROM lease4 WHERE address = $1")
        .bind(v4_to_db(a))
        .execute(pool)
        .await?
        .rows_affected();
    Ok(n > 0)
}

/// Deletes the lease on `a` and, with `update_ddns`, queues the removal of its DNS
/// entries in the same transaction, as the DHCP engine does on a release (the NCR is
/// made with the lease's subnet's DDNS settings from `dhcp4`). Returns whether there
/// was a lease, and the queued NCR's id.
pub async fn delete_with_dns(
    store: &tern_store::Store,
    dhcp4: Option<&tern_dhcp::ServerConfig>,
    a: Ipv4Addr,
    update_ddns: bool,
) -> tern_store::Result<(bool, Option<i64>)> {
    let mut tx = store.pool().begin().await?;
    let Some(old) = tern_store::lease4::delete(&mut tx, a).await? else {
        return Ok((false, None));
    };
    let ncr = dhcp4
        .filter(|_| update_ddns)
        .and_then(|cfg| tern_dhcp::engine::removal_ncr(cfg, &old));
    let id = match &ncr {
        Some(n) => {
            Some(tern_store::ncr_queue::enqueue(&mut *tx, n, tern_store::NcrSource::Api).await?)
        }
        None => None,
    };
    tx.commit().await?;
    Ok((true, id))
}

/// Deletes every lease of a subnet (or of all subnets); returns how many per subnet.
pub async fn wipe(pool: &PgPool, subnet: Option<i64>) -> sqlx::Result<Vec<(i64, i64)>> {
    let rows: Vec<(Option<i64>, i64)> = sqlx::query_as(
        "WITH d AS (DELETE FROM lease4 WHERE $1::bigint IS NULL OR subnet_id = $1 RETURNING subnet_id) \
         SELECT subnet_id, count(*) FROM d GROUP BY subnet_id ORDER BY subnet_id",
    )
    .bind(subnet)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(s, n)| (s.unwrap_or(0), n)).collect())
}

/// The filter for the lease an identifier (`hw-address` or `client-id`) holds in a subnet.
pub fn identifier_filter(kind: &str, id: Vec<u8>, subnet: i64) -> Result<LeaseFilter, FieldError> {
    let mut f = LeaseFilter {
        subnets: Some(vec![subnet]),
        limit: Some(1),
        ..Default::default()
    };
    match kind {
        "hw-address" => f.hwaddr = Some(id),
        "client-id" => f.client_id = Some(id),
        other => {
            return Err(FieldError::new(
                "identifier-type",
                format!("'{other}' is not supported for IPv4 leases (use hw-address or client-id)"),
            ))
        }
    }
    Ok(f)
}

/// Helper for JSON output of several leases.
pub fn to_kea_list(rows: &[Lease4Row]) -> Value {
    json!(rows.iter().map(Lease4Row::to_kea).collect::<Vec<_>>())
}
