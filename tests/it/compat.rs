//! Run directories written by earlier versions stay readable (issue 16): the committed
//! manifests under `tests/manifests/` were written by the tool itself (the version in
//! their `tool_version`), never edited but for the warehouse path.

use std::path::Path;

use completeness::run::manifest::Manifest;
use serde_json::Value;

use crate::support::*;

fn old_manifests() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

#[test]
fn manifests_of_earlier_versions_load_and_keep_their_fields() {
    for path in old_manifests() {
        let raw: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let m = Manifest::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(m.run_id, raw["run_id"].as_str().unwrap());
        assert_eq!(
            m.range.start.to_string(),
            raw["range"]["start"].as_str().unwrap()
        );
        assert_eq!(
            m.range.end.to_string(),
            raw["range"]["end"].as_str().unwrap()
        );
        let merge = m.merge.as_ref().expect("a merged run");
        assert_eq!(merge.table_version, raw["merge"]["table_version"].as_u64());
        assert_eq!(
            merge.rows_written,
            raw["merge"]["rows_written"].as_u64().unwrap()
        );
        // Saved again by this version, nothing it had is lost.
        let dir = tempfile::tempdir().unwrap();
        let again = dir.path().join("manifest.json");
        m.save(&again).unwrap();
        let resaved: Value =
            serde_json::from_str(&std::fs::read_to_string(&again).unwrap()).unwrap();
        for key in raw.as_object().unwrap().keys() {
            assert_eq!(resaved[key], raw[key], "{}: {key}", path.display());
        }
    }
}

#[test]
fn runs_lists_a_run_directory_of_an_earlier_version() {
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    for path in old_manifests() {
        let raw: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let run = runs.join(raw["run_id"].as_str().unwrap());
        std::fs::create_dir_all(&run).unwrap();
        std::fs::copy(&path, run.join("manifest.json")).unwrap();
    }
    let out = cli_at(&wh, &runs)
        .args(["--json", "runs"])
        .assert()
        .success();
    let listed: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    for path in old_manifests() {
        let raw: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(ids.contains(&raw["run_id"].as_str().unwrap()), "{ids:?}");
    }
}
