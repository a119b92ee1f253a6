//! The operators' BigQuery views (`queries/bigquery/*.sql`), filled in with validated
//! identifiers, ready to pipe into `bq query --use_legacy_sql=false`.

use crate::error::Result;
use crate::identifiers::TableRef;

const TEMPLATES: [(&str, &str); 2] = [
    (
        "v_historical_completeness_daily",
        include_str!("../queries/bigquery/v_historical_completeness_daily.sql"),
    ),
    (
        "v_incomplete_features",
        include_str!("../queries/bigquery/v_incomplete_features.sql"),
    ),
];

/// The DDL of every view, in `dataset`, over `features_table`.
pub fn render(dataset: &str, features_table: &str) -> Result<String> {
    let dataset = TableRef::parse(dataset, 1, "view dataset")?;
    let features = TableRef::parse(features_table, 2, "features table")?;
    Ok(TEMPLATES
        .iter()
        .map(|(name, sql)| {
            let body = sql
                .replace("{dataset}", &dataset.to_string())
                .replace("{features_table}", &features.to_string());
            format!("-- queries/bigquery/{name}.sql\n{};\n", body.trim_end())
        })
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
            2
        );
        assert!(!sql.contains('{'), "a placeholder was left: {sql}");
    }

    #[test]
    fn a_hostile_name_is_rejected() {
        let err = render("nba`; DROP SCHEMA x; --", "a.b").unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}
