//! One dependency build serves both README commands (issue 25, item 24): `scripts/demo`
//! runs `cargo run` (no dev-dependencies) and `scripts/test` runs `cargo test`, which
//! adds them. A dev-dependency that turns on a feature of a crate the tool uses too
//! (serde, md-5, getrandom, …) changes that crate's build, and everything above it is
//! compiled a second time (~13 minutes on 2 cores). Cargo.toml turns those features on
//! in `[dependencies]` as well; this test fails when the two resolutions differ.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// `package version → its feature sets` as `cargo tree` resolves them over `edges`
/// (a package built for the host and for the target may appear with two sets).
fn resolved(edges: &str) -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "--locked", "--offline", "--prefix", "none"])
        .args(["--edges", edges, "--format", "{p} [{f}]"])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut packages: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let line = line.trim_end_matches(" (*)");
        if let Some((package, features)) = line.split_once(" [") {
            packages
                .entry(package.to_string())
                .or_default()
                .insert(features.trim_end_matches(']').to_string());
        }
    }
    packages
}

/// Every package both builds compile, whose features differ between them.
fn differences(
    run: &BTreeMap<String, BTreeSet<String>>,
    test: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    run.iter()
        .filter_map(|(package, features)| {
            let other = test.get(package)?;
            (other != features)
                .then(|| format!("{package}: cargo run [{features:?}], cargo test [{other:?}]"))
        })
        .collect()
}

#[test]
fn cargo_run_and_cargo_test_resolve_the_same_dependency_features() {
    let run = resolved("normal,build");
    let test = resolved("normal,build,dev");
    assert!(run.contains_key("datafusion v55.2.0"), "{:?}", run.keys());
    assert!(test.keys().any(|p| p.starts_with("proptest ")));
    let differ = differences(&run, &test);
    assert!(
        differ.is_empty(),
        "dev-dependencies change the features of {} crates the tool builds (turn them on \
         in [dependencies] too):\n{}",
        differ.len(),
        differ.join("\n")
    );
}

#[test]
fn a_feature_only_the_tests_turn_on_is_a_difference() {
    let set = |features: &[&str]| features.iter().map(|f| f.to_string()).collect();
    let run = BTreeMap::from([
        ("serde v1".to_string(), set(&["derive,std"])),
        ("md-5 v0.10".to_string(), set(&[""])),
    ]);
    let mut test = run.clone();
    test.insert("proptest v1".into(), set(&["std"]));
    assert!(differences(&run, &test).is_empty());
    test.insert("serde v1".into(), set(&["alloc,derive,std"]));
    assert_eq!(
        differences(&run, &test),
        [r#"serde v1: cargo run [{"derive,std"}], cargo test [{"alloc,derive,std"}]"#]
    );
}
