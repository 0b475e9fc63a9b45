//! TSIG on requests as dig sees it (RFC 8945 §5.2): a signed query gets a signed answer; a
//! wrong secret or an unknown key gets NOTAUTH with the TSIG error in an unsigned TSIG record.

mod common;

use common::{dig, serve, status, zone};
use hickory_proto::rr::Name;
use tern_dnsmsg::tsig::{Algorithm, TsigKey};

/// "tern-update-test-secret-32bytes!" and another 32 bytes, in base64.
const SECRET_B64: &str = "dGVybi11cGRhdGUtdGVzdC1zZWNyZXQtMzJieXRlcyE=";
const WRONG_B64: &str = "YS13cm9uZy1zZWNyZXQtb2YtdGhpcnR5LXR3by1ieXQ=";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_queries_are_answered_signed_and_bad_signatures_get_notauth() {
    let key = TsigKey::new(
        Name::from_ascii("k.").unwrap(),
        Algorithm::HmacSha256,
        b"tern-update-test-secret-32bytes!".to_vec(),
        0,
    )
    .unwrap();
    let z = zone(
        1,
        "example.com.",
        1,
        &[("a.example.com.", "A", 60, "192.0.2.1")],
    );
    let served = serve(vec![z], |h| h.keys = vec![key]).await;
    let ask = |spec: String| dig(served.addr, &["-y", &spec, "a.example.com.", "A"]);

    let good = ask(format!("hmac-sha256:k.:{SECRET_B64}"));
    assert_eq!(status(&good), "NOERROR", "{good}");
    assert!(good.contains("TSIG PSEUDOSECTION"), "{good}");
    assert!(!good.contains("failure"), "dig verified the answer: {good}");

    // dig names the TSIG error from the answer's (unsigned) TSIG record.
    for (spec, error) in [
        (format!("hmac-sha256:k.:{WRONG_B64}"), "BADSIG"),
        (format!("hmac-sha256:nobody.:{SECRET_B64}"), "BADKEY"),
        (format!("hmac-sha512:k.:{SECRET_B64}"), "BADKEY"),
    ] {
        let bad = ask(spec);
        assert!(
            bad.contains("NOTAUTH") && bad.contains(error),
            "{error}: {bad}"
        );
    }
    assert_eq!(served.handler.stats.tsig_refused_total(), 3);
    served.stop().await;
}
