//! What an operator installs is a normal CLI size (issue 25, item 23): the release
//! profile carries no debug info and strips the symbol tables. With line tables in every
//! crate the binary was 926 MB; BENCHMARKS.md records the size with the command.

use toml::Value;

fn release_profile() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .expect("Cargo.toml");
    let manifest: Value = toml::from_str(&text).expect("Cargo.toml parses");
    manifest["profile"]["release"].clone()
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
