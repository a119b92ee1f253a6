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
    rendered_at(browser, page, profile, 1280)
}

/// [`rendered`] in a window `width` pixels wide.
fn rendered_at(browser: &Path, page: &Path, profile: &Path, width: u32) -> String {
    let out = Command::new(browser)
        .arg(format!("--window-size={width},1000"))
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

/// Measures the page after layout and writes what it found into `data-probe` on the
/// body: the widest element against the window, every scroll box that scrolls
/// sideways (a table cut off), the smallest chart text in pixels, and the height of
/// the histogram (the second chart). Only the test's copy of a page carries it: the report itself has no script.
const PROBE: &str = r#"<script>
window.addEventListener('load', () => {
  const view = document.documentElement.clientWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined ? '.' + el.className : '');
  const out = { view, page: document.documentElement.scrollWidth, beyond: [], cut: [], smallest: 1e9, histogram: 0 };
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > view + 1) out.beyond.push(name(el));
    const x = getComputedStyle(el).overflowX;
    if ((x === 'auto' || x === 'scroll' || x === 'hidden') && el.scrollWidth > el.clientWidth + 1) out.cut.push(name(el));
  }
  for (const svg of document.querySelectorAll('svg.chart')) {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    for (const t of svg.querySelectorAll('text')) {
      out.smallest = Math.min(out.smallest, parseFloat(getComputedStyle(t).fontSize) * scale);
    }
  }
  const h = document.querySelectorAll('svg.chart')[1];
  if (h) out.histogram = h.getBoundingClientRect().height;
  document.body.setAttribute('data-probe', JSON.stringify(out));
});
</script>"#;

/// What [`PROBE`] measured of `page` in a window `width` pixels wide.
fn measured(browser: &Path, page: &Path, dir: &Path, width: u32) -> serde_json::Value {
    let html = std::fs::read_to_string(page).unwrap();
    let probe = dir.join(format!("probe-{width}.html"));
    std::fs::write(&probe, html.replace("</body>", &format!("{PROBE}</body>"))).unwrap();
    let dom = rendered_at(browser, &probe, &dir.join("profile"), width);
    let start = dom.find("data-probe=\"").expect("the probe ran") + "data-probe=\"".len();
    let end = start + dom[start..].find('"').unwrap();
    let json = dom[start..end]
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    serde_json::from_str(&json).unwrap()
}

/// Issue 25 item 21: both pages, at 800 and at 1280 pixels, fit the window: nothing
/// overflows sideways and no table scrolls sideways (the daily table was cut off at
/// 1280); the chart text stays readable (~6 px at 800 before) and the histogram does not
/// take half the page.
#[test]
fn both_pages_fit_800_and_1280_pixels() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let wh = copy_of_samples(dir.path());
    let runs = dir.path().join("runs");
    // A dry run over a season's start: every label, data gaps and the reasons table.
    let run = cli_json(
        &wh,
        &runs,
        &[
            "backfill",
            "--start",
            "2025-10-21",
            "--end",
            "2026-01-22",
            "--dry-run",
            "--include-bootstrap",
        ],
    );
    let backfill = runs
        .join(run["run_id"].as_str().unwrap())
        .join("report")
        .join("report.html");
    let daily = dir.path().join("daily");
    cli_at(&wh, &runs)
        .args([
            "report",
            "daily",
            "--end",
            "2026-01-22",
            "--days",
            "90",
            "--out",
        ])
        .arg(&daily)
        .assert()
        .success();
    for (name, page) in [("backfill", backfill), ("daily", daily.join("report.html"))] {
        for width in [800, 1280] {
            let m = measured(&browser, &page, dir.path(), width);
            let at = format!("{name} page at {width} px: {m}");
            assert!(m["page"].as_f64() <= m["view"].as_f64(), "{at}");
            assert_eq!(m["beyond"], serde_json::json!([]), "{at}");
            assert_eq!(m["cut"], serde_json::json!([]), "{at}");
            assert!(m["smallest"].as_f64().unwrap() >= 9.0, "{at}");
            let histogram = m["histogram"].as_f64().unwrap();
            assert!(histogram > 0.0 && histogram <= 320.0, "{at}");
        }
    }
}
