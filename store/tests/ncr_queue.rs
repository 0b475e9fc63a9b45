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
