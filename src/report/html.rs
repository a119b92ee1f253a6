//! `report.html`: one self-contained page an operator opens after a backfill.
//!
//! Everything is inline (CSS in a `<style>` block, charts as `<svg>`) and
//! nothing refers to the network, so the file works from an air-gapped
//! laptop, an attachment or an object-store browser alike. Every piece of text
//! goes through [`escape`]: captions and notes can carry table or player names.

use std::fmt::Write;

use super::chart::{self, ShareRow};
pub use super::escape::escape;

/// The whole page, ready to render.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// E.g. "Backfill run 20261127T120000Z-abc123".
    pub title: String,
    /// E.g. "2024-10-22 – 2026-01-22 · dry run".
    pub subtitle: String,
    /// Headline numbers, shown as a row of cards.
    pub cards: Vec<Card>,
    /// Label counts per game date, in any order.
    pub shares: Vec<ShareRow>,
    /// Records by games_found, 0..=10.
    pub games_found: [u64; 11],
    /// The per-date table.
    pub table: Table,
    /// Warnings and next steps; highlighted near the top when there are any.
    pub notes: Vec<String>,
    /// A small table beside the histogram (why records are incomplete), if any.
    pub side: Option<Table>,
    /// Further tables under the charts (the before/after examples of a run).
    pub more: Vec<Table>,
}

/// One headline number.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    pub label: String,
    pub value: String,
    pub note: Option<String>,
}

/// A plain table; `numeric[i]` right-aligns column `i` (missing means left).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub numeric: Vec<bool>,
    /// `wrap[i]`: column `i` is prose that wraps (missing means it stays on one line).
    pub wrap: Vec<bool>,
}

/// The whole `<!DOCTYPE html>` document. Deterministic: same page, same bytes.
pub fn render(page: &Page) -> String {
    let mut s = String::from("<!DOCTYPE html>\n<html lang=\"en\">\n");
    s += &head(&page.title);
    s += "<body>\n<header>";
    let _ = write!(
        s,
        "<h1>{}</h1><p class=\"subtitle\">{}</p>",
        escape(&page.title),
        escape(&page.subtitle)
    );
    s += "</header>\n<main>\n";
    s += &cards(&page.cards);
    s += &notes(&page.notes);
    s += &share_section(&page.shares);
    // The histogram is small: beside it the side table, when there is one; the per-date
    // table gets the whole width (beside the histogram it was cut off).
    match &page.side {
        Some(side) => {
            s += "<div class=\"split\">\n";
            s += &histogram_section(&page.games_found);
            s += &table_section(side);
            s += "</div>\n";
        }
        None => s += &histogram_section(&page.games_found),
    }
    s += &table_section(&page.table);
    for table in &page.more {
        s += &table_section(table);
    }
    s += "</main>\n";
    s += "<footer>Written by completeness. This file is self-contained: it loads nothing.</footer>\n";
    s += "</body>\n</html>\n";
    s
}

fn head(title: &str) -> String {
    format!(
        "<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n",
        escape(title)
    )
}

fn cards(cards: &[Card]) -> String {
    if cards.is_empty() {
        return String::new();
    }
    let mut s = String::from("<section class=\"cards\">\n");
    for card in cards {
        let _ = write!(
            s,
            "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{}</div>",
            escape(&card.label),
            escape(&card.value)
        );
        if let Some(note) = &card.note {
            let _ = write!(s, "<div class=\"note\">{}</div>", escape(note));
        }
        s += "</div>\n";
    }
    s += "</section>\n";
    s
}

/// Warnings go above the charts: they are what the operator must act on.
fn notes(notes: &[String]) -> String {
    if notes.is_empty() {
        return String::new();
    }
    let mut s = String::from("<aside class=\"notes\" role=\"note\"><h2>Notes</h2><ul>\n");
    for note in notes {
        let _ = writeln!(s, "<li>{}</li>", escape(note));
    }
    s += "</ul></aside>\n";
    s
}

fn share_section(shares: &[ShareRow]) -> String {
    format!(
        "<section class=\"panel\"><h2>Labels by game date</h2>\
         <p class=\"hint\"><b class=\"k complete\">COMPLETE</b> is_complete · \
         <b class=\"k bootstrap\">BOOTSTRAP</b> not complete, and fewer than ten games in \
         the player&#39;s year (games_expected &lt; 10: a new or rarely used player) · \
         INCOMPLETE not complete, fewer than ten games in the last 60 days, told apart by \
         reason: <b class=\"k incomplete\">DATA GAP</b> a game of his team has no \
         player_game_summary row for him, or <b class=\"k explained\">NOT A DATA GAP</b> \
         early season (the window reaches into the off-season), back from an absence, \
         DNP/inactive · <b class=\"k nostruct\">NO STRUCT YET</b> not computed, never \
         complete. One column per game date; ticks above the chart mark dates with a data \
         gap; hover a column for its counts.</p>\n{}\n</section>\n",
        chart::share_chart(shares)
    )
}

fn histogram_section(counts: &[u64; 11]) -> String {
    format!(
        "<section class=\"panel\"><h2>Games found</h2>\
         <p class=\"hint\">Records by games_found, 0 to 10.</p>\n{}\n</section>\n",
        chart::histogram(counts)
    )
}

fn table_section(table: &Table) -> String {
    let numeric = |i: usize| table.numeric.get(i).copied().unwrap_or(false);
    let wrap = |i: usize| table.wrap.get(i).copied().unwrap_or(false);
    let class = |i: usize| match (numeric(i), wrap(i)) {
        (true, _) => " class=\"num\"",
        (false, true) => " class=\"wrap\"",
        (false, false) => "",
    };
    let mut s = String::from("<section class=\"panel\">");
    let _ = write!(s, "<h2>{}</h2>", escape(&table.caption));
    s += "<div class=\"table-wrap\"><table>\n<thead><tr>";
    for (i, h) in table.headers.iter().enumerate() {
        let _ = write!(s, "<th scope=\"col\"{}>{}</th>", class(i), escape(h));
    }
    s += "</tr></thead>\n<tbody>\n";
    for row in &table.rows {
        s += "<tr>";
        for (i, cell) in row.iter().enumerate() {
            let _ = write!(s, "<td{}>{}</td>", class(i), escape(cell));
        }
        s += "</tr>\n";
    }
    if table.rows.is_empty() {
        let _ = writeln!(
            s,
            "<tr><td class=\"empty\" colspan=\"{}\">No rows.</td></tr>",
            table.headers.len().max(1)
        );
    }
    s += "</tbody></table></div></section>\n";
    s
}

/// Kept in one block so the page has no external stylesheet. No `url(`:
/// nothing may be fetched, not even a font.
const CSS: &str = r#"
:root { --ink: #1f2933; --muted: #52606d; --line: #d9dee4; --bg: #f4f6f8;
  --panel: #fff; --complete: #1b9e77; --bootstrap: #7570b3; --incomplete: #d95f02;
  --explained: #e6ab02; --nostruct: #b8c0c8; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header, main, footer { max-width: 1200px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 28px; padding-bottom: 8px; }
h1 { font-size: 1.6rem; margin: 0; letter-spacing: -0.01em; overflow-wrap: anywhere; }
h2 { font-size: 1.05rem; margin: 0 0 4px; }
.subtitle { margin: 4px 0 0; color: var(--muted); font-size: 1rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr));
  gap: 12px; margin: 16px 0; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
  padding: 12px 16px; }
.card .label { color: var(--muted); font-size: 0.78rem; text-transform: uppercase;
  letter-spacing: 0.05em; }
.card .value { font-size: 1.65rem; font-weight: 650; font-variant-numeric: tabular-nums;
  margin-top: 2px; overflow-wrap: anywhere; }
.card .note { color: var(--muted); font-size: 0.85rem; }
.notes { background: #fff6ec; border: 1px solid #f3c89f; border-left: 5px solid var(--incomplete);
  border-radius: 10px; padding: 12px 16px; margin: 16px 0; }
.notes ul { margin: 4px 0 0; padding-left: 20px; }
.notes li + li { margin-top: 4px; }
.notes li { overflow-wrap: anywhere; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
  padding: 16px; margin: 16px 0; min-width: 0; }
.hint { color: var(--muted); font-size: 0.85rem; margin: 0 0 10px; }
.k { font-weight: 600; font-size: 0.78rem; letter-spacing: 0.03em; }
.k::before { content: ""; display: inline-block; width: 10px; height: 10px;
  border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
.k.complete::before { background: var(--complete); }
.k.bootstrap::before { background: var(--bootstrap); }
.k.incomplete::before { background: var(--incomplete); }
.k.explained::before { background: var(--explained); }
.k.nostruct::before { background: var(--nostruct); }
svg.chart { display: block; width: 100%; height: auto; }
svg.chart.histogram { max-width: 440px; margin: 0 auto; }
.split { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px;
  align-items: start; }
.split .panel { margin: 0; }
.table-wrap { max-height: 34rem; overflow: auto; border: 1px solid var(--line);
  border-radius: 6px; }
table { border-collapse: separate; border-spacing: 0; width: 100%; font-size: 0.85rem; }
th, td { padding: 5px 10px; text-align: left; white-space: nowrap; }
th { position: sticky; top: 0; background: #e9edf2; font-weight: 600;
  border-bottom: 1px solid var(--line); white-space: normal; vertical-align: bottom; }
td.wrap { white-space: normal; min-width: 14rem; }
tbody tr:nth-child(even) td { background: #f7f9fb; }
tbody tr:hover td { background: #e8f4ef; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.empty { color: var(--muted); text-align: center; padding: 16px; }
footer { color: var(--muted); font-size: 0.8rem; padding-top: 8px; padding-bottom: 32px; }
@media (max-width: 900px) { .split { grid-template-columns: minmax(0, 1fr); }
  header, main, footer { padding: 0 12px; }
  .panel { padding: 12px; }
  th, td { padding: 4px 6px; } }
@page { size: landscape; margin: 12mm; }
@media print {
  body { background: #fff; font-size: 12px; }
  .split svg.chart { max-width: 480px; }
  header, main, footer { max-width: none; padding: 0; }
  .panel, .card, .notes { break-inside: avoid; }
  .split { grid-template-columns: minmax(0, 1fr); }
  .split .panel { margin: 16px 0; }
  .table-wrap { max-height: none; overflow: visible; border: 0; }
  th { position: static; }
  tbody tr:hover td { background: inherit; }
}
"#;

#[cfg(test)]
mod tests {
    use chrono::{Datelike, NaiveDate};

    use super::*;
    use crate::report::terminal::thousands;

    fn card(label: &str, value: &str, note: Option<&str>) -> Card {
        Card {
            label: label.into(),
            value: value.into(),
            note: note.map(String::from),
        }
    }

    fn small_page() -> Page {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap_or_default();
        Page {
            title: "Backfill run 20261127T120000Z-abc123".into(),
            subtitle: "2024-10-22 – 2026-01-22 · dry run".into(),
            cards: vec![card("Complete", "75.0%", Some("3 of 4"))],
            shares: vec![ShareRow::new(d("2025-01-05"), 3, 1, 0)],
            games_found: [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 3],
            table: Table {
                caption: "By date".into(),
                headers: vec!["game_date".into(), "total".into()],
                rows: vec![vec!["2025-01-05".into(), "4".into()]],
                numeric: vec![false, true],
                wrap: vec![],
            },
            notes: vec![],
            side: None,
            more: vec![],
        }
    }

    /// What no report page may contain, whatever its data.
    fn assert_self_contained(html: &str) {
        let lower = html.to_lowercase();
        for bad in [
            "http", "<script", "src=", "url(", "@import", "<link", "xmlns",
        ] {
            assert!(!lower.contains(bad), "page contains {bad:?}");
        }
        assert!(html.starts_with("<!DOCTYPE html>\n"));
        assert!(html.trim_end().ends_with("</html>"));
        assert_eq!(html.matches("<svg").count(), 2);
        assert_eq!(html.matches("</svg>").count(), 2);
        for tag in ["section", "table", "tbody", "thead", "main", "header"] {
            let opens = html.matches(&format!("<{tag}>")).count()
                + html.matches(&format!("<{tag} ")).count();
            assert_eq!(opens, html.matches(&format!("</{tag}>")).count(), "{tag}");
        }
    }

    #[test]
    fn escape_covers_the_five_special_characters() {
        assert_eq!(
            escape(r#"<a href="x">Tom & Jerry's</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
        assert_eq!(escape("plain – text"), "plain – text");
    }

    #[test]
    fn page_is_self_contained_and_shows_its_parts() {
        let html = render(&small_page());
        assert_self_contained(&html);
        assert!(html.contains("<title>Backfill run 20261127T120000Z-abc123</title>"));
        assert!(html.contains("<div class=\"value\">75.0%</div><div class=\"note\">3 of 4</div>"));
        assert!(html.contains("<th scope=\"col\" class=\"num\">total</th>"));
        assert!(html.contains("<td>2025-01-05</td><td class=\"num\">4</td>"));
        assert!(html.contains("complete 3 (75.0%)\nbootstrap, not complete 1 (25.0%)"));
        // No notes, no notes box.
        assert!(!html.contains("class=\"notes\""));
    }

    #[test]
    fn hostile_text_is_escaped_everywhere() {
        let evil = "<script>alert(1)</script>";
        let mut page = small_page();
        page.title = evil.into();
        page.subtitle = evil.into();
        page.cards = vec![card(evil, evil, Some(evil))];
        page.table.caption = evil.into();
        page.table.headers = vec![evil.into()];
        page.table.rows = vec![vec![evil.into(), "\" onmouseover=\"x".into()]];
        page.notes = vec![evil.into()];
        let html = render(&page);
        assert_self_contained(&html);
        assert!(!html.contains("<script"));
        assert!(!html.contains("\" onmouseover"));
        // Title tag, h1, subtitle, card ×3, caption, header, cell, note.
        assert_eq!(
            html.matches("&lt;script&gt;alert(1)&lt;/script&gt;")
                .count(),
            10
        );
    }

    #[test]
    fn notes_are_shown_in_a_box() {
        let mut page = small_page();
        page.notes = vec!["12 dates have INCOMPLETE records".into(), "re-run".into()];
        let html = render(&page);
        assert!(html.contains("<li>12 dates have INCOMPLETE records</li>\n<li>re-run</li>"));
        assert_eq!(html.matches("class=\"notes\"").count(), 1);
    }

    #[test]
    fn empty_page_still_renders() {
        let page = Page {
            title: String::new(),
            subtitle: String::new(),
            cards: vec![],
            shares: vec![],
            games_found: [0; 11],
            table: Table::default(),
            notes: vec![],
            side: None,
            more: vec![],
        };
        let html = render(&page);
        assert_self_contained(&html);
        assert!(html.contains("No game dates in range."));
        assert!(html.contains("No rows."));
        assert!(!html.contains("class=\"cards\""));
    }

    #[test]
    fn render_is_deterministic() {
        assert_eq!(render(&sample_page()), render(&sample_page()));
    }

    /// Two seasons of plausible data: bootstrap-heavy first two weeks, a few gaps.
    fn sample_page() -> Page {
        let seasons = [("2024-10-22", "2025-04-13"), ("2025-10-21", "2026-02-20")];
        let mut shares = Vec::new();
        let mut games_found = [0u64; 11];
        for (start, end) in seasons {
            let start: NaiveDate = start.parse().unwrap_or_default();
            let end: NaiveDate = end.parse().unwrap_or_default();
            for day in start.iter_days().take_while(|d| *d <= end) {
                let i = (day - start).num_days() as u64;
                let seed = day.num_days_from_ce() as u64 * 2_654_435_761 % 1_000;
                // No games on All-Star weekend and on some other days.
                let all_star = day.month() == 2 && (14..=18).contains(&day.day());
                if i > 0 && (all_star || seed.is_multiple_of(17)) {
                    continue;
                }
                let records = 180 + seed % 140;
                let bootstrap = if i < 14 { records * (14 - i) / 15 } else { 0 };
                let incomplete = match seed {
                    0..12 => records / 3,
                    12..80 => seed % 6,
                    _ => 0,
                };
                let complete = records - bootstrap - incomplete;
                games_found[10] += complete;
                games_found[i.min(9) as usize] += bootstrap;
                games_found[(seed % 10) as usize] += incomplete;
                shares.push(ShareRow {
                    data_gaps: Some(incomplete / 4),
                    ..ShareRow::new(day, complete, bootstrap, incomplete)
                });
            }
        }
        let rows: Vec<Vec<String>> = shares
            .iter()
            .map(|r| {
                let total = r.complete + r.bootstrap + r.incomplete;
                vec![
                    r.game_date.to_string(),
                    total.to_string(),
                    total.to_string(),
                    "0".into(),
                    r.bootstrap.to_string(),
                    r.complete.to_string(),
                    r.incomplete.to_string(),
                    r.bootstrap.to_string(),
                ]
            })
            .collect();
        let computed: u64 = games_found.iter().sum();
        let gaps = shares.iter().filter(|r| r.incomplete > 0).count();
        let complete = games_found[10];
        Page {
            title: "Backfill run 20261127T120000Z-abc123".into(),
            subtitle: "2024-10-22 – 2026-02-20 · dry run".into(),
            cards: vec![
                card("Records in range", &thousands(computed), None),
                card("Computed", &thousands(computed), Some("all dates")),
                card("Added", &thousands(computed), Some("NULL → struct")),
                card("Changed", "0", None),
                card(
                    "Complete",
                    &format!("{:.1}%", complete as f64 * 100.0 / computed as f64),
                    Some("of computed records"),
                ),
            ],
            shares,
            games_found,
            table: Table {
                caption: "By game date".into(),
                headers: [
                    "game_date",
                    "total",
                    "added",
                    "changed",
                    "skipped",
                    "complete",
                    "incomplete",
                    "bootstrap",
                ]
                .map(String::from)
                .to_vec(),
                rows,
                numeric: vec![false, true, true, true, true, true, true, true],
                wrap: vec![],
            },
            notes: vec![
                "Dry run: nothing was written. Re-run with --apply to merge.".into(),
                format!(
                    "{gaps} dates have INCOMPLETE records; check the boxscore export for those dates."
                ),
            ],
            side: None,
            more: vec![],
        }
    }

    /// Renders a realistic page; with COMPLETENESS_SAMPLE_HTML=path, also writes
    /// it there for a look in a browser.
    #[test]
    fn sample_page_renders() {
        let page = sample_page();
        assert!(
            (250..=320).contains(&page.shares.len()),
            "{}",
            page.shares.len()
        );
        let html = render(&page);
        assert_self_contained(&html);
        assert!(html.contains("days without games"));
        if let Ok(path) = std::env::var("COMPLETENESS_SAMPLE_HTML") {
            let written = std::fs::write(&path, &html);
            assert!(written.is_ok(), "{path}: {written:?}");
        }
    }
}
