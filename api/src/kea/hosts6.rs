//! DHCPv6 host reservations: `hosts` rows with `dhcp6_subnet_id` and their addresses and
//! prefixes in `ipv6_reservations`. As for IPv4, an address or prefix is reserved for at
//! most one host per subnet (Kea's default `ip-reservations-unique: true`), checked under
//! an advisory lock in the writing transaction.

use std::net::Ipv6Addr;

use serde_json::{Map, Value};
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::hosts::{identifier_code, IDENTIFIER_TYPES};
use super::{hex_colon, parse_hex, Args, FieldError};

/// A DHCPv6 reservation as read.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Host6Row {
    /// Primary key.
    pub host_id: i32,
    /// Identifier bytes.
    pub dhcp_identifier: Vec<u8>,
    /// Identifier type code.
    pub dhcp_identifier_type: i16,
    /// Subnet (0 = global).
    pub dhcp6_subnet_id: Option<i64>,
    /// Host name.
    pub hostname: Option<String>,
    /// Comma-separated classes.
    pub dhcp6_client_classes: Option<String>,
    /// JSON text.
    pub user_context: Option<String>,
    /// Reserved addresses.
    pub addresses: Vec<String>,
    /// Reserved prefixes (`prefix/len`).
    pub prefixes: Vec<String>,
}

impl Host6Row {
    /// Kea's JSON for the host.
    pub fn to_kea(&self) -> Value {
        let mut m = Map::new();
        let kind = IDENTIFIER_TYPES
            .get(self.dhcp_identifier_type as usize)
            .copied()
            .unwrap_or("flex-id");
        m.insert(kind.into(), hex_colon(&self.dhcp_identifier).into());
        m.insert("subnet-id".into(), self.dhcp6_subnet_id.unwrap_or(0).into());
        m.insert("ip-addresses".into(), self.addresses.clone().into());
        m.insert("prefixes".into(), self.prefixes.clone().into());
        m.insert(
            "hostname".into(),
            self.hostname.clone().unwrap_or_default().into(),
        );
        let classes: Vec<Value> = self
            .dhcp6_client_classes
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| Value::String(c.to_string()))
            .collect();
        m.insert("client-classes".into(), Value::Array(classes));
        m.insert("option-data".into(), Value::Array(Vec::new()));
        if let Some(uc) = &self.user_context {
            let v = serde_json::from_str(uc).unwrap_or_else(|_| Value::String(uc.clone()));
            m.insert("user-context".into(), v);
        }
        Value::Object(m)
    }
}

/// A DHCPv6 reservation as given to `reservation-add`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NewHost6 {
    /// Identifier type code.
    pub identifier_type: i16,
    /// Identifier bytes.
    pub identifier: Vec<u8>,
    /// Subnet (0 = global).
    pub subnet_id: i64,
    /// Addresses.
    pub addresses: Vec<Ipv6Addr>,
    /// Prefixes with their lengths.
    pub prefixes: Vec<(Ipv6Addr, i16)>,
    /// Host name.
    pub hostname: Option<String>,
    /// Classes, comma-joined.
    pub client_classes: Option<String>,
    /// User context JSON text.
    pub user_context: Option<String>,
}

fn strings<'a>(args: &Args<'a>, k: &str) -> Result<Vec<&'a str>, FieldError> {
    match args.get(k) {
        None => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| FieldError::new(k, "must be a list of strings"))
            })
            .collect(),
        Some(_) => Err(FieldError::new(k, "must be a list")),
    }
}

fn check_subnet(config: &Value, id: i64, addresses: &[Ipv6Addr]) -> Result<(), FieldError> {
    let Some(prefix) = super::hosts::reserved_in(super::leases6::subnets6(config), id, "IPv6")?
    else {
        return Ok(());
    };
    match addresses
        .iter()
        .find(|a| !super::leases6::prefix_holds(prefix, **a))
    {
        Some(a) => Err(FieldError::new(
            "ip-addresses",
            format!(
                "specified reservation '{a}' is not matching the IPv6 subnet prefix '{prefix}'"
            ),
        )),
        None => Ok(()),
    }
}

/// Checks a DHCPv6 reservation map against the running configuration: a subnet-id other
/// than 0 must name a configured `Dhcp6` subnet holding every reserved address (prefixes
/// are delegated outside it by design), as Kea's host_cmds checks.
pub fn parse_new(r: &Map<String, Value>, config: &Value) -> Result<NewHost6, FieldError> {
    let args = Args(r);
    let subnet_id = args.req_int("subnet-id", 0, u32::MAX as i64)?;
    let given: Vec<&str> = IDENTIFIER_TYPES
        .iter()
        .copied()
        .filter(|k| args.has(k))
        .collect();
    let kind = match given.as_slice() {
        [one] => *one,
        [] => {
            return Err(FieldError::new(
                "duid",
                format!(
                    "one of the supported identifiers must be specified for host reservation: {}",
                    IDENTIFIER_TYPES.join(", ")
                ),
            ))
        }
        [_, second, ..] => {
            return Err(FieldError::new(
                second,
                format!(
                    "only one identifier may be given, found {}",
                    given.join(" and ")
                ),
            ))
        }
    };
    let identifier = parse_hex(kind, args.req_str(kind)?)?;
    if args.has("ip-address") {
        return Err(FieldError::new(
            "ip-address",
            "a DHCPv6 reservation takes \"ip-addresses\" (a list)",
        ));
    }
    let mut addresses = Vec::new();
    for a in strings(&args, "ip-addresses")? {
        addresses.push(a.parse::<Ipv6Addr>().map_err(|_| {
            FieldError::new("ip-addresses", format!("'{a}' is not an IPv6 address"))
        })?);
    }
    let mut prefixes = Vec::new();
    for p in strings(&args, "prefixes")? {
        let bad = || {
            FieldError::new(
                "prefixes",
                format!("'{p}' is not an IPv6 prefix (address/length)"),
            )
        };
        let (a, l) = p.split_once('/').ok_or_else(bad)?;
        let a: Ipv6Addr = a.parse().map_err(|_| bad())?;
        let l: i16 = l
            .parse()
            .ok()
            .filter(|l| (1..=128).contains(l))
            .ok_or_else(bad)?;
        prefixes.push((a, l));
    }
    if let Some(Value::Array(opts)) = args.get("option-data") {
        if !opts.is_empty() {
            return Err(FieldError::new(
                "option-data",
                "per-host DHCPv6 options are not supported by the API yet",
            ));
        }
    }
    let classes = strings(&args, "client-classes")?;
    if classes.iter().any(|c| c.is_empty() || c.contains(',')) {
        return Err(FieldError::new(
            "client-classes",
            "must be a list of non-empty class names without commas",
        ));
    }
    let joined = classes.join(",");
    if joined.len() > 255 {
        return Err(FieldError::new(
            "client-classes",
            "longer than 255 characters in all",
        ));
    }
    let hostname = args.str("hostname")?.filter(|h| !h.is_empty());
    if hostname.is_some_and(|h| h.len() > 255) {
        return Err(FieldError::new("hostname", "longer than 255 characters"));
    }
    check_subnet(config, subnet_id, &addresses)?;
    Ok(NewHost6 {
        identifier_type: identifier_code(kind)?,
        identifier,
        subnet_id,
        addresses,
        prefixes,
        hostname: hostname.map(str::to_string),
        client_classes: (!joined.is_empty()).then_some(joined),
        user_context: args
            .map("user-context")?
            .map(|m| Value::Object(m.clone()).to_string()),
    })
}

/// Why a DHCPv6 reservation could not be written.
#[derive(Debug)]
pub enum WriteError6 {
    /// Another host already holds this address or prefix in the subnet.
    Taken(String, i64),
    /// The database said no.
    Db(sqlx::Error),
}

impl From<sqlx::Error> for WriteError6 {
    fn from(e: sqlx::Error) -> Self {
        WriteError6::Db(e)
    }
}

/// Inserts a reservation with its addresses and prefixes, in one transaction.
pub async fn insert(pool: &PgPool, h: &NewHost6) -> Result<i32, WriteError6> {
    let mut tx = pool.begin().await?;
    let mut taken: Vec<(String, i16)> = h
        .addresses
        .iter()
        .map(|a| (a.to_string(), 128))
        .chain(h.prefixes.iter().map(|(a, l)| (a.to_string(), *l)))
        .collect();
    taken.sort();
    for (a, l) in &taken {
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtextextended('tern.hosts6:' || $1 || ':' || $2, 0))",
        )
        .bind(h.subnet_id)
        .bind(a)
        .execute(&mut *tx)
        .await?;
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM ipv6_reservations r JOIN hosts h ON h.host_id = r.host_id \
             WHERE h.dhcp6_subnet_id = $1 AND r.address = $2::inet AND r.prefix_len = $3)",
        )
        .bind(h.subnet_id)
        .bind(a)
        .bind(l)
        .fetch_one(&mut *tx)
        .await?;
        if exists {
            let shown = if *l == 128 {
                a.clone()
            } else {
                format!("{a}/{l}")
            };
            return Err(WriteError6::Taken(shown, h.subnet_id));
        }
    }
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, dhcp6_subnet_id, hostname, \
         dhcp6_client_classes, user_context) VALUES ($1, $2, $3, $4, $5, $6) RETURNING host_id",
    )
    .bind(&h.identifier)
    .bind(h.identifier_type)
    .bind(h.subnet_id)
    .bind(&h.hostname)
    .bind(&h.client_classes)
    .bind(&h.user_context)
    .fetch_one(&mut *tx)
    .await?;
    for a in &h.addresses {
        sqlx::query(
            "INSERT INTO ipv6_reservations (address, prefix_len, type, host_id) VALUES ($1::inet, 128, 0, $2)",
        )
        .bind(a.to_string())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    for (a, l) in &h.prefixes {
        sqlx::query(
            "INSERT INTO ipv6_reservations (address, prefix_len, type, host_id) VALUES ($1::inet, $2, 2, $3)",
        )
        .bind(a.to_string())
        .bind(l)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Which DHCPv6 reservations to read.
#[derive(Debug, Default, Clone)]
pub struct Host6Filter {
    /// In this subnet.
    pub subnet_id: Option<i64>,
    /// With this identifier.
    pub identifier: Option<(i16, Vec<u8>)>,
    /// Holding this address (or prefix start).
    pub address: Option<Ipv6Addr>,
    /// With this host name (case-insensitive).
    pub hostname: Option<String>,
    /// Rows after this id.
    pub after: Option<i32>,
    /// At most this many.
    pub limit: Option<i64>,
}

fn push_where(q: &mut QueryBuilder<'_, Postgres>, f: &Host6Filter) {
    q.push(" WHERE h.dhcp6_subnet_id IS NOT NULL");
    if let Some(s) = f.subnet_id {
        q.push(" AND h.dhcp6_subnet_id = ").push_bind(s);
    }
    if let Some((t, b)) = &f.identifier {
        q.push(" AND h.dhcp_identifier_type = ").push_bind(*t);
        q.push(" AND h.dhcp_identifier = ").push_bind(b.clone());
    }
    if let Some(a) = f.address {
        q.push(" AND EXISTS (SELECT 1 FROM ipv6_reservations x WHERE x.host_id = h.host_id AND x.address = ")
            .push_bind(a.to_string())
            .push("::inet)");
    }
    if let Some(n) = &f.hostname {
        q.push(" AND lower(h.hostname) = lower(")
            .push_bind(n.clone())
            .push(")");
    }
    if let Some(a) = f.after {
        q.push(" AND h.host_id > ").push_bind(a);
    }
}

/// Reads DHCPv6 reservations, ordered by `host_id`.
pub async fn select(pool: &PgPool, f: &Host6Filter) -> sqlx::Result<Vec<Host6Row>> {
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT h.host_id, h.dhcp_identifier, h.dhcp_identifier_type, h.dhcp6_subnet_id, h.hostname, \
         h.dhcp6_client_classes, h.user_context, \
         COALESCE((SELECT array_agg(host(r.address) ORDER BY r.address) FROM ipv6_reservations r \
                   WHERE r.host_id = h.host_id AND r.type = 0), '{}') AS addresses, \
         COALESCE((SELECT array_agg(host(r.address) || '/' || r.prefix_len ORDER BY r.address) \
                   FROM ipv6_reservations r WHERE r.host_id = h.host_id AND r.type = 2), '{}') AS prefixes \
         FROM hosts h",
    );
    push_where(&mut q, f);
    q.push(" ORDER BY h.host_id");
    if let Some(l) = f.limit {
        q.push(" LIMIT ").push_bind(l);
    }
    q.build_query_as::<Host6Row>().fetch_all(pool).await
}

/// Deletes the DHCPv6 reservations matching `f`; their addresses and prefixes go with
/// them (foreign key cascade). Returns how many hosts.
pub async fn delete(pool: &PgPool, f: &Host6Filter) -> sqlx::Result<u64> {
    let mut q: QueryBuilder<Postgres> =
        QueryBuilder::new("DELETE FROM hosts WHERE host_id IN (SELECT h.host_id FROM hosts h");
    push_where(&mut q, f);
    q.push(")");
    Ok(q.build().execute(pool).await?.rows_affected())
}
