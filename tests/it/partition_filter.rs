//! Every statement the tool sends to BigQuery must bound `game_date` wherever it reads
//! one of the three production objects: their tables require a partition filter
//! (`require_partition_filter`), which the emulator records but does not enforce. This
//! checks the statement text the way BigQuery's rule reads: each reference to a
//! protected table must be followed, in its own query level (nested parentheses
//! skipped), by a comparison on `game_date` (BETWEEN, =, <, <=, >, >=).

/// The references to `tables` in `sql` that have no `game_date` bound in their level.
pub fn unbounded<'a>(sql: &str, tables: &[&'a str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    for table in tables {
        let mut from = 0;
        while let Some(at) = sql[from..].find(table) {
            let start = from + at + table.len();
            if !bounded(&same_level(&sql[start..])) {
                out.push(*table);
            }
            from = start;
        }
    }
    out
}

/// The text after a reference at its own parenthesis level, up to where that level
/// closes; deeper levels are left out.
fn same_level(rest: &str) -> String {
    let mut depth = 0i32;
    let mut out = String::new();
    for c in rest.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => break,
            ')' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn bounded(level: &str) -> bool {
    let words: Vec<String> = level
        .replace(['\n', '\t'], " ")
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    words.windows(2).any(|w| {
        let column = w[0].rsplit('.').next().unwrap_or("");
        column == "GAME_DATE" && ["BETWEEN", "=", "<", "<=", ">", ">="].contains(&w[1].as_str())
    })
}

#[test]
fn the_checker_tells_bounded_from_unbounded_references() {
    let t = "`p.d.features`";
    let ok = [
        "SELECT a FROM `p.d.features` WHERE game_date BETWEEN @start AND @end",
        "SELECT MAX(game_date) FROM `p.d.features` WHERE x IS NOT NULL AND game_date >= @since",
        "MERGE `p.d.features` AS t USING (SELECT * FROM s) AS s ON t.k = s.k AND t.game_date BETWEEN @start AND @end WHEN MATCHED THEN UPDATE SET x = 1",
        "SELECT s.k FROM s LEFT JOIN (SELECT k, updated_at FROM `p.d.features`\nWHERE game_date BETWEEN @start AND @end) AS t ON t.k = s.k",
    ];
    for sql in ok {
        assert_eq!(unbounded(sql, &[t]), Vec::<&str>::new(), "{sql}");
    }
    let bad = [
        "SELECT MAX(game_date) AS game_date FROM `p.d.features` WHERE historical_completeness IS NOT NULL",
        // The bound is in a subquery, not on the MERGE target.
        "MERGE `p.d.features` AS t USING (SELECT * FROM s WHERE game_date = @d) AS s ON t.k = s.k WHEN MATCHED THEN UPDATE SET x = 1",
        // The bound is on the other side of a join, outside the reference's level.
        "SELECT s.k FROM (SELECT k FROM `p.d.features`) AS t JOIN s ON t.k = s.k WHERE s.game_date = @d",
    ];
    for sql in bad {
        assert_eq!(unbounded(sql, &[t]), vec![t], "{sql}");
    }
}

/// The statements of a run computed in BigQuery bound `game_date` on every read of the
/// three objects, as filled for a run (the emulator tests check the jobs they send too).
#[test]
fn the_pushdown_statements_bound_every_read() {
    use completeness::warehouse::bigquery::pushdown::statements::{self, RunParams, Tables};
    let tables = Tables {
        features: "`p.d.ml_feature_store_v2`".into(),
        games: "`p.a.player_game_summary`".into(),
        schedule: Some("`p.r.nba_schedule`".into()),
        plan: Some("`p.s.plan_r`".into()),
    };
    let protected = [
        "`p.d.ml_feature_store_v2`",
        "`p.a.player_game_summary`",
        "`p.r.nba_schedule`",
    ];
    let range = completeness::model::dates::DateRange::new(
        crate::support::d("2025-01-05"),
        crate::support::d("2025-01-20"),
    )
    .unwrap();
    let run = RunParams {
        range,
        include_bootstrap: false,
    };
    let now = chrono::Utc::now();
    let all = [
        statements::plan(&tables, "`p.s.plan_r`", 24, &run),
        statements::report(&tables),
        statements::merge(&tables, &run, now, false),
        statements::conflicts(&tables, range, now, 100),
    ];
    for s in &all {
        assert_eq!(
            unbounded(&s.sql, &protected),
            Vec::<&str>::new(),
            "{}",
            s.what
        );
    }
    let plan = &all[0].sql;
    assert_eq!(
        protected.iter().filter(|t| plan.contains(*t)).count(),
        3,
        "the plan reads all three"
    );
}
