//! The NCR queue on a real PostgreSQL: intake, claims, outcomes, leases.

use std::collections::HashSet;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tern_ncr::{ChangeType, ConflictResolutionMode, Dhcid, Fqdn, NameChangeRequest};
use tern_store::ncr_queue::{self, NcrOutcome, NcrSource, NcrState};
use tern_store::testing;

fn ncr(fqdn: &str, last_octet: u8) -> NameChangeRequest {
    NameChangeRequest {
        change_type: ChangeType::Add,
        forward_change: true,
        reverse_change: true,
        fqdn: Fqdn::new(fqdn).unwrap(),
        ip_address: [192, 0, 2, last_octet].into(),
        dhcid: Dhcid::from_hex("000101020304").unwrap(),
        lease_expires_on: None,
        lease_length: 1200,
        conflict_resolution_mode: ConflictResolutionMode::CheckWithDhcid,
    }
}

#[tokio::test]
async fn enqueue_claim_complete() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    let request = ncr("host.example.com.", 10);
    let id = ncr_queue::enqueue(pool, &request, NcrSource::Udp)
        .await
        .unwrap();
    let rec = ncr_queue::get(pool, id).await.unwrap().unwrap();
    assert_eq!(rec.state, Some(NcrState::Pending));
    assert_eq!(rec.source, Some(NcrSource::Udp));
    assert_eq!(rec.fqdn, "host.example.com.");
    assert_eq!(rec.ip_address.to_string(), "192.0.2.10");

    let claimed = ncr_queue::claim(pool, 10, "w1").await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, id);
    assert_eq!(claimed[0].ncr, request);
    assert_eq!(claimed[0].attempts, 1);
    let rec = ncr_queue::get(pool, id).await.unwrap().unwrap();
    assert_eq!(rec.state, Some(NcrState::InProgress));
    assert_eq!(rec.claimed_by.as_deref(), Some("w1"));
    assert!(ncr_queue::claim(pool, 10, "w2").await.unwrap().is_empty());

    assert!(ncr_queue::complete(pool, id, &NcrOutcome::Done)
        .await
        .unwrap());
    let rec = ncr_queue::get(pool, id).await.unwrap().unwrap();
    assert_eq!(rec.state, Some(NcrState::Done));
    assert!(rec.finished_at.is_some());
    assert!(ncr_queue::claim(pool, 10, "w1").await.unwrap().is_empty());

    // Outcomes with reasons.
    let id2 = ncr_queue::enqueue(pool, &ncr("b.example.com.", 11), NcrSource::Dhcp4)
        .await
        .unwrap();
    ncr_queue::claim(pool, 10, "w1").await.unwrap();
    ncr_queue::complete(pool, id2, &NcrOutcome::Conflict("YXDOMAIN".into()))
        .await
        .unwrap();
    let rec = ncr_queue::get(pool, id2).await.unwrap().unwrap();
    assert_eq!(rec.state, Some(NcrState::Conflict));
    assert_eq!(rec.last_error.as_deref(), Some("YXDOMAIN"));
    let done = ncr_queue::list(pool, Some(NcrState::Done), 0, 100)
        .await
        .unwrap();
    assert_eq!(done.iter().map(|r| r.id).collect::<Vec<_>>(), [id]);
    assert_eq!(ncr_queue::list(pool, None, 0, 100).await.unwrap().len(), 2);
}

#[tokio::test]
async fn enqueue_joins_the_callers_transaction() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    let mut tx = pool.begin().await.unwrap();
    ncr_queue::enqueue(&mut *tx, &ncr("a.example.com.", 1), NcrSource::Dhcp4)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert!(ncr_queue::list(pool, None, 0, 10).await.unwrap().is_empty());

    let mut listener = PgListener::connect_with(pool).await.unwrap();
    listener.listen(tern_store::NCR_CHANNEL).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    let batch: Vec<_> = (0..5)
        .map(|i| ncr(&format!("n{i}.example.com."), i))
        .collect();
    let ids = ncr_queue::enqueue_batch(&mut tx, &batch, NcrSource::Dhcp6)
        .await
        .unwrap();
    assert_eq!(ids.len(), 5);
    tx.commit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(2), listener.recv())
        .await
        .expect("no NOTIFY tern_ncr within 2 s")
        .unwrap();
    let rows = ncr_queue::list(pool, None, 0, 10).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.fqdn.as_str()).collect::<Vec<_>>(),
        batch.iter().map(|n| n.fqdn.as_str()).collect::<Vec<_>>()
    );
    assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), ids);
}

#[tokio::test]
async fn one_fqdn_is_never_in_flight_twice_and_keeps_its_order() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    let x1 = ncr_queue::enqueue(pool, &ncr("x.example.com.", 1), NcrSource::Udp)
        .await
        .unwrap();
    let y1 = ncr_queue::enqueue(pool, &ncr("y.example.com.", 2), NcrSource::Udp)
        .await
        .unwrap();
    // Same name, other case and no trailing dot.
    let x2 = ncr_queue::enqueue(pool, &ncr("X.Example.COM", 3), NcrSource::Udp)
        .await
        .unwrap();
    let x3 = ncr_queue::enqueue(pool, &ncr("x.example.com.", 4), NcrSource::Udp)
        .await
        .unwrap();

    let first: Vec<i64> = ncr_queue::claim(pool, 10, "w")
        .await
        .unwrap()
        .iter()
        .map(|q| q.id)
        .collect();
    assert_eq!(first, [x1, y1]);
    assert!(
        ncr_queue::claim(pool, 10, "w").await.unwrap().is_empty(),
        "x is in flight"
    );

    // A retry of x1 later: x2 and x3 wait behind it.
    ncr_queue::retry_later(pool, x1, "timeout", Duration::from_secs(3600))
        .await
        .unwrap();
    assert!(
        ncr_queue::claim(pool, 10, "w").await.unwrap().is_empty(),
        "x1 is not due"
    );
    sqlx::query("UPDATE tern.ncr_queue SET next_attempt_at = now() WHERE id = $1")
        .bind(x1)
        .execute(pool)
        .await
        .unwrap();
    let again = ncr_queue::claim(pool, 10, "w").await.unwrap();
    assert_eq!(
        again.iter().map(|q| (q.id, q.attempts)).collect::<Vec<_>>(),
        [(x1, 2)]
    );
    ncr_queue::complete(pool, x1, &NcrOutcome::Done)
        .await
        .unwrap();
    let next: Vec<i64> = ncr_queue::claim(pool, 10, "w")
        .await
        .unwrap()
        .iter()
        .map(|q| q.id)
        .collect();
    assert_eq!(next, [x2]);
    ncr_queue::complete(pool, x2, &NcrOutcome::Failed("REFUSED".into()))
        .await
        .unwrap();
    let next: Vec<i64> = ncr_queue::claim(pool, 10, "w")
        .await
        .unwrap()
        .iter()
        .map(|q| q.id)
        .collect();
    assert_eq!(next, [x3]);
}

#[tokio::test]
async fn concurrent_claimers_never_share_a_row_or_a_name() {
    let db = testing::fresh_db().await;
    let pool = db.pool().clone();
    // 40 names, 5 requests each.
    let mut conn = pool.acquire().await.unwrap();
    let batch: Vec<_> = (0..200u32)
        .map(|i| ncr(&format!("h{}.example.com.", i % 40), (i % 250) as u8))
        .collect();
    ncr_queue::enqueue_batch(&mut conn, &batch, NcrSource::Udp)
        .await
        .unwrap();
    drop(conn);

    let mut tasks = Vec::new();
    for w in 0..3 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let worker = format!("w{w}");
            let mut seen = Vec::new();
            let mut idle = 0;
            while idle < 20 {
                let claimed = ncr_queue::claim(&pool, 7, &worker).await.unwrap();
                if claimed.is_empty() {
                    idle += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
                idle = 0;
                let names: HashSet<_> = claimed.iter().map(|q| q.ncr.fqdn.clone()).collect();
                assert_eq!(names.len(), claimed.len(), "two rows of one name in one claim");
                for q in claimed {
                    // No other in_progress row of this name anywhere.
                    let n: i64 = sqlx::query_scalar(
                        "SELECT count(*) FROM tern.ncr_queue WHERE state = 'in_progress' AND fqdn_key = $1",
                    )
                    .bind(ncr_queue::fqdn_key(q.ncr.fqdn.as_str()))
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                    assert_eq!(n, 1);
                    seen.push(q.id);
                    ncr_queue::complete(&pool, q.id, &NcrOutcome::Done).await.unwrap();
                }
            }
            seen
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "a row was claimed twice");
    assert_eq!(all.len(), 200);
}

/// A renewal never waits for a row another transaction holds (one recording its
/// outcome): waiting could lock rows in the opposite order to that batch and deadlock
/// (seen in bench/e2e.sh at 1,600 leases/s as DHCP_DDNS_QUEUE_HEARTBEAT_ERROR).
#[tokio::test]
async fn heartbeats_and_reclaims_skip_rows_being_finished_instead_of_waiting() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    for (i, name) in ["a.example.com.", "b.example.com."].iter().enumerate() {
        ncr_queue::enqueue(pool, &ncr(name, i as u8), NcrSource::Udp)
            .await
            .unwrap();
    }
    let ids: Vec<i64> = ncr_queue::claim(pool, 2, "w")
        .await
        .unwrap()
        .iter()
        .map(|q| q.id)
        .collect();
    assert_eq!(ids.len(), 2);
    let mut finishing = pool.begin().await.unwrap();
    sqlx::query("SELECT id FROM tern.ncr_queue WHERE id = $1 FOR UPDATE")
        .bind(ids[0])
        .execute(&mut *finishing)
        .await
        .unwrap();
    let renewed = tokio::time::timeout(
        Duration::from_secs(5),
        ncr_queue::heartbeat(pool, "w", &ids),
    )
    .await
    .expect("the heartbeat waited for a locked row")
    .unwrap();
    assert_eq!(renewed, 1, "only the unlocked row is renewed");
    // Taking stale claims back does not wait either: with a lease of zero every claim
    // is stale, and only the unlocked one is queued again.
    let reclaimed = tokio::time::timeout(
        Duration::from_secs(5),
        ncr_queue::reclaim_stale(pool, Duration::ZERO),
    )
    .await
    .expect("reclaiming waited for a locked row")
    .unwrap();
    assert_eq!(reclaimed, 1);
    finishing.rollback().await.unwrap();
    let mut states = Vec::new();
    for &id in &ids {
        states.push(ncr_queue::get(pool, id).await.unwrap().unwrap().state);
    }
    assert_eq!(
        states,
        [Some(NcrState::InProgress), Some(NcrState::Pending)]
    );
    assert_eq!(ncr_queue::heartbeat(pool, "w", &ids).await.unwrap(), 1);
}

#[tokio::test]
async fn stale_claims_are_reclaimed_and_heartbeats_keep_them() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    let a = ncr_queue::enqueue(pool, &ncr("a.example.com.", 1), NcrSource::Udp)
        .await
        .unwrap();
    let b = ncr_queue::enqueue(pool, &ncr("b.example.com.", 2), NcrSource::Udp)
        .await
        .unwrap();
    assert_eq!(ncr_queue::claim(pool, 1, "dead").await.unwrap()[0].id, a);
    assert_eq!(ncr_queue::claim(pool, 1, "alive").await.unwrap()[0].id, b);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(ncr_queue::heartbeat(pool, "alive", &[b]).await.unwrap(), 1);
    // Only the rows named are renewed: a row the worker no longer works on is not.
    assert_eq!(ncr_queue::heartbeat(pool, "alive", &[a]).await.unwrap(), 0);
    assert_eq!(
        ncr_queue::reclaim_stale(pool, Duration::from_secs(1))
            .await
            .unwrap(),
        1
    );
    let rec = ncr_queue::get(pool, a).await.unwrap().unwrap();
    assert_eq!(rec.state, Some(NcrState::Pending));
    assert_eq!(
        ncr_queue::get(pool, b).await.unwrap().unwrap().state,
        Some(NcrState::InProgress)
    );
    // The dead worker's late answer is ignored; the new holder finishes it.
    let again = ncr_queue::claim(pool, 10, "new").await.unwrap();
    assert_eq!(again.iter().map(|q| q.id).collect::<Vec<_>>(), [a]);
    assert!(ncr_queue::complete(pool, a, &NcrOutcome::Done)
        .await
        .unwrap());

    // Retention.
    sqlx::query("UPDATE tern.ncr_queue SET finished_at = now() - interval '8 days' WHERE id = $1")
        .bind(a)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(
        ncr_queue::purge_finished(pool, Duration::from_secs(7 * 86400))
            .await
            .unwrap(),
        1
    );
    assert!(ncr_queue::get(pool, a).await.unwrap().is_none());
}

/// d2's batch step: results of several claimed rows recorded and the next rows
/// claimed in one call; a finished row frees its FQDN for that same claim; a retry
/// goes back to pending with its due time; a row taken back is not reported recorded.
#[tokio::test]
async fn finish_and_claim_records_a_batch_and_claims_the_next() {
    use ncr_queue::Finish;
    let db = testing::fresh_db().await;
    let pool = db.pool();
    let mut conn = pool.acquire().await.unwrap();
    let ids = ncr_queue::enqueue_batch(
        &mut conn,
        &[
            ncr("a.example.com.", 1),
            ncr("b.example.com.", 2),
            ncr("c.example.com.", 3),
            ncr("d.example.com.", 4),
            ncr("A.example.com", 5), // the same FQDN as the first
        ],
        NcrSource::Udp,
    )
    .await
    .unwrap();
    drop(conn);
    let (a, b, c, d, a2) = (ids[0], ids[1], ids[2], ids[3], ids[4]);
    let first: Vec<i64> = ncr_queue::claim(pool, 4, "w")
        .await
        .unwrap()
        .iter()
        .map(|q| q.id)
        .collect();
    assert_eq!(first, [a, b, c, d]);
    // d's claim ran out and another d2 took it back meanwhile.
    assert_eq!(
        ncr_queue::reclaim_stale(pool, Duration::ZERO)
            .await
            .unwrap(),
        4
    );
    for id in [a, b, c] {
        sqlx::query(
            "UPDATE tern.ncr_queue SET state = 'in_progress', claimed_by = 'w' WHERE id = $1",
        )
        .bind(id)
        .execute(pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "UPDATE tern.ncr_queue SET state = 'in_progress', claimed_by = 'other' WHERE id = $1",
    )
    .bind(d)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("UPDATE tern.ncr_queue SET state = 'done', finished_at = now(), claimed_by = NULL WHERE id = $1")
        .bind(d)
        .execute(pool)
        .await
        .unwrap();

    let r = ncr_queue::finish_and_claim(
        pool,
        &[
            (a, Finish::Outcome(NcrOutcome::Done)),
            (b, Finish::Outcome(NcrOutcome::Failed("REFUSED".into()))),
            (
                c,
                Finish::RetryAfter {
                    reason: "no answer".into(),
                    after: Duration::from_secs(3600),
                },
            ),
            (d, Finish::Outcome(NcrOutcome::Done)),
        ],
        10,
        "w",
    )
    .await
    .unwrap();
    let mut recorded = r.recorded.clone();
    recorded.sort_unstable();
    assert_eq!(recorded, [a, b, c], "d was no longer in progress");
    assert!(r.successor_waiting, "a's FQDN has a later request");
    // a's second NCR is claimable in the same step; c is not due for an hour.
    assert_eq!(r.claimed.iter().map(|q| q.id).collect::<Vec<_>>(), [a2]);
    let state = |id| async move { ncr_queue::get(pool, id).await.unwrap().unwrap() };
    assert_eq!(state(a).await.state, Some(NcrState::Done));
    let rb = state(b).await;
    assert_eq!(rb.state, Some(NcrState::Failed));
    assert_eq!(rb.last_error.as_deref(), Some("REFUSED"));
    let rc = state(c).await;
    assert_eq!(rc.state, Some(NcrState::Pending));
    assert_eq!(rc.last_error.as_deref(), Some("no answer"));
    assert!(rc.finished_at.is_none() && rc.claimed_by.is_none());
    assert!(rc.next_attempt_at > chrono::Utc::now() + chrono::Duration::minutes(59));
    assert_eq!(state(a2).await.state, Some(NcrState::InProgress));
    // Nothing to record and nothing due: an empty step.
    let r = ncr_queue::finish_and_claim(pool, &[], 10, "w")
        .await
        .unwrap();
    assert!(r.recorded.is_empty() && r.claimed.is_empty() && !r.successor_waiting);
    // The last of its FQDN: no successor.
    let r = ncr_queue::finish_and_claim(pool, &[(a2, Finish::Outcome(NcrOutcome::Done))], 0, "w")
        .await
        .unwrap();
    assert_eq!(r.recorded, [a2]);
    assert!(!r.successor_waiting);
}

/// The claim stays an index lookup however many rows wait. Queue statistics are
/// always stale: plans cached while the table was nearly empty (as at a burst's
/// start) once made every claim read all pending rows (16 ms per claim with 10,000
/// queued). Counted in rows read, not time, so a loaded machine cannot fake a pass.
/// Both ways of claiming: the relaxed transaction and d2's `Bookkeeping` pool.
#[tokio::test]
async fn claiming_from_a_long_queue_does_not_scan_it() {
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use std::str::FromStr;
    let db = testing::fresh_db().await;
    // One connection whose cached plans are generic, as PostgreSQL's plan cache
    // chooses after a few executions.
    let options = PgConnectOptions::from_str(&db.url())
        .unwrap()
        .options([("plan_cache_mode", "force_generic_plan")]);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    let bookkeeping = ncr_queue::Bookkeeping::new(&pool, 1);
    let done = |claimed: &[ncr_queue::QueuedNcr]| -> Vec<(i64, ncr_queue::Finish)> {
        claimed
            .iter()
            .map(|q| (q.id, ncr_queue::Finish::Outcome(NcrOutcome::Done)))
            .collect()
    };
    let step = |finished: Vec<(i64, ncr_queue::Finish)>, limit: i64, bk: bool| {
        let (pool, bookkeeping) = (&pool, &bookkeeping);
        async move {
            let r = if bk {
                bookkeeping.finish_and_claim(&finished, limit, "w").await
            } else {
                ncr_queue::finish_and_claim(pool, &finished, limit, "w").await
            };
            r.unwrap().claimed
        }
    };
    let mut conn = pool.acquire().await.unwrap();
    let few: Vec<_> = (0..40)
        .map(|i| ncr(&format!("s{i}.example.com."), 1))
        .collect();
    ncr_queue::enqueue_batch(&mut conn, &few, NcrSource::Udp)
        .await
        .unwrap();
    sqlx::query("ANALYZE tern.ncr_queue")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    // Plans are made (and cached) while the queue is small.
    for bk in [false, true] {
        let mut finished = Vec::new();
        for _ in 0..10 {
            let claimed = step(finished, 2, bk).await;
            finished = done(&claimed);
        }
        step(finished, 0, bk).await;
    }
    let mut conn = pool.acquire().await.unwrap();
    let many: Vec<_> = (0..10_000)
        .map(|i| ncr(&format!("m{i}.example.com."), 1))
        .collect();
    for chunk in many.chunks(1000) {
        ncr_queue::enqueue_batch(&mut conn, chunk, NcrSource::Udp)
            .await
            .unwrap();
    }
    drop(conn);
    // Rows read by the one connection of `p` (statistics are flushed per backend).
    let main = &pool;
    let rows_read = |p: sqlx::PgPool| async move {
        let mut conn = p.acquire().await.unwrap();
        sqlx::query("SELECT pg_stat_force_next_flush()")
            .execute(&mut *conn)
            .await
            .unwrap();
        drop(conn);
        let mut conn = main.acquire().await.unwrap();
        sqlx::query("SELECT pg_stat_force_next_flush()")
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query("SELECT pg_stat_clear_snapshot()")
            .execute(&mut *conn)
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar(
            "SELECT COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0)
               FROM pg_stat_user_tables WHERE relid = 'tern.ncr_queue'::regclass",
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        n
    };
    const STEPS: i64 = 50;
    for bk in [false, true] {
        let p = if bk {
            bookkeeping.pool().clone()
        } else {
            pool.clone()
        };
        let before = rows_read(p.clone()).await;
        let mut finished = Vec::new();
        for _ in 0..STEPS {
            let claimed = step(finished, 8, bk).await;
            assert_eq!(claimed.len(), 8);
            finished = done(&claimed);
        }
        step(finished, 0, bk).await;
        let read = rows_read(p).await - before;
        // By index: a few rows per NCR claimed or finished; a scan: 10,000 per step.
        assert!(
            read < STEPS * 8 * 20,
            "{STEPS} steps of 8 from a 10,000-row queue read {read} rows (bookkeeping pool: {bk})"
        );
    }
}
