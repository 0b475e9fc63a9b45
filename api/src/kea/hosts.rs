//! IPv4 host reservations in Kea's `hosts` table, and Kea's JSON for a host.
//!
//! Like Kea with `ip-reservations-unique: true` (its default), one address is reserved for
//! at most one host per subnet; the check and the write happen in one transaction under
//! an advisory lock on (subnet, address), so concurrent API calls cannot both pass it.

use std::net::Ipv4Addr;

use serde_json::{Map, Value};
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::{hex_colon, parse_hex, v4_from_db, v4_to_db, Args, FieldError};

/// Kea's host identifier types, by their code in `dhcp_identifier_type`.
pub const IDENTIFIER_TYPES: [&str; 5] =
    ["hw-address", "duid", "circuit-id", "client-id", "flex-id"];

/// The code of an identifier type name.
pub fn identifier_code(name: &str) -> Result<i16, FieldError> {
    IDENTIFIER_TYPES
        .iter()
        .position(|n| *n == name)
        .map(|i| i as i16)
        .ok_or_else(|| {
            FieldError::new(
                "identifier-type",
                format!(
                    "'{name}' is not a host identifier type (one of {})",
                    IDENTIFIER_TYPES.join(", ")
                ),
            )
        })
}

/// A `hosts` row (the DHCPv4 part).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HostRow {
    /// Primary key.
    pub host_id: i32,
    /// Identifier bytes.
    pub dhcp_identifier: Vec<u8>,
    /// Identifier type code.
    pub dhcp_identifier_type: i16,
    /// DHCPv4 subnet (0 = global).
    pub dhcp4_subnet_id: Option<i64>,
    /// DHCPv6 subnet.
    pub dhcp6_subnet_id: Option<i64>,
    /// Reserved address as Kea's bigint.
    pub ipv4_address: Option<i64>,
    /// Host name.
    pub hostname: Option<String>,
    /// Comma-separated classes.
    pub dhcp4_client_classes: Option<String>,
    /// siaddr as bigint.
    pub dhcp4_next_server: Option<i64>,
    /// sname.
    pub dhcp4_server_hostname: Option<String>,
    /// file.
    pub dhcp4_boot_file_name: Option<String>,
    /// JSON text.
    pub user_context: Option<String>,
    /// The host's options (`dhcp4_options` with scope 3), as Kea's `option-data`.
    #[sqlx(skip)]
    pub options: Vec<Value>,
}

const COLUMNS: &str = "host_id, dhcp_identifier, dhcp_identifier_type, dhcp4_subnet_id, \
    dhcp6_subnet_id, ipv4_address, hostname, dhcp4_client_classes, dhcp4_next_server, \
    dhcp4_server_hostname, dhcp4_boot_file_name, user_context";

impl HostRow {
    /// Kea's JSON for the host (`reservation-get`), without tern's `id`.
    pub fn to_kea(&self) -> Value {
        let mut m = Map::new();
        let kind = IDENTIFIER_TYPES
            .get(self.dhcp_identifier_type as usize)
            .copied()
            .unwrap_or("flex-id");
        m.insert(kind.into(), hex_colon(&self.dhcp_identifier).into());
        m.insert(
            "subnet-id".into(),
            self.dhcp4_subnet_id
                .or(self.dhcp6_subnet_id)
                .unwrap_or(0)
                .into(),
        );
        m.insert(
            "ip-address".into(),
            v4_from_db(self.ipv4_address.unwrap_or(0))
                .to_string()
                .into(),
        );
        m.insert(
            "hostname".into(),
            self.hostname.clone().unwrap_or_default().into(),
        );
        let classes: Vec<Value> = self
            .dhcp4_client_classes
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| Value::String(c.to_string()))
            .collect();
        m.insert("client-classes".into(), Value::Array(classes));
        m.insert(
            "next-server".into(),
            v4_from_db(self.dhcp4_next_server.unwrap_or(0))
                .to_string()
                .into(),
        );
        m.insert(
            "server-hostname".into(),
            self.dhcp4_server_hostname
                .clone()
                .unwrap_or_default()
                .into(),
        );
        m.insert(
            "boot-file-name".into(),
            self.dhcp4_boot_file_name.clone().unwrap_or_default().into(),
        );
        m.insert("option-data".into(), Value::Array(self.options.clone()));
        if let Some(uc) = &self.user_context {
            let v = serde_json::from_str(uc).unwrap_or_else(|_| Value::String(uc.clone()));
            m.insert("user-context".into(), v);
        }
        Value::Object(m)
    }

    /// tern's REST JSON: Kea's plus the row's `id`.
    pub fn to_rest(&self) -> Value {
        let mut v = self.to_kea();
        v["id"] = self.host_id.into();
        v
    }
}

/// A reservation as given to `reservation-add` or `POST /api/v1/reservations`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NewHost4 {
    /// Identifier type code.
    pub identifier_type: i16,
    /// Identifier bytes.
    pub identifier: Vec<u8>,
    /// Subnet (0 = global).
    pub subnet_id: i64,
    /// Reserved address.
    pub ipv4_address: Option<Ipv4Addr>,
    /// Host name.
    pub hostname: Option<String>,
    /// Classes, comma-joined.
    pub client_classes: Option<String>,
    /// siaddr.
    pub next_server: Option<Ipv4Addr>,
    /// sname.
    pub server_hostname: Option<String>,
    /// file.
    pub boot_file_name: Option<String>,
    /// User context JSON text.
    pub user_context: Option<String>,
    /// Per-host options.
    pub options: Vec<HostOption>,
}

/// One per-host option as stored in `dhcp4_options` (scope 3, host).
#[derive(Debug, Clone, PartialEq)]
pub struct HostOption {
    /// Option code.
    pub code: i16,
    /// Option space (`dhcp4` for standard options).
    pub space: String,
    /// The value as written in the configuration (Kea's `formatted_value`).
    pub data: String,
    /// Kea's `always-send` (column `persistent`).
    pub always_send: bool,
}

/// Standard DHCPv4 option names (RFC 2132 and friends) tern knows the codes of.
pub const OPTION_NAMES: &[(&str, i16)] = &[
    ("time-offset", 2),
    ("routers", 3),
    ("time-servers", 4),
    ("domain-name-servers", 6),
    ("log-servers", 7),
    ("host-name", 12),
    ("boot-size", 13),
    ("domain-name", 15),
    ("root-path", 17),
    ("interface-mtu", 26),
    ("broadcast-address", 28),
    ("static-routes", 33),
    ("nis-domain", 40),
    ("nis-servers", 41),
    ("ntp-servers", 42),
    ("vendor-encapsulated-options", 43),
    ("netbios-name-servers", 44),
    ("dhcp-lease-time", 51),
    ("tftp-server-name", 66),
    ("boot-file-name", 67),
    ("domain-search", 119),
    ("classless-static-route", 121),
    ("v4-captive-portal", 114),
];

fn option_name(code: i16) -> Option<&'static str> {
    OPTION_NAMES
        .iter()
        .find(|(_, c)| *c == code)
        .map(|(n, _)| *n)
}

fn parse_option(o: &Value, i: usize) -> Result<HostOption, FieldError> {
    let field = format!("option-data[{i}]");
    let m = o
        .as_object()
        .ok_or_else(|| FieldError::new(&field, "must be a map"))?;
    let args = Args(m);
    let space = args.str("space")?.unwrap_or("dhcp4").to_string();
    let code = match (args.int("code", 1, 254)?, args.str("name")?) {
        (Some(c), _) => c as i16,
        (None, Some(n)) if space == "dhcp4" => OPTION_NAMES
            .iter()
            .find(|(name, _)| *name == n)
            .map(|(_, c)| *c)
            .ok_or_else(|| {
                FieldError::new(
                    &field,
                    format!("option '{n}' is not known by name here: give its \"code\""),
                )
            })?,
        (None, Some(n)) => {
            return Err(FieldError::new(
                &field,
                format!("option '{n}' in space {space}: give its \"code\""),
            ))
        }
        (None, None) => return Err(FieldError::new(&field, "needs \"code\" or \"name\"")),
    };
    if args.bool("csv-format")? == Some(false) {
        // Raw hex data: check it now rather than hand the engine garbage.
        if let Some(d) = args.str("data")? {
            if !d.is_empty() {
                parse_hex(&field, d)?;
            }
        }
    }
    Ok(HostOption {
        code,
        space,
        data: args.str("data")?.unwrap_or("").to_string(),
        always_send: args.bool("always-send")?.unwrap_or(false),
    })
}

fn bounded(args: &Args<'_>, k: &str, max: usize) -> Result<Option<String>, FieldError> {
    match args.str(k)? {
        Some(s) if s.len() > max => {
            Err(FieldError::new(k, format!("longer than {max} characters")))
        }
        Some("") | None => Ok(None),
        Some(s) => Ok(Some(s.to_string())),
    }
}

/// Refuses a subnet-id that is not configured, or an address outside that subnet (Kea's
/// texts).
fn check_subnet(config: &Value, id: i64, address: Option<Ipv4Addr>) -> Result<(), FieldError> {
    let Some(prefix) = reserved_in(super::subnets4(config), id, "IPv4")? else {
        return Ok(());
    };
    match address {
        Some(a) if !super::prefix4_holds(prefix, a) => Err(FieldError::new(
            "ip-address",
            format!(
                "specified reservation '{a}' is not matching the IPv4 subnet prefix '{prefix}'"
            ),
        )),
        _ => Ok(()),
    }
}

/// The prefix of subnet `id` among the configured `subnets` of a family, `None` when
/// there is nothing to check (global id 0, no subnets configured); an id not configured
/// is refused.
pub(super) fn reserved_in<'a>(
    subnets: Vec<&'a Map<String, Value>>,
    id: i64,
    family: &str,
) -> Result<Option<&'a str>, FieldError> {
    if id == 0 || subnets.is_empty() {
        return Ok(None);
    }
    let subnet = subnets
        .into_iter()
        .find(|s| s.get("id").and_then(Value::as_i64) == Some(id))
        .ok_or_else(|| {
            FieldError::new(
                "subnet-id",
                format!("{family} subnet with ID of '{id}' is not configured"),
            )
        })?;
    Ok(Some(
        subnet.get("subnet").and_then(Value::as_str).unwrap_or("?"),
    ))
}

/// Checks a reservation map (Kea's `reservation` argument) against the running
/// configuration `config`: as Kea's host_cmds does, a subnet-id other than 0 (global) must
/// name a configured subnet that holds the reserved address. Without `Dhcp4` subnets (an
/// API-only or D2-only tern) there is nothing to check against.
pub fn parse_new(r: &Map<String, Value>, config: &Value) -> Result<NewHost4, FieldError> {
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
                "hw-address",
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
    if identifier.len() > 128 {
        return Err(FieldError::new(kind, "longer than 128 bytes"));
    }
    for k in ["ip-addresses", "prefixes"] {
        if args.has(k) {
            return Err(FieldError::new(
                k,
                "IPv6 reservations are not supported by this command yet",
            ));
        }
    }
    let options = match args.get("option-data") {
        None => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, o)| parse_option(o, i))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(FieldError::new("option-data", "must be a list")),
    };
    let client_classes = match args.get("client-classes") {
        None => None,
        Some(Value::Array(a)) => {
            let mut v = Vec::new();
            for c in a {
                match c.as_str() {
                    Some(s) if !s.is_empty() && !s.contains(',') => v.push(s.to_string()),
                    _ => {
                        return Err(FieldError::new(
                            "client-classes",
                            "must be a list of non-empty class names without commas",
                        ))
                    }
                }
            }
            let joined = v.join(",");
            if joined.len() > 255 {
                return Err(FieldError::new(
                    "client-classes",
                    "longer than 255 characters in all",
                ));
            }
            (!joined.is_empty()).then_some(joined)
        }
        Some(_) => return Err(FieldError::new("client-classes", "must be a list")),
    };
    let ipv4_address = args.v4("ip-address")?.filter(|a| !a.is_unspecified());
    check_subnet(config, subnet_id, ipv4_address)?;
    Ok(NewHost4 {
        identifier_type: identifier_code(kind)?,
        identifier,
        subnet_id,
        ipv4_address,
        hostname: bounded(&args, "hostname", 255)?,
        client_classes,
        next_server: args.v4("next-server")?.filter(|a| !a.is_unspecified()),
        server_hostname: bounded(&args, "server-hostname", 64)?,
        boot_file_name: bounded(&args, "boot-file-name", 128)?,
        user_context: args
            .map("user-context")?
            .map(|m| Value::Object(m.clone()).to_string()),
        options,
    })
}

/// Why a reservation could not be written.
#[derive(Debug)]
pub enum WriteError {
    /// Another host already holds this address in the subnet.
    AddressTaken(Ipv4Addr, i64),
    /// The database said no (a unique identifier violation shows up here).
    Db(sqlx::Error),
}

impl From<sqlx::Error> for WriteError {
    fn from(e: sqlx::Error) -> Self {
        WriteError::Db(e)
    }
}

async fn lock_address(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    h: &NewHost4,
    except: Option<i32>,
) -> Result<(), WriteError> {
    let Some(a) = h.ipv4_address else {
        return Ok(());
    };
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended('tern.hosts4:' || $1 || ':' || $2, 0))",
    )
    .bind(h.subnet_id)
    .bind(v4_to_db(a))
    .execute(&mut **tx)
    .await?;
    let taken: Option<i32> = sqlx::query_scalar(
        "SELECT host_id FROM hosts WHERE dhcp4_subnet_id = $1 AND ipv4_address = $2 \
         AND ($3::int IS NULL OR host_id <> $3) LIMIT 1",
    )
    .bind(h.subnet_id)
    .bind(v4_to_db(a))
    .bind(except)
    .fetch_optional(&mut **tx)
    .await?;
    match taken {
        Some(_) => Err(WriteError::AddressTaken(a, h.subnet_id)),
        None => Ok(()),
    }
}

/// Inserts a reservation; returns its row.
pub async fn insert(pool: &PgPool, h: &NewHost4) -> Result<HostRow, WriteError> {
    let mut tx = pool.begin().await?;
    lock_address(&mut tx, h, None).await?;
    let row = sqlx::query_as::<_, HostRow>(&format!(
        "INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, dhcp4_subnet_id, ipv4_address, \
         hostname, dhcp4_client_classes, dhcp4_next_server, dhcp4_server_hostname, \
         dhcp4_boot_file_name, user_context) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         RETURNING {COLUMNS}"
    ))
    .bind(&h.identifier)
    .bind(h.identifier_type)
    .bind(h.subnet_id)
    .bind(h.ipv4_address.map(v4_to_db))
    .bind(&h.hostname)
    .bind(&h.client_classes)
    .bind(h.next_server.map(v4_to_db))
    .bind(&h.server_hostname)
    .bind(&h.boot_file_name)
    .bind(&h.user_context)
    .fetch_one(&mut *tx)
    .await?;
    let mut row = row;
    row.options = write_options(&mut tx, row.host_id, &h.options).await?;
    tx.commit().await?;
    Ok(row)
}

/// Replaces the reservation `host_id`; `None` when there is no such row.
pub async fn replace(
    pool: &PgPool,
    host_id: i32,
    h: &NewHost4,
) -> Result<Option<HostRow>, WriteError> {
    let mut tx = pool.begin().await?;
    lock_address(&mut tx, h, Some(host_id)).await?;
    let row = sqlx::query_as::<_, HostRow>(&format!(
        "UPDATE hosts SET dhcp_identifier = $2, dhcp_identifier_type = $3, dhcp4_subnet_id = $4, \
         ipv4_address = $5, hostname = $6, dhcp4_client_classes = $7, dhcp4_next_server = $8, \
         dhcp4_server_hostname = $9, dhcp4_boot_file_name = $10, user_context = $11 \
         WHERE host_id = $1 RETURNING {COLUMNS}"
    ))
    .bind(host_id)
    .bind(&h.identifier)
    .bind(h.identifier_type)
    .bind(h.subnet_id)
    .bind(h.ipv4_address.map(v4_to_db))
    .bind(&h.hostname)
    .bind(&h.client_classes)
    .bind(h.next_server.map(v4_to_db))
    .bind(&h.server_hostname)
    .bind(&h.boot_file_name)
    .bind(&h.user_context)
    .fetch_optional(&mut *tx)
    .await?;
    let row = match row {
        Some(mut r) => {
            r.options = write_options(&mut tx, host_id, &h.options).await?;
            Some(r)
        }
        None => None,
    };
    tx.commit().await?;
    Ok(row)
}

/// Replaces a host's options; returns them as Kea's `option-data`.
async fn write_options(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    host_id: i32,
    options: &[HostOption],
) -> Result<Vec<Value>, WriteError> {
    sqlx::query("DELETE FROM dhcp4_options WHERE host_id = $1 AND scope_id = 3")
        .bind(host_id)
        .execute(&mut **tx)
        .await?;
    for o in options {
        sqlx::query(
            "INSERT INTO dhcp4_options (code, formatted_value, space, persistent, host_id, scope_id) \
             VALUES ($1, $2, $3, $4, $5, 3)",
        )
        .bind(o.code)
        .bind(&o.data)
        .bind(&o.space)
        .bind(o.always_send)
        .bind(host_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(options
        .iter()
        .map(|o| option_json(o.code, &o.space, Some(&o.data), None, o.always_send))
        .collect())
}

fn option_json(
    code: i16,
    space: &str,
    formatted: Option<&str>,
    raw: Option<&[u8]>,
    always_send: bool,
) -> Value {
    let mut m = Map::new();
    m.insert("code".into(), code.into());
    if space == "dhcp4" {
        if let Some(n) = option_name(code) {
            m.insert("name".into(), n.into());
        }
    }
    m.insert("space".into(), space.into());
    let (data, csv) = match (formatted, raw) {
        (Some(f), _) => (f.to_string(), true),
        (None, Some(r)) => (
            r.iter().map(|b| format!("{b:02X}")).collect::<String>(),
            false,
        ),
        (None, None) => (String::new(), true),
    };
    m.insert("csv-format".into(), csv.into());
    m.insert("data".into(), data.into());
    m.insert("always-send".into(), always_send.into());
    m.insert("never-send".into(), false.into());
    Value::Object(m)
}

type OptionRow = (
    i32,
    i16,
    Option<String>,
    Option<Vec<u8>>,
    Option<String>,
    bool,
);

/// Loads the options of these hosts into them.
async fn load_options(pool: &PgPool, rows: &mut [HostRow]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<i32> = rows.iter().map(|r| r.host_id).collect();
    let opts: Vec<OptionRow> = sqlx::query_as(
        "SELECT host_id, code, formatted_value, value, space, persistent FROM dhcp4_options \
         WHERE host_id = ANY($1) AND scope_id = 3 ORDER BY option_id",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    for (host_id, code, formatted, value, space, persistent) in opts {
        if let Some(r) = rows.iter_mut().find(|r| r.host_id == host_id) {
            r.options.push(option_json(
                code,
                space.as_deref().unwrap_or("dhcp4"),
                formatted
                    .as_deref()
                    .filter(|f| !f.is_empty())
                    .or(if value.is_none() { Some("") } else { None }),
                value.as_deref(),
                persistent,
            ));
        }
    }
    Ok(())
}

/// Which reservations to read (DHCPv4 ones: `dhcp4_subnet_id` set). Empty means all.
#[derive(Debug, Default, Clone)]
pub struct HostFilter {
    /// This row.
    pub host_id: Option<i32>,
    /// In this subnet.
    pub subnet_id: Option<i64>,
    /// With this identifier `(type, bytes)`.
    pub identifier: Option<(i16, Vec<u8>)>,
    /// For this address.
    pub ipv4_address: Option<Ipv4Addr>,
    /// With this host name (case-insensitive).
    pub hostname: Option<String>,
    /// Rows after this id (keyset paging).
    pub after: Option<i32>,
    /// At most this many.
    pub limit: Option<i64>,
    /// Include DHCPv6-only hosts too.
    pub any_family: bool,
}

fn push_where(q: &mut QueryBuilder<'_, Postgres>, f: &HostFilter) {
    q.push(" WHERE true");
    if !f.any_family {
        q.push(" AND dhcp4_subnet_id IS NOT NULL");
    }
    if let Some(id) = f.host_id {
        q.push(" AND host_id = ").push_bind(id);
    }
    if let Some(s) = f.subnet_id {
        q.push(" AND dhcp4_subnet_id = ").push_bind(s);
    }
    if let Some((t, b)) = &f.identifier {
        q.push(" AND dhcp_identifier_type = ").push_bind(*t);
        q.push(" AND dhcp_identifier = ").push_bind(b.clone());
    }
    if let Some(a) = f.ipv4_address {
        q.push(" AND ipv4_address = ").push_bind(v4_to_db(a));
    }
    if let Some(h) = &f.hostname {
        q.push(" AND lower(hostname) = lower(")
            .push_bind(h.clone())
            .push(")");
    }
    if let Some(a) = f.after {
        q.push(" AND host_id > ").push_bind(a);
    }
}

/// Reads reservations, ordered by `host_id`.
pub async fn select(pool: &PgPool, f: &HostFilter) -> sqlx::Result<Vec<HostRow>> {
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!("SELECT {COLUMNS} FROM hosts"));
    push_where(&mut q, f);
    q.push(" ORDER BY host_id");
    if let Some(l) = f.limit {
        q.push(" LIMIT ").push_bind(l);
    }
    let mut rows = q.build_query_as::<HostRow>().fetch_all(pool).await?;
    load_options(pool, &mut rows).await?;
    Ok(rows)
}

/// Deletes the reservations matching `f` (which must name a host); returns how many.
pub async fn delete(pool: &PgPool, f: &HostFilter) -> sqlx::Result<u64> {
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new("DELETE FROM hosts");
    push_where(&mut q, f);
    Ok(q.build().execute(pool).await?.rows_affected())
}
