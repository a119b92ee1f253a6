//! What an operator installs is a normal CLI size (issue 25, item 23): the release
//! profile carries no debug info and strips the symbol tables (with line tables in every
//! crate the binary was 926 MB), and README's install command builds the `dist` profile,
//! release optimised as one program (link-time optimisation drops the code nothing
//! reaches). BENCHMARKS.md records the sizes with the command.

use toml::Value;

fn profile(name: &str) -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .expect("Cargo.toml");
    let manifest: Value = toml::from_str(&text).expect("Cargo.toml parses");
    let profiles = manifest.get("profile").expect("[profile.*] sections");
    profiles
        .get(name)
        .cloned()
        .unwrap_or_else(|| panic!("no [profile.{name}]"))
}

fn release_profile() -> Value {
    profile("release")
}

#[test]
fn the_release_profile_ships_no_debug_info_and_no_symbols() {
    let release = release_profile();
    let debug = release.get("debug");
    assert!(
        matches!(debug, Some(Value::Boolean(false)) | Some(Value::Integer(0)))
            || debug.and_then(Value::as_str) == Some("none"),
        "[profile.release] debug = {debug:?}: debug info in every crate of the binary"
    );
    let strip = release.get("strip");
    assert!(
        matches!(strip, Some(Value::Boolean(true)))
            || strip.and_then(Value::as_str) == Some("symbols"),
        "[profile.release] strip = {strip:?}: the symbol tables stay in the binary"
    );
}

#[test]
fn the_install_command_builds_release_optimised_as_one_program() {
    let dist = profile("dist");
    assert_eq!(
        dist.get("inherits").and_then(Value::as_str),
        Some("release")
    );
    let lto = dist.get("lto");
    assert!(
        matches!(lto, Some(Value::Boolean(true))) || lto.and_then(Value::as_str) == Some("fat"),
        "[profile.dist] lto = {lto:?}: each crate's unused code and generic copies stay"
    );
    assert_eq!(
        dist.get("codegen-units").and_then(Value::as_integer),
        Some(1)
    );
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    assert!(
        readme.contains("cargo install --locked --path . --profile dist"),
        "README's install command builds the dist profile"
    );
}
