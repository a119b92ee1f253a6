//! The reports in a real browser: headless Chromium loads report.html and the daily
//! report with every network path closed, and the rendered DOM has the charts and the
//! before/after table. Runs whenever Chromium is installed (CI installs it and sets
//! COMPLETENESS_REQUIRE_BROWSER=1, so there a missing browser fails the test).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| which(name));
    if found.is_none() && std::env::var_os("COMPLETENESS_REQUIRE_BROWSER").is_some() {
        panic!("COMPLETENESS_REQUIRE_BROWSER is set but no Chromium is on PATH");
    }
    found
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
}

/// The DOM after load, with no proxy, DNS or remote fetch possible.
fn rendered(browser: &Path, page: &Path, profile: &Path) -> String {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--proxy-server=127.0.0.1:9",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--virtual-time-budget=2000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed on {}: {}",
        page.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn reports_render_in_a_headless_browser_without_network() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    let run = cli_json(
        &wh,
        &runs,
        &["backfill", "--start", "2026-01-10", "--end", "2026-01-22"],
    );
    let run_id = run["run_id"].as_str().unwrap();
    let example = run["examples"][0]["player_lookup"]
        .as_str()
        .unwrap()
        .to_string();
    let page = runs.join(run_id).join("report").join("report.html");
    let dom = rendered(&browser, &page, &dir.path().join("profile"));
    assert!(dom.contains(run_id), "the title names the run");
    assert!(
        dom.matches("<svg").count() >= 2,
        "the charts are drawn: {dom}"
    );
    assert!(
        dom.contains("Before and after"),
        "the examples table: {dom}"
    );
    assert!(dom.contains(&example), "an example row: {example}");
    assert!(dom.contains("rows written"), "the merge outcome: {dom}");

    let daily = dir.path().join("daily");
    cli_at(&wh, &runs)
        .args(["report", "daily", "--end", "2026-01-22", "--out"])
        .arg(&daily)
        .assert()
        .success();
    let dom = rendered(
        &browser,
        &daily.join("report.html"),
        &dir.path().join("profile"),
    );
    assert!(dom.contains("historical_completeness, daily"), "{dom}");
    // Both count conventions appear on the page, so it says which is which.
    assert!(dom.contains("one label (COMPLETE, else BOOTSTRAP"), "{dom}");
    assert!(
        dom.matches("<svg").count() >= 2,
        "the charts are drawn: {dom}"
    );
}
