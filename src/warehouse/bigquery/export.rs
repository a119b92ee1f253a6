//! Export on BigQuery: one `EXPORT DATA … FORMAT PARQUET` job per table.
//!
//! The feature records in range (only the columns the run reads) go to
//! `<export_uri>/<run_id>/features/*.parquet`, player_game_summary from `start − 365`
//! to `end` to `…/games/*.parquet`, read `FOR SYSTEM_TIME AS OF` the moment the first
//! export started, so both come from one snapshot. Dates are query parameters; table
//! names are validated identifiers; the URI is checked when the configuration is opened.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::error::Result;
use crate::io::storage::Location;
use crate::run::manifest::BigQueryRun;
use crate::warehouse::ExportMetrics;

use super::plan::ExportPlan;
use super::{BigQueryWarehouse, job_safe};

/// Export the plan's range; `record` gets the URIs and job ids as they happen. Every
/// statement the run will send is validated by BigQuery first (a dry run each), so a
/// run on tables of the wrong shape stops in seconds, before any export.
pub async fn export(
    w: &BigQueryWarehouse,
    plan: &ExportPlan,
    record: &mut BigQueryRun,
) -> Result<ExportMetrics> {
    super::preflight::check(w, &super::preflight::run_statements(w, plan)?).await?;
    let run_id = plan.run_id.as_str();
    (record.features_uri, record.games_uri) = plan.uris(w);
    let id = format!("completeness_{}_export_features", job_safe(run_id));
    let (sql, params) = plan.features_sql(w)?;
    let job = w
        .client
        .query_once(&id, &sql, &params, "export of the feature records")
        .await?;
    record.jobs.push(job.id.clone());
    record.snapshot_time_ms = job.start_time_ms();

    let id = format!("completeness_{}_export_games", job_safe(run_id));
    let (sql, params) = plan.games_sql(w, record.snapshot_time_ms);
    let job = w
        .client
        .query_once(&id, &sql, &params, "export of player_game_summary")
        .await?;
    record.jobs.push(job.id.clone());

    let season_starts = match plan.schedule {
        true => exported_season_starts(w, &record.features_uri).await?,
        false => BTreeMap::new(),
    };
    Ok(ExportMetrics {
        num_feature_rows: exported_rows(w, &record.features_uri, "exported features").await?,
        num_game_rows: exported_rows(w, &record.games_uri, "exported games").await?,
        snapshot: Default::default(),
        season_starts,
        schedule_missing: !plan.schedule,
    })
}

/// Delete a merged run's exported files (both prefixes of `record`).
pub async fn delete_exports(w: &BigQueryWarehouse, record: &BigQueryRun) -> Result<()> {
    use futures::TryStreamExt;
    use object_store::ObjectStoreExt;
    for uri in [&record.features_uri, &record.games_uri] {
        let Location::Remote(remote) = w.stores.locate(uri)? else {
            continue;
        };
        let objects: Vec<_> = remote
            .store
            .list(Some(&remote.prefix))
            .try_collect()
            .await
            .map_err(crate::io::storage::store_error(format!("listing {uri}")))?;
        for object in objects {
            remote.store.delete(&object.location).await.map_err(
                crate::io::storage::store_error(format!("deleting {}", object.location)),
            )?;
        }
    }
    Ok(())
}

async fn exported_rows(w: &BigQueryWarehouse, uri: &str, what: &str) -> Result<u64> {
    match w.stores.locate(uri)? {
        Location::Remote(remote) => crate::io::remote_parquet::check_footers(&remote, what).await,
        Location::Local(_) => unreachable!("exports are gs://"),
    }
}

/// First regular-season day of each season of the exported records: the column the
/// feature export joined from the schedule view
/// (`queries/bigquery/checks/season_starts.sql`), read back from its files.
async fn exported_season_starts(
    w: &BigQueryWarehouse,
    features_uri: &str,
) -> Result<BTreeMap<i32, NaiveDate>> {
    let ctx = crate::io::engine::session();
    let columns = [crate::model::GAME_DATE, super::plan::SEASON_START];
    let rows = crate::io::engine::read_parquet_at(
        &ctx,
        &w.stores.locate(features_uri)?,
        &columns,
        "exported features",
    )
    .await?;
    let days = crate::io::columns::dates(&rows, columns[0])?;
    let starts = crate::io::columns::dates(&rows, columns[1])?;
    Ok(days
        .into_iter()
        .zip(starts)
        .filter_map(|(day, start)| Some((crate::model::dates::season_year(day?), start?)))
        .collect())
}
