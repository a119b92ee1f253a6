//! The sample warehouse on disk: the generated batches written as three Delta tables.

use std::path::Path;

use arrow::array::RecordBatch;

use crate::error::{Error, Result};
use crate::warehouse::LocalWarehouse;

/// What `samples generate` wrote.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct SampleMetrics {
    pub num_feature_rows: usize,
    pub num_game_days: usize,
    pub num_game_rows: usize,
    pub num_schedule_rows: usize,
}

/// Generate the sample data and write it as three Delta tables under `out`.
pub async fn write_samples(out: &Path, options: &super::SampleOptions) -> Result<SampleMetrics> {
    use crate::model::{FEATURES_TABLE, GAME_DATE, GAMES_TABLE, SCHEDULE_TABLE};
    let warehouse = LocalWarehouse::create(&out.display().to_string())?;
    for table in [FEATURES_TABLE, GAMES_TABLE, SCHEDULE_TABLE] {
        if warehouse.table_path(table).join("_delta_log").exists() {
            return Err(Error::input(format!(
                "{} already holds a Delta table; choose an empty --out",
                warehouse.table_path(table).display()
            )));
        }
    }
    let data = super::generate(options);
    let rows = |b: &[RecordBatch]| b.iter().map(|b| b.num_rows()).sum::<usize>();
    let mut days = std::collections::BTreeSet::new();
    for b in &data.features {
        let dates = arrow::array::AsArray::as_primitive::<arrow::datatypes::Date32Type>(
            b.column_by_name(GAME_DATE)
                .expect("features have game_date"),
        );
        days.extend(dates.values().iter().copied());
    }
    let metrics = SampleMetrics {
        num_feature_rows: rows(&data.features),
        num_game_days: days.len(),
        num_game_rows: rows(&data.games),
        num_schedule_rows: rows(&data.schedule),
    };
    warehouse
        .create_table(FEATURES_TABLE, data.features, &[GAME_DATE])
        .await?;
    warehouse.create_table(GAMES_TABLE, data.games, &[]).await?;
    warehouse
        .create_table(SCHEDULE_TABLE, data.schedule, &[])
        .await?;
    Ok(metrics)
}
