//! Zone files against BIND: the example zones in `zones/` read; what `export` writes is
//! accepted by the real `named-checkzone` and means to BIND what it means to tern (BIND's
//! own dump of it reads back as the same records); tern reads a file as BIND does.

use std::path::{Path, PathBuf};
use std::process::Command;

use tern_dnsmsg::zonefile::{self, ZoneFile, ZoneFileRecord};

fn zones_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../zones")
}

fn sorted(z: &ZoneFile) -> Vec<ZoneFileRecord> {
    let mut r = z.records.clone();
    for x in &mut r {
        x.name = x.name.to_ascii_lowercase();
    }
    r.sort_by(|a, b| (&a.name, &a.rtype, &a.content).cmp(&(&b.name, &b.rtype, &b.content)));
    r
}

/// `named-checkzone -D` of `file`: BIND's reading of it, dumped with absolute names. `None`
/// when BIND is not installed (the test then skips, or fails under CI=true).
fn bind_dump(test: &str, origin: &str, file: &Path) -> Option<Result<String, String>> {
    let out = match Command::new("named-checkzone")
        .args(["-q", "-D", "-o", "-", origin])
        .arg(file)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            tern_testkit::peer_missing(
                test,
                &format!("named-checkzone: {e} (apt-get install bind9-utils)"),
            );
            return None;
        }
    };
    // -q silences the summary; a refused zone exits 1 with its reason (without -q) .
    if !out.status.success() {
        let why = Command::new("named-checkzone")
            .args([origin])
            .arg(file)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        return Some(Err(why));
    }
    Some(Ok(String::from_utf8(out.stdout).expect("BIND dumps ASCII")))
}

/// Reads `file` with tern; checks BIND reads the same records from it, and from tern's
/// export of it. Returns what tern read.
fn agree_with_bind(test: &str, origin: &str, file: &Path) -> Option<ZoneFile> {
    let ours = zonefile::read(file, origin).unwrap_or_else(|e| panic!("{e}"));
    let dump = match bind_dump(test, origin, file)? {
        Ok(d) => d,
        Err(why) => panic!("named-checkzone refuses {}:\n{why}", file.display()),
    };
    let theirs = zonefile::parse(&dump, Path::new("bind-dump"), origin, &|_| unreachable!())
        .unwrap_or_else(|e| panic!("{e}\n{dump}"));
    assert_eq!(theirs.soa, ours.soa, "SOA as BIND reads {}", file.display());
    assert_eq!(
        sorted(&theirs),
        sorted(&ours),
        "records as BIND reads {}",
        file.display()
    );

    let dir = tempfile::tempdir().unwrap();
    let exported = dir.path().join("exported.zone");
    let text = zonefile::export(&ours.origin, &ours.soa, &ours.records);
    std::fs::write(&exported, &text).unwrap();
    let dump = match bind_dump(test, origin, &exported)? {
        Ok(d) => d,
        Err(why) => panic!("named-checkzone refuses tern's export:\n{why}\n{text}"),
    };
    let theirs = zonefile::parse(&dump, Path::new("bind-dump"), origin, &|_| unreachable!())
        .unwrap_or_else(|e| panic!("{e}\n{dump}"));
    assert_eq!(theirs.soa, ours.soa, "SOA of the export as BIND reads it");
    assert_eq!(
        sorted(&theirs),
        sorted(&ours),
        "export as BIND reads it:\n{text}"
    );
    // And tern reads its own export back the same.
    let again = zonefile::read(&exported, origin).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(again.soa, ours.soa);
    assert_eq!(sorted(&again), sorted(&ours));
    Some(ours)
}

#[test]
fn example_zones_read_and_agree_with_bind() {
    let Some(z) = agree_with_bind(
        "example_zones_read_and_agree_with_bind",
        "example.com.",
        &zones_dir().join("example.com.zone"),
    ) else {
        return;
    };
    assert_eq!(z.soa.serial, 2024010101);
    assert_eq!(
        (z.soa.refresh, z.soa.retry, z.soa.expire, z.soa.minimum),
        (3600, 900, 604800, 300)
    );
    let find = |name: &str, rtype: &str| {
        z.records
            .iter()
            .filter(|r| r.name == name && r.rtype == rtype)
            .map(|r| r.content.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(find("printer.example.com.", "A"), ["192.0.2.10"]);
    assert_eq!(find("ns.example.com.", "A"), ["127.0.0.1"]);
    assert_eq!(find("example.com.", "NS"), ["ns.example.com."]);
    assert_eq!(find("www.example.com.", "CNAME"), ["printer.example.com."]);
    assert_eq!(find("example.com.", "MX"), ["10 mail.example.com."]);
    assert_eq!(find("example.com.", "TXT"), ["\"v=spf1 mx -all\""]);

    let Some(r) = agree_with_bind(
        "example_zones_read_and_agree_with_bind",
        "2.0.192.in-addr.arpa.",
        &zones_dir().join("2.0.192.in-addr.arpa.zone"),
    ) else {
        return;
    };
    assert!(r
        .records
        .iter()
        .any(|x| x.name == "10.2.0.192.in-addr.arpa."
            && x.rtype == "PTR"
            && x.content == "printer.example.com."));
}

/// A zone with every syntax BIND files use and the record types DNS tools write.
const RICH: &str = r#"$TTL 300
$ORIGIN example.net.
@ IN SOA ns1 hostmaster.example.net. ( 42 ; serial
        2h 30m 2w 1m )
  IN NS ns1
  IN NS ns2.example.org.
  3600 IN MX 10 mail
  IN MX 20 mail.example.org.
  TXT "v=spf1 -all" "second string" unquoted
  CAA 0 issue "letsencrypt.org"
ns1 A 192.0.2.1
    AAAA 2001:db8::1
mail 60 IN A 192.0.2.2
*.wild A 192.0.2.3
_sip._tcp SRV 10 60 5060 sip
sip A 192.0.2.4
www CNAME @
host HINFO "PC" "Linux"
host SSHFP 1 1 123456789abcdef67890123456789abcdef67890
_443._tcp.www TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
esc TXT "semi; colon" "quote \" here" "tab\009byte" "\\back"
Upper.Case A 192.0.2.5
naptr NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp
dhcp DHCID ( AAIBY2/AuCccgoJbsaxcQc9TUapptP69l
            OjxfNuVAA2kjEA= )
private TYPE65534 \# 3 0a0B0c
empty TYPE65280 \# 0
$ORIGIN sub.example.net.
deep A 192.0.2.6
sub.example.net. NS ns
ns A 192.0.2.7
"#;

#[test]
fn a_rich_zone_reads_as_bind_reads_it_and_exports_for_bind() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("example.net.zone");
    std::fs::write(&file, RICH).unwrap();
    let Some(z) = agree_with_bind(
        "a_rich_zone_reads_as_bind_reads_it_and_exports_for_bind",
        "example.net.",
        &file,
    ) else {
        return;
    };
    let content = |name: &str| {
        let r = z.records.iter().find(|r| r.name == name).unwrap();
        format!("{} {}", r.rtype, r.content)
    };
    assert_eq!(
        content("dhcp.example.net."),
        "DHCID AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA="
    );
    assert_eq!(content("private.example.net."), "TYPE65534 \\# 3 0A0B0C");
    assert_eq!(content("empty.example.net."), "TYPE65280 \\# 0");
    assert_eq!(z.records.len(), 25, "{:#?}", z.records);
}

#[test]
fn include_reads_from_disk_relative_to_the_including_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("inc")).unwrap();
    std::fs::write(
        dir.path().join("inc/hosts"),
        "a A 192.0.2.1\nb A 192.0.2.2\n",
    )
    .unwrap();
    let file = dir.path().join("z.zone");
    std::fs::write(
        &file,
        "$TTL 1h\n@ SOA ns h 1 2 3 4 5\n NS ns\nns A 127.0.0.1\n$INCLUDE inc/hosts dhcp\n",
    )
    .unwrap();
    let z = zonefile::read(&file, "example.com.").unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = z.records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "example.com.",
            "ns.example.com.",
            "a.dhcp.example.com.",
            "b.dhcp.example.com."
        ]
    );
    // A directory (or a FIFO) is not read.
    std::fs::write(
        &file,
        "$TTL 1h\n@ SOA ns h 1 2 3 4 5\n NS ns\nns A 127.0.0.1\n$INCLUDE inc\n",
    )
    .unwrap();
    let e = zonefile::read(&file, "example.com.").unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}:5:10: cannot read included file \"{}\": not a regular file",
            file.display(),
            dir.path().join("inc").display()
        )
    );
    let e = zonefile::read(&dir.path().join("missing.zone"), "example.com.").unwrap_err();
    assert!(
        e.to_string().starts_with(&format!(
            "{}:1:1: cannot read the zone file:",
            dir.path().join("missing.zone").display()
        )),
        "{e}"
    );
}
