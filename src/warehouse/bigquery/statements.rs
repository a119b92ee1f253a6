//! The write path's statements (`queries/bigquery/write/`): the MERGE, its conflict
//! listing, the rollback MERGE and the EXPORTs, each filled from typed values.
//!
//! Only names the tool vouches for go into the text: table names validated and quoted
//! by [`super::BigQueryWarehouse::sql_name`], column names from the model, URIs checked
//! when the configuration is opened, and an `i64` for the time-travel point (BigQuery
//! takes no parameter there). Dates, timestamps and limits are query parameters. The
//! files' leading `--` comments document them and are not sent.

use crate::model::extended_column::EXTENDED_COLUMN;

const MERGE: &str = include_str!("../../../queries/bigquery/write/merge.sql");
const CONFLICTS: &str = include_str!("../../../queries/bigquery/write/conflicts.sql");
const ROLLBACK: &str = include_str!("../../../queries/bigquery/write/rollback.sql");
const EXPORT: &str = include_str!("../../../queries/bigquery/write/export.sql");
const EXPORT_FEATURES: &str = include_str!("../../../queries/bigquery/write/export_features.sql");

/// The run's MERGE of `staging` into `target` (quoted table names).
pub fn merge(target: &str, staging: &str, extended: bool) -> String {
    let set_extended = match extended {
        true => format!(", {EXTENDED_COLUMN} = s.{EXTENDED_COLUMN}"),
        false => String::new(),
    };
    fill(
        MERGE,
        &[
            ("target", target),
            ("staging", staging),
            ("set_extended", &set_extended),
        ],
    )
}

/// Staged rows of `staging` the MERGE into `target` left alone.
pub fn conflicts(staging: &str, target: &str) -> String {
    fill(CONFLICTS, &[("target", target), ("staging", staging)])
}

/// The rollback MERGE of `target` from its state at `before_ms` (ms since the epoch).
pub fn rollback(target: &str, before_ms: i64, extended: bool) -> String {
    let (column, set) = match extended {
        true => (
            format!(", {EXTENDED_COLUMN}"),
            format!(", {EXTENDED_COLUMN} = b.{EXTENDED_COLUMN}"),
        ),
        false => Default::default(),
    };
    fill(
        ROLLBACK,
        &[
            ("target", target),
            ("before_ms", &before_ms.to_string()),
            ("extended_column", &column),
            ("set_extended", &set),
        ],
    )
}

/// `EXPORT DATA` of `columns` of `table` with `game_date` between `@start` and `@end`.
pub fn export(uri: &str, columns: &[&str], table: &str) -> String {
    fill(
        EXPORT,
        &[
            ("uri", uri),
            ("columns", &columns.join(", ")),
            ("table", table),
        ],
    )
}

/// `EXPORT DATA` of `columns` of the feature table with `game_date` between `@start`
/// and `@end`, and each record's `season_start` from `season_starts` (the season
/// starts query, reading the schedule between `@first` and `@last`).
pub fn export_features(uri: &str, columns: &[&str], table: &str, season_starts: &str) -> String {
    let columns: Vec<String> = columns.iter().map(|c| format!("features.{c}")).collect();
    fill(
        EXPORT_FEATURES,
        &[
            ("uri", uri),
            ("columns", &columns.join(", ")),
            ("table", table),
            ("season_starts", season_starts),
        ],
    )
}

/// The template without its leading comments, every `{name}` replaced by its value.
pub(crate) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let body: Vec<&str> = template
        .lines()
        .skip_while(|l| l.starts_with("--"))
        .collect();
    let mut text = body.join("\n");
    for (name, value) in values {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    debug_assert!(!text.contains('{'), "unfilled placeholder in {text}");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every placeholder of every template is filled, and nothing else is touched.
    #[test]
    fn every_placeholder_is_filled() {
        for sql in [
            merge("`p.d.t`", "`p.s.c`", true),
            conflicts("`p.s.c`", "`p.d.t`"),
            rollback("`p.d.t`", 1, true),
            export("gs://b/r/features", &["a", "b"], "`p.d.t`"),
            export_features("gs://b/r/features", &["a"], "`p.d.t`", "SELECT 1"),
        ] {
            assert!(!sql.contains('{') && !sql.contains('}'), "{sql}");
            assert!(!sql.contains("--"), "comments are not sent: {sql}");
        }
    }

    #[test]
    fn the_merge_touches_two_columns_and_is_guarded() {
        let sql = merge("`p.d.t`", "`p.s.c`", false);
        let set = sql.split("UPDATE SET").nth(1).unwrap();
        assert_eq!(
            set.trim(),
            "historical_completeness = s.historical_completeness, updated_at = @updated_at"
        );
        assert!(sql.contains("t.updated_at = s.exported_updated_at"));
        assert!(sql.contains("t.game_date BETWEEN @start AND @end"));
        let extended = merge("`p.d.t`", "`p.s.c`", true);
        assert!(extended.ends_with(
            "updated_at = @updated_at, historical_completeness_ext = s.historical_completeness_ext"
        ));
    }

    #[test]
    fn the_rollback_restores_two_columns_of_the_runs_rows_only() {
        let sql = rollback("`p.d.t`", 1_700_000_000_000, false);
        assert!(sql.contains("FOR SYSTEM_TIME AS OF TIMESTAMP_MILLIS(1700000000000)"));
        assert!(sql.contains("WHEN MATCHED AND t.updated_at = @run_updated_at"));
        assert!(sql.ends_with(
            "UPDATE SET historical_completeness = b.historical_completeness, updated_at = b.updated_at"
        ));
        let extended = rollback("`p.d.t`", 1, true);
        assert!(extended.contains("updated_at, historical_completeness_ext\n"));
        assert!(extended.ends_with("historical_completeness_ext = b.historical_completeness_ext"));
    }

    #[test]
    fn the_export_statement_binds_dates_as_parameters() {
        let sql = export(
            "gs://b/p/run/features",
            &["player_lookup", "game_date"],
            "`p.d.t`",
        );
        assert_eq!(
            sql,
            "EXPORT DATA OPTIONS(uri='gs://b/p/run/features/*.parquet', format='PARQUET', overwrite=true) AS\n\
             SELECT player_lookup, game_date FROM `p.d.t`\n\
             WHERE game_date BETWEEN @start AND @end"
        );
    }
}
