//! What goes on the HTML page for a backfill report and for the daily report.

use super::chart::ShareRow;
use super::daily::DailyReport;
use super::html::{Card, Page, Table};
use super::terminal::thousands;
use super::{Report, RunStatus};

fn card(label: &str, value: String, note: Option<String>) -> Card {
    Card {
        label: label.into(),
        value,
        note,
    }
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "–".into();
    }
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

/// The page of a backfill (or dry run) report.
pub fn backfill_page(r: &Report) -> Page {
    let range = r
        .range
        .map(|g| format!("{} – {}", g.start, g.end))
        .unwrap_or_else(|| "no records".to_string());
    let c = &r.records;
    let cards = vec![
        card("records in range", thousands(c.in_range), None),
        card(
            "computed",
            thousands(c.computed),
            Some(format!(
                "{} skipped (bootstrap dates)",
                thousands(c.skipped_bootstrap)
            )),
        ),
        card("added", thousands(c.added), Some("NULL → struct".into())),
        card(
            "changed",
            thousands(c.changed),
            Some(format!("{} unchanged", thousands(c.unchanged))),
        ),
        card(
            "complete",
            pct(r.after.complete, c.computed),
            Some(format!("{} data gaps", thousands(r.after.incomplete))),
        ),
        card(
            "is_bootstrap",
            thousands(r.after_flags.is_bootstrap),
            Some(format!(
                "{} of them complete; as check summary counts bootstrap",
                thousands(r.after_flags.is_bootstrap.saturating_sub(r.after.bootstrap))
            )),
        ),
    ];
    let cards = [cards, merge_cards(r)].concat();
    let shares = r
        .by_date
        .iter()
        .map(|d| ShareRow {
            game_date: d.game_date,
            complete: d.complete,
            bootstrap: d.bootstrap,
            incomplete: d.incomplete,
        })
        .collect();
    let headers = [
        "game_date",
        "total",
        "added",
        "changed",
        "skipped",
        "complete",
        "incomplete",
        "bootstrap",
    ];
    let rows = r
        .by_date
        .iter()
        .map(|d| {
            let n = [
                d.total,
                d.added,
                d.changed,
                d.skipped,
                d.complete,
                d.incomplete,
                d.bootstrap,
            ];
            std::iter::once(d.game_date.to_string())
                .chain(n.iter().map(|v| thousands(*v)))
                .collect()
        })
        .collect();
    Page {
        title: match (r.status, r.run_id.is_empty()) {
            (RunStatus::FileComparison, _) => "Diff of two files".to_string(),
            (_, true) => "Backfill: no run kept".to_string(),
            (_, false) => format!("Backfill run {}", r.run_id),
        },
        subtitle: format!("{range} · {}", r.headline()),
        cards,
        shares,
        games_found: r.games_found_histogram,
        table: table(
            "By game date (one label each: COMPLETE, else BOOTSTRAP (not complete), else INCOMPLETE)",
            &headers,
            rows,
        ),
        notes: backfill_notes(r),
        more: [Some(examples_table(r)), reasons_table(r)]
            .into_iter()
            .flatten()
            .collect(),
    }
}

/// The merge's outcome as cards: the commit, the rows written, the conflicts.
fn merge_cards(r: &Report) -> Vec<Card> {
    let Some(m) = &r.merge else {
        return Vec::new();
    };
    let commit = match m.commit().trim() {
        "" => "no commit".to_string(),
        commit => commit.to_string(),
    };
    let cause = match m.runs_since() {
        Some(runs) => format!("changed since the plan; {runs} committed since"),
        None if m.conflicts == 0 => "none".to_string(),
        None => "rows rewritten by someone else, left alone".to_string(),
    };
    let written = match r.already_applied {
        true => "rows written now",
        false => "rows written",
    };
    vec![
        card(written, thousands(m.rows_written), Some(commit)),
        card("conflicts", thousands(m.conflicts), Some(cause)),
    ]
}

/// With `--extended`: why records fall short, with early season and new players told
/// apart from data gaps (only `missing_games` is one).
fn reasons_table(r: &Report) -> Option<Table> {
    let x = r.extended.as_ref()?;
    let rows = x
        .reasons
        .iter()
        .map(|(reason, n)| {
            let meaning = match reason.as_str() {
                "missing_games" => "a data gap: games missing upstream",
                "early_season" => "early season: not a data gap",
                "new_player" => "a new player: not a data gap",
                "stale_window" => "a long absence: not a data gap",
                "no_data" => "no games in a year: not a data gap",
                "none" => "nothing amiss",
                _ => "",
            };
            vec![reason.clone(), thousands(*n), meaning.to_string()]
        })
        .collect();
    Some(Table {
        caption: "Why records fall short (historical_completeness_ext)".into(),
        headers: vec!["reason".into(), "records".into(), "meaning".into()],
        numeric: vec![false, true, false],
        rows,
    })
}

/// A few records before and after, as report.md lists them.
fn examples_table(r: &Report) -> Table {
    let headers = ["player_lookup", "game_date", "kind", "before", "after"];
    let rows = r
        .examples
        .iter()
        .map(|e| {
            let before = e
                .before
                .as_ref()
                .map_or("NULL".into(), super::markdown::short);
            vec![
                e.player_lookup.clone(),
                e.game_date.to_string(),
                e.kind.clone(),
                before,
                super::markdown::short(&e.after),
            ]
        })
        .collect();
    Table {
        caption: "Before and after (examples)".into(),
        headers: headers.iter().map(|h| h.to_string()).collect(),
        numeric: vec![false; headers.len()],
        rows,
    }
}

fn backfill_notes(r: &Report) -> Vec<String> {
    let mut notes = r.warnings.clone();
    if r.status.is_plan() && r.has_changes() {
        notes.push(format!(
            "Nothing was written. Apply it with `completeness merge --run {}`.",
            r.run_id
        ));
    }
    if let Some(m) = r.merge.as_ref().filter(|m| m.conflicts > 0) {
        notes.push(format!("{}.", m.conflicts_sentence()));
    }
    if let Some(range) = r.range.filter(|_| r.after.incomplete > 0) {
        notes.push(format!(
            "{} records have a data gap; `completeness check incomplete --start {} --end {}` lists them.",
            thousands(r.after.incomplete),
            range.start,
            range.end
        ));
    }
    notes
}

/// The page of `report daily`.
pub fn daily_page(d: &DailyReport) -> Page {
    let t = &d.totals;
    let cards = vec![
        card(
            "records with a struct",
            thousands(t.total_features),
            Some(format!("on {} dates", t.dates)),
        ),
        card(
            "complete",
            pct(t.complete, t.total_features),
            Some(format!("{} records", thousands(t.complete))),
        ),
        card(
            "data gaps",
            thousands(t.incomplete),
            Some(pct(t.incomplete, t.total_features)),
        ),
        card(
            "bootstrap",
            thousands(t.bootstrap),
            Some("early season; overlaps complete (see notes)".into()),
        ),
        card(
            "no struct yet",
            thousands(t.without_struct),
            Some(format!("on {} dates", t.dates_without_struct)),
        ),
    ];
    // The chart needs disjoint labels: bootstrap records that are complete count as
    // complete (the summary's bootstrap column overlaps complete).
    let shares = d
        .rows
        .iter()
        .map(|r| ShareRow {
            game_date: r.game_date,
            complete: r.complete,
            incomplete: r.incomplete,
            bootstrap: r.total_features.saturating_sub(r.complete + r.incomplete),
        })
        .collect();
    let headers = [
        "game_date",
        "total_features",
        "complete",
        "incomplete",
        "bootstrap",
        "complete_pct",
        "incomplete_pct",
        "avg_games_found",
        "avg_games_expected",
    ];
    let rows = d
        .rows
        .iter()
        .map(|r| {
            vec![
                r.game_date.to_string(),
                thousands(r.total_features),
                thousands(r.complete),
                thousands(r.incomplete),
                thousands(r.bootstrap),
                format!("{:.1}", r.complete_pct),
                format!("{:.1}", r.incomplete_pct),
                format!("{:.2}", r.avg_games_found),
                format!("{:.2}", r.avg_games_expected),
            ]
        })
        .collect();
    let mut notes = Vec::new();
    if t.without_struct > 0 {
        notes.push(format!(
            "{} records on {} dates have no struct yet: `completeness backfill --start {} --end {} --include-bootstrap` covers them all (without --include-bootstrap, the first 14 days of a season are skipped).",
            thousands(t.without_struct),
            t.dates_without_struct,
            d.start,
            d.end
        ));
    }
    notes.push(
        "Counts: the cards and the table count as the operators' view does, so a bootstrap \
         record that is complete is in both complete and bootstrap; the chart gives each \
         record one label (COMPLETE, else BOOTSTRAP, else INCOMPLETE), so its bootstrap \
         share is only the bootstrap records that are not complete. A backfill's report \
         counts the chart's way."
            .to_string(),
    );
    if t.incomplete > 0 {
        notes.push(format!(
            "{} records have a data gap: `completeness check incomplete --start {} --end {}`.",
            thousands(t.incomplete),
            d.start,
            d.end
        ));
    }
    Page {
        title: "historical_completeness, daily".into(),
        subtitle: format!("{} – {} · records with a struct", d.start, d.end),
        cards,
        shares,
        games_found: d.games_found_histogram,
        table: table(
            "Daily summary, newest first (complete and bootstrap overlap)",
            &headers,
            rows,
        ),
        notes,
        more: vec![],
    }
}

fn table(caption: &str, headers: &[&str], rows: Vec<Vec<String>>) -> Table {
    Table {
        caption: caption.into(),
        headers: headers.iter().map(|h| h.to_string()).collect(),
        numeric: (0..headers.len()).map(|i| i > 0).collect(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ExtendedSummary;

    /// An extended run's page tells early season and new players apart from data gaps.
    #[test]
    fn reasons_are_told_apart_from_data_gaps() {
        let mut r = Report::default();
        assert!(reasons_table(&r).is_none(), "no table without --extended");
        r.extended = Some(ExtendedSummary {
            reasons: [("early_season", 3), ("missing_games", 2), ("none", 1_500)]
                .into_iter()
                .map(|(k, n)| (k.to_string(), n))
                .collect(),
            ..Default::default()
        });
        let page = backfill_page(&r);
        let table = page
            .more
            .iter()
            .find(|t| t.caption.contains("fall short"))
            .unwrap();
        let row = |reason: &str| {
            table
                .rows
                .iter()
                .find(|row| row[0] == reason)
                .unwrap()
                .clone()
        };
        assert_eq!(row("early_season")[2], "early season: not a data gap");
        assert_eq!(
            row("missing_games")[2],
            "a data gap: games missing upstream"
        );
        assert_eq!(row("none")[1], "1,500");
    }
}
