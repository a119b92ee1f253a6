//! `samples inputs`: the compute inputs of a warehouse as plain Parquet files, so other
//! engines (the DuckDB baseline of `scripts/bench`) read exactly the same bytes.
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
    let ctx = crate::engine::session();
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
    crate::engine::write_parquet(path, schema, &batches)
}
