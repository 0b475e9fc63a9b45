//! Host reservations in Kea's `hosts` table, with their DHCPv4 options
//! (`dhcp4_options`) and DHCPv6 addresses and prefixes (`ipv6_reservations`): one row
//! type, [`Host`], for the DHCP engine and the API alike.
//!
//! The DHCP engine loads every DHCPv4 reservation ([`all4`]) and follows changes by
//! `host_id` ([`by_id4`]) as the table's notifications arrive; [`find4`] and
//! [`reserved_for4`] answer single lookups (indexed: `key_dhcp4_identifier_subnet_id`,
//! `key_dhcp4_ipv4_address_subnet_id`). The API reads with filters ([`select`],
//! [`select6`]) and writes whole reservations ([`insert4`], [`replace4`], [`insert6`]).
//!
//! Like Kea with `ip-reservations-unique: true` (its default), an address (or prefix)
//! is reserved for at most one host per subnet: the writes check it in their
//! transaction under an advisory lock on (subnet, address), so concurrent writers
//! cannot both pass the check ([`crate::Error::AddressReserved`]).

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};

use crate::codec::{
    cond, order_limit, u32_from_db, v4_opt_from_db, v4_to_db, v6_from_db, v6_to_db,
};
use crate::{Error, Result};

/// An option stored with a host (`dhcp4_options` with the host's `host_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostOption {
    /// Option code.
    pub code: u8,
    /// Binary value (Kea fills it when the option was given as hex).
    pub value: Option<Vec<u8>>,
    /// Text value in Kea's CSV form (when given as text).
    pub formatted_value: Option<String>,
    /// Option space (`dhcp4` for standard options).
    pub space: Option<String>,
    /// Sent even when not requested (Kea's `always-send`).
    pub persistent: bool,
}

/// An option stored with a DHCPv6 host (`dhcp6_options` with the host's `host_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostOption6 {
    /// Option code.
    pub code: u16,
    /// Binary value (Kea fills it when the option was given as hex).
    pub value: Option<Vec<u8>>,
    /// Text value in Kea's CSV form (when given as text).
    pub formatted_value: Option<String>,
    /// Option space (`dhcp6` for standard options).
    pub space: Option<String>,
    /// Sent even when not requested (Kea's `always-send`).
    pub persistent: bool,
}

/// An `ipv6_reservations` row: what kind of thing is reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation6Kind {
    /// `type` 0: an address (IA_NA).
    Address,
    /// `type` 2: a delegated prefix (IA_PD).
    Prefix,
}

/// One reserved DHCPv6 address or prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation6 {
    /// The address, or the prefix's first address.
    pub address: Ipv6Addr,
    /// 128 for an address.
    pub prefix_len: u8,
    /// Address or prefix.
    pub kind: Reservation6Kind,
}

/// One `hosts` row, with its options and DHCPv6 reservations.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Host {
    /// `host_id` (ignored when writing a new host).
    pub host_id: i32,
    /// `dhcp_identifier_type` (0 hw-address, 1 duid, 2 circuit-id, 3 client-id, 4 flex-id).
    pub identifier_type: i16,
    /// `dhcp_identifier`.
    pub identifier: Vec<u8>,
    /// `dhcp4_subnet_id`: a DHCPv4 reservation in this subnet (0: global).
    pub dhcp4_subnet_id: Option<u32>,
    /// `dhcp6_subnet_id`: a DHCPv6 reservation in this subnet (0: global).
    pub dhcp6_subnet_id: Option<u32>,
    /// Reserved IPv4 address.
    pub ipv4_address: Option<Ipv4Addr>,
    /// Reserved host name.
    pub hostname: Option<String>,
    /// `dhcp4_client_classes`, comma-separated.
    pub dhcp4_client_classes: Option<String>,
    /// `dhcp6_client_classes`, comma-separated.
    pub dhcp6_client_classes: Option<String>,
    /// `dhcp4_next_server` (siaddr).
    pub next_server: Option<Ipv4Addr>,
    /// `dhcp4_server_hostname` (sname).
    pub server_hostname: Option<String>,
    /// `dhcp4_boot_file_name` (file).
    pub boot_file_name: Option<String>,
    /// Free-form JSON, as Kea keeps it.
    pub user_context: Option<String>,
    /// The host's DHCPv4 options, in `option_id` order.
    pub options4: Vec<HostOption>,
    /// The host's DHCPv6 addresses and prefixes, in address order.
    pub reservations6: Vec<Reservation6>,
    /// The host's DHCPv6 options, in `option_id` order (read; the API writes none yet).
    pub options6: Vec<HostOption6>,
}

const COLUMNS: &str = "h.host_id, h.dhcp_identifier_type, h.dhcp_identifier, h.dhcp4_subnet_id, \
     h.dhcp6_subnet_id, h.ipv4_address, h.hostname, h.dhcp4_client_classes, \
     h.dhcp6_client_classes, h.dhcp4_next_server, h.dhcp4_server_hostname, \
     h.dhcp4_boot_file_name, h.user_context";

fn from_row(row: &sqlx::postgres::PgRow) -> Result<Host> {
    let subnet = |c: &str| -> Result<Option<u32>> {
        Ok(row
            .try_get::<Option<i64>, _>(c)?
            .map(|v| u32_from_db(Some(v))))
    };
    Ok(Host {
        host_id: row.try_get("host_id")?,
        identifier_type: row.try_get("dhcp_identifier_type")?,
        identifier: row.try_get("dhcp_identifier")?,
        dhcp4_subnet_id: subnet("dhcp4_subnet_id")?,
        dhcp6_subnet_id: subnet("dhcp6_subnet_id")?,
        ipv4_address: v4_opt_from_db(row.try_get("ipv4_address")?),
        hostname: row.try_get("hostname")?,
        dhcp4_client_classes: row.try_get("dhcp4_client_classes")?,
        dhcp6_client_classes: row.try_get("dhcp6_client_classes")?,
        next_server: v4_opt_from_db(row.try_get("dhcp4_next_server")?),
        server_hostname: row.try_get("dhcp4_server_hostname")?,
        boot_file_name: row.try_get("dhcp4_boot_file_name")?,
        user_context: row.try_get("user_context")?,
        options4: Vec::new(),
        reservations6: Vec::new(),
        options6: Vec::new(),
    })
}

/// Reads the hosts of `q` (a query of [`COLUMNS`]) and fills in their options and
/// DHCPv6 reservations.
async fn read(conn: &mut PgConnection, mut q: QueryBuilder<'_, Postgres>) -> Result<Vec<Host>> {
    let mut hosts = q
        .build()
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(from_row)
        .collect::<Result<Vec<_>>>()?;
    if hosts.is_empty() {
        return Ok(hosts);
    }
    let ids: Vec<i32> = hosts.iter().map(|h| h.host_id).collect();
    let options = option_rows(conn, "dhcp4_options", &ids).await?;
    let options6 = option_rows(conn, "dhcp6_options", &ids).await?;
    let mut reservations: HashMap<i32, Vec<Reservation6>> = HashMap::new();
    for r in sqlx::query(
        "SELECT r.host_id, host(r.address) AS address, r.prefix_len, r.type \
           FROM ipv6_reservations r WHERE r.host_id = ANY($1) ORDER BY r.address",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?
    {
        let kind = match r.try_get::<i16, _>("type")? {
            2 => Reservation6Kind::Prefix,
            _ => Reservation6Kind::Address,
        };
        reservations
            .entry(r.try_get("host_id")?)
            .or_default()
            .push(Reservation6 {
                address: v6_from_db(r.try_get("address")?)?,
                prefix_len: r.try_get::<i16, _>("prefix_len")?.clamp(0, 128) as u8,
                kind,
            });
    }
    let (mut options, mut options6) = (options, options6);
    for h in &mut hosts {
        h.options4 = options
            .remove(&h.host_id)
            .unwrap_or_default()
            .into_iter()
            .map(|o| HostOption {
                code: o.code as u8,
                value: o.value,
                formatted_value: o.formatted_value,
                space: o.space,
                persistent: o.persistent,
            })
            .collect();
        h.reservations6 = reservations.remove(&h.host_id).unwrap_or_default();
        h.options6 = options6.remove(&h.host_id).unwrap_or_default();
    }
    Ok(hosts)
}

/// The option rows of `table` (`dhcp4_options` or `dhcp6_options`) of these hosts, by
/// host, in `option_id` order; codes as DHCPv6's (wide enough for both).
async fn option_rows(
    conn: &mut PgConnection,
    table: &'static str,
    ids: &[i32],
) -> Result<HashMap<i32, Vec<HostOption6>>> {
    let mut out: HashMap<i32, Vec<HostOption6>> = HashMap::new();
    for o in sqlx::query(&format!(
        "SELECT host_id, code::int AS code, value, formatted_value, space, persistent FROM {table} \
          WHERE host_id = ANY($1) ORDER BY option_id"
    ))
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?
    {
        out.entry(o.try_get("host_id")?)
            .or_default()
            .push(HostOption6 {
                code: o.try_get::<i32, _>("code")? as u16,
                value: o.try_get("value")?,
                formatted_value: o.try_get("formatted_value")?,
                space: o.try_get("space")?,
                persistent: o.try_get::<Option<bool>, _>("persistent")?.unwrap_or(false),
            });
    }
    Ok(out)
}

fn query(tail: &str) -> QueryBuilder<'static, Postgres> {
    QueryBuilder::new(format!("SELECT {COLUMNS} FROM hosts h {tail}"))
}

/// The DHCPv4 reservation in `subnet_id` (0 for global reservations) matching one of
/// `identifiers` (type, bytes), trying them in the order given (Kea's
/// `host-reservation-identifiers` order).
pub async fn find4(
    conn: &mut PgConnection,
    subnet_id: u32,
    identifiers: &[(i16, Vec<u8>)],
) -> Result<Option<Host>> {
    if identifiers.is_empty() {
        return Ok(None);
    }
    let types: Vec<i16> = identifiers.iter().map(|(t, _)| *t).collect();
    let values: Vec<Vec<u8>> = identifiers.iter().map(|(_, v)| v.clone()).collect();
    let mut q = query("JOIN unnest(");
    q.push_bind(types)
        .push("::smallint[], ")
        .push_bind(values)
        .push(
            "::bytea[]) WITH ORDINALITY AS i(t, v, n) \
             ON h.dhcp_identifier_type = i.t AND h.dhcp_identifier = i.v \
             WHERE h.dhcp4_subnet_id = ",
        )
        .push_bind(i64::from(subnet_id))
        .push(" ORDER BY i.n LIMIT 1");
    Ok(read(conn, q).await?.into_iter().next())
}

/// Who `address` is reserved for in `subnet_id`, as (identifier type, identifier).
pub async fn reserved_for4(
    conn: &mut PgConnection,
    subnet_id: u32,
    address: Ipv4Addr,
) -> Result<Vec<(i16, Vec<u8>)>> {
    let rows: Vec<(i16, Vec<u8>)> = sqlx::query_as(
        "SELECT dhcp_identifier_type, dhcp_identifier FROM hosts \
          WHERE ipv4_address = $1 AND dhcp4_subnet_id = $2",
    )
    .bind(v4_to_db(address))
    .bind(i64::from(subnet_id))
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// Every DHCPv4 reservation (rows with a `dhcp4_subnet_id`), with its options: what a
/// cache of the hosts table starts from, and reloads after missed notifications.
pub async fn all4(conn: &mut PgConnection) -> Result<Vec<Host>> {
    read(
        conn,
        query("WHERE h.dhcp4_subnet_id IS NOT NULL ORDER BY h.host_id"),
    )
    .await
}

/// One reservation by `host_id`, if it exists and is a DHCPv4 one.
pub async fn by_id4(conn: &mut PgConnection, host_id: i32) -> Result<Option<Host>> {
    let mut q = query("WHERE h.dhcp4_subnet_id IS NOT NULL AND h.host_id = ");
    q.push_bind(host_id);
    Ok(read(conn, q).await?.into_iter().next())
}

/// Which DHCPv4 reservations to read (`dhcp4_subnet_id` set, unless `any_family`).
/// Empty means all.
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

/// Which DHCPv6 reservations to read (`dhcp6_subnet_id` set). Empty means all.
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

/// The conditions both filters share; `family` is the subnet column naming the family.
struct Where<'a> {
    family: Option<&'static str>,
    host_id: Option<i32>,
    subnet_id: Option<i64>,
    identifier: Option<&'a (i16, Vec<u8>)>,
    ipv4_address: Option<Ipv4Addr>,
    ipv6_address: Option<Ipv6Addr>,
    hostname: Option<&'a str>,
    after: Option<i32>,
}

fn push_where(q: &mut QueryBuilder<'_, Postgres>, w: &Where<'_>) {
    q.push(" WHERE true");
    if let Some(c) = w.family {
        q.push(format!(" AND h.{c} IS NOT NULL"));
    }
    cond(q, " AND h.host_id = ", w.host_id, "");
    let subnet_column = w.family.unwrap_or("dhcp4_subnet_id");
    cond(q, &format!(" AND h.{subnet_column} = "), w.subnet_id, "");
    if let Some((t, b)) = w.identifier {
        q.push(" AND h.dhcp_identifier_type = ").push_bind(*t);
        q.push(" AND h.dhcp_identifier = ").push_bind(b.clone());
    }
    cond(
        q,
        " AND h.ipv4_address = ",
        w.ipv4_address.map(v4_to_db),
        "",
    );
    cond(
        q,
        " AND EXISTS (SELECT 1 FROM ipv6_reservations x WHERE x.host_id = h.host_id \
         AND x.address = ",
        w.ipv6_address.map(v6_to_db),
        "::inet)",
    );
    cond(
        q,
        " AND lower(h.hostname) = lower(",
        w.hostname.map(str::to_string),
        ")",
    );
    cond(q, " AND h.host_id > ", w.after, "");
}

fn where4(f: &HostFilter) -> Where<'_> {
    Where {
        family: (!f.any_family).then_some("dhcp4_subnet_id"),
        host_id: f.host_id,
        subnet_id: f.subnet_id,
        identifier: f.identifier.as_ref(),
        ipv4_address: f.ipv4_address,
        ipv6_address: None,
        hostname: f.hostname.as_deref(),
        after: f.after,
    }
}

fn where6(f: &Host6Filter) -> Where<'_> {
    Where {
        family: Some("dhcp6_subnet_id"),
        host_id: None,
        subnet_id: f.subnet_id,
        identifier: f.identifier.as_ref(),
        ipv4_address: None,
        ipv6_address: f.address,
        hostname: f.hostname.as_deref(),
        after: f.after,
    }
}

async fn select_where(pool: &PgPool, w: &Where<'_>, limit: Option<i64>) -> Result<Vec<Host>> {
    let mut q = query("");
    push_where(&mut q, w);
    order_limit(&mut q, "h.host_id", limit);
    let mut conn = pool.acquire().await?;
    read(&mut conn, q).await
}

async fn delete_where(pool: &PgPool, w: &Where<'_>) -> Result<u64> {
    // Options and DHCPv6 reservations go with the host (foreign key cascade).
    let mut q: QueryBuilder<Postgres> =
        QueryBuilder::new("DELETE FROM hosts WHERE host_id IN (SELECT h.host_id FROM hosts h");
    push_where(&mut q, w);
    q.push(")");
    Ok(q.build().execute(pool).await?.rows_affected())
}

/// Reads the reservations matching `f`, ordered by `host_id`.
pub async fn select(pool: &PgPool, f: &HostFilter) -> Result<Vec<Host>> {
    select_where(pool, &where4(f), f.limit).await
}

/// Reads the DHCPv6 reservations matching `f`, ordered by `host_id`.
pub async fn select6(pool: &PgPool, f: &Host6Filter) -> Result<Vec<Host>> {
    select_where(pool, &where6(f), f.limit).await
}

/// Deletes the reservations matching `f` (which should name a host); returns how many.
pub async fn delete(pool: &PgPool, f: &HostFilter) -> Result<u64> {
    delete_where(pool, &where4(f)).await
}

/// Deletes the DHCPv6 reservations matching `f`; returns how many hosts.
pub async fn delete6(pool: &PgPool, f: &Host6Filter) -> Result<u64> {
    delete_where(pool, &where6(f)).await
}

/// Takes the advisory lock on (family, subnet, address) for this transaction, then
/// fails when another host than `except` already reserves the address there.
async fn claim(
    tx: &mut PgConnection,
    family: &str,
    subnet_id: u32,
    address: String,
    taken_sql: &str,
    bind_taken: impl FnOnce(
        sqlx::query::QueryScalar<'_, Postgres, bool, sqlx::postgres::PgArguments>,
    )
        -> sqlx::query::QueryScalar<'_, Postgres, bool, sqlx::postgres::PgArguments>,
    shown: String,
) -> Result<()> {
    sqlx::query(&format!(
        "SELECT pg_advisory_xact_lock(hashtextextended('tern.{family}:' || $1 || ':' || $2, 0))"
    ))
    .bind(i64::from(subnet_id))
    .bind(&address)
    .execute(&mut *tx)
    .await?;
    let taken = bind_taken(sqlx::query_scalar(taken_sql))
        .fetch_one(&mut *tx)
        .await?;
    if taken {
        return Err(Error::AddressReserved {
            address: shown,
            subnet_id,
        });
    }
    Ok(())
}

async fn claim4(tx: &mut PgConnection, h: &Host, except: Option<i32>) -> Result<()> {
    let (Some(a), Some(subnet)) = (h.ipv4_address, h.dhcp4_subnet_id) else {
        return Ok(());
    };
    claim(
        tx,
        "hosts4",
        subnet,
        v4_to_db(a).to_string(),
        "SELECT EXISTS (SELECT 1 FROM hosts WHERE dhcp4_subnet_id = $1 AND ipv4_address = $2 \
         AND ($3::int IS NULL OR host_id <> $3))",
        |q| q.bind(i64::from(subnet)).bind(v4_to_db(a)).bind(except),
        a.to_string(),
    )
    .await
}

/// Replaces the host's DHCPv4 options with `options`.
async fn write_options4(tx: &mut PgConnection, host_id: i32, options: &[HostOption]) -> Result<()> {
    sqlx::query("DELETE FROM dhcp4_options WHERE host_id = $1 AND scope_id = 3")
        .bind(host_id)
        .execute(&mut *tx)
        .await?;
    for o in options {
        sqlx::query(
            "INSERT INTO dhcp4_options (code, value, formatted_value, space, persistent, host_id, scope_id) \
             VALUES ($1, $2, $3, $4, $5, $6, 3)",
        )
        .bind(i16::from(o.code))
        .bind(&o.value)
        .bind(&o.formatted_value)
        .bind(&o.space)
        .bind(o.persistent)
        .bind(host_id)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

const WRITE4: &str = "dhcp_identifier = $2, dhcp_identifier_type = $3, dhcp4_subnet_id = $4, \
    ipv4_address = $5, hostname = $6, dhcp4_client_classes = $7, dhcp4_next_server = $8, \
    dhcp4_server_hostname = $9, dhcp4_boot_file_name = $10, user_context = $11";

/// Writes the DHCPv4 columns of `h` into row `host_id` (a new row when `None`); returns
/// its id, or `None` when there is no such row.
async fn write4(tx: &mut PgConnection, host_id: Option<i32>, h: &Host) -> Result<Option<i32>> {
    let sql = match host_id {
        None => "INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, dhcp4_subnet_id, \
                 ipv4_address, hostname, dhcp4_client_classes, dhcp4_next_server, \
                 dhcp4_server_hostname, dhcp4_boot_file_name, user_context) \
                 SELECT $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 WHERE $1::int IS NULL \
                 RETURNING host_id"
            .to_string(),
        Some(_) => format!("UPDATE hosts SET {WRITE4} WHERE host_id = $1 RETURNING host_id"),
    };
    Ok(sqlx::query_scalar(&sql)
        .bind(host_id)
        .bind(&h.identifier)
        .bind(h.identifier_type)
        .bind(h.dhcp4_subnet_id.map(i64::from))
        .bind(h.ipv4_address.map(v4_to_db))
        .bind(&h.hostname)
        .bind(&h.dhcp4_client_classes)
        .bind(h.next_server.map(v4_to_db))
        .bind(&h.server_hostname)
        .bind(&h.boot_file_name)
        .bind(&h.user_context)
        .fetch_optional(&mut *tx)
        .await?)
}

/// Inserts a DHCPv4 reservation with its options (its `host_id` is ignored); returns
/// the row as written.
pub async fn insert4(pool: &PgPool, h: &Host) -> Result<Host> {
    let mut tx = pool.begin().await?;
    claim4(&mut tx, h, None).await?;
    let id = write4(&mut tx, None, h)
        .await?
        .ok_or_else(|| Error::Decode("INSERT returned no host_id".into()))?;
    write_options4(&mut tx, id, &h.options4).await?;
    tx.commit().await?;
    Ok(Host {
        host_id: id,
        ..h.clone()
    })
}

/// Replaces the DHCPv4 reservation `host_id` and its options; `None` when there is no
/// such row.
pub async fn replace4(pool: &PgPool, host_id: i32, h: &Host) -> Result<Option<Host>> {
    let mut tx = pool.begin().await?;
    claim4(&mut tx, h, Some(host_id)).await?;
    if write4(&mut tx, Some(host_id), h).await?.is_none() {
        return Ok(None);
    }
    write_options4(&mut tx, host_id, &h.options4).await?;
    // What the row holds now (the DHCPv6 columns were not written).
    let mut q = query("WHERE h.host_id = ");
    q.push_bind(host_id);
    let row = read(&mut tx, q).await?.into_iter().next();
    tx.commit().await?;
    Ok(row)
}

/// Inserts a DHCPv6 reservation with its addresses and prefixes, in one transaction;
/// returns its `host_id`.
pub async fn insert6(pool: &PgPool, h: &Host) -> Result<i32> {
    let subnet = h.dhcp6_subnet_id.unwrap_or(0);
    let mut tx = pool.begin().await?;
    let mut claims: Vec<&Reservation6> = h.reservations6.iter().collect();
    // Locks in one order, so two writers cannot deadlock.
    claims.sort_by_key(|r| (r.address.to_string(), r.prefix_len));
    for r in claims {
        let shown = match r.kind {
            Reservation6Kind::Address => r.address.to_string(),
            Reservation6Kind::Prefix => format!("{}/{}", r.address, r.prefix_len),
        };
        claim(
            &mut tx,
            "hosts6",
            subnet,
            r.address.to_string(),
            "SELECT EXISTS (SELECT 1 FROM ipv6_reservations r JOIN hosts h ON h.host_id = r.host_id \
             WHERE h.dhcp6_subnet_id = $1 AND r.address = $2::inet AND r.prefix_len = $3)",
            |q| {
                q.bind(i64::from(subnet))
                    .bind(v6_to_db(r.address))
                    .bind(i16::from(r.prefix_len))
            },
            shown,
        )
        .await?;
    }
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, dhcp6_subnet_id, hostname, \
         dhcp6_client_classes, user_context) VALUES ($1, $2, $3, $4, $5, $6) RETURNING host_id",
    )
    .bind(&h.identifier)
    .bind(h.identifier_type)
    .bind(i64::from(subnet))
    .bind(&h.hostname)
    .bind(&h.dhcp6_client_classes)
    .bind(&h.user_context)
    .fetch_one(&mut *tx)
    .await?;
    for r in &h.reservations6 {
        let kind: i16 = match r.kind {
            Reservation6Kind::Address => 0,
            Reservation6Kind::Prefix => 2,
        };
        sqlx::query(
            "INSERT INTO ipv6_reservations (address, prefix_len, type, host_id) \
             VALUES ($1::inet, $2, $3, $4)",
        )
        .bind(v6_to_db(r.address))
        .bind(i16::from(r.prefix_len))
        .bind(kind)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}
