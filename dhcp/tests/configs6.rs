//! Every DHCPv6 configuration tern is given as an example is served: Kea's kea6 examples
//! (2.2 and 3.x trees) and the seeds' (003 §4.2.1, §4.12, §4.13) resolve for the engine
//! without an error; what they ask for that tern does not do is named by the
//! configuration check (tern-config's policy, tested there).

use std::path::{Path, PathBuf};

use tern_dhcp::v6::Config6;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/tests/fixtures")
}

fn served(path: &Path) -> Config6 {
    let c = tern_config::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let d = c
        .dhcp6
        .as_ref()
        .unwrap_or_else(|| panic!("{}: no Dhcp6", path.display()));
    Config6::from_config(d).unwrap_or_else(|e| panic!("{}: not servable: {e}", path.display()))
}

#[test]
fn every_kea6_example_is_served() {
    let mut n = 0;
    for tree in ["kea-2.2/kea6", "kea-3/kea6"] {
        let dir = fixtures().join(tree);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for f in files {
            served(&f);
            n += 1;
        }
    }
    assert!(n >= 40, "only {n} kea6 examples found");
}

#[test]
fn the_seeds_dhcp6_configurations_are_served() {
    let seeds = fixtures().join("seeds");
    let simple = served(&seeds.join("003-4.2.1-fixed-kea-dhcp6.conf"));
    assert_eq!(
        simple.subnets.iter().map(|s| s.id).collect::<Vec<_>>(),
        [1000, 2000]
    );
    // Kea's defaults, as the seed's client log shows them (7200 / 4500, T1 2250, T2 3600).
    let t = simple.subnets[0].times;
    assert_eq!((t.valid, t.preferred), (7200, 4500));
    let rapid = served(&seeds.join("003-4.12-rapid-commit-kea-dhcp6.conf"));
    assert!(rapid.subnets[0].rapid_commit);
    assert!(!rapid.subnets[1].rapid_commit);
    let pd = served(&seeds.join("003-4.13-prefix-delegation-kea-dhcp6.conf"));
    let p = &pd.subnets[0].pd_pools[0];
    assert_eq!((p.prefix_len, p.delegated_len), (48, 56));
    assert_eq!(p.excluded, Some(("fd00:100:10::".parse().unwrap(), 64)));
    assert_eq!(p.size(), 256);
}
