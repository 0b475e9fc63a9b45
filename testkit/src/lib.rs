//! Helpers shared by the tests of every tern crate. A dev-dependency only: nothing
//! of the product depends on it.
#![warn(missing_docs)]

pub mod bind;
pub mod dig;
pub mod secondary;

/// True when the run is CI's (`CI=true`, as CI systems set it): a test whose peer is
/// missing must then fail, not pass as skipped, so a broken install step shows red.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Says that `test` cannot run because `why` (a peer is missing), and how to get it.
/// Outside CI the caller then returns (the test passes as skipped, with a banner on
/// stderr); under `CI=true` this panics instead.
pub fn peer_missing(test: &str, why: &str) {
    assert!(
        !in_ci(),
        "{test}: {why} — CI=true does not let a test skip for a missing peer"
    );
    eprintln!();
    eprintln!("**************************************************************");
    eprintln!("SKIPPED {test}: {why}");
    eprintln!("**************************************************************");
}
