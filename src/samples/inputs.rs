//! `samples inputs`: the compute inputs of a warehouse as plain Parquet files, so other
//! engines (the DuckDB baseline of `scripts/bench`) read exactly the same bytes; and
//! `samples generate --inputs-only`, the same files straight from the generator, league
//! by league, for scales whose warehouse does not fit in memory.
//!
//! `features.parquet`: player_lookup, game_date of every feature record.
//! `games.parquet`: every player_game_summary column.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::{FEATURES_TABLE, GAMES_TABLE};
use crate::warehouse::LocalWarehouse;

#[derive(Debug, Default, Clone, Serialize)]
pub struct InputMetrics {
    pub num_feature_rows: usize,
    pub num_game_rows: usize,
}

/// Write `out/features.parquet` and `out/games.parquet` from `warehouse`.
pub async fn write_inputs(warehouse: &LocalWarehouse, out: &Path) -> Result<InputMetrics> {
    let ctx = crate::io::engine::session();
    let features = warehouse.open_table(FEATURES_TABLE).await?;
    warehouse.register(&ctx, "features", &features).await?;
    let games = warehouse.open_table(GAMES_TABLE).await?;
    warehouse.register(&ctx, "games", &games).await?;
    let metrics = InputMetrics {
        num_feature_rows: copy(
            &ctx,
            "SELECT player_lookup, game_date FROM features ORDER BY player_lookup, game_date",
            &out.join("features.parquet"),
        )
        .await?,
        num_game_rows: copy(
            &ctx,
            "SELECT * FROM games ORDER BY player_lookup, game_date",
            &out.join("games.parquet"),
        )
        .await?,
    };
    Ok(metrics)
}

async fn copy(ctx: &datafusion::prelude::SessionContext, sql: &str, path: &Path) -> Result<usize> {
    let context = format!("writing {}", path.display());
    let df = ctx
        .sql(sql)
        .await
        .map_err(Error::datafusion(context.clone()))?;
    let schema = std::sync::Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await.map_err(Error::datafusion(context))?;
    crate::io::engine::write_parquet(path, schema, &batches)
}

/// Write `out/features.parquet` (keys only) and `out/games.parquet` straight from the
/// generator, one league at a time.
pub fn generate_inputs(opts: &super::SampleOptions, out: &Path) -> Result<InputMetrics> {
    use parquet::arrow::ArrowWriter;
    std::fs::create_dir_all(out).map_err(Error::io("creating", out))?;
    let open = |name: &str, schema| -> Result<ArrowWriter<std::fs::File>> {
        let path = out.join(name);
        let file = std::fs::File::create(&path).map_err(Error::io("creating", &path))?;
        ArrowWriter::try_new(file, schema, Some(crate::io::engine::writer_properties()))
            .map_err(|e| Error::input(format!("writing {}: {e}", path.display())))
    };
    let keys = std::sync::Arc::new(arrow::datatypes::Schema::new(vec![
        arrow::datatypes::Field::new(
            crate::model::PLAYER_LOOKUP,
            arrow::datatypes::DataType::Utf8,
            false,
        ),
        arrow::datatypes::Field::new(
            crate::model::GAME_DATE,
            arrow::datatypes::DataType::Date32,
            false,
        ),
    ]));
    let mut features = open("features.parquet", keys.clone())?;
    let mut games = open("games.parquet", crate::model::games_schema())?;
    let mut metrics = InputMetrics::default();
    let failed = |e: parquet::errors::ParquetError| Error::input(format!("writing inputs: {e}"));
    super::generate_leagues(opts, |league| -> Result<()> {
        for b in &league.features {
            let projected = b
                .project(&[0, 2])
                .map_err(Error::arrow("projecting feature keys"))?;
            let projected =
                arrow::array::RecordBatch::try_new(keys.clone(), projected.columns().to_vec())
                    .map_err(Error::arrow("projecting feature keys"))?;
            metrics.num_feature_rows += b.num_rows();
            features.write(&projected).map_err(failed)?;
        }
        for b in &league.games {
            metrics.num_game_rows += b.num_rows();
            games.write(b).map_err(failed)?;
        }
        Ok(())
    })?;
    features.close().map_err(failed)?;
    games.close().map_err(failed)?;
    Ok(metrics)
}
