//! `report.md`: the report as a Markdown page an operator can paste into a ticket.

use std::fmt::Write;

use super::Report;

pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let range = r
        .range
        .map(|g| format!("{} → {}", g.start, g.end))
        .unwrap_or_default();
    let mode = if r.dry_run { "dry run" } else { "applied" };
    let _ = writeln!(s, "# historical_completeness backfill {range} ({mode})\n");
    match r.run_id.is_empty() {
        true => {
            let _ = writeln!(
                s,
                "Files compared, not a run: nothing here can be merged.\n"
            );
        }
        false => {
            let _ = writeln!(s, "Run `{}`.\n", r.run_id);
        }
    }
    let c = &r.records;
    let _ = writeln!(s, "| records | count |\n|---|---:|");
    for (name, n) in [
        ("in range", c.in_range),
        ("skipped (bootstrap dates)", c.skipped_bootstrap),
        ("computed", c.computed),
        ("added (NULL → struct)", c.added),
        ("changed", c.changed),
        ("unchanged", c.unchanged),
    ] {
        let _ = writeln!(s, "| {name} | {n} |");
    }
    let f = &r.fields_changed;
    let _ = writeln!(
        s,
        "\nFields changed among changed records: games_found {}, games_expected {}, is_complete {}, is_bootstrap {}, contributing_game_dates {}.\n",
        f.games_found, f.games_expected, f.is_complete, f.is_bootstrap, f.contributing_game_dates
    );
    let a = &r.after;
    let _ = writeln!(
        s,
        "After: complete {} ({}), incomplete {} ({}), bootstrap {} ({}) of {} computed.\n",
        a.complete,
        pct(a.complete, c.computed),
        a.incomplete,
        pct(a.incomplete, c.computed),
        a.bootstrap,
        pct(a.bootstrap, c.computed),
        c.computed
    );
    reasons_section(&mut s, r);
    if let Some(m) = &r.merge {
        let version = m
            .table_version
            .map(|v| v.to_string())
            .unwrap_or_else(|| "none (nothing to write)".into());
        let _ = writeln!(
            s,
            "Merge: {} rows written, {} conflicts, Delta version {version}.\n",
            m.rows_written, m.conflicts
        );
    }
    let _ = writeln!(s, "## By date\n");
    let _ = writeln!(
        s,
        "| game_date | total | added | changed | skipped | complete | incomplete | data gaps | bootstrap |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for d in &r.by_date {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            d.game_date,
            d.total,
            d.added,
            d.changed,
            d.skipped,
            d.complete,
            d.incomplete,
            d.data_gaps.map_or("–".to_string(), |n| n.to_string()),
            d.bootstrap
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
            "Unknown: without a schedule table no missing game can be found, so none of the {} \
             incomplete records can be called a data gap, nor ruled one out.\n",
            r.after.incomplete
        );
        return;
    };
    let _ = writeln!(
        s,
        "Only a data gap is a game missing upstream; the others are short windows with \
         nothing missing.\n\n| reason | records | meaning |\n|---|---:|---|"
    );
    for (reason, n) in counts.present() {
        let _ = writeln!(s, "| {} | {n} | {} |", reason.label(), reason.meaning());
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
