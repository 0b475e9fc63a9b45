//! The NameChangeRequest queue (`tern.ncr_queue`): the outbox between whoever
//! asks for a DNS change and the d2 that makes it.
//!
//! * [`enqueue`] / [`enqueue_batch`] take any executor, so the DHCP engine writes
//!   the NCR in the same transaction as the lease it belongs to; d2's UDP intake
//!   writes each NCR from a Kea server before acting on it.
//! * [`claim`] hands out due rows with `FOR UPDATE SKIP LOCKED`, so several d2
//!   processes (several appliances on one database) drain one queue without
//!   handing a row out twice. Only the oldest unfinished row of an FQDN can be
//!   claimed, and a unique index allows one `in_progress` row per FQDN, so at most
//!   one transaction per name runs anywhere and a name's requests run in order.
//! * A claimed row is held on a lease: its holder renews `claimed_at` with
//!   [`heartbeat`]; [`reclaim_stale`] puts rows whose lease ran out (their d2 was
//!   killed, or lost its database connection) back to `pending`. A lease rather
//!   than "reset everything at start" because another appliance sharing the
//!   database may be working on its rows right now.
//! * [`complete`] records the outcome; [`retry_later`] puts a row back with a
//!   due time (backoff) and the reason; [`finish_and_claim`] does both for a batch
//!   and claims the next rows in the same transaction (d2's loop: one commit per
//!   batch, not per request); [`purge_finished`] deletes old outcomes.
//! * Every INSERT is announced on [`NCR_CHANNEL`] (a statement trigger), so d2
//!   claims at once instead of waiting for its next poll.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Postgres, Row};
use tern_ncr::NameChangeRequest;
use tracing::warn;

use crate::error::Result;

/// The LISTEN/NOTIFY channel announcing new queue rows.
pub const NCR_CHANNEL: &str = "tern_ncr";

/// Who put a request in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NcrSource {
    /// A DHCP server (Kea) over UDP.
    Udp,
    /// tern's DHCPv4 engine.
    Dhcp4,
    /// tern's DHCPv6 engine.
    Dhcp6,
    /// The REST API.
    Api,
}

impl NcrSource {
    /// The `source` column's value.
    pub fn as_str(self) -> &'static str {
        match self {
            NcrSource::Udp => "udp",
            NcrSource::Dhcp4 => "dhcp4",
            NcrSource::Dhcp6 => "dhcp6",
            NcrSource::Api => "api",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Udp, Self::Dhcp4, Self::Dhcp6, Self::Api]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Where a queued request stands (`state` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NcrState {
    /// Waiting to be claimed (maybe not before `next_attempt_at`).
    Pending,
    /// Claimed by a d2.
    InProgress,
    /// DNS holds the result.
    Done,
    /// Refused by conflict resolution: the name belongs to another client.
    Conflict,
    /// Given up; `last_error` says why.
    Failed,
}

impl NcrState {
    /// The `state` column's value.
    pub fn as_str(self) -> &'static str {
        match self {
            NcrState::Pending => "pending",
            NcrState::InProgress => "in_progress",
            NcrState::Done => "done",
            NcrState::Conflict => "conflict",
            NcrState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::InProgress,
            Self::Done,
            Self::Conflict,
            Self::Failed,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// How a claimed request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NcrOutcome {
    /// DNS holds the result.
    Done,
    /// Refused by conflict resolution, with the reason.
    Conflict(String),
    /// Failed for good, with the reason.
    Failed(String),
}

/// A claimed request, to be processed by the claimer.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedNcr {
    /// Row id.
    pub id: i64,
    /// Who queued it.
    pub source: NcrSource,
    /// The request.
    pub ncr: NameChangeRequest,
    /// Claims so far, this one included.
    pub attempts: i32,
    /// When it was queued.
    pub received_at: DateTime<Utc>,
}

/// A queue row as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct NcrRecord {
    /// Row id.
    pub id: i64,
    /// When it was queued.
    pub received_at: DateTime<Utc>,
    /// Who queued it (`None` for a value this build does not know).
    pub source: Option<NcrSource>,
    /// The request in Kea's JSON.
    pub ncr_json: String,
    /// 0 add, 1 remove.
    pub change_type: i16,
    /// The client's name.
    pub fqdn: String,
    /// The leased address.
    pub ip_address: IpAddr,
    /// Where it stands (`None` for a value this build does not know).
    pub state: Option<NcrState>,
    /// Claims so far.
    pub attempts: i32,
    /// Not claimed before this time.
    pub next_attempt_at: DateTime<Utc>,
    /// Holder while in progress.
    pub claimed_by: Option<String>,
    /// Claimed or renewed at.
    pub claimed_at: Option<DateTime<Utc>>,
    /// Reason of the last retry or of the failure.
    pub last_error: Option<String>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
}

/// The serialisation key of a name: lower case, no trailing dot.
pub fn fqdn_key(fqdn: &str) -> String {
    fqdn.trim_end_matches('.').to_ascii_lowercase()
}

/// Queues one request; returns its id. Pass `&mut *tx` to queue it inside a
/// transaction of your own (it is then claimable, and announced, at commit).
pub async fn enqueue<'e, E>(executor: E, ncr: &NameChangeRequest, source: NcrSource) -> Result<i64>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO tern.ncr_queue (source, ncr, change_type, fqdn, fqdn_key, ip_address)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(source.as_str())
    .bind(ncr.to_json())
    .bind(i16::from(ncr.change_type.code()))
    .bind(ncr.fqdn.as_str())
    .bind(fqdn_key(ncr.fqdn.as_str()))
    .bind(ncr.ip_address)
    .fetch_one(executor)
    .await?;
    Ok(id)
}

/// Queues several requests in one statement, in the order given; returns their ids
/// in that order.
pub async fn enqueue_batch(
    conn: &mut PgConnection,
    ncrs: &[NameChangeRequest],
    source: NcrSource,
) -> Result<Vec<i64>> {
    if ncrs.is_empty() {
        return Ok(Vec::new());
    }
    let json: Vec<String> = ncrs.iter().map(|n| n.to_json()).collect();
    let change: Vec<i16> = ncrs
        .iter()
        .map(|n| i16::from(n.change_type.code()))
        .collect();
    let fqdn: Vec<String> = ncrs.iter().map(|n| n.fqdn.as_str().to_owned()).collect();
    let key: Vec<String> = ncrs.iter().map(|n| fqdn_key(n.fqdn.as_str())).collect();
    let ip: Vec<IpAddr> = ncrs.iter().map(|n| n.ip_address).collect();
    // WITH ORDINALITY + ORDER BY: ids follow the input order.
    let ids: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO tern.ncr_queue (source, ncr, change_type, fqdn, fqdn_key, ip_address)
         SELECT $1, j, c, f, k, i
           FROM unnest($2::text[], $3::int2[], $4::text[], $5::text[], $6::inet[])
                WITH ORDINALITY AS t(j, c, f, k, i, n)
          ORDER BY n
         RETURNING id",
    )
    .bind(source.as_str())
    .bind(&json)
    .bind(&change)
    .bind(&fqdn)
    .bind(&key)
    .bind(&ip)
    .fetch_all(&mut *conn)
    .await?;
    let mut ids = ids;
    ids.sort_unstable();
    Ok(ids)
}

/// Claims up to `limit` due requests for `worker`, at most one per FQDN and only
/// the oldest unfinished one of each FQDN, none of an FQDN already in progress.
/// Oldest due first. Rows whose JSON no longer parses are marked failed.
pub async fn claim(pool: &PgPool, limit: i64, worker: &str) -> Result<Vec<QueuedNcr>> {
    Ok(finish_and_claim(pool, &[], limit, worker).await?.claimed)
}

/// What becomes of a claimed request, for [`finish_and_claim`].
#[derive(Debug, Clone, PartialEq)]
pub enum Finish {
    /// It ended: done, conflict or failed.
    Outcome(NcrOutcome),
    /// No server answered: pending again, due after `after`, with the reason.
    RetryAfter {
        /// Why.
        reason: String,
        /// Backoff.
        after: Duration,
    },
}

/// The result of [`finish_and_claim`].
#[derive(Debug, Default)]
pub struct FinishAndClaim {
    /// Ids whose result was recorded; a finished id missing here was no longer in
    /// progress (its lease ran out and it was taken back).
    pub recorded: Vec<i64>,
    /// Newly claimed requests, oldest due first.
    pub claimed: Vec<QueuedNcr>,
    /// A finished request's FQDN has a later request waiting: worth a claim soon
    /// even when nothing new was announced.
    pub successor_waiting: bool,
}

/// Records the results of finished requests and claims up to `limit` due ones (as
/// [`claim`] does), in one relaxed transaction: one commit for a whole batch rather
/// than one per request, and a finished request's FQDN is free for the claim at once.
pub async fn finish_and_claim(
    pool: &PgPool,
    finished: &[(i64, Finish)],
    limit: i64,
    worker: &str,
) -> Result<FinishAndClaim> {
    // Two claimers racing for different rows of one FQDN: the unique index on
    // in_progress rows lets one win; the other retries and then skips the FQDN.
    let mut tries = 0;
    let ((recorded, successor_waiting), rows) = loop {
        tries += 1;
        match finish_and_claim_once(pool, finished, limit, worker).await {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() && tries < 5 => {
                tokio::time::sleep(Duration::from_millis(5 * tries)).await;
            }
            other => break other?,
        }
    };
    Ok(FinishAndClaim {
        recorded,
        claimed: parse_claimed(pool, rows).await?,
        successor_waiting,
    })
}

/// Claimed rows as requests; rows whose JSON no longer parses are marked failed.
async fn parse_claimed(pool: &PgPool, rows: Vec<PgRow>) -> Result<Vec<QueuedNcr>> {
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get("id")?;
        let json: String = row.try_get("ncr")?;
        let source: String = row.try_get("source")?;
        match NameChangeRequest::from_json(&json) {
            Ok(ncr) => claimed.push(QueuedNcr {
                id,
                source: NcrSource::parse(&source).unwrap_or(NcrSource::Api),
                ncr,
                attempts: row.try_get("attempts")?,
                received_at: row.try_get("received_at")?,
            }),
            Err(e) => {
                warn!("DHCP_DDNS_INVALID_NCR queued request {id} is not a valid NCR: {e}");
                // The batch is already claimed: an error here must not lose the valid
                // rows claimed with it; this row is reclaimed later and fails again.
                if let Err(err) =
                    complete(pool, id, &NcrOutcome::Failed(format!("invalid NCR: {e}"))).await
                {
                    tracing::error!(
                        "DHCP_DDNS_QUEUE_UPDATE_ERROR cannot fail invalid queue id {id}: {err}"
                    );
                }
            }
        }
    }
    Ok(claimed)
}

/// Opens a transaction whose commit does not wait for the WAL to reach disk
/// (`synchronous_commit = off`). Used for the queue's bookkeeping (claims,
/// outcomes, retries, leases), never for intake: if a crash loses such a commit,
/// the row is simply back where it was (pending or in progress, then reclaimed)
/// and d2 runs the NCR again, which RFC 4703's updates tolerate. This takes the
/// fsync off the per-NCR path; intake stays durable before anything happens.
///
/// It also pins the plans to index scans and nested loops. A queue's statistics
/// are always wrong (10,000 pending rows now, none a second later, autoanalyze in
/// between), and a plan made on a near-empty table and then cached (sqlx prepares,
/// PostgreSQL keeps a generic plan) scanned every pending row for each claim: 16 ms
/// per claim with 10,000 queued instead of 0.2 ms. Every statement run here finds
/// its rows by an index (id, due time, FQDN), so these settings only forbid bad plans.
async fn relaxed(
    pool: &PgPool,
) -> std::result::Result<sqlx::Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "SELECT set_config('synchronous_commit', 'off', true),
                set_config('enable_seqscan', 'off', true),
                set_config('enable_bitmapscan', 'off', true),
                set_config('enable_sort', 'off', true),
                set_config('enable_hashjoin', 'off', true),
                set_config('enable_mergejoin', 'off', true)",
    )
    .execute(&mut *tx)
    .await?;
    Ok(tx)
}

/// The columns of [`finish_rows`]'s arrays.
struct FinishArrays<'a> {
    ids: Vec<i64>,
    states: Vec<&'static str>,
    errors: Vec<Option<&'a str>>,
    delays: Vec<f64>,
}

fn finish_rows(finished: &[(i64, Finish)]) -> FinishArrays<'_> {
    let mut a = FinishArrays {
        ids: Vec::with_capacity(finished.len()),
        states: Vec::with_capacity(finished.len()),
        errors: Vec::with_capacity(finished.len()),
        delays: Vec::with_capacity(finished.len()),
    };
    for (id, f) in finished {
        let (state, error, delay) = match f {
            Finish::Outcome(NcrOutcome::Done) => (NcrState::Done, None, 0.0),
            Finish::Outcome(NcrOutcome::Conflict(r)) => (NcrState::Conflict, Some(r.as_str()), 0.0),
            Finish::Outcome(NcrOutcome::Failed(r)) => (NcrState::Failed, Some(r.as_str()), 0.0),
            Finish::RetryAfter { reason, after } => (
                NcrState::Pending,
                Some(reason.as_str()),
                after.as_secs_f64(),
            ),
        };
        a.ids.push(*id);
        a.states.push(state.as_str());
        a.errors.push(error);
        a.delays.push(delay);
    }
    a
}

/// The rules of complete() and retry_later(), one row per array element.
const FINISH_SQL: &str = "UPDATE tern.ncr_queue q
    SET state = u.state, last_error = COALESCE(u.error, q.last_error),
        finished_at = CASE WHEN u.state = 'pending' THEN NULL ELSE now() END,
        next_attempt_at = CASE WHEN u.state = 'pending'
            THEN now() + make_interval(secs => u.delay) ELSE q.next_attempt_at END,
        claimed_by = NULL, claimed_at = NULL
   FROM unnest($1::int8[], $2::text[], $3::text[], $4::float8[]) AS u(id, state, error, delay)
  WHERE q.id = u.id
    AND (q.state = 'in_progress' OR (q.state = 'pending' AND u.state <> 'pending'))
 RETURNING q.id, EXISTS (
     SELECT 1 FROM tern.ncr_queue o
      WHERE o.fqdn_key = q.fqdn_key AND o.state = 'pending' AND o.id > q.id) AS successor";

/// The picked rows are locked and were re-checked as pending when locked, so the
/// UPDATE finds them by id alone (the primary key, whatever the estimates).
const CLAIM_SQL: &str = "WITH picked AS (
    SELECT q.id FROM tern.ncr_queue q
     WHERE q.state = 'pending' AND q.next_attempt_at <= now()
       AND NOT EXISTS (
           SELECT 1 FROM tern.ncr_queue o
            WHERE o.fqdn_key = q.fqdn_key
              AND o.state IN ('pending', 'in_progress')
              AND (o.id < q.id OR o.state = 'in_progress'))
     ORDER BY q.next_attempt_at, q.id
     LIMIT $1
     FOR UPDATE OF q SKIP LOCKED)
 UPDATE tern.ncr_queue q
    SET state = 'in_progress', claimed_by = $2, claimed_at = now(),
        attempts = q.attempts + 1
  WHERE q.id = ANY (ARRAY(SELECT id FROM picked))
 RETURNING q.id, q.ncr, q.source, q.attempts, q.received_at, q.next_attempt_at";

/// Records results; returns the ids recorded and whether a finished FQDN has a
/// later request waiting.
async fn finish_on<'e, E>(executor: E, finished: &[(i64, Finish)]) -> sqlx::Result<(Vec<i64>, bool)>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
    if finished.is_empty() {
        return Ok((Vec::new(), false));
    }
    let a = finish_rows(finished);
    let rows: Vec<(i64, bool)> = sqlx::query_as(FINISH_SQL)
        .bind(&a.ids)
        .bind(&a.states)
        .bind(&a.errors)
        .bind(&a.delays)
        .fetch_all(executor)
        .await?;
    let successor = rows.iter().any(|(_, s)| *s);
    Ok((rows.into_iter().map(|(id, _)| id).collect(), successor))
}

async fn claim_on<'e, E>(executor: E, limit: i64, worker: &str) -> sqlx::Result<Vec<PgRow>>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
    if limit <= 0 {
        return Ok(Vec::new());
    }
    let mut rows = sqlx::query(CLAIM_SQL)
        .bind(limit)
        .bind(worker)
        .fetch_all(executor)
        .await?;
    rows.sort_by_key(|r| {
        (
            r.try_get::<DateTime<Utc>, _>("next_attempt_at").ok(),
            r.try_get::<i64, _>("id").unwrap_or(0),
        )
    });
    Ok(rows)
}

async fn finish_and_claim_once(
    pool: &PgPool,
    finished: &[(i64, Finish)],
    limit: i64,
    worker: &str,
) -> std::result::Result<((Vec<i64>, bool), Vec<PgRow>), sqlx::Error> {
    let mut tx = relaxed(pool).await?;
    let recorded = finish_on(&mut *tx, finished).await?;
    let rows = claim_on(&mut *tx, limit, worker).await?;
    tx.commit().await?;
    Ok((recorded, rows))
}

/// A small connection pool for d2's own queue bookkeeping, whose sessions have the
/// settings [`relaxed`] gives a transaction (asynchronous commit, plans pinned to
/// index scans) from the start: [`Bookkeeping::finish_and_claim`] is then two
/// single-statement round trips instead of a five-step transaction. The results
/// and the claim need not commit together: a crash between them leaves rows
/// claimed or in progress, which the claim lease takes back.
#[derive(Debug, Clone)]
pub struct Bookkeeping {
    pool: PgPool,
}

impl Bookkeeping {
    /// A pool of at most `max_connections` to the database of `pool` (connected lazily).
    pub fn new(pool: &PgPool, max_connections: u32) -> Bookkeeping {
        let options = (*pool.connect_options()).clone().options([
            ("synchronous_commit", "off"),
            ("enable_seqscan", "off"),
            ("enable_bitmapscan", "off"),
            ("enable_sort", "off"),
            ("enable_hashjoin", "off"),
            ("enable_mergejoin", "off"),
        ]);
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .test_before_acquire(false)
            .connect_lazy_with(options);
        Bookkeeping { pool }
    }

    /// The pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// [`finish_and_claim`]: the results first (so a finished request's FQDN is free
    /// for the claim), then the claim.
    pub async fn finish_and_claim(
        &self,
        finished: &[(i64, Finish)],
        limit: i64,
        worker: &str,
    ) -> Result<FinishAndClaim> {
        let (recorded, successor_waiting) = finish_on(&self.pool, finished).await?;
        let mut tries = 0;
        let rows = loop {
            tries += 1;
            match claim_on(&self.pool, limit, worker).await {
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() && tries < 5 => {
                    tokio::time::sleep(Duration::from_millis(5 * tries)).await;
                }
                other => break other?,
            }
        };
        Ok(FinishAndClaim {
            recorded,
            claimed: parse_claimed(&self.pool, rows).await?,
            successor_waiting,
        })
    }
}

/// Records the outcome of a claimed request. Returns false when the row was not
/// in progress (its lease ran out and it was taken back).
pub async fn complete(pool: &PgPool, id: i64, outcome: &NcrOutcome) -> Result<bool> {
    let (state, error) = match outcome {
        NcrOutcome::Done => (NcrState::Done, None),
        NcrOutcome::Conflict(r) => (NcrState::Conflict, Some(r.as_str())),
        NcrOutcome::Failed(r) => (NcrState::Failed, Some(r.as_str())),
    };
    let mut tx = relaxed(pool).await?;
    let n = sqlx::query(
        "UPDATE tern.ncr_queue
            SET state = $2, last_error = COALESCE($3, last_error), finished_at = now(),
                claimed_by = NULL, claimed_at = NULL
          WHERE id = $1 AND state IN ('in_progress', 'pending')",
    )
    .bind(id)
    .bind(state.as_str())
    .bind(error)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(n > 0)
}

/// Puts a claimed request back, due after `backoff`, with the reason.
pub async fn retry_later(pool: &PgPool, id: i64, error: &str, backoff: Duration) -> Result<bool> {
    let mut tx = relaxed(pool).await?;
    let n = sqlx::query(
        "UPDATE tern.ncr_queue
            SET state = 'pending', last_error = $2,
                next_attempt_at = now() + make_interval(secs => $3),
                claimed_by = NULL, claimed_at = NULL
          WHERE id = $1 AND state = 'in_progress'",
    )
    .bind(id)
    .bind(error)
    .bind(backoff.as_secs_f64())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(n > 0)
}

/// Renews `worker`'s lease on the rows it is still working on (`ids`); returns how many.
/// Only rows with a live transaction are named, so a row stranded by an error (its
/// outcome could not be recorded) runs out of lease and is taken back, rather than
/// being renewed for ever and blocking its FQDN.
///
/// A row locked at this moment is skipped: its lock holder is recording its outcome
/// (which ends the claim), and a renewal that waited for it could lock rows in the
/// opposite order to that batch and deadlock with it. A renewal missed when the
/// outcome then fails to commit is made on the next tick, well within the lease.
pub async fn heartbeat(pool: &PgPool, worker: &str, ids: &[i64]) -> Result<u64> {
    let mut tx = relaxed(pool).await?;
    let n = sqlx::query(
        "UPDATE tern.ncr_queue SET claimed_at = now()
          WHERE id = ANY (ARRAY(
              SELECT id FROM tern.ncr_queue
               WHERE claimed_by = $1 AND state = 'in_progress' AND id = ANY($2)
               FOR UPDATE SKIP LOCKED))",
    )
    .bind(worker)
    .bind(ids)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(n)
}

/// Puts in-progress rows whose lease is older than `lease` back to pending (due
/// now); returns how many. Their holder was killed or lost the database. Rows locked
/// at this moment are left alone, as in [`heartbeat`]: someone is recording them.
pub async fn reclaim_stale(pool: &PgPool, lease: Duration) -> Result<u64> {
    let mut tx = relaxed(pool).await?;
    let n = sqlx::query(
        "UPDATE tern.ncr_queue
            SET state = 'pending', claimed_by = NULL, claimed_at = NULL,
                next_attempt_at = now(),
                last_error = COALESCE(last_error, 'reclaimed: its d2 stopped renewing its claim')
          WHERE id = ANY (ARRAY(
              SELECT id FROM tern.ncr_queue
               WHERE state = 'in_progress' AND claimed_at < now() - make_interval(secs => $1)
               FOR UPDATE SKIP LOCKED))",
    )
    .bind(lease.as_secs_f64())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(n)
}

/// Deletes finished rows (done, conflict, failed) that finished more than `age` ago;
/// returns how many.
pub async fn purge_finished(pool: &PgPool, age: Duration) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM tern.ncr_queue
          WHERE finished_at IS NOT NULL AND finished_at < now() - make_interval(secs => $1)",
    )
    .bind(age.as_secs_f64())
    .execute(pool)
    .await?
    .rows_affected())
}

const RECORD_COLUMNS: &str = "id, received_at, source, ncr, change_type, fqdn, ip_address, state,
    attempts, next_attempt_at, claimed_by, claimed_at, last_error, finished_at";

fn record(row: &PgRow) -> Result<NcrRecord> {
    let source: String = row.try_get("source")?;
    let state: String = row.try_get("state")?;
    Ok(NcrRecord {
        id: row.try_get("id")?,
        received_at: row.try_get("received_at")?,
        source: NcrSource::parse(&source),
        ncr_json: row.try_get("ncr")?,
        change_type: row.try_get("change_type")?,
        fqdn: row.try_get("fqdn")?,
        ip_address: row.try_get("ip_address")?,
        state: NcrState::parse(&state),
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        claimed_by: row.try_get("claimed_by")?,
        claimed_at: row.try_get("claimed_at")?,
        last_error: row.try_get("last_error")?,
        finished_at: row.try_get("finished_at")?,
    })
}

/// One row by id.
pub async fn get(pool: &PgPool, id: i64) -> Result<Option<NcrRecord>> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM tern.ncr_queue WHERE id = $1");
    match sqlx::query(&sql).bind(id).fetch_optional(pool).await? {
        Some(row) => Ok(Some(record(&row)?)),
        None => Ok(None),
    }
}

/// Rows in queue order, optionally only those in `state`, at most `limit`, ids
/// above `after` (for paging).
pub async fn list(
    pool: &PgPool,
    state: Option<NcrState>,
    after: i64,
    limit: i64,
) -> Result<Vec<NcrRecord>> {
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM tern.ncr_queue
          WHERE id > $1 AND ($2::text IS NULL OR state = $2)
          ORDER BY id LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(after)
        .bind(state.map(NcrState::as_str))
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(record).collect()
}

/// What [`search`] looks for; every field narrows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NcrQuery {
    /// Only rows in this state.
    pub state: Option<NcrState>,
    /// Only rows for this name (case and the trailing dot do not matter).
    pub fqdn: Option<String>,
    /// Only rows for this address.
    pub ip_address: Option<IpAddr>,
    /// Only rows older than this id (paging backwards).
    pub before: Option<i64>,
    /// At most this many rows.
    pub limit: i64,
}

/// Rows matching `q`, newest first: what the API shows to answer "why has this host
/// no DNS name?".
pub async fn search(pool: &PgPool, q: &NcrQuery) -> Result<Vec<NcrRecord>> {
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM tern.ncr_queue
          WHERE ($1::text IS NULL OR state = $1)
            AND ($2::text IS NULL OR fqdn_key = $2)
            AND ($3::inet IS NULL OR ip_address = $3)
            AND ($4::bigint IS NULL OR id < $4)
          ORDER BY id DESC LIMIT $5"
    );
    let rows = sqlx::query(&sql)
        .bind(q.state.map(NcrState::as_str))
        .bind(q.fqdn.as_deref().map(fqdn_key))
        .bind(q.ip_address)
        .bind(q.before)
        .bind(q.limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(record).collect()
}

/// Number of rows per state, for statistics.
pub async fn count_by_state(pool: &PgPool) -> Result<Vec<(String, i64)>> {
    Ok(
        sqlx::query_as("SELECT state, count(*) FROM tern.ncr_queue GROUP BY state ORDER BY state")
            .fetch_all(pool)
            .await?,
    )
}
