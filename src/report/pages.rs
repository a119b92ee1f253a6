//! What goes on the HTML page for a backfill report and for the daily report.

use super::chart::ShareRow;
use super::daily::DailyReport;
use super::html::{Card, Page, Table};
use super::terminal::thousands;
use super::{Report, RunStatus};
use crate::hint::COMPLETENESS;
use crate::model::count::plural;
use crate::model::reasons::ReasonCounts;

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
            Some(format!("of {} computed", thousands(c.computed))),
        ),
        card(
            "is_bootstrap",
            thousands(r.after_flags.is_bootstrap),
            Some(format!(
                "{} of them complete; as check summary counts bootstrap",
                thousands(r.after_flags.is_bootstrap.saturating_sub(r.after.bootstrap))
            )),
        ),
        data_gaps_card(r.after.incomplete, r.incomplete_reasons.as_ref()),
    ];
    let cards = [cards, merge_cards(r)].concat();
    let shares = r
        .by_date
        .iter()
        .map(|d| ShareRow {
            data_gaps: d.data_gaps,
            ..ShareRow::new(d.game_date, d.complete, d.bootstrap, d.incomplete)
        })
        .collect();
    let headers = [
        "game date",
        "total",
        "added",
        "changed",
        "skipped",
        "complete",
        "incomplete",
        "data gaps",
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
            ];
            std::iter::once(d.game_date.to_string())
                .chain(n.iter().map(|v| thousands(*v)))
                .chain([maybe(d.data_gaps), thousands(d.bootstrap)])
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
        side: r
            .incomplete_reasons
            .filter(|c| c.total() > 0)
            .map(|c| reasons_side(&c)),
        more: [Some(examples_table(r)), reasons_table(r)]
            .into_iter()
            .flatten()
            .collect(),
    }
}

/// A count that may be unknown.
fn maybe(n: Option<u64>) -> String {
    n.map_or("–".to_string(), thousands)
}

/// The data gaps among `incomplete` INCOMPLETE records: the card an operator acts on.
fn data_gaps_card(incomplete: u64, reasons: Option<&ReasonCounts>) -> Card {
    if incomplete == 0 {
        return card(
            "data gaps",
            "0".into(),
            Some("no record with a struct is incomplete".into()),
        );
    }
    match reasons {
        Some(c) => card(
            "data gaps",
            thousands(c.data_gaps()),
            Some(format!(
                "of {} incomplete; the rest are not gaps",
                thousands(incomplete)
            )),
        ),
        None => card(
            "data gaps",
            "unknown".into(),
            Some(format!(
                "{} incomplete; which are gaps is unknown",
                thousands(incomplete)
            )),
        ),
    }
}

/// Why INCOMPLETE records fall short: each reason, its records and what it means.
fn reasons_side(counts: &ReasonCounts) -> Table {
    let rows = counts
        .present()
        .into_iter()
        .map(|(reason, n)| {
            vec![
                reason.label().to_string(),
                thousands(n),
                reason.meaning().to_string(),
            ]
        })
        .collect();
    Table {
        caption: "Why records are incomplete (only a data gap is a game missing upstream)".into(),
        headers: vec!["reason".into(), "records".into(), "meaning".into()],
        numeric: vec![false, true, false],
        wrap: vec![false, false, true],
        rows,
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
                "stale_window" => "an absence or games that list only who played: not a data gap",
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
        wrap: vec![false, false, true],
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
        wrap: vec![],
        rows,
    }
}

fn backfill_notes(r: &Report) -> Vec<String> {
    let mut notes = r.warnings.clone();
    if r.status.is_plan() && r.has_changes() {
        notes.push(format!(
            "Nothing was written. Apply it with `{COMPLETENESS} merge --run {}`.",
            r.run_id
        ));
    }
    if let Some(m) = r.merge.as_ref().filter(|m| m.conflicts > 0) {
        notes.push(format!("{}.", m.conflicts_sentence()));
    }
    if let Some(range) = r.range.filter(|_| r.after.incomplete > 0) {
        notes.push(incomplete_note(r, range));
    }
    notes
}

/// Why the INCOMPLETE records fall short, and where each is listed: by `check
/// incomplete` once their structs are in the table (after the merge of a dry run).
fn incomplete_note(r: &Report, range: crate::model::dates::DateRange) -> String {
    let why = match &r.incomplete_reasons {
        Some(c) => format!(
            "{} records are incomplete: {}; only the data gaps are games missing upstream \
             (`{COMPLETENESS} check gaps --start {} --end {}` lists them)",
            thousands(r.after.incomplete),
            c.summary(),
            range.start,
            range.end
        ),
        None => format!(
            "{} records are incomplete; which of them are data gaps is unknown: {}",
            thousands(r.after.incomplete),
            r.reasons_unknown_because()
        ),
    };
    let list = format!(
        "`{COMPLETENESS} check incomplete --start {} --end {}` gives each its reason",
        range.start, range.end
    );
    match r.dry_run {
        true => format!("{why}. Once this run is merged, {list}."),
        false => format!("{why}. {}{}.", &list[..1].to_uppercase(), &list[1..]),
    }
}

/// The page of `report daily`: the records without a struct first (they are never
/// complete), then the shares of all records, the data gaps and the other reasons.
pub fn daily_page(d: &DailyReport) -> Page {
    let t = &d.totals;
    let all = d.coverage.records;
    let mut cards = vec![
        card(
            "no struct yet",
            thousands(t.without_struct),
            Some(format!(
                "of {} records on {}: never complete",
                thousands(all),
                plural(t.dates_without_struct, "date", "dates")
            )),
        ),
        card(
            "complete",
            pct(t.complete, all),
            Some(format!(
                "{} of {} records",
                thousands(t.complete),
                thousands(all)
            )),
        ),
        data_gaps_card(t.incomplete, t.incomplete_by_reason.as_ref()),
    ];
    if let Some(c) = &t.incomplete_by_reason {
        let others: Vec<String> = c
            .present()
            .into_iter()
            .filter(|(r, _)| !r.is_data_gap())
            .map(|(r, n)| format!("{} {}", thousands(n), r.label()))
            .collect();
        cards.push(card(
            "incomplete, not a gap",
            thousands(t.incomplete - c.data_gaps()),
            Some(match others.is_empty() {
                true => "none".into(),
                false => others.join(", "),
            }),
        ));
    }
    cards.push(card(
        "bootstrap",
        thousands(t.bootstrap),
        Some("games_expected < 10: a new player; overlaps complete".into()),
    ));
    // The chart needs disjoint labels: bootstrap records that are complete count as
    // complete (the summary's bootstrap column overlaps complete).
    let shares = d
        .rows
        .iter()
        .map(|r| ShareRow {
            data_gaps: r.data_gaps,
            no_struct: r.without_struct,
            ..ShareRow::new(
                r.game_date,
                r.complete,
                r.total_features.saturating_sub(r.complete + r.incomplete),
                r.incomplete,
            )
        })
        .collect();
    let headers = [
        "game date",
        "records with a struct",
        "no struct yet",
        "complete",
        "complete %",
        "incomplete",
        "data gaps",
        "bootstrap",
        "avg games found",
    ];
    let decimals =
        |v: Option<f64>, places: usize| v.map_or("–".to_string(), |v| format!("{v:.places$}"));
    let rows = d
        .rows
        .iter()
        .map(|r| {
            vec![
                r.game_date.to_string(),
                thousands(r.total_features),
                thousands(r.without_struct),
                thousands(r.complete),
                decimals(r.complete_pct, 1),
                thousands(r.incomplete),
                maybe(r.data_gaps),
                thousands(r.bootstrap),
                decimals(r.avg_games_found, 2),
            ]
        })
        .collect();
    let mut notes = d.notes.clone();
    notes.push(
        "Counts: the cards and the table count as the operators' view does, so a bootstrap \
         record that is complete is in both complete and bootstrap, and complete % in the \
         table is of the records with a struct; the complete card is of all records; the \
         chart gives each record one label (COMPLETE, else BOOTSTRAP, else INCOMPLETE, or no \
         struct yet), so its bootstrap share is only the bootstrap records that are not \
         complete. A backfill's report counts the chart's way."
            .to_string(),
    );
    Page {
        title: "historical_completeness, daily".into(),
        subtitle: format!(
            "{} – {} · {}",
            d.start,
            d.end,
            plural(all, "record", "records")
        ),
        cards,
        shares,
        games_found: d.games_found_histogram,
        table: table(
            "Daily summary, newest first (complete and bootstrap overlap; daily.json has every column)",
            &headers,
            rows,
        ),
        notes,
        side: t
            .incomplete_by_reason
            .filter(|c| c.total() > 0)
            .map(|c| reasons_side(&c)),
        more: vec![],
    }
}

fn table(caption: &str, headers: &[&str], rows: Vec<Vec<String>>) -> Table {
    Table {
        caption: caption.into(),
        headers: headers.iter().map(|h| h.to_string()).collect(),
        numeric: (0..headers.len()).map(|i| i > 0).collect(),
        wrap: vec![],
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
