//! BigQuery table schemas: checking the tables the tool reads, and describing the
//! tables it creates (staging, seeded samples) from their Arrow schemas.

use arrow::datatypes::{DataType, Field, Schema};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::model::{GAME_DATE, HISTORICAL_COMPLETENESS, PLAYER_LOOKUP, UPDATED_AT};

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

fn scalar_type(t: &DataType, name: &str) -> Result<&'static str> {
    Ok(match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "STRING",
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => "INT64",
        DataType::Float32 | DataType::Float64 => "FLOAT64",
        DataType::Boolean => "BOOL",
        DataType::Date32 => "DATE",
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

/// Problems with the feature table's schema (empty when it is right).
pub fn feature_table_problems(table: &Value) -> Vec<String> {
    let fields = &table["schema"]["fields"];
    let mut problems = required(
        fields,
        &[
            (PLAYER_LOOKUP, "STRING"),
            (GAME_DATE, "DATE"),
            (UPDATED_AT, "TIMESTAMP"),
            (HISTORICAL_COMPLETENESS, "RECORD"),
        ],
    );
    if let Some(record) = find(fields, HISTORICAL_COMPLETENESS) {
        problems.extend(struct_problems(&record["fields"]));
    }
    problems
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
        let games = table_of(&crate::model::games_schema());
        assert_eq!(games_table_problems(&games), Vec::<String>::new());
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
