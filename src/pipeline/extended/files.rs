//! Where a run keeps the extended structs (`extended.parquet`).

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::io::columns::{dates, strings};
use crate::model::extended_column::{
    EXTENDED_COLUMN, ExtendedBuilder, ExtendedColumn, ExtendedCompleteness, extended_type,
};
use crate::model::{GAME_DATE, PLAYER_LOOKUP, date_to_days};

/// Write `extended.parquet`: one row per key.
pub fn write(
    path: &std::path::Path,
    keys: &[(String, NaiveDate)],
    values: &[ExtendedCompleteness],
) -> Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new(PLAYER_LOOKUP, DataType::Utf8, false),
        Field::new(GAME_DATE, DataType::Date32, false),
        Field::new(EXTENDED_COLUMN, extended_type(), true),
    ]));
    let mut ext = ExtendedBuilder::default();
    values.iter().for_each(|v| ext.append(Some(v)));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(keys.iter().map(|k| &k.0))),
        Arc::new(Date32Array::from_iter_values(
            keys.iter().map(|k| date_to_days(k.1)),
        )),
        Arc::new(ext.finish()),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)
        .map_err(Error::arrow("building extended.parquet"))?;
    crate::io::engine::write_parquet(path, schema, &[batch])?;
    Ok(())
}

/// The extended structs of `extended.parquet`, by (player, Date32 days).
pub fn by_key(batches: &[RecordBatch]) -> Result<HashMap<(String, i32), ExtendedCompleteness>> {
    let mut out = HashMap::new();
    for batch in batches {
        let one = std::slice::from_ref(batch);
        let column = batch.column_by_name(EXTENDED_COLUMN).ok_or_else(|| {
            Error::input(format!("extended.parquet: no column {EXTENDED_COLUMN}"))
        })?;
        let ext = ExtendedColumn::try_new(column.as_ref(), "extended.parquet")?;
        for (i, (p, d)) in strings(one, PLAYER_LOOKUP)?
            .into_iter()
            .zip(dates(one, GAME_DATE)?)
            .enumerate()
        {
            if let (Some(p), Some(d), Some(e)) = (p, d, ext.get(i)) {
                out.insert((p, date_to_days(d)), e);
            }
        }
    }
    Ok(out)
}
