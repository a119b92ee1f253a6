//! The operators' BigQuery views (`queries/bigquery/*.sql`), filled in with validated
//! identifiers, ready to pipe into `bq query --use_legacy_sql=false`.
//!
//! `v_historical_completeness_daily` and `v_incomplete_features` are production's own
//! (`nba_predictions`, schemas/bigquery/predictions/04_ml_feature_store_v2.sql), kept
//! exactly: dashboards read their column names and windows. Views the tool adds have
//! names of their own (`v_completeness_*`).

use crate::error::Result;
use crate::model::identifiers::TableRef;

const TEMPLATES: [(&str, &str); 3] = [
    (
        "v_historical_completeness_daily",
        include_str!("../../queries/bigquery/v_historical_completeness_daily.sql"),
    ),
    (
        "v_incomplete_features",
        include_str!("../../queries/bigquery/v_incomplete_features.sql"),
    ),
    (
        "v_completeness_daily_90d",
        include_str!("../../queries/bigquery/v_completeness_daily_90d.sql"),
    ),
];

/// One view's DDL.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ViewDdl {
    /// `dataset.name`.
    pub view: String,
    /// The template it comes from, under `queries/bigquery/`.
    pub template: String,
    pub sql: String,
}

/// The DDL of every view, in `dataset`, over `features_table`.
pub fn statements(dataset: &str, features_table: &str) -> Result<Vec<ViewDdl>> {
    let dataset = TableRef::parse(dataset, 1, "view dataset")?;
    let features = TableRef::parse(features_table, 2, "features table")?;
    Ok(TEMPLATES
        .iter()
        .map(|(name, sql)| ViewDdl {
            view: format!("{dataset}.{name}"),
            template: format!("queries/bigquery/{name}.sql"),
            sql: sql
                .replace("{dataset}", &dataset.to_string())
                .replace("{features_table}", &features.to_string())
                .trim_end()
                .to_string(),
        })
        .collect())
}

/// The DDL of every view as one script, each statement under a comment naming its file.
pub fn render(dataset: &str, features_table: &str) -> Result<String> {
    Ok(statements(dataset, features_table)?
        .iter()
        .map(|v| format!("-- {}\n{};\n", v.template, v.sql))
        .collect::<Vec<_>>()
        .join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_in_both_views() {
        let sql = render(
            "nba_predictions",
            "proj-123.nba_predictions.ml_feature_store_v2",
        )
        .unwrap();
        assert!(
            sql.contains(
                "CREATE OR REPLACE VIEW `nba_predictions.v_historical_completeness_daily`"
            )
        );
        assert!(sql.contains("CREATE OR REPLACE VIEW `nba_predictions.v_incomplete_features`"));
        assert_eq!(
            sql.matches("FROM `proj-123.nba_predictions.ml_feature_store_v2`")
                .count(),
            3
        );
        assert!(!sql.contains('{'), "a placeholder was left: {sql}");
    }

    /// The SELECT list's output names and the view's window, from its text.
    fn shape(name: &str) -> (Vec<String>, String) {
        let (_, sql) = TEMPLATES.iter().find(|(n, _)| *n == name).unwrap();
        let select = sql
            .split("SELECT")
            .nth(1)
            .unwrap()
            .split("FROM")
            .next()
            .unwrap();
        let columns = select
            .split(",\n")
            .map(|item| {
                let item = item.trim();
                let last = item.rsplit([' ', '.']).next().unwrap();
                last.to_string()
            })
            .collect();
        let window = sql
            .split("INTERVAL ")
            .nth(1)
            .unwrap()
            .split(')')
            .next()
            .unwrap();
        (columns, window.to_string())
    }

    /// production-schemas.md: dashboards read these names, over the last 30 days.
    #[test]
    fn the_daily_view_is_productions_exactly() {
        let (columns, window) = shape("v_historical_completeness_daily");
        assert_eq!(
            columns,
            [
                "game_date",
                "total_features",
                "complete_count",
                "incomplete_count",
                "bootstrap_count",
                "complete_pct",
                "incomplete_pct",
                "avg_games_found",
                "avg_games_expected"
            ]
        );
        assert_eq!(window, "30 DAY");
        let (columns, window) = shape("v_incomplete_features");
        assert_eq!(
            columns,
            [
                "game_date",
                "player_lookup",
                "games_found",
                "games_expected",
                "games_missing",
                "contributing_game_dates"
            ]
        );
        assert_eq!(window, "30 DAY");
        // The tool's own views never take production's names.
        for (name, _) in &TEMPLATES[2..] {
            assert!(name.starts_with("v_completeness_"), "{name}");
        }
    }

    #[test]
    fn a_hostile_name_is_rejected() {
        let err = render("nba`; DROP SCHEMA x; --", "a.b").unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}
