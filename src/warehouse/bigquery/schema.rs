//! BigQuery table schemas: checking the tables the tool reads, and describing the
//! tables it creates (staging, seeded samples) from their Arrow schemas.

use arrow::datatypes::{DataType, Field, Schema};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::model::{DATA_SOURCE, GAME_DATE, HISTORICAL_COMPLETENESS, PLAYER_LOOKUP, UPDATED_AT};

/// The BigQuery fields (`tables.insert` JSON) of an Arrow schema.
pub fn fields_of(schema: &Schema) -> Result<Value> {
    let fields = schema
        .fields()
        .iter()
        .map(|f| field_of(f))
        .collect::<Result<Vec<_>>>()?;
    Ok(Value::Array(fields))
}

fn field_of(field: &Field) -> Result<Value> {
    let mode = if field.is_nullable() {
        "NULLABLE"
    } else {
        "REQUIRED"
    };
    let (kind, mode, inner) = match field.data_type() {
        DataType::List(item) | DataType::LargeList(item) => {
            let mut inner = field_of(item)?;
            inner["mode"] = json!("REPEATED");
            inner["name"] = json!(field.name());
            return Ok(inner);
        }
        DataType::Struct(children) => {
            let fields = children
                .iter()
                .map(|c| field_of(c))
                .collect::<Result<Vec<_>>>()?;
            ("RECORD", mode, Some(fields))
        }
        other => (scalar_type(other, field.name())?, mode, None),
    };
    let mut out = json!({"name": field.name(), "type": kind, "mode": mode});
    if let Some(fields) = inner {
        out["fields"] = Value::Array(fields);
    }
    Ok(out)
}

/// The type of a column in BigQuery's DDL: `STRUCT<a INT64, b ARRAY<DATE>>`.
pub fn ddl_type(t: &DataType) -> Result<String> {
    Ok(match t {
        DataType::List(item) | DataType::LargeList(item) => {
            format!("ARRAY<{}>", ddl_type(item.data_type())?)
        }
        DataType::Struct(children) => {
            let fields = children
                .iter()
                .map(|c| Ok(format!("{} {}", c.name(), ddl_type(c.data_type())?)))
                .collect::<Result<Vec<_>>>()?;
            format!("STRUCT<{}>", fields.join(", "))
        }
        other => scalar_type(other, "")?.to_string(),
    })
}

fn scalar_type(t: &DataType, name: &str) -> Result<&'static str> {
    Ok(match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "STRING",
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => "INT64",
        DataType::Float32 | DataType::Float64 => "FLOAT64",
        DataType::Boolean => "BOOL",
        DataType::Date32 => "DATE",
        DataType::Decimal128(p, _) if *p <= 38 => "NUMERIC",
        DataType::Timestamp(_, Some(_)) => "TIMESTAMP",
        DataType::Timestamp(_, None) => "DATETIME",
        other => {
            return Err(Error::input(format!(
                "column `{name}`: no BigQuery type for {other}"
            )));
        }
    })
}

/// The BigQuery type of a column: `STRING`, `DATE`, `RECORD`… (`INTEGER` reads as `INT64`).
fn type_of(field: &Value) -> String {
    match field["type"].as_str().unwrap_or("") {
        "INTEGER" => "INT64".into(),
        "FLOAT" => "FLOAT64".into(),
        "BOOLEAN" => "BOOL".into(),
        "STRUCT" => "RECORD".into(),
        t => t.to_string(),
    }
}

fn find<'a>(fields: &'a Value, name: &str) -> Option<&'a Value> {
    fields
        .as_array()?
        .iter()
        .find(|f| f["name"].as_str() == Some(name))
}

/// `(name, type, repeated)` the struct column must have, in order.
const STRUCT_FIELDS: [(&str, &str, bool); 5] = [
    ("games_found", "INT64", false),
    ("games_expected", "INT64", false),
    ("is_complete", "BOOL", false),
    ("is_bootstrap", "BOOL", false),
    ("contributing_game_dates", "DATE", true),
];

/// Every column the tool reads from the feature table (a run, the checks, as-of).
pub const FEATURE_READS: [(&str, &str); 6] = [
    (PLAYER_LOOKUP, "STRING"),
    (GAME_DATE, "DATE"),
    (DATA_SOURCE, "STRING"),
    (UPDATED_AT, "TIMESTAMP"),
    ("created_at", "TIMESTAMP"),
    (HISTORICAL_COMPLETENESS, "RECORD"),
];
/// Every column the tool reads from player_game_summary (the run, gap detection, the
/// spot check, as-of).
pub const GAMES_READS: [(&str, &str); 9] = [
    (PLAYER_LOOKUP, "STRING"),
    (GAME_DATE, "DATE"),
    ("game_id", "STRING"),
    ("team_abbr", "STRING"),
    ("is_active", "BOOL"),
    ("is_dnp", "BOOL"),
    ("primary_source_used", "STRING"),
    ("created_at", "TIMESTAMP"),
    ("processed_at", "TIMESTAMP"),
];
/// Every column the tool reads from the schedule view (season starts, team games).
pub const SCHEDULE_READS: [(&str, &str); 9] = [
    ("game_id", "STRING"),
    (GAME_DATE, "DATE"),
    ("season_year", "INT64"),
    ("home_team_tricode", "STRING"),
    ("away_team_tricode", "STRING"),
    ("game_status", "INT64"),
    ("is_regular_season", "BOOL"),
    ("is_playoffs", "BOOL"),
    ("is_all_star", "BOOL"),
];

/// Problems with the feature table's schema for a run (empty when it is right).
pub fn feature_table_problems(table: &Value) -> Vec<String> {
    let fields = &table["schema"]["fields"];
    let mut problems = required(fields, &FEATURE_READS[..4]);
    problems.extend(required(fields, &FEATURE_READS[5..]));
    problems.extend(struct_column_problems(fields));
    problems
}

/// Problems with any column the tool reads from `table` (what `doctor` reports).
pub fn read_problems(table: &Value, reads: &[(&str, &str)]) -> Vec<String> {
    let fields = &table["schema"]["fields"];
    let mut problems = required(fields, reads);
    if reads.iter().any(|(c, _)| *c == HISTORICAL_COMPLETENESS) {
        problems.extend(struct_column_problems(fields));
    }
    problems
}

fn struct_column_problems(fields: &Value) -> Vec<String> {
    match find(fields, HISTORICAL_COMPLETENESS) {
        Some(record) => struct_problems(&record["fields"]),
        None => Vec::new(),
    }
}

fn struct_problems(fields: &Value) -> Vec<String> {
    let present: Vec<String> = fields
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| format!("{} {}", f["name"].as_str().unwrap_or("?"), type_of(f)))
        .collect();
    let expected: Vec<String> = STRUCT_FIELDS
        .iter()
        .map(|(n, t, _)| format!("{n} {t}"))
        .collect();
    let repeated_ok = STRUCT_FIELDS.iter().all(|(n, _, repeated)| {
        find(fields, n).is_none_or(|f| (f["mode"].as_str() == Some("REPEATED")) == *repeated)
    });
    if present == expected && repeated_ok {
        return Vec::new();
    }
    vec![format!(
        "column `{HISTORICAL_COMPLETENESS}` must be STRUCT<{}> with contributing_game_dates REPEATED; it is STRUCT<{}>",
        expected.join(", "),
        present.join(", ")
    )]
}

/// Problems with player_game_summary's schema.
pub fn games_table_problems(table: &Value) -> Vec<String> {
    required(
        &table["schema"]["fields"],
        &[(PLAYER_LOOKUP, "STRING"), (GAME_DATE, "DATE")],
    )
}

/// Columns of `wanted` the table has (for the optional export columns).
pub fn present_columns<'a>(table: &Value, wanted: &[&'a str]) -> Vec<&'a str> {
    wanted
        .iter()
        .copied()
        .filter(|c| find(&table["schema"]["fields"], c).is_some())
        .collect()
}

fn required(fields: &Value, columns: &[(&str, &str)]) -> Vec<String> {
    columns
        .iter()
        .filter_map(|(name, kind)| match find(fields, name) {
            None => Some(format!("missing column `{name}` ({kind})")),
            Some(f) if type_of(f) != *kind => Some(format!(
                "column `{name}` is {}, expected {kind}",
                type_of(f)
            )),
            Some(_) => None,
        })
        .collect()
}

/// `--extended` on BigQuery: the feature table must have the extended column (the
/// operator adds it; the error prints the DDL).
pub async fn require_extended_column(w: &super::BigQueryWarehouse) -> crate::Result<()> {
    let table = w
        .client
        .table(&w.tables.features)
        .await?
        .unwrap_or_default();
    let wanted = [crate::model::extended_column::EXTENDED_COLUMN];
    if !present_columns(&table, &wanted).is_empty() {
        return Ok(());
    }
    Err(crate::Error::input(format!(
        "--extended: {} has no column {}; add it first (then rerun):\n{}",
        w.tables.features,
        crate::model::extended_column::EXTENDED_COLUMN,
        crate::model::extended_column::bigquery_ddl(&w.sql_name(&w.tables.features))
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_of(schema: &Schema) -> Value {
        json!({"schema": {"fields": fields_of(schema).unwrap()}})
    }

    #[test]
    fn the_model_schemas_pass_their_own_checks() {
        let features = table_of(&crate::model::features_schema());
        assert_eq!(feature_table_problems(&features), Vec::<String>::new());
        assert_eq!(
            read_problems(&features, &FEATURE_READS),
            Vec::<String>::new()
        );
        let games = table_of(&crate::model::games_schema());
        assert_eq!(games_table_problems(&games), Vec::<String>::new());
        assert_eq!(read_problems(&games, &GAMES_READS), Vec::<String>::new());
        let schedule = table_of(&crate::model::schedule_schema());
        assert_eq!(
            read_problems(&schedule, &SCHEDULE_READS),
            Vec::<String>::new()
        );
    }

    /// The schedule as our samples had it before production's view was known.
    #[test]
    fn the_old_schedule_shape_is_named_column_by_column() {
        let table = json!({"schema": {"fields": [
            {"name": "game_id", "type": "STRING"},
            {"name": "game_date", "type": "DATE"},
            {"name": "season_year", "type": "INTEGER"},
            {"name": "season_type", "type": "STRING"},
            {"name": "home_team_abbr", "type": "STRING"},
            {"name": "away_team_abbr", "type": "STRING"},
        ]}});
        let problems = read_problems(&table, &SCHEDULE_READS);
        assert_eq!(problems.len(), 6, "{problems:?}");
        assert_eq!(problems[0], "missing column `home_team_tricode` (STRING)");
    }

    #[test]
    fn a_wrong_struct_shape_is_described() {
        let mut features = table_of(&crate::model::features_schema());
        let record = features["schema"]["fields"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|f| f["name"] == HISTORICAL_COMPLETENESS)
            .unwrap();
        record["fields"].as_array_mut().unwrap().pop();
        let problems = feature_table_problems(&features);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("it is STRUCT<games_found INT64, games_expected INT64, is_complete BOOL, is_bootstrap BOOL>"), "{}", problems[0]);
    }

    #[test]
    fn missing_and_mistyped_columns_are_named() {
        let table = json!({"schema": {"fields": [
            {"name": "player_lookup", "type": "INTEGER"},
        ]}});
        assert_eq!(
            games_table_problems(&table),
            vec![
                "column `player_lookup` is INT64, expected STRING".to_string(),
                "missing column `game_date` (DATE)".to_string(),
            ]
        );
    }

    #[test]
    fn lists_become_repeated_fields() {
        let f = field_of(&Field::new(
            "d",
            DataType::List(std::sync::Arc::new(Field::new(
                "element",
                DataType::Date32,
                true,
            ))),
            true,
        ))
        .unwrap();
        assert_eq!(f, json!({"name": "d", "type": "DATE", "mode": "REPEATED"}));
    }
}
