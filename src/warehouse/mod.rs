//! Where the tables live, and everything that differs between the places they can live.
//!
//! The embedded default is a local Delta Lake warehouse: one root holding the three
//! tables at their `dataset/table` paths (see [`crate::model`]). In production they are
//! BigQuery tables, staged through a GCS bucket.
//!
//! [`Warehouse`] is the contract the pipeline and the operator tools are written
//! against: export a pinned snapshot, say where it went, merge a run's changes, know
//! whether a run was applied or rolled back, roll one back, open the tables for
//! queries. Each method dispatches to the backend's own folder ([`delta`],
//! [`bigquery`]); nothing outside this folder asks which backend it has.

pub mod bigquery;
pub mod delta;
pub mod exported;
pub mod metrics;
pub mod source;

use std::path::Path;

use arrow::array::RecordBatch;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::hint::COMPLETENESS;
use crate::io::storage::Location;
use crate::model::FEATURES_TABLE;
use crate::model::job_cost::JobCost;
use crate::run::dir::RunDir;
use crate::run::manifest::{Compute, Manifest};
use crate::warehouse::delta::rollback::{RollbackOptions, RollbackReport};

pub use bigquery::BigQueryWarehouse;
pub use bigquery::rollback::BigQueryRollback;
pub use delta::local::LocalWarehouse;
pub use metrics::{ExportMetrics, MergeMetrics};
pub use source::Source;

/// A local Delta warehouse or BigQuery.
#[derive(Debug, Clone)]
pub enum Warehouse {
    Local(LocalWarehouse),
    BigQuery(Box<BigQueryWarehouse>),
}

/// What a rollback did, in the backend's terms (the JSON of each is unchanged).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum RolledBack {
    Delta(RollbackReport),
    BigQuery(BigQueryRollback),
}

impl RolledBack {
    /// Whether the rollback was refused (rows rewritten since the run; nothing written).
    pub fn refused(&self) -> bool {
        match self {
            RolledBack::Delta(r) => r.refused,
            RolledBack::BigQuery(_) => false,
        }
    }

    /// The lines `rollback` prints.
    pub fn render(&self) -> String {
        match self {
            RolledBack::Delta(r) => r.render(),
            RolledBack::BigQuery(r) => r.render(),
        }
    }
}

impl Warehouse {
    /// What manifests record and runs are matched against: a root path or
    /// `bigquery://project/dataset.table`.
    pub fn describe(&self) -> String {
        match self {
            Warehouse::Local(w) => w.root().display().to_string(),
            Warehouse::BigQuery(w) => w.describe(),
        }
    }

    /// The feature table, as reports name it.
    pub fn features_location(&self) -> String {
        match self {
            Warehouse::Local(w) => w.table_path(FEATURES_TABLE).display().to_string(),
            Warehouse::BigQuery(w) => w.describe(),
        }
    }

    /// Fail early, before a run directory exists, when the feature table is missing
    /// (BigQuery's export checks its tables itself, in its pre-flight).
    pub async fn require_features(&self) -> Result<()> {
        if let Warehouse::Local(w) = self {
            w.open_table(FEATURES_TABLE).await?;
        }
        Ok(())
    }

    /// Refuse, before a run is planned, a feature table a merge would refuse to write
    /// (its features, layout or generated columns: [`delta::writable`]). BigQuery's
    /// pre-flight does its own checks.
    pub async fn require_writable(&self, extended: bool) -> Result<()> {
        match self {
            Warehouse::Local(w) => delta::run::require_writable(w, extended).await,
            Warehouse::BigQuery(_) => Ok(()),
        }
    }

    /// Refuse a planned run whose merge would break a rule of the feature table (a CHECK
    /// constraint, an invariant, a generated column, NOT NULL), evaluated on the rows
    /// it would write ([`delta::rules`]); nothing is written.
    pub async fn preview_merge(
        &self,
        m: &Manifest,
        dir: &RunDir,
        now: DateTime<Utc>,
    ) -> Result<()> {
        match self {
            Warehouse::Local(w) => delta::run::preview_merge(w, m, dir, now).await,
            Warehouse::BigQuery(_) => Ok(()),
        }
    }

    /// `--extended` needs the extended column: the Delta merge adds it, on BigQuery
    /// the operator does (the error carries the DDL).
    pub async fn require_extended_column(&self) -> Result<()> {
        match self {
            Warehouse::Local(_) => Ok(()),
            Warehouse::BigQuery(w) => bigquery::schema::require_extended_column(w).await,
        }
    }

    /// Export the run's range as a pinned snapshot; the pin goes into the manifest.
    pub async fn export(&self, m: &mut Manifest, dir: &RunDir) -> Result<ExportMetrics> {
        match self {
            Warehouse::Local(w) => {
                let x = crate::warehouse::delta::export::export(w, m.range, dir).await?;
                m.snapshot = Some(x.snapshot.clone());
                Ok(x)
            }
            Warehouse::BigQuery(w) => bigquery::run::export(w, m).await,
        }
    }

    /// What the export pinned, for the progress line.
    pub fn pinned(&self, m: &Manifest) -> String {
        match self {
            Warehouse::Local(_) => {
                let version = m.snapshot.as_ref().map_or(0, |s| s.features_version);
                format!("(table version {version})")
            }
            Warehouse::BigQuery(_) => bigquery::run::pinned(m),
        }
    }

    /// Where the run's exported features and games are: the run directory, or the bucket.
    pub fn exported(&self, m: &Manifest, dir: &RunDir) -> Result<(Location, Location)> {
        let remote = match self {
            Warehouse::Local(_) => None,
            Warehouse::BigQuery(w) => bigquery::run::exported(w, m)?,
        };
        Ok(remote.unwrap_or_else(|| (dir.exported_features().into(), dir.exported_games().into())))
    }

    /// Why a run here gives no reasons for its incomplete records, when it gives none:
    /// on BigQuery the schedule is one SELECT job beyond the five a backfill keeps to,
    /// so only `--extended` (which reads it anyway) reads it.
    pub fn reasons_skipped(&self, m: &Manifest) -> Option<String> {
        match self {
            Warehouse::BigQuery(_) if !m.extended => Some(format!(
                "a run on BigQuery reads no schedule unless --extended (it would be one job \
                 more); once merged, `{COMPLETENESS} check incomplete --start {} --end {}` \
                 gives each record its reason",
                m.range.start, m.range.end
            )),
            _ => None,
        }
    }

    /// The schedule's team games around the run (for `--extended`); none without a schedule.
    pub async fn team_games(&self, m: &Manifest) -> Result<Vec<RecordBatch>> {
        match self {
            Warehouse::Local(w) => delta::run::team_games(w, m).await,
            Warehouse::BigQuery(w) => bigquery::run::team_games(w, m).await,
        }
    }

    /// True when the games table provably did not change since the export (a cheap
    /// answer before counting rows); false when it may have.
    pub async fn games_unchanged(&self, m: &Manifest) -> Result<bool> {
        match self {
            Warehouse::Local(w) => delta::run::games_unchanged(w, m).await,
            Warehouse::BigQuery(_) => Ok(false),
        }
    }

    /// If the run's merge was committed before, say how ("as version 3", "by BigQuery
    /// job …") after bringing the manifest's merge record up to date.
    pub async fn applied_merge(&self, m: &mut Manifest) -> Result<Option<String>> {
        match self {
            Warehouse::Local(w) => delta::run::applied_merge(w, m).await,
            Warehouse::BigQuery(w) => bigquery::run::applied_merge(w, m).await,
        }
    }

    /// Write the run's changes (`changes.parquet`) in one commit, stamping `updated_at`
    /// with `now`; the manifest gets the merge record.
    pub async fn merge(
        &self,
        m: &mut Manifest,
        dir: &RunDir,
        now: DateTime<Utc>,
    ) -> Result<MergeMetrics> {
        match self {
            Warehouse::Local(w) => delta::run::merge(w, m, dir, now).await,
            Warehouse::BigQuery(w) => bigquery::run::merge(w, m, dir, now).await,
        }
    }

    /// Compute the run's plan inside the warehouse (`--compute-in bigquery`): its
    /// statements validated, then one job writing the plan; the pre-flight's line.
    pub async fn plan(&self, m: &mut Manifest) -> Result<String> {
        bigquery::pushdown::plan(self.pushdown()?, m).await
    }

    /// The report of the run's plan, as JSON keyed by the report's keys.
    pub async fn plan_report(&self, m: &mut Manifest) -> Result<serde_json::Value> {
        bigquery::pushdown::report_row(self.pushdown()?, m).await
    }

    /// Apply the run's plan in one statement stamped `now` (the statement refuses a
    /// stale plan itself unless `allow_stale`); the manifest gets the merge record.
    pub async fn merge_plan(
        &self,
        m: &mut Manifest,
        now: DateTime<Utc>,
        allow_stale: bool,
    ) -> Result<MergeMetrics> {
        bigquery::pushdown::merge(self.pushdown()?, m, now, allow_stale).await
    }

    /// What each of the run's warehouse jobs cost (none on a local warehouse).
    pub async fn job_costs(&self, m: &mut Manifest) -> Vec<JobCost> {
        match (self, m.bigquery.as_mut()) {
            (Warehouse::BigQuery(w), Some(record)) => {
                bigquery::cost::complete(w, record).await;
                record.costs.clone()
            }
            _ => Vec::new(),
        }
    }

    /// The BigQuery warehouse a run computed in BigQuery needs.
    fn pushdown(&self) -> Result<&BigQueryWarehouse> {
        match self {
            Warehouse::BigQuery(w) => Ok(w),
            Warehouse::Local(_) => Err(Error::input(
                "--compute-in bigquery (compute = \"bigquery\") needs a BigQuery warehouse \
                 (kind = \"bigquery\"); a local warehouse computes locally",
            )),
        }
    }

    /// Where the run was rolled back ("version 4", "BigQuery job …"), if it was.
    pub async fn rolled_back_in(&self, m: &Manifest) -> Result<Option<String>> {
        match self {
            Warehouse::Local(w) => delta::run::rolled_back_in(w, &m.run_id).await,
            Warehouse::BigQuery(_) => Ok(bigquery::run::rolled_back_in(m)),
        }
    }

    /// Delete a merged run's exports, or its plan table (a dry run keeps them for
    /// `merge --run`).
    pub async fn drop_exports(&self, m: &Manifest, dir: &RunDir) -> Result<()> {
        match (self, m.compute) {
            (Warehouse::Local(_), _) => delta::run::drop_exports(dir),
            (Warehouse::BigQuery(w), Compute::Bigquery) => {
                bigquery::pushdown::drop_plan(w.as_ref(), m).await
            }
            (Warehouse::BigQuery(w), Compute::Local) => {
                bigquery::run::drop_exports(w.as_ref(), m).await
            }
        }
    }

    /// Undo run `run_id` (its run directory under `run_root`) as a new commit.
    pub async fn rollback(
        &self,
        run_root: &Path,
        run_id: &str,
        options: RollbackOptions,
        now: DateTime<Utc>,
    ) -> Result<RolledBack> {
        Ok(match self {
            Warehouse::Local(w) => RolledBack::Delta(
                crate::warehouse::delta::rollback::rollback(w, run_root, run_id, options).await?,
            ),
            Warehouse::BigQuery(w) => RolledBack::BigQuery(
                bigquery::rollback::rollback_run(w, run_root, run_id, options.dry_run, now).await?,
            ),
        })
    }

    /// The tables opened for the operators' queries.
    pub async fn source(&self) -> Result<Source> {
        match self {
            Warehouse::Local(w) => Source::delta(w).await,
            Warehouse::BigQuery(w) => Ok(Source::bigquery(w.clone())),
        }
    }
}

impl From<LocalWarehouse> for Warehouse {
    fn from(w: LocalWarehouse) -> Self {
        Warehouse::Local(w)
    }
}

impl From<BigQueryWarehouse> for Warehouse {
    fn from(w: BigQueryWarehouse) -> Self {
        Warehouse::BigQuery(Box::new(w))
    }
}
