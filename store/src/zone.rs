//! The zone server's zones, records and journal (migration 0006).
//!
//! The store is the truth: the DNS server answers from an in-memory copy loaded
//! with [`snapshot`] and kept current by [`ZoneWatcher`] events and
//! [`journal_since`]. Writers change a zone in a [`ZoneTx`], which holds the
//! zone's row lock; the database's triggers journal every record write (tern's and
//! plain SQL alike) and move the SOA serial once per transaction by the zone's
//! [`SerialRule`], never backwards.
//!
//! Names: zone names are stored lower case and absolute (`example.com.`); record
//! owner names keep the case they were written in and are compared by ASCII case
//! only (RFC 4343). The SOA is not a record: it is [`Zone::soa`] and
//! [`Zone::serial`].

use std::collections::HashMap;
use std::str::FromStr;

use sqlx::postgres::{PgPool, Postgres};
use sqlx::{PgConnection, Transaction};
use tracing::warn;

use crate::error::{Error, Result};
use crate::listen::{Channel, Listening};
use crate::Store;

/// The notification channel of zone changes.
pub const DNS_CHANNEL: &str = "tern_dns";

/// Rows written per INSERT statement when many are added at once.
const INSERT_CHUNK: usize = 5000;

/// A zone created with at least this many records has the record table analysed.
const ANALYZE_AFTER: usize = 10_000;

/// A zone as the store holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    /// Row id: the zone's identity in events.
    pub id: i64,
    /// Absolute, lower case: `example.com.`.
    pub name: String,
    /// PowerDNS's zone kind.
    pub kind: ZoneKind,
    /// How the serial moves on a change.
    pub soa_edit_api: SerialRule,
    /// PowerDNS's account (free text).
    pub account: String,
    /// The SOA serial.
    pub serial: u32,
    /// The rest of the SOA.
    pub soa: Soa,
    /// The oldest serial from which [`journal_since`] has every change.
    pub journal_start: u32,
}

/// The SOA record's fields but the serial (RFC 1035 §3.3.13).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Soa {
    /// The SOA record's TTL.
    pub ttl: u32,
    /// MNAME, absolute.
    pub mname: String,
    /// RNAME, absolute.
    pub rname: String,
    /// REFRESH.
    pub refresh: u32,
    /// RETRY.
    pub retry: u32,
    /// EXPIRE.
    pub expire: u32,
    /// MINIMUM (the negative-caching TTL, RFC 2308 §4).
    pub minimum: u32,
}

/// PowerDNS's zone kinds (tern serves all of them as primary).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ZoneKind {
    /// Replicated by the database, not by zone transfer.
    #[default]
    Native,
    /// Primary.
    Master,
    /// Secondary.
    Slave,
}

impl ZoneKind {
    /// As PowerDNS spells it: `Native`, `Master`, `Slave`.
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneKind::Native => "Native",
            ZoneKind::Master => "Master",
            ZoneKind::Slave => "Slave",
        }
    }
}

/// Case-insensitive; `PRIMARY` is `Master`, `SECONDARY` is `Slave`.
impl FromStr for ZoneKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "native" => Ok(ZoneKind::Native),
            "master" | "primary" => Ok(ZoneKind::Master),
            "slave" | "secondary" => Ok(ZoneKind::Slave),
            _ => Err(Error::UnknownValue(format!("unknown zone kind {s:?}"))),
        }
    }
}

impl std::fmt::Display for ZoneKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// PowerDNS's SOA-EDIT-API: how a change moves the serial.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SerialRule {
    /// YYYYMMDD01 of today (UTC) if the serial is below today's YYYYMMDD00, else +1.
    #[default]
    Default,
    /// +1.
    Increase,
    /// The unix time, or +1 if that is not higher.
    Epoch,
}

impl SerialRule {
    /// `DEFAULT`, `INCREASE`, `EPOCH`.
    pub fn as_str(self) -> &'static str {
        match self {
            SerialRule::Default => "DEFAULT",
            SerialRule::Increase => "INCREASE",
            SerialRule::Epoch => "EPOCH",
        }
    }
}

/// Case-insensitive.
impl FromStr for SerialRule {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "DEFAULT" => Ok(SerialRule::Default),
            "INCREASE" => Ok(SerialRule::Increase),
            "EPOCH" => Ok(SerialRule::Epoch),
            _ => Err(Error::UnknownValue(format!("unknown soa_edit_api {s:?}"))),
        }
    }
}

impl std::fmt::Display for SerialRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who put a record in the zone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ManagedBy {
    /// An administrator: API, zone file, RFC 2136 from outside.
    #[default]
    Admin,
    /// DHCP's DDNS for a lease.
    Dhcp,
}

impl ManagedBy {
    /// `admin`, `dhcp`.
    pub fn as_str(self) -> &'static str {
        match self {
            ManagedBy::Admin => "admin",
            ManagedBy::Dhcp => "dhcp",
        }
    }
}

impl FromStr for ManagedBy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "admin" => Ok(ManagedBy::Admin),
            "dhcp" => Ok(ManagedBy::Dhcp),
            _ => Err(Error::UnknownValue(format!("unknown managed_by {s:?}"))),
        }
    }
}

/// A record row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Row id.
    pub id: i64,
    /// Owner name, absolute, as written.
    pub name: String,
    /// Type mnemonic, upper case (`A`, `TYPE65534`).
    pub rtype: String,
    /// TTL.
    pub ttl: u32,
    /// RDATA in presentation format.
    pub content: String,
    /// Who put it there.
    pub managed_by: ManagedBy,
}

/// A record to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRecord {
    /// Owner name, absolute, at or below the zone's name; its case is kept.
    pub name: String,
    /// Type mnemonic (upper-cased when written); never SOA.
    pub rtype: String,
    /// TTL, at most 2^31-1 (RFC 2181 §8).
    pub ttl: u32,
    /// RDATA in presentation format.
    pub content: String,
    /// Who writes it.
    pub managed_by: ManagedBy,
}

/// A journal entry's direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JournalOp {
    /// The record was removed.
    Delete,
    /// The record was added.
    Add,
}

/// One change of a zone, made by the version `serial`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalEntry {
    /// The serial this change made.
    pub serial: u32,
    /// Removed or added.
    pub op: JournalOp,
    /// Owner name as written.
    pub name: String,
    /// Type.
    pub rtype: String,
    /// TTL.
    pub ttl: u32,
    /// Content.
    pub content: String,
}

/// A zone to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewZone {
    /// The name, any case, with or without the trailing dot.
    pub name: String,
    /// Kind.
    pub kind: ZoneKind,
    /// Serial rule.
    pub soa_edit_api: SerialRule,
    /// Account.
    pub account: String,
    /// The SOA.
    pub soa: Soa,
    /// The serial to start at (a zone file's, kept as it is); `None`: the rule's
    /// first (DEFAULT: today's YYYYMMDD01, INCREASE: 1, EPOCH: now).
    pub serial: Option<u32>,
    /// The records (duplicates ignored).
    pub records: Vec<NewRecord>,
}

/// A zone event from [`ZoneWatcher`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZoneEvent {
    /// A transaction changed the zone; `serial` is its new serial.
    Changed {
        /// The zone.
        zone_id: i64,
        /// The serial after the change.
        serial: u32,
    },
    /// A zone was created (committed with its records).
    Created {
        /// The zone.
        zone_id: i64,
    },
    /// A zone was deleted.
    Deleted {
        /// The zone.
        zone_id: i64,
    },
    /// Events may have been missed (the connection was re-established, or a
    /// notification was unreadable): reload all zones.
    Resync,
}

/// The normalised form of a zone name: ASCII lower case, absolute.
pub fn zone_name(name: &str) -> Result<String> {
    let bad = || Error::InvalidZoneName(name.to_owned());
    if name.is_empty() || name.chars().any(|c| c.is_whitespace()) {
        return Err(bad());
    }
    let mut n = name.to_ascii_lowercase();
    if !n.ends_with('.') {
        n.push('.');
    }
    if n != "." && (n.starts_with('.') || (n.ends_with("..") && !n.ends_with("\\.."))) {
        return Err(bad());
    }
    Ok(n)
}

/// Is the absolute `name` at or below `zone` (normalised)? ASCII case-insensitive.
fn in_zone(name: &str, zone: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    zone == "."
        || lower == zone
        || (lower.len() > zone.len()
            && lower.ends_with(zone)
            && lower.as_bytes()[lower.len() - zone.len() - 1] == b'.')
}

/// A record checked for writing into `zone`: its type (upper case) and TTL.
fn checked(zone: &str, r: &NewRecord) -> Result<(String, i32)> {
    let bad = |reason: &str| Error::InvalidRecord {
        name: r.name.clone(),
        rtype: r.rtype.clone(),
        reason: reason.to_owned(),
    };
    if !r.name.ends_with('.') {
        return Err(bad("the owner name must be absolute"));
    }
    if !in_zone(&r.name, zone) {
        return Err(Error::OutOfZone {
            name: r.name.clone(),
            zone: zone.to_owned(),
        });
    }
    let rtype = r.rtype.to_ascii_uppercase();
    let mut chars = rtype.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
    if !well_formed {
        return Err(bad("not a record type"));
    }
    if rtype == "SOA" {
        return Err(bad("the SOA is the zone's, not a record"));
    }
    let ttl = i32::try_from(r.ttl).map_err(|_| bad("TTL above 2147483647 (RFC 2181 §8)"))?;
    Ok((rtype, ttl))
}

/// The database's zone rules (SQLSTATE class TD) as typed errors.
fn db_error(e: sqlx::Error) -> Error {
    if let sqlx::Error::Database(d) = &e {
        if d.code().is_some_and(|c| c.starts_with("TD")) {
            return Error::ZoneRule(d.message().to_owned());
        }
    }
    Error::Database(e)
}

/// A column value that does not parse: written by other SQL.
fn unreadable(e: Error) -> Error {
    Error::Decode(e.to_string())
}

fn u32_of(v: i64, what: &str) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::Decode(format!("{what} {v} is not a 32-bit value")))
}

const ZONE_COLUMNS: &str = "id, name, kind, soa_edit_api, account, serial, soa_ttl, mname, \
     rname, refresh, retry, expire, minimum, journal_start";

#[derive(sqlx::FromRow)]
struct ZoneRow {
    id: i64,
    name: String,
    kind: String,
    soa_edit_api: String,
    account: String,
    serial: i64,
    soa_ttl: i32,
    mname: String,
    rname: String,
    refresh: i64,
    retry: i64,
    expire: i64,
    minimum: i64,
    journal_start: Option<i64>,
}

impl TryFrom<ZoneRow> for Zone {
    type Error = Error;
    fn try_from(r: ZoneRow) -> Result<Zone> {
        let serial = u32_of(r.serial, "serial")?;
        Ok(Zone {
            id: r.id,
            kind: r.kind.parse().map_err(unreadable)?,
            soa_edit_api: r.soa_edit_api.parse().map_err(unreadable)?,
            account: r.account,
            serial,
            soa: Soa {
                ttl: u32_of(r.soa_ttl.into(), "SOA TTL")?,
                mname: r.mname,
                rname: r.rname,
                refresh: u32_of(r.refresh, "refresh")?,
                retry: u32_of(r.retry, "retry")?,
                expire: u32_of(r.expire, "expire")?,
                minimum: u32_of(r.minimum, "minimum")?,
            },
            journal_start: match r.journal_start {
                Some(s) => u32_of(s, "journal_start")?,
                None => serial,
            },
            name: r.name,
        })
    }
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: i64,
    name: String,
    #[sqlx(rename = "type")]
    rtype: String,
    ttl: i32,
    content: String,
    managed_by: String,
}

impl TryFrom<RecordRow> for Record {
    type Error = Error;
    fn try_from(r: RecordRow) -> Result<Record> {
        Ok(Record {
            id: r.id,
            ttl: u32_of(r.ttl.into(), "TTL")?,
            managed_by: r.managed_by.parse().map_err(unreadable)?,
            name: r.name,
            rtype: r.rtype,
            content: r.content,
        })
    }
}

async fn zone_where(
    conn: &mut PgConnection,
    condition: &str,
    bind: ZoneKey<'_>,
    lock: bool,
) -> Result<Option<Zone>> {
    let sql = format!(
        "SELECT {ZONE_COLUMNS} FROM tern.dns_zone WHERE {condition}{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let q = sqlx::query_as::<_, ZoneRow>(&sql);
    let q = match bind {
        ZoneKey::Id(id) => q.bind(id),
        ZoneKey::Name(name) => q.bind(name),
    };
    q.fetch_optional(conn)
        .await?
        .map(Zone::try_from)
        .transpose()
}

#[derive(Clone, Copy)]
enum ZoneKey<'a> {
    Id(i64),
    Name(&'a str),
}

async fn zone_by_id(conn: &mut PgConnection, id: i64, lock: bool) -> Result<Option<Zone>> {
    zone_where(conn, "id = $1", ZoneKey::Id(id), lock).await
}

async fn zone_by_name(conn: &mut PgConnection, name: &str, lock: bool) -> Result<Option<Zone>> {
    let Ok(name) = zone_name(name) else {
        return Ok(None);
    };
    zone_where(conn, "name = $1", ZoneKey::Name(&name), lock).await
}

/// Inserts records (checked) into a zone, duplicates ignored; the rows added.
async fn insert_records(
    conn: &mut PgConnection,
    zone_id: i64,
    zone: &str,
    records: &[NewRecord],
) -> Result<u64> {
    let mut added = 0;
    for chunk in records.chunks(INSERT_CHUNK) {
        let mut names = Vec::with_capacity(chunk.len());
        let mut types = Vec::with_capacity(chunk.len());
        let mut ttls = Vec::with_capacity(chunk.len());
        let mut contents = Vec::with_capacity(chunk.len());
        let mut managed = Vec::with_capacity(chunk.len());
        for r in chunk {
            let (rtype, ttl) = checked(zone, r)?;
            names.push(r.name.as_str());
            types.push(rtype);
            ttls.push(ttl);
            contents.push(r.content.as_str());
            managed.push(r.managed_by.as_str());
        }
        added += sqlx::query(
            "INSERT INTO tern.dns_record (zone_id, name, type, ttl, content, managed_by)
             SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::text[])
             ON CONFLICT DO NOTHING",
        )
        .bind(zone_id)
        .bind(&names)
        .bind(&types)
        .bind(&ttls)
        .bind(&contents)
        .bind(&managed)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?
        .rows_affected();
    }
    Ok(added)
}

/// Fires the commit trigger now, so the serial is known before COMMIT.
async fn settle(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("SET CONSTRAINTS ALL IMMEDIATE")
        .execute(conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

fn check_soa(zone: &str, soa: &Soa) -> Result<i32> {
    let bad = |reason: &str| Error::InvalidRecord {
        name: zone.to_owned(),
        rtype: "SOA".to_owned(),
        reason: reason.to_owned(),
    };
    if !soa.mname.ends_with('.') || !soa.rname.ends_with('.') {
        return Err(bad("MNAME and RNAME must be absolute"));
    }
    i32::try_from(soa.ttl).map_err(|_| bad("TTL above 2147483647 (RFC 2181 §8)"))
}

/// Creates a zone with its records, in one transaction. Its serial is
/// `z.serial`, or the rule's first; `journal_start` is that serial.
/// [`Error::ZoneExists`] if the name is taken.
pub async fn create(pool: &PgPool, z: &NewZone) -> Result<Zone> {
    let name = zone_name(&z.name)?;
    let soa_ttl = check_soa(&name, &z.soa)?;
    for r in &z.records {
        checked(&name, r)?;
    }
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO tern.dns_zone (name, kind, soa_edit_api, account, serial, soa_ttl, mname,
                                    rname, refresh, retry, expire, minimum)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (name) DO NOTHING
         RETURNING id",
    )
    .bind(&name)
    .bind(z.kind.as_str())
    .bind(z.soa_edit_api.as_str())
    .bind(&z.account)
    .bind(z.serial.map(i64::from))
    .bind(soa_ttl)
    .bind(&z.soa.mname)
    .bind(&z.soa.rname)
    .bind(i64::from(z.soa.refresh))
    .bind(i64::from(z.soa.retry))
    .bind(i64::from(z.soa.expire))
    .bind(i64::from(z.soa.minimum))
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?
    .ok_or_else(|| Error::ZoneExists(name.clone()))?;
    insert_records(&mut tx, id, &name, &z.records).await?;
    settle(&mut tx).await?;
    let zone = zone_by_id(&mut tx, id, false)
        .await?
        .ok_or_else(|| Error::ZoneNotFound(name))?;
    tx.commit().await?;
    if z.records.len() >= ANALYZE_AFTER {
        // Plans made while the table was small would scan it whole.
        sqlx::query("ANALYZE tern.dns_record").execute(pool).await?;
    }
    Ok(zone)
}

/// Deletes a zone, its records and its journal; false if there was none.
pub async fn delete(pool: &PgPool, name: &str) -> Result<bool> {
    let Ok(name) = zone_name(name) else {
        return Ok(false);
    };
    let deleted = sqlx::query("DELETE FROM tern.dns_zone WHERE name = $1")
        .bind(&name)
        .execute(pool)
        .await
        .map_err(db_error)?
        .rows_affected();
    Ok(deleted > 0)
}

/// Every zone, by name.
pub async fn list(pool: &PgPool) -> Result<Vec<Zone>> {
    let sql = format!("SELECT {ZONE_COLUMNS} FROM tern.dns_zone ORDER BY name");
    sqlx::query_as::<_, ZoneRow>(&sql)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(Zone::try_from)
        .collect()
}

/// The zone of that name (any case, with or without the trailing dot).
pub async fn get(pool: &PgPool, name: &str) -> Result<Option<Zone>> {
    zone_by_name(&mut *pool.acquire().await?, name, false).await
}

/// The zone of that id.
pub async fn get_by_id(pool: &PgPool, id: i64) -> Result<Option<Zone>> {
    zone_by_id(&mut *pool.acquire().await?, id, false).await
}

/// A read-only REPEATABLE READ transaction: everything read in it is one state.
async fn consistent_read(pool: &PgPool) -> Result<Transaction<'static, Postgres>> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// The zone and all its records as of one moment (one REPEATABLE READ
/// transaction, so the records are exactly those of `Zone::serial`), in
/// (lower(name), type) order.
pub async fn snapshot(pool: &PgPool, id: i64) -> Result<Option<(Zone, Vec<Record>)>> {
    let mut tx = consistent_read(pool).await?;
    let Some(zone) = zone_by_id(&mut tx, id, false).await? else {
        return Ok(None);
    };
    // A large zone's sort fits in memory then (4 MB by default: a merge on disk).
    sqlx::query("SET LOCAL work_mem = '256MB'")
        .execute(&mut *tx)
        .await?;
    let records = sqlx::query_as::<_, RecordRow>(
        "SELECT id, name, type, ttl, content, managed_by FROM tern.dns_record
          WHERE zone_id = $1 ORDER BY lower(name), type",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(Record::try_from)
    .collect::<Result<Vec<_>>>()?;
    tx.commit().await?;
    Ok(Some((zone, records)))
}

/// The changes after `serial`, in order, oldest version first; `None` when the
/// journal cannot tell them (`serial` older than `journal_start`, newer than the
/// zone's, or a serial the zone never had) or the zone does not exist: then
/// the whole zone must be transferred.
pub async fn journal_since(
    pool: &PgPool,
    id: i64,
    serial: u32,
) -> Result<Option<Vec<JournalEntry>>> {
    Ok(changes_since(pool, id, serial).await?.map(|(_, j)| j))
}

/// [`journal_since`] together with the zone as it is after those changes (its
/// serial and SOA), read in one transaction.
pub async fn changes_since(
    pool: &PgPool,
    id: i64,
    serial: u32,
) -> Result<Option<(Zone, Vec<JournalEntry>)>> {
    let mut tx = consistent_read(pool).await?;
    let Some(zone) = zone_by_id(&mut tx, id, false).await? else {
        return Ok(None);
    };
    if serial == zone.serial {
        return Ok(Some((zone, Vec::new())));
    }
    if serial < zone.journal_start || serial > zone.serial {
        return Ok(None);
    }
    if serial != zone.journal_start {
        // Every version ends with its SOA row: the serials the zone had.
        let had: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM tern.dns_journal WHERE zone_id = $1 AND serial = $2)",
        )
        .bind(id)
        .bind(i64::from(serial))
        .fetch_one(&mut *tx)
        .await?;
        if !had {
            return Ok(None);
        }
    }
    let rows: Vec<(i64, String, String, String, i32, String)> = sqlx::query_as(
        "SELECT serial, op::text, name, type, ttl, content FROM tern.dns_journal
          WHERE zone_id = $1 AND serial > $2 AND type <> 'SOA'
          ORDER BY serial, seq",
    )
    .bind(id)
    .bind(i64::from(serial))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let entries = rows
        .into_iter()
        .map(|(serial, op, name, rtype, ttl, content)| {
            Ok(JournalEntry {
                serial: u32_of(serial, "journal serial")?,
                op: if op == "-" {
                    JournalOp::Delete
                } else {
                    JournalOp::Add
                },
                name,
                rtype,
                ttl: u32_of(ttl.into(), "journal TTL")?,
                content,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some((zone, entries)))
}

/// Drops the journal but for the newest `keep` versions: afterwards IXFR works
/// from the `keep` serials before the current one (0: from none), and
/// `journal_start` is the oldest of them. [`Error::ZoneNotFound`] if no such zone.
pub async fn prune_journal(pool: &PgPool, id: i64, keep: u32) -> Result<()> {
    let mut tx = pool.begin().await?;
    let zone = zone_by_id(&mut tx, id, true)
        .await?
        .ok_or_else(|| Error::ZoneNotFound(id.to_string()))?;
    // The versions after journal_start, newest first; each one's serial is the
    // one IXFR can start from for the versions above it.
    let start: Option<i64> = sqlx::query_scalar(
        "SELECT serial FROM (SELECT DISTINCT serial FROM tern.dns_journal
                              WHERE zone_id = $1 AND serial > $2) v
          ORDER BY serial DESC OFFSET $3 LIMIT 1",
    )
    .bind(id)
    .bind(i64::from(zone.journal_start))
    .bind(i64::from(keep))
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(start) = start {
        sqlx::query("DELETE FROM tern.dns_journal WHERE zone_id = $1 AND serial <= $2")
            .bind(id)
            .bind(start)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE tern.dns_zone SET journal_start = $2 WHERE id = $1")
            .bind(id)
            .bind(start)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
    }
    tx.commit().await?;
    Ok(())
}

/// A transaction on one zone, holding its row lock (`SELECT .. FOR UPDATE`) so
/// that what it reads stays true until it commits. Dropped without
/// [`ZoneTx::commit`], it rolls back.
pub struct ZoneTx {
    tx: Transaction<'static, Postgres>,
    zone: Zone,
}

impl ZoneTx {
    /// Begins a transaction on the zone of that name and locks it; `None` if there
    /// is no such zone. Waits while another transaction holds the zone.
    pub async fn begin(pool: &PgPool, zone_name: &str) -> Result<Option<ZoneTx>> {
        let mut tx = pool.begin().await?;
        Ok(zone_by_name(&mut tx, zone_name, true)
            .await?
            .map(|zone| ZoneTx { tx, zone }))
    }

    /// The zone as it was when the transaction began (with the SOA as
    /// [`ZoneTx::set_soa`] set it).
    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    /// The records at these owner names (case-insensitive), in (lower(name), type)
    /// order.
    pub async fn records_at(&mut self, names: &[String]) -> Result<Vec<Record>> {
        let lower: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        sqlx::query_as::<_, RecordRow>(
            "SELECT id, name, type, ttl, content, managed_by FROM tern.dns_record
              WHERE zone_id = $1 AND lower(name) = ANY ($2::text[])
              ORDER BY lower(name), type, md5(content)",
        )
        .bind(self.zone.id)
        .bind(&lower)
        .fetch_all(&mut *self.tx)
        .await?
        .into_iter()
        .map(Record::try_from)
        .collect()
    }

    /// Whether any record is at the name.
    pub async fn name_in_use(&mut self, name: &str) -> Result<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM tern.dns_record WHERE zone_id = $1 AND lower(name) = $2)",
        )
        .bind(self.zone.id)
        .bind(name.to_ascii_lowercase())
        .fetch_one(&mut *self.tx)
        .await?)
    }

    /// Adds records; those already there (same owner ignoring case, type and
    /// content) are ignored (RFC 2136 §3.4.2.2). The number of rows added.
    pub async fn add(&mut self, r: &[NewRecord]) -> Result<u64> {
        insert_records(&mut self.tx, self.zone.id, &self.zone.name, r).await
    }

    /// Deletes the records of these (owner, type, content), in one statement; the rows
    /// deleted.
    pub async fn delete_records(&mut self, r: &[(String, String, String)]) -> Result<u64> {
        if r.is_empty() {
            return Ok(0);
        }
        let names: Vec<String> = r.iter().map(|(n, _, _)| n.to_ascii_lowercase()).collect();
        let types: Vec<String> = r.iter().map(|(_, t, _)| t.to_ascii_uppercase()).collect();
        let contents: Vec<&str> = r.iter().map(|(_, _, c)| c.as_str()).collect();
        Ok(sqlx::query(
            "DELETE FROM tern.dns_record d
              USING unnest($2::text[], $3::text[], $4::text[]) AS g (name, type, content)
              WHERE d.zone_id = $1 AND lower(d.name) = g.name AND d.type = g.type
                AND d.content = g.content",
        )
        .bind(self.zone.id)
        .bind(&names)
        .bind(&types)
        .bind(&contents)
        .execute(&mut *self.tx)
        .await
        .map_err(db_error)?
        .rows_affected())
    }

    /// Deletes the RRset of that owner and type; the rows deleted.
    pub async fn delete_rrset(&mut self, name: &str, rtype: &str) -> Result<u64> {
        self.delete_at(name, Some(rtype)).await
    }

    /// Deletes every record at the name; the rows deleted.
    pub async fn delete_name(&mut self, name: &str) -> Result<u64> {
        self.delete_at(name, None).await
    }

    /// Deletes the records at the name, of the type when one is given.
    async fn delete_at(&mut self, name: &str, rtype: Option<&str>) -> Result<u64> {
        Ok(sqlx::query(
            "DELETE FROM tern.dns_record
              WHERE zone_id = $1 AND lower(name) = $2 AND ($3::text IS NULL OR type = $3)",
        )
        .bind(self.zone.id)
        .bind(name.to_ascii_lowercase())
        // Types are stored upper case.
        .bind(rtype.map(str::to_ascii_uppercase))
        .execute(&mut *self.tx)
        .await
        .map_err(db_error)?
        .rows_affected())
    }

    /// Makes the RRset at (name, type) exactly `r` (empty: deletes it). Records
    /// already there unchanged are left alone (no journal rows); a changed TTL or
    /// owner spelling is one '-' and one '+'.
    pub async fn replace_rrset(&mut self, name: &str, rtype: &str, r: &[NewRecord]) -> Result<()> {
        let lname = name.to_ascii_lowercase();
        let rtype = rtype.to_ascii_uppercase();
        let mut wanted: Vec<(&NewRecord, i32)> = Vec::with_capacity(r.len());
        for rec in r {
            let (t, ttl) = checked(&self.zone.name, rec)?;
            if t != rtype || rec.name.to_ascii_lowercase() != lname {
                return Err(Error::InvalidRecord {
                    name: rec.name.clone(),
                    rtype: rec.rtype.clone(),
                    reason: format!("not of the RRset {name} {rtype} being replaced"),
                });
            }
            if !wanted.iter().any(|(w, _)| w.content == rec.content) {
                wanted.push((rec, ttl));
            }
        }
        let existing: HashMap<String, Record> = self
            .records_at(&[lname])
            .await?
            .into_iter()
            .filter(|e| e.rtype == rtype)
            .map(|e| (e.content.clone(), e))
            .collect();
        let gone: Vec<i64> = existing
            .values()
            .filter(|e| !wanted.iter().any(|(w, _)| w.content == e.content))
            .map(|e| e.id)
            .collect();
        let (mut ids, mut names, mut ttls, mut managed) = (vec![], vec![], vec![], vec![]);
        let mut new = Vec::new();
        for (w, ttl) in &wanted {
            match existing.get(&w.content) {
                None => new.push((*w).clone()),
                Some(e) if e.name != w.name || e.ttl != w.ttl || e.managed_by != w.managed_by => {
                    ids.push(e.id);
                    names.push(w.name.as_str());
                    ttls.push(*ttl);
                    managed.push(w.managed_by.as_str());
                }
                Some(_) => {}
            }
        }
        if !gone.is_empty() {
            sqlx::query("DELETE FROM tern.dns_record WHERE id = ANY ($1)")
                .bind(&gone)
                .execute(&mut *self.tx)
                .await
                .map_err(db_error)?;
        }
        if !ids.is_empty() {
            sqlx::query(
                "UPDATE tern.dns_record r SET name = u.name, ttl = u.ttl, managed_by = u.managed_by
                   FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[])
                        AS u (id, name, ttl, managed_by)
                  WHERE r.id = u.id",
            )
            .bind(&ids)
            .bind(&names)
            .bind(&ttls)
            .bind(&managed)
            .execute(&mut *self.tx)
            .await
            .map_err(db_error)?;
        }
        if !new.is_empty() {
            self.add(&new).await?;
        }
        Ok(())
    }

    /// Sets the SOA. `serial`: a serial for this version, kept as it is if higher
    /// than the zone's (otherwise the zone's rule moves it);
    /// [`Error::SerialBackwards`] if lower.
    pub async fn set_soa(&mut self, soa: &Soa, serial: Option<u32>) -> Result<()> {
        let soa_ttl = check_soa(&self.zone.name, soa)?;
        if let Some(s) = serial.filter(|s| *s < self.zone.serial) {
            return Err(Error::SerialBackwards {
                zone: self.zone.name.clone(),
                current: self.zone.serial,
                requested: s,
            });
        }
        sqlx::query(
            "UPDATE tern.dns_zone SET soa_ttl = $2, mname = $3, rname = $4, refresh = $5,
                    retry = $6, expire = $7, minimum = $8, serial = greatest(serial, coalesce($9, 0))
              WHERE id = $1",
        )
        .bind(self.zone.id)
        .bind(soa_ttl)
        .bind(&soa.mname)
        .bind(&soa.rname)
        .bind(i64::from(soa.refresh))
        .bind(i64::from(soa.retry))
        .bind(i64::from(soa.expire))
        .bind(i64::from(soa.minimum))
        .bind(serial.map(i64::from))
        .execute(&mut *self.tx)
        .await
        .map_err(db_error)?;
        self.zone.soa = soa.clone();
        Ok(())
    }

    /// Commits; the zone's serial afterwards (unchanged if nothing changed).
    pub async fn commit(mut self) -> Result<u32> {
        settle(&mut self.tx).await?;
        let serial: i64 = sqlx::query_scalar("SELECT serial FROM tern.dns_zone WHERE id = $1")
            .bind(self.zone.id)
            .fetch_one(&mut *self.tx)
            .await?;
        self.tx.commit().await.map_err(db_error)?;
        u32_of(serial, "serial")
    }

    /// Rolls back (as dropping does, but waiting for it).
    pub async fn rollback(self) -> Result<()> {
        Ok(self.tx.rollback().await?)
    }
}

/// Decodes a `tern_dns` payload: `changed <id> <serial>`, `created <id>`,
/// `deleted <id>`. Anything else is [`ZoneEvent::Resync`]: reloading is always
/// correct, only slower.
pub fn parse_payload(payload: &str) -> ZoneEvent {
    let mut words = payload.split(' ');
    let event = match (words.next(), words.next(), words.next(), words.next()) {
        (Some("changed"), Some(id), Some(serial), None) => id
            .parse()
            .ok()
            .zip(serial.parse().ok())
            .map(|(zone_id, serial)| ZoneEvent::Changed { zone_id, serial }),
        (Some("created"), Some(id), None, None) => id
            .parse()
            .ok()
            .map(|zone_id| ZoneEvent::Created { zone_id }),
        (Some("deleted"), Some(id), None, None) => id
            .parse()
            .ok()
            .map(|zone_id| ZoneEvent::Deleted { zone_id }),
        _ => None,
    };
    event.unwrap_or_else(|| {
        warn!("STORE_ZONE_EVENT_INVALID cannot read zone notification {payload:?}");
        ZoneEvent::Resync
    })
}

static CHANNEL: Channel<ZoneEvent> = Channel {
    name: DNS_CHANNEL,
    application_name: "tern-zone-watcher",
    log_prefix: "STORE_ZONE",
    what: "zone changes",
    reload: "reloading zones",
    parse: parse_payload,
    resync: || ZoneEvent::Resync,
};

/// Listens for zone changes ([`Store::watch_zones`]). Dropping it stops listening.
pub struct ZoneWatcher {
    inner: Listening<ZoneEvent>,
}

impl ZoneWatcher {
    /// Starts listening on a dedicated connection (application_name
    /// `tern-zone-watcher`). Returns once `LISTEN` is in effect, so every change
    /// committed after this returns is reported.
    pub async fn start(store: &Store) -> Result<ZoneWatcher> {
        Ok(ZoneWatcher {
            inner: Listening::start(store, &CHANNEL).await?,
        })
    }

    /// The next event; after a reconnect [`ZoneEvent::Resync`].
    /// [`Error::WatcherStopped`] only if the listening task ended.
    pub async fn recv(&mut self) -> Result<ZoneEvent> {
        self.inner.recv().await.ok_or(Error::WatcherStopped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_names_are_normalised() {
        assert_eq!(zone_name("Example.COM").unwrap(), "example.com.");
        assert_eq!(zone_name("example.com.").unwrap(), "example.com.");
        assert_eq!(zone_name(".").unwrap(), ".");
        for bad in ["", ".com", "a b.", "example.com.."] {
            assert!(zone_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn in_zone_is_by_label() {
        assert!(in_zone("WWW.Example.com.", "example.com."));
        assert!(in_zone("example.COM.", "example.com."));
        assert!(!in_zone("badexample.com.", "example.com."));
        assert!(!in_zone("com.", "example.com."));
        assert!(in_zone("anything.", "."));
    }

    #[test]
    fn records_are_checked() {
        let r = |name: &str, rtype: &str, ttl| NewRecord {
            name: name.into(),
            rtype: rtype.into(),
            ttl,
            content: "192.0.2.1".into(),
            managed_by: ManagedBy::Admin,
        };
        assert_eq!(
            checked("example.com.", &r("a.example.com.", "a", 60)).unwrap(),
            ("A".to_owned(), 60)
        );
        assert!(matches!(
            checked("example.com.", &r("a.example.org.", "A", 60)),
            Err(Error::OutOfZone { .. })
        ));
        for bad in [
            r("a.example.com", "A", 60),
            r("a.example.com.", "SOA", 60),
            r("a.example.com.", "A B", 60),
            r("a.example.com.", "A", 1 << 31),
        ] {
            assert!(
                matches!(
                    checked("example.com.", &bad),
                    Err(Error::InvalidRecord { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn kinds_and_rules_parse_as_powerdns_writes_them() {
        assert_eq!("master".parse::<ZoneKind>().unwrap(), ZoneKind::Master);
        assert_eq!("PRIMARY".parse::<ZoneKind>().unwrap(), ZoneKind::Master);
        assert_eq!("Secondary".parse::<ZoneKind>().unwrap(), ZoneKind::Slave);
        assert_eq!(ZoneKind::Slave.as_str(), "Slave");
        assert!("producer".parse::<ZoneKind>().is_err());
        assert_eq!("epoch".parse::<SerialRule>().unwrap(), SerialRule::Epoch);
        assert!("SOA-EDIT".parse::<SerialRule>().is_err());
    }

    #[test]
    fn payloads() {
        assert_eq!(
            parse_payload("changed 7 2026120701"),
            ZoneEvent::Changed {
                zone_id: 7,
                serial: 2026120701
            }
        );
        assert_eq!(
            parse_payload("created 7"),
            ZoneEvent::Created { zone_id: 7 }
        );
        assert_eq!(
            parse_payload("deleted 7"),
            ZoneEvent::Deleted { zone_id: 7 }
        );
        for junk in ["", "changed 7", "changed x 1", "created 7 8", "renamed 7"] {
            assert_eq!(parse_payload(junk), ZoneEvent::Resync, "{junk:?}");
        }
    }
}
