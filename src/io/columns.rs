//! Named columns of query results as plain Rust values.
//!
//! Query results come back as Arrow batches whose exact types depend on the plan
//! (`Utf8View` or `Utf8`, `Int64` or `UInt64`); casting to one type per accessor keeps
//! the callers free of those details. A column the query does not produce is an
//! internal error that names it.

use arrow::array::{Array, ArrayRef, AsArray, Date32Array, RecordBatch, StringArray};
use arrow::datatypes::{
    DataType, Date32Type, Field, Float64Type, Int64Type, Schema, TimeUnit, TimestampMicrosecondType,
};
use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::model::{GAME_DATE, PLAYER_LOOKUP, days_to_date};

fn cast(batch: &RecordBatch, name: &str, to: &DataType) -> Result<arrow::array::ArrayRef> {
    let column = batch.column_by_name(name).ok_or_else(|| {
        Error::input(format!(
            "query result has no column `{name}` (columns: {})",
            batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    arrow::compute::cast(column, to).map_err(Error::arrow(format!("reading column `{name}`")))
}

/// Every value of column `name` across `batches`, NULL as `None`.
fn collect<T>(
    batches: &[RecordBatch],
    name: &str,
    to: DataType,
    get: impl Fn(&dyn Array, usize) -> T,
) -> Result<Vec<Option<T>>> {
    let mut out = Vec::new();
    for b in batches {
        let array = cast(b, name, &to)?;
        out.extend((0..array.len()).map(|i| (!array.is_null(i)).then(|| get(&array, i))));
    }
    Ok(out)
}

/// Column `name` of each batch as one plain string array (cast where the plan gave
/// views or dictionaries): its values are read in place, without a `String` each.
pub fn string_arrays(batches: &[RecordBatch], name: &str) -> Result<Vec<StringArray>> {
    batches
        .iter()
        .map(|b| Ok(cast(b, name, &DataType::Utf8)?.as_string::<i32>().clone()))
        .collect()
}

/// Column `name` of each batch as one `Date32` array.
pub fn date_arrays(batches: &[RecordBatch], name: &str) -> Result<Vec<Date32Array>> {
    batches
        .iter()
        .map(|b| Ok(cast(b, name, &DataType::Date32)?.as_primitive().clone()))
        .collect()
}

/// `batch` with `column` inserted as field `field` at position `at`; `what` names the
/// step in an error.
pub fn insert_column(
    batch: &RecordBatch,
    at: usize,
    field: Field,
    column: ArrayRef,
    what: &str,
) -> Result<RecordBatch> {
    let mut fields: Vec<Field> = (batch.schema().fields().iter())
        .map(|f| f.as_ref().clone())
        .collect();
    let mut columns = batch.columns().to_vec();
    fields.insert(at, field);
    columns.insert(at, column);
    RecordBatch::try_new(std::sync::Arc::new(Schema::new(fields)), columns)
        .map_err(Error::arrow(what))
}

/// `(player_lookup, game_date)` of each row that has both.
pub fn record_keys(batches: &[RecordBatch]) -> Result<Vec<(String, NaiveDate)>> {
    Ok(strings(batches, PLAYER_LOOKUP)?
        .into_iter()
        .zip(dates(batches, GAME_DATE)?)
        .filter_map(|(p, d)| Some((p?, d?)))
        .collect())
}

pub fn i64s(batches: &[RecordBatch], name: &str) -> Result<Vec<Option<i64>>> {
    collect(batches, name, DataType::Int64, |a, i| {
        a.as_primitive::<Int64Type>().value(i)
    })
}

pub fn f64s(batches: &[RecordBatch], name: &str) -> Result<Vec<Option<f64>>> {
    collect(batches, name, DataType::Float64, |a, i| {
        a.as_primitive::<Float64Type>().value(i)
    })
}

pub fn dates(batches: &[RecordBatch], name: &str) -> Result<Vec<Option<NaiveDate>>> {
    collect(batches, name, DataType::Date32, |a, i| {
        days_to_date(a.as_primitive::<Date32Type>().value(i))
    })
}

pub fn strings(batches: &[RecordBatch], name: &str) -> Result<Vec<Option<String>>> {
    collect(batches, name, DataType::Utf8, |a, i| {
        a.as_string::<i32>().value(i).to_string()
    })
}

pub fn bools(batches: &[RecordBatch], name: &str) -> Result<Vec<Option<bool>>> {
    collect(batches, name, DataType::Boolean, |a, i| {
        a.as_boolean().value(i)
    })
}

/// Timestamps as microseconds since the epoch (UTC), whatever their unit.
pub fn micros(batches: &[RecordBatch], name: &str) -> Result<Vec<Option<i64>>> {
    let to = DataType::Timestamp(TimeUnit::Microsecond, None);
    collect(batches, name, to, |a, i| {
        a.as_primitive::<TimestampMicrosecondType>().value(i)
    })
}

/// The single value of a one-row result (`None` when NULL or when there is no row).
pub fn scalar_i64(batches: &[RecordBatch], name: &str) -> Result<i64> {
    Ok(i64s(batches, name)?.first().copied().flatten().unwrap_or(0))
}

/// Distinct non-NULL values of column `name`.
pub fn distinct(batches: &[RecordBatch], name: &str) -> Result<u64> {
    let values = strings(batches, name)?;
    Ok(values
        .into_iter()
        .flatten()
        .collect::<std::collections::HashSet<_>>()
        .len() as u64)
}

/// Number of rows across `batches`.
pub fn num_rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}

/// The first `limit` rows of `batches`.
pub fn head(batches: &[RecordBatch], limit: usize) -> Vec<RecordBatch> {
    let mut left = limit;
    let mut out = Vec::new();
    for b in batches {
        if left == 0 {
            break;
        }
        let n = b.num_rows().min(left);
        out.push(b.slice(0, n));
        left -= n;
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int32Array, StringViewArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn batch() -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("n", DataType::Int32, true),
            Field::new("s", DataType::Utf8View, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int32Array::from(vec![Some(3), None, Some(5)])),
                Arc::new(StringViewArray::from(vec![Some("a"), Some("b"), None])),
            ],
        )
        .unwrap()
    }

    #[test]
    fn casts_to_the_accessor_type_and_keeps_nulls() {
        let b = [batch(), batch()];
        assert_eq!(i64s(&b, "n").unwrap(), [Some(3), None, Some(5)].repeat(2));
        assert_eq!(
            strings(&b, "s").unwrap()[..3],
            [Some("a".into()), Some("b".into()), None]
        );
        assert!(
            i64s(&b, "missing")
                .unwrap_err()
                .to_string()
                .contains("`missing`")
        );
    }

    #[test]
    fn head_takes_rows_across_batches() {
        let b = [batch(), batch()];
        assert_eq!(num_rows(&head(&b, 4)), 4);
        assert_eq!(num_rows(&head(&b, 10)), 6);
        assert_eq!(num_rows(&head(&b, 0)), 0);
    }
}
