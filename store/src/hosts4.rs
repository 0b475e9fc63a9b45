//! DHCPv4 host reservations in Kea's `hosts` and `dhcp4_options` tables.
//!
//! The DHCP engine loads them all ([`all`]) and follows changes by `host_id`
//! ([`by_id`]) as the table's notifications arrive; [`find`] and [`reserved_for`]
//! answer single lookups (indexed: `key_dhcp4_identifier_subnet_id`,
//! `key_dhcp4_ipv4_address_subnet_id`).

use std::net::Ipv4Addr;

use sqlx::{PgConnection, Row};

use crate::Result;

/// An option stored with a host (`dhcp4_options` with `scope_id` 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostOption4 {
    /// Option code.
    pub code: u8,
    /// Binary value (Kea fills it when the option was given as hex).
    pub value: Option<Vec<u8>>,
    /// Text value in Kea's CSV form (when given as text).
    pub formatted_value: Option<String>,
    /// Option space (`dhcp4` for standard options).
    pub space: Option<String>,
    /// Sent even when not requested.
    pub persistent: bool,
}

/// One DHCPv4 reservation from the `hosts` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host4 {
    /// `host_id`.
    pub host_id: i32,
    /// `dhcp_identifier_type` (0 hw-address, 1 duid, 2 circuit-id, 3 client-id, 4 flex-id).
    pub identifier_type: i16,
    /// `dhcp_identifier`.
    pub identifier: Vec<u8>,
    /// `dhcp4_subnet_id` (0: global).
    pub subnet_id: u32,
    /// Reserved address.
    pub ipv4_address: Option<Ipv4Addr>,
    /// Reserved host name.
    pub hostname: Option<String>,
    /// `dhcp4_next_server` (siaddr).
    pub next_server: Option<Ipv4Addr>,
    /// `dhcp4_server_hostname` (sname).
    pub server_hostname: Option<String>,
    /// `dhcp4_boot_file_name` (file).
    pub boot_file_name: Option<String>,
    /// The host's options.
    pub options: Vec<HostOption4>,
}

fn addr(v: Option<i64>) -> Option<Ipv4Addr> {
    v.filter(|v| *v > 0 && *v <= i64::from(u32::MAX))
        .map(|v| Ipv4Addr::from(v as u32))
}

/// The reservation in `subnet_id` (0 for global reservations) matching one of
/// `identifiers` (type, bytes), trying them in the order given (Kea's
/// `host-reservation-identifiers` order).
pub async fn find(
    conn: &mut PgConnection,
    subnet_id: u32,
    identifiers: &[(i16, Vec<u8>)],
) -> Result<Option<Host4>> {
    if identifiers.is_empty() {
        return Ok(None);
    }
    let types: Vec<i16> = identifiers.iter().map(|(t, _)| *t).collect();
    let values: Vec<Vec<u8>> = identifiers.iter().map(|(_, v)| v.clone()).collect();
    let row = sqlx::query(&format!(
        "SELECT {HOST_COLUMNS} \
           FROM unnest($2::smallint[], $3::bytea[]) WITH ORDINALITY AS i(t, v, n) \
           JOIN hosts h ON h.dhcp_identifier_type = i.t AND h.dhcp_identifier = i.v \
          WHERE h.dhcp4_subnet_id = $1 \
          ORDER BY i.n LIMIT 1"
    ))
    .bind(i64::from(subnet_id))
    .bind(&types)
    .bind(&values)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let options = options_of(conn, row.try_get("host_id")?).await?;
    Ok(Some(host_from_row(&row, options)?))
}

/// Who `address` is reserved for in `subnet_id`, as (identifier type, identifier).
pub async fn reserved_for(
    conn: &mut PgConnection,
    subnet_id: u32,
    address: Ipv4Addr,
) -> Result<Vec<(i16, Vec<u8>)>> {
    let rows: Vec<(i16, Vec<u8>)> = sqlx::query_as(
        "SELECT dhcp_identifier_type, dhcp_identifier FROM hosts \
          WHERE ipv4_address = $1 AND dhcp4_subnet_id = $2",
    )
    .bind(i64::from(u32::from(address)))
    .bind(i64::from(subnet_id))
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

const HOST_COLUMNS: &str = "h.host_id, h.dhcp_identifier_type, h.dhcp_identifier, h.dhcp4_subnet_id, \
     h.ipv4_address, h.hostname, h.dhcp4_next_server, h.dhcp4_server_hostname, h.dhcp4_boot_file_name";

fn host_from_row(row: &sqlx::postgres::PgRow, options: Vec<HostOption4>) -> Result<Host4> {
    Ok(Host4 {
        host_id: row.try_get("host_id")?,
        identifier_type: row.try_get("dhcp_identifier_type")?,
        identifier: row.try_get("dhcp_identifier")?,
        subnet_id: row
            .try_get::<Option<i64>, _>("dhcp4_subnet_id")?
            .unwrap_or(0) as u32,
        ipv4_address: addr(row.try_get("ipv4_address")?),
        hostname: row.try_get("hostname")?,
        next_server: addr(row.try_get("dhcp4_next_server")?),
        server_hostname: row.try_get("dhcp4_server_hostname")?,
        boot_file_name: row.try_get("dhcp4_boot_file_name")?,
        options,
    })
}

fn option_from_row(o: &sqlx::postgres::PgRow) -> Result<HostOption4> {
    Ok(HostOption4 {
        code: o.try_get::<i16, _>("code")? as u8,
        value: o.try_get("value")?,
        formatted_value: o.try_get("formatted_value")?,
        space: o.try_get("space")?,
        persistent: o.try_get::<Option<bool>, _>("persistent")?.unwrap_or(false),
    })
}

/// Every DHCPv4 reservation (rows with a `dhcp4_subnet_id`), with its options: what a
/// cache of the hosts table starts from, and reloads after missed notifications.
pub async fn all(conn: &mut PgConnection) -> Result<Vec<Host4>> {
    let mut options: std::collections::HashMap<i32, Vec<HostOption4>> =
        std::collections::HashMap::new();
    for o in sqlx::query(
        "SELECT o.host_id, o.code, o.value, o.formatted_value, o.space, o.persistent \
           FROM dhcp4_options o JOIN hosts h ON h.host_id = o.host_id \
          WHERE h.dhcp4_subnet_id IS NOT NULL ORDER BY o.option_id",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        options
            .entry(o.try_get("host_id")?)
            .or_default()
            .push(option_from_row(&o)?);
    }
    sqlx::query(&format!(
        "SELECT {HOST_COLUMNS} FROM hosts h WHERE h.dhcp4_subnet_id IS NOT NULL ORDER BY h.host_id"
    ))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        let id: i32 = row.try_get("host_id")?;
        host_from_row(row, options.remove(&id).unwrap_or_default())
    })
    .collect()
}

/// One reservation by `host_id`, if it exists and is a DHCPv4 one.
pub async fn by_id(conn: &mut PgConnection, host_id: i32) -> Result<Option<Host4>> {
    let Some(row) = sqlx::query(&format!(
        "SELECT {HOST_COLUMNS} FROM hosts h WHERE h.host_id = $1 AND h.dhcp4_subnet_id IS NOT NULL"
    ))
    .bind(host_id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let options = options_of(conn, host_id).await?;
    Ok(Some(host_from_row(&row, options)?))
}

async fn options_of(conn: &mut PgConnection, host_id: i32) -> Result<Vec<HostOption4>> {
    sqlx::query(
        "SELECT code, value, formatted_value, space, persistent FROM dhcp4_options \
          WHERE host_id = $1 ORDER BY option_id",
    )
    .bind(host_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(option_from_row)
    .collect()
}
