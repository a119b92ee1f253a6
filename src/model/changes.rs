//! `changes.parquet`: the rows a merge writes (the diff's changed and added records),
//! each with the `updated_at` the export saw, which guards against lost updates.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use super::extended_column::{EXTENDED_COLUMN, extended_type};
use super::{GAME_DATE, HISTORICAL_COMPLETENESS, PLAYER_LOOKUP, completeness_type};

/// The column of `changes.parquet` holding the `updated_at` seen at export.
pub const EXPORTED_UPDATED_AT: &str = "exported_updated_at";

/// Schema of `changes.parquet`.
pub fn changes_schema() -> SchemaRef {
    changes_schema_for(false)
}

/// Schema of `changes.parquet`, with `historical_completeness_ext` when `extended`.
pub fn changes_schema_for(extended: bool) -> SchemaRef {
    let mut fields = vec![
        Field::new(PLAYER_LOOKUP, DataType::Utf8, false),
        Field::new(GAME_DATE, DataType::Date32, false),
        Field::new(HISTORICAL_COMPLETENESS, completeness_type(), true),
        Field::new(
            EXPORTED_UPDATED_AT,
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
    ];
    if extended {
        fields.push(Field::new(EXTENDED_COLUMN, extended_type(), true));
    }
    Arc::new(Schema::new(fields))
}
