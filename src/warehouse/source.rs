//! Where the operators' queries run: a DataFusion session over the local tables, or
//! BigQuery query jobs with the same questions in its dialect.
//!
//! A [`Source`] is opened once per command ([`super::Warehouse::source`]): locally it
//! registers the latest versions of the tables, so every query of one check reads the
//! same snapshot.

use arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;

use crate::error::Result;
use crate::model::{FEATURES_TABLE, GAMES_TABLE, SCHEDULE_TABLE};
use crate::queries::{Param, Query};

use super::{BigQueryWarehouse, LocalWarehouse};

/// A warehouse opened for queries (`queries/*.sql`, `queries/bigquery/checks/`).
pub struct Source(Inner);

enum Inner {
    /// The feature table as `features`, player_game_summary as `games`, the schedule
    /// as `schedule` (latest versions).
    Delta(SessionContext),
    BigQuery(Box<BigQueryWarehouse>),
}

impl Source {
    pub(super) async fn delta(w: &LocalWarehouse) -> Result<Source> {
        Ok(Source(Inner::Delta(session(w).await?)))
    }

    pub(super) fn bigquery(w: Box<BigQueryWarehouse>) -> Source {
        Source(Inner::BigQuery(w))
    }

    /// The rows `q` returns with `params` (`-v` shows each query or job with its time).
    pub async fn run(&self, q: Query, params: &[Param]) -> Result<Vec<RecordBatch>> {
        match &self.0 {
            Inner::Delta(ctx) => q.run(ctx, params).await,
            Inner::BigQuery(w) => super::bigquery::checks::run(w, q, params).await,
        }
    }

    /// Whether the warehouse has the schedule table (gap detection needs it). BigQuery
    /// answers with an error naming the table when a query reaches a missing one.
    pub fn has_schedule(&self) -> bool {
        match &self.0 {
            Inner::Delta(ctx) => ctx.table_exist("schedule").unwrap_or(false),
            Inner::BigQuery(_) => true,
        }
    }
}

/// A session with the warehouse's feature table as `features`, player_game_summary as
/// `games` and the schedule as `schedule` (latest versions).
pub async fn session(warehouse: &LocalWarehouse) -> Result<SessionContext> {
    let ctx = crate::io::engine::session();
    let features = warehouse.open_table(FEATURES_TABLE).await?;
    warehouse.register(&ctx, "features", &features).await?;
    let games = warehouse.open_table(GAMES_TABLE).await?;
    warehouse.register(&ctx, "games", &games).await?;
    // Only gap detection reads the schedule; a warehouse without one still answers the rest.
    if warehouse
        .table_path(SCHEDULE_TABLE)
        .join("_delta_log")
        .is_dir()
    {
        let schedule = warehouse.open_table(SCHEDULE_TABLE).await?;
        warehouse.register(&ctx, "schedule", &schedule).await?;
    }
    Ok(ctx)
}
