//! `report.md`: the report as a Markdown page an operator can paste into a ticket.

use std::fmt::Write;

use super::{Report, RunStatus};
use crate::hint::COMPLETENESS;
use crate::model::count::thousands;

pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let title = match r.status {
        RunStatus::FileComparison => "two files compared",
        _ => "backfill",
    };
    let _ = writeln!(s, "# historical_completeness {title} {}\n", r.range_text());
    let _ = writeln!(s, "**{}**\n", r.headline());
    match (r.status, r.run_id.is_empty()) {
        (RunStatus::FileComparison, _) => {
            let _ = writeln!(
                s,
                "Files compared, not a run: nothing here can be merged.\n"
            );
        }
        (_, true) => {
            let _ = writeln!(s, "No run was kept: there was nothing to compute.\n");
        }
        (_, false) => {
            let _ = writeln!(s, "Run `{}`.\n", r.run_id);
        }
    }
    if r.status.is_plan() && r.has_changes() {
        let _ = writeln!(
            s,
            "Apply it with `{COMPLETENESS} merge --run {}`.\n",
            r.run_id
        );
    }
    for warning in &r.warnings {
        let _ = writeln!(s, "> Warning: {warning}\n");
    }
    let c = &r.records;
    let _ = writeln!(s, "| records | count |\n|---|---:|");
    for (name, n) in [
        ("in range", c.in_range),
        ("skipped (bootstrap days)", c.skipped_bootstrap),
        ("computed", c.computed),
        ("added (NULL → struct)", c.added),
        ("changed", c.changed),
        ("unchanged", c.unchanged),
    ] {
        let _ = writeln!(s, "| {name} | {} |", thousands(n));
    }
    let f = &r.fields_changed;
    let _ = writeln!(
        s,
        "\nFields changed among changed records: games_found {}, games_expected {}, is_complete {}, is_bootstrap {}, contributing_game_dates {}.\n",
        thousands(f.games_found),
        thousands(f.games_expected),
        thousands(f.is_complete),
        thousands(f.is_bootstrap),
        thousands(f.contributing_game_dates)
    );
    let a = &r.after;
    let _ = writeln!(
        s,
        "After, one label each: complete {} ({}), incomplete {} ({}), bootstrap, not complete {} ({}) of {} computed; {}.\n",
        thousands(a.complete),
        pct(a.complete, c.computed),
        thousands(a.incomplete),
        pct(a.incomplete, c.computed),
        thousands(a.bootstrap),
        pct(a.bootstrap, c.computed),
        thousands(c.computed),
        super::bootstrap_flag_sentence(r)
    );
    reasons_section(&mut s, r);
    if let Some(m) = &r.merge {
        let _ = writeln!(
            s,
            "Merge: {} rows written, {} conflicts{}.\n",
            thousands(m.rows_written),
            thousands(m.conflicts),
            match m.commit().as_str() {
                "" => ", no commit".to_string(),
                commit => format!(",{commit}"),
            }
        );
        if m.conflicts > 0 {
            let _ = writeln!(s, "Conflicts: {}.\n", m.conflicts_sentence());
        }
    }
    let _ = writeln!(s, "## By date\n");
    let _ = writeln!(
        s,
        "| game_date | total | added | changed | skipped | complete | incomplete | data gaps | bootstrap (not complete) |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for d in &r.by_date {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            d.game_date,
            thousands(d.total),
            thousands(d.added),
            thousands(d.changed),
            thousands(d.skipped),
            thousands(d.complete),
            thousands(d.incomplete),
            d.data_gaps.map_or("–".to_string(), thousands),
            thousands(d.bootstrap)
        );
    }
    if !r.examples.is_empty() {
        let _ = writeln!(s, "\n## Examples\n");
        for e in &r.examples {
            let before = e
                .before
                .as_ref()
                .map(short)
                .unwrap_or_else(|| "NULL".into());
            let _ = writeln!(
                s,
                "- `{}` {} ({}): {} → {}",
                e.player_lookup,
                e.game_date,
                e.kind,
                before,
                short(&e.after)
            );
        }
    }
    s
}

/// Why the INCOMPLETE records fall short, one line per reason.
fn reasons_section(s: &mut String, r: &Report) {
    if r.after.incomplete == 0 {
        return;
    }
    let _ = writeln!(s, "## Why records are incomplete\n");
    let Some(counts) = &r.incomplete_reasons else {
        let _ = writeln!(
            s,
            "Unknown: {}, so none of the {} incomplete records can be called a data gap, nor \
             ruled one out.\n",
            r.reasons_unknown_because(),
            thousands(r.after.incomplete)
        );
        return;
    };
    let _ = writeln!(
        s,
        "Only a data gap is a game missing upstream; the others are short windows with \
         nothing missing.\n\n| reason | records | meaning |\n|---|---:|---|"
    );
    for (reason, n) in counts.present() {
        let _ = writeln!(
            s,
            "| {} | {} | {} |",
            reason.label(),
            thousands(n),
            reason.meaning()
        );
    }
    let _ = writeln!(s);
}

/// `7/10 INCOMPLETE` style summary of one struct.
pub fn short(v: &crate::model::HistoricalCompleteness) -> String {
    format!("{}/{} {:?}", v.games_found, v.games_expected, v.label()).to_uppercase()
}

/// A share as `12.3%`; `-` when the total is zero.
pub fn pct(n: u64, total: u64) -> String {
    if total == 0 {
        "-".into()
    } else {
        format!("{:.1}%", n as f64 * 100.0 / total as f64)
    }
}
