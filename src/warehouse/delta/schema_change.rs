//! Adding `historical_completeness_ext` to the feature table: on Delta a metadata-only
//! commit the tool makes (once, before the first extended merge); on BigQuery a DDL the
//! operator runs ([`crate::model::extended_column::bigquery_ddl`]).

use arrow::datatypes::Field;
use deltalake::DeltaTable;
use deltalake::kernel::StructField;
use deltalake::kernel::engine::arrow_conversion::TryFromArrow;

use crate::error::{Error, Result};
use crate::model::extended_column::{EXTENDED_COLUMN, extended_type};

/// The table with the column, adding it in its own commit when it is missing.
pub async fn add_column(table: DeltaTable) -> Result<DeltaTable> {
    let schema = table
        .snapshot()
        .map_err(crate::error::Error::delta(
            "reading the feature table's schema",
        ))?
        .schema();
    if schema.field(EXTENDED_COLUMN).is_some() {
        return Ok(table);
    }
    let field = Field::new(EXTENDED_COLUMN, extended_type(), true);
    let field = StructField::try_from_arrow(&field)
        .map_err(|e| Error::input(format!("the {EXTENDED_COLUMN} type: {e}")))?;
    table
        .add_columns()
        .with_fields([field])
        .await
        .map_err(Error::delta(format!(
            "adding column {EXTENDED_COLUMN} to the feature table"
        )))
}
