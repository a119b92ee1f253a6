//! Query results as Arrow: BigQuery's REST API returns rows as JSON (`{"f":[{"v":…}]}`,
//! numbers and booleans as strings), with the result schema alongside. The checks read
//! Arrow batches whichever warehouse answered, so this turns one into the other.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Fields, Schema, TimeUnit};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The Arrow schema of BigQuery result `fields` (a `schema.fields` array).
pub fn arrow_schema(fields: &Value) -> Result<Schema> {
    Ok(Schema::new(arrow_fields(fields)?))
}

fn arrow_fields(fields: &Value) -> Result<Fields> {
    let fields = fields.as_array().map(Vec::as_slice).unwrap_or_default();
    fields.iter().map(arrow_field).collect()
}

fn arrow_field(field: &Value) -> Result<Field> {
    let name = field["name"].as_str().unwrap_or_default();
    let kind = field["type"].as_str().unwrap_or_default();
    let scalar = match kind {
        "INTEGER" | "INT64" => DataType::Int64,
        "FLOAT" | "FLOAT64" | "NUMERIC" | "BIGNUMERIC" => DataType::Float64,
        "BOOLEAN" | "BOOL" => DataType::Boolean,
        "STRING" => DataType::Utf8,
        "DATE" => DataType::Date32,
        "TIMESTAMP" => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        "RECORD" | "STRUCT" => DataType::Struct(arrow_fields(&field["fields"])?),
        other => {
            return Err(Error::input(format!(
                "BigQuery result column {name}: type {other} is not supported"
            )));
        }
    };
    if field["mode"] == "REPEATED" {
        let item = Field::new("element", scalar, true);
        return Ok(Field::new(name, DataType::List(Arc::new(item)), true));
    }
    Ok(Field::new(name, scalar, true))
}

/// Result `rows` (each `{"f":[{"v":…}, …]}`) as one batch of the schema of `fields`.
pub fn to_batch(fields: &Value, rows: &[Value]) -> Result<RecordBatch> {
    let schema = Arc::new(arrow_schema(fields)?);
    let columns = fields.as_array().map(Vec::as_slice).unwrap_or_default();
    let objects: Vec<Value> = rows.iter().map(|row| record(columns, row)).collect();
    let decode_error = |e: arrow::error::ArrowError| Error::Remote {
        context: "reading BigQuery query results".into(),
        message: e.to_string(),
    };
    let mut decoder = arrow::json::ReaderBuilder::new(schema.clone())
        .with_batch_size(objects.len().max(1))
        .build_decoder()
        .map_err(decode_error)?;
    decoder.serialize(&objects).map_err(decode_error)?;
    Ok(decoder
        .flush()
        .map_err(decode_error)?
        .unwrap_or_else(|| RecordBatch::new_empty(schema)))
}

/// Result `rows` as JSON objects keyed by column name, values typed by `fields`
/// (integers and booleans as JSON numbers and booleans, dates as `YYYY-MM-DD`, records
/// as objects, repeated fields as arrays): ready for serde.
pub fn json_rows(fields: &Value, rows: &[Value]) -> Vec<Value> {
    let columns = fields.as_array().map(Vec::as_slice).unwrap_or_default();
    rows.iter().map(|row| record(columns, row)).collect()
}

/// One `{"f":[…]}` row as a JSON object keyed by column name, values typed.
fn record(fields: &[Value], row: &Value) -> Value {
    let cells = row["f"].as_array().map(Vec::as_slice).unwrap_or_default();
    let object: Map<String, Value> = fields
        .iter()
        .zip(cells)
        .map(|(field, cell)| {
            let name = field["name"].as_str().unwrap_or_default().to_string();
            (name, cell_value(field, &cell["v"]))
        })
        .collect();
    Value::Object(object)
}

fn cell_value(field: &Value, v: &Value) -> Value {
    if field["mode"] == "REPEATED" {
        let items = v.as_array().map(Vec::as_slice).unwrap_or_default();
        return items.iter().map(|item| scalar(field, &item["v"])).collect();
    }
    scalar(field, v)
}

/// A value in the type Arrow's JSON decoder expects for the field.
fn scalar(field: &Value, v: &Value) -> Value {
    let Some(text) = v.as_str() else {
        // NULL, or a nested record ({"f": …}).
        return match field["type"].as_str() {
            Some("RECORD" | "STRUCT") if v.is_object() => {
                let children = field["fields"].as_array().map(Vec::as_slice);
                record(children.unwrap_or_default(), v)
            }
            _ => v.clone(),
        };
    };
    match field["type"].as_str().unwrap_or_default() {
        "INTEGER" | "INT64" => text.parse::<i64>().map(Value::from).unwrap_or(Value::Null),
        "FLOAT" | "FLOAT64" | "NUMERIC" | "BIGNUMERIC" => {
            text.parse::<f64>().map(Value::from).unwrap_or(Value::Null)
        }
        "BOOLEAN" | "BOOL" => Value::Bool(text.eq_ignore_ascii_case("true")),
        "TIMESTAMP" => timestamp_micros(text)
            .map(Value::from)
            .unwrap_or(Value::Null),
        _ => Value::String(text.to_string()),
    }
}

/// TIMESTAMP cells are integer microseconds (`formatOptions.useInt64Timestamp`) or, by
/// default, floating seconds (`"1.7000000001E9"`).
fn timestamp_micros(text: &str) -> Option<i64> {
    text.parse::<i64>().ok().or_else(|| {
        let seconds = text.parse::<f64>().ok()?;
        Some((seconds * 1e6).round() as i64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::columns::{dates, i64s, micros, strings};
    use serde_json::json;

    fn struct_fields() -> Value {
        json!([
            {"name": "player_lookup", "type": "STRING", "mode": "NULLABLE"},
            {"name": "game_date", "type": "DATE"},
            {"name": "n", "type": "INTEGER"},
            {"name": "pct", "type": "FLOAT"},
            {"name": "updated_at", "type": "TIMESTAMP"},
            {"name": "hc", "type": "RECORD", "fields": [
                {"name": "is_complete", "type": "BOOLEAN"},
                {"name": "contributing_game_dates", "type": "DATE", "mode": "REPEATED"},
            ]},
        ])
    }

    #[test]
    fn typed_columns_nested_records_and_lists() {
        let rows = vec![
            json!({"f": [
                {"v": "o'neal"}, {"v": "2025-01-05"}, {"v": "42"}, {"v": "97.5"},
                {"v": "1736035200000001"},
                {"v": {"f": [{"v": "true"}, {"v": [{"v": "2025-01-03"}, {"v": "2025-01-01"}]}]}},
            ]}),
            json!({"f": [
                {"v": null}, {"v": "2025-01-06"}, {"v": null}, {"v": null},
                {"v": "1.7360352E9"}, {"v": null},
            ]}),
        ];
        let batch = to_batch(&struct_fields(), &rows).unwrap();
        let b = std::slice::from_ref(&batch);
        assert_eq!(
            strings(b, "player_lookup").unwrap(),
            [Some("o'neal".into()), None]
        );
        assert_eq!(i64s(b, "n").unwrap(), [Some(42), None]);
        assert_eq!(
            micros(b, "updated_at").unwrap(),
            [Some(1_736_035_200_000_001), Some(1_736_035_200_000_000)]
        );
        assert_eq!(
            dates(b, "game_date").unwrap()[1].unwrap().to_string(),
            "2025-01-06"
        );
        let hc = batch.column_by_name("hc").unwrap();
        assert_eq!(hc.null_count(), 1);
        let text = arrow::util::pretty::pretty_format_batches(b)
            .unwrap()
            .to_string();
        assert!(text.contains("[2025-01-03, 2025-01-01]"), "{text}");
        assert!(text.contains("97.5"), "{text}");
    }

    #[test]
    fn no_rows_is_an_empty_batch_of_the_schema() {
        let batch = to_batch(&struct_fields(), &[]).unwrap();
        assert_eq!(batch.num_rows(), 0);
        assert_eq!(batch.num_columns(), 6);
    }

    #[test]
    fn an_unknown_type_is_named() {
        let fields = json!([{"name": "g", "type": "GEOGRAPHY"}]);
        let err = arrow_schema(&fields).unwrap_err().to_string();
        assert!(err.contains("g") && err.contains("GEOGRAPHY"), "{err}");
    }
}
