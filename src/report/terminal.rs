//! The short summary printed at the end of a run.

use std::fmt::Write;

use super::Report;
use super::markdown::{pct, short};
pub use crate::model::count::thousands;

pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "historical_completeness {}, {}",
        r.range_text(),
        r.subject()
    );
    let _ = writeln!(s, "  {}", r.headline());
    let c = &r.records;
    let line = |s: &mut String, label: &str, n: u64, note: &str| {
        let text = format!("  {label:<26}{:>8}  {note}", thousands(n));
        let _ = writeln!(s, "{}", text.trim_end());
    };
    line(&mut s, "records in range", c.in_range, "");
    let note = match c.skipped_bootstrap {
        0 => "",
        _ => "first 14 days of a season; --include-bootstrap to cover them",
    };
    line(
        &mut s,
        "skipped (bootstrap days)",
        c.skipped_bootstrap,
        note,
    );
    line(&mut s, "computed", c.computed, "");
    line(&mut s, "  added", c.added, "NULL → struct");
    line(&mut s, "  changed", c.changed, "");
    line(&mut s, "  unchanged", c.unchanged, "");
    let f = &r.fields_changed;
    if c.changed > 0 {
        let _ = writeln!(
            s,
            "  fields changed: games_found {}, games_expected {}, is_complete {}, is_bootstrap {}, contributing_game_dates {}",
            thousands(f.games_found),
            thousands(f.games_expected),
            thousands(f.is_complete),
            thousands(f.is_bootstrap),
            thousands(f.contributing_game_dates)
        );
    }
    if c.computed == 0 {
        return s;
    }
    let a = &r.after;
    let _ = writeln!(
        s,
        "  after: complete {} ({})  incomplete {} ({})  bootstrap, not complete {} ({})",
        thousands(a.complete),
        pct(a.complete, c.computed),
        thousands(a.incomplete),
        pct(a.incomplete, c.computed),
        thousands(a.bootstrap),
        pct(a.bootstrap, c.computed)
    );
    let _ = writeln!(s, "  {}", super::bootstrap_flag_sentence(r));
    reason_lines(&mut s, r);
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
    if let Some(m) = r.merge.as_ref().filter(|m| m.conflicts > 0) {
        let _ = writeln!(s, "  conflicts: {}", m.conflicts_sentence());
    }
    if !r.jobs.is_empty() {
        let _ = writeln!(s, "  cost: {}", crate::model::job_cost::summary(&r.jobs));
    }
    s
}

/// Why the INCOMPLETE records fall short: only a game missing upstream is a data gap.
fn reason_lines(s: &mut String, r: &Report) {
    if r.after.incomplete == 0 {
        return;
    }
    let _ = match &r.incomplete_reasons {
        Some(c) => writeln!(
            s,
            "  incomplete, by reason: {} (only a data gap is a game missing upstream)",
            c.summary()
        ),
        None => writeln!(
            s,
            "  incomplete, by reason: unknown ({})",
            r.reasons_unknown_because()
        ),
    };
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
