//! The short summary printed at the end of a run.

use std::fmt::Write;

use super::Report;
use super::markdown::{pct, short};
pub use crate::model::count::thousands;

pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let range = r
        .range
        .map(|g| format!("{} → {}", g.start, g.end))
        .unwrap_or_default();
    let mode = if r.dry_run { "dry run" } else { "applied" };
    let _ = writeln!(
        s,
        "historical_completeness {range} ({mode}, {})",
        r.subject()
    );
    let c = &r.records;
    let line = |s: &mut String, label: &str, n: u64, note: &str| {
        let _ = writeln!(s, "  {label:<22}{:>10}  {note}", thousands(n));
    };
    line(&mut s, "records in range", c.in_range, "");
    let note = match c.skipped_bootstrap {
        0 => "",
        _ => "first 14 days of a season; --include-bootstrap to cover them",
    };
    line(&mut s, "skipped (bootstrap)", c.skipped_bootstrap, note);
    line(&mut s, "computed", c.computed, "");
    line(&mut s, "  added", c.added, "NULL → struct");
    line(&mut s, "  changed", c.changed, "");
    line(&mut s, "  unchanged", c.unchanged, "");
    let f = &r.fields_changed;
    if c.changed > 0 {
        let _ = writeln!(
            s,
            "  fields changed: games_found {}, games_expected {}, is_complete {}, is_bootstrap {}, contributing_game_dates {}",
            f.games_found,
            f.games_expected,
            f.is_complete,
            f.is_bootstrap,
            f.contributing_game_dates
        );
    }
    let a = &r.after;
    let _ = writeln!(
        s,
        "  after: complete {} ({})  incomplete {} ({})  bootstrap {} ({})",
        thousands(a.complete),
        pct(a.complete, c.computed),
        thousands(a.incomplete),
        pct(a.incomplete, c.computed),
        thousands(a.bootstrap),
        pct(a.bootstrap, c.computed)
    );
    if let Some(x) = &r.extended {
        extended_lines(&mut s, x);
    }
    if let Some(e) = r.examples.iter().find(|e| e.kind == "changed") {
        let before = e.before.as_ref().map(short).unwrap_or_default();
        let _ = writeln!(
            s,
            "  e.g. {} {}: {} → {}",
            e.player_lookup,
            e.game_date,
            before,
            short(&e.after)
        );
    }
    if let Some(m) = &r.merge {
        match m.table_version {
            Some(v) => {
                let _ = writeln!(
                    s,
                    "  merged: {} rows written in Delta version {v}",
                    thousands(m.rows_written)
                );
            }
            None if m.rows_written > 0 => {
                let _ = writeln!(
                    s,
                    "  merged: {} rows written by one BigQuery MERGE",
                    thousands(m.rows_written)
                );
            }
            None => {
                let _ = writeln!(s, "  merged: nothing to write, no commit");
            }
        }
        if m.conflicts > 0 {
            let _ = writeln!(
                s,
                "  conflicts: {} rows were rewritten by someone else after the export and were left as they are; rerun the backfill to cover them",
                thousands(m.conflicts)
            );
        }
    }
    if !r.jobs.is_empty() {
        let _ = writeln!(s, "  cost: {}", crate::model::job_cost::summary(&r.jobs));
    }
    s
}

/// What `--extended` found: rows it changes, records with missing games, the reasons.
fn extended_lines(s: &mut String, x: &super::ExtendedSummary) {
    let reasons: Vec<String> = x
        .reasons
        .iter()
        .map(|(reason, n)| format!("{reason} {}", thousands(*n)))
        .collect();
    let _ = writeln!(
        s,
        "  extended: {} rows change, {} records with missing games; reasons: {}",
        thousands(x.changed),
        thousands(x.with_missing_games),
        reasons.join(", ")
    );
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(43790), "43,790");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
