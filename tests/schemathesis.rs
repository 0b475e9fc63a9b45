//! scripts/schemathesis.sh as a test: schemathesis generates requests from the served
//! OpenAPI description and checks tern's answers against it (no 5xx, status codes,
//! content types and bodies as described, invalid input rejected, auth enforced).
//! Skipped, saying why, when schemathesis cannot be installed from PyPI.

use std::process::Command;

#[test]
fn api_conforms_to_its_openapi_description() {
    let root = env!("CARGO_MANIFEST_DIR");
    let run = || {
        Command::new("bash")
            .arg(format!("{root}/scripts/schemathesis.sh"))
            .env("TERN_BIN", env!("CARGO_BIN_EXE_tern"))
            // Bounded so the whole test stays well under three minutes.
            .env("MAX_TIME", "60")
            .env("MAX_EXAMPLES", "20")
            .output()
            .expect("run scripts/schemathesis.sh")
    };
    let mut out = run();
    // schemathesis itself sometimes crashes inside its generator ("Runtime Error",
    // e.g. CPython's "AST constructor recursion depth mismatch"), which says nothing
    // about tern: run once more. The seed is fixed, so a finding about tern repeats.
    if !out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Runtime Error") {
        eprintln!(
            "schemathesis crashed internally; once more:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        out = run();
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(3) {
        tern_testkit::peer_missing(
            "schemathesis",
            &format!("schemathesis is not installable here: {stderr}"),
        );
        return;
    }
    assert!(
        out.status.success(),
        "schemathesis found problems ({}):\n{stdout}\n{stderr}",
        out.status
    );
    // The run really happened: schemathesis' summary names the cases it generated.
    assert!(stdout.contains(" passed"), "{stdout}");
}
