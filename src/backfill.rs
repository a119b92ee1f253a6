//! `backfill`: export → compute → diff → merge, each phase recorded in the manifest.
//!
//! A run starts fresh ([`BackfillBuilder::new`]) or continues one ([`BackfillBuilder::resume`]):
//! phases already done are not repeated, so a run interrupted at any point can be
//! resumed and ends as an uninterrupted run would. A dry run stops after the diff;
//! `merge --run` applies such a run later. The merge phase, when it was started but not
//! recorded as done, first asks the table whether the run committed (its application
//! transaction on Delta, its MERGE job on BigQuery): if so, the merge happened and is not
//! repeated. Before merging, the games the run was computed from are compared with the
//! table's ([`crate::staleness`]): a stale plan is refused unless allowed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::dates::DateRange;
use crate::diff::DiffOptions;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::manifest::{Manifest, MergeRecord, Phase, PhaseStatus};
use crate::model::{FEATURES_TABLE, GAME_DATE, PLAYER_LOOKUP};
use crate::report::{MergeSummary, Report};
use crate::run_dir::RunDir;
use crate::storage::Location;
use crate::warehouse::{BigQueryWarehouse, LocalWarehouse, Warehouse};

/// Called with a phase and a one-line message as the run goes.
pub type Progress = Arc<dyn Fn(Phase, &str) + Send + Sync>;

/// What a backfill produced.
#[derive(Debug, Clone, Serialize)]
pub struct BackfillOutcome {
    pub run_id: String,
    pub run_dir: PathBuf,
    pub report: Report,
    pub manifest: Manifest,
    /// The run's merge was committed before this invocation, which wrote nothing.
    pub already_applied: bool,
}

/// How far a run should go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopAfter {
    Export,
    Diff,
    Merge,
}

pub struct BackfillBuilder {
    warehouse: Warehouse,
    run_root: PathBuf,
    start: Start,
    report_dir: Option<PathBuf>,
    stop_after: StopAfter,
    /// A fixed clock (tests); `None` reads the wall clock when it is needed.
    clock: Option<DateTime<Utc>>,
    allow_stale: bool,
    progress: Progress,
    on_run: Arc<dyn Fn(&str) + Send + Sync>,
}

enum Start {
    New {
        range: DateRange,
        dry_run: bool,
        include_bootstrap: bool,
        extended: bool,
    },
    Resume {
        run_id: String,
        apply: bool,
    },
}

impl BackfillBuilder {
    /// A new run over `range`; applies the merge unless [`with_dry_run`](Self::with_dry_run).
    pub fn new(
        warehouse: impl Into<Warehouse>,
        run_root: impl Into<PathBuf>,
        range: DateRange,
    ) -> Self {
        Self::with_start(
            warehouse.into(),
            run_root,
            Start::New {
                range,
                dry_run: false,
                include_bootstrap: false,
                extended: false,
            },
        )
    }

    /// Continue run `run_id` from its first phase not done.
    pub fn resume(
        warehouse: impl Into<Warehouse>,
        run_root: impl Into<PathBuf>,
        run_id: &str,
    ) -> Self {
        Self::with_start(
            warehouse.into(),
            run_root,
            Start::Resume {
                run_id: run_id.to_string(),
                apply: false,
            },
        )
    }

    fn with_start(warehouse: Warehouse, run_root: impl Into<PathBuf>, start: Start) -> Self {
        BackfillBuilder {
            warehouse,
            run_root: run_root.into(),
            start,
            report_dir: None,
            stop_after: StopAfter::Merge,
            clock: None,
            allow_stale: false,
            progress: Arc::new(|_, _| {}),
            on_run: Arc::new(|_| {}),
        }
    }

    /// Stop after the diff and write nothing to the warehouse (default: false).
    pub fn with_dry_run(mut self, dry: bool) -> Self {
        if let Start::New { dry_run, .. } = &mut self.start {
            *dry_run = dry;
        }
        self
    }

    /// Also cover the first 14 days of each season (default: skip and count them).
    pub fn with_include_bootstrap(mut self, include: bool) -> Self {
        if let Start::New {
            include_bootstrap, ..
        } = &mut self.start
        {
            *include_bootstrap = include;
        }
        self
    }

    /// Also fill `historical_completeness_ext` (default: false). Local warehouses only.
    pub fn with_extended(mut self, yes: bool) -> Self {
        if let Start::New { extended, .. } = &mut self.start {
            *extended = yes;
        }
        self
    }

    /// When resuming a dry run, apply its merge (what `merge --run` does).
    pub fn with_apply(mut self, yes: bool) -> Self {
        if let Start::Resume { apply, .. } = &mut self.start {
            *apply = yes;
        }
        self
    }

    /// Also write the report files into this directory (default: only the run's `report/`).
    pub fn with_report_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.report_dir = dir;
        self
    }

    /// Stop after this phase (default: [`StopAfter::Merge`]).
    pub fn with_stop_after(mut self, stop: StopAfter) -> Self {
        self.stop_after = stop;
        self
    }

    /// Progress callback (default: silent).
    pub fn with_progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    /// Called with the run id as soon as the run directory exists (so a caller that is
    /// interrupted can say which run to resume).
    pub fn with_run_started(mut self, on_run: Arc<dyn Fn(&str) + Send + Sync>) -> Self {
        self.on_run = on_run;
        self
    }

    /// A fixed clock for run ids and the `updated_at` written (default: the wall clock,
    /// read when the run starts and when it merges).
    pub fn with_now(mut self, now: DateTime<Utc>) -> Self {
        self.clock = Some(now);
        self
    }

    /// Merge even if the games the run was computed from changed since its export
    /// (default: refuse, exit 2).
    pub fn with_allow_stale(mut self, yes: bool) -> Self {
        self.allow_stale = yes;
        self
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.unwrap_or_else(Utc::now)
    }

    pub async fn execute(self) -> Result<BackfillOutcome> {
        // Fail on a missing table before a run directory exists.
        if let Warehouse::Local(w) = &self.warehouse {
            w.open_table(FEATURES_TABLE).await?;
        }
        let (dir, mut manifest) = self.open_run()?;
        let _lock = dir.lock()?;
        if matches!(self.start, Start::Resume { .. }) {
            manifest = self.open_run()?.1; // as it is now that no one else holds the run
        }
        (self.on_run)(&dir.id);
        let mut phases = Phases {
            builder: &self,
            dir: &dir,
        };
        if !manifest.is_done(Phase::Export)
            && let Err(e) = phases.export(&mut manifest).await
        {
            // A new run that could not even export leaves nothing behind.
            if matches!(self.start, Start::New { .. }) {
                let _ = std::fs::remove_dir_all(&dir.path);
            }
            return Err(e);
        }
        if self.stop_after == StopAfter::Export {
            return phases.outcome(manifest, Report::default());
        }
        if !manifest.is_done(Phase::Compute) {
            phases.compute(&mut manifest).await?;
        }
        let mut report = if manifest.is_done(Phase::Diff) {
            Report::load(&dir.report_dir().join("report.json"))?
        } else {
            phases.diff(&mut manifest).await?
        };
        if manifest.dry_run || self.stop_after == StopAfter::Diff {
            phases.write_report(&report)?;
            return phases.outcome(manifest, report);
        }
        if matches!(self.start, Start::Resume { .. }) {
            phases.refuse_rolled_back(&manifest).await?;
        }
        let already_applied = manifest.is_done(Phase::Merge);
        if !already_applied {
            phases.merge(&mut manifest).await?;
        }
        report.dry_run = false;
        report.merge = manifest.merge.as_ref().map(|m| MergeSummary {
            rows_written: m.rows_written,
            conflicts: m.conflicts,
            table_version: m.table_version,
            conflict_keys: m.conflict_keys.clone(),
        });
        phases
            .write_report(&report)
            .map_err(|e| manifest.after_commit(e))?;
        phases.drop_exports(&manifest).await;
        let mut outcome = phases.outcome(manifest, report)?;
        outcome.already_applied = already_applied;
        Ok(outcome)
    }

    fn open_run(&self) -> Result<(RunDir, Manifest)> {
        match &self.start {
            Start::New {
                range,
                dry_run,
                include_bootstrap,
                extended,
            } => {
                let now = self.now();
                let dir = RunDir::create(&self.run_root, now)?;
                let manifest = Manifest {
                    run_id: dir.id.clone(),
                    created_at: now,
                    tool_version: env!("CARGO_PKG_VERSION").to_string(),
                    warehouse: self.warehouse.describe(),
                    range: *range,
                    dry_run: *dry_run,
                    include_bootstrap: *include_bootstrap,
                    extended: *extended,
                    snapshot: None,
                    season_starts: Default::default(),
                    rows: Default::default(),
                    phases: Default::default(),
                    merge: None,
                    bigquery: None,
                };
                manifest.save(&dir.manifest())?;
                Ok((dir, manifest))
            }
            Start::Resume { run_id, apply } => {
                let dir = RunDir::open(&self.run_root, run_id)?;
                let mut manifest = Manifest::load(&dir.manifest())?;
                let here = self.warehouse.describe();
                if manifest.warehouse != here {
                    return Err(Error::input(format!(
                        "run {run_id} was made against warehouse {}, not {here}",
                        manifest.warehouse
                    )));
                }
                if *apply && manifest.dry_run {
                    manifest.dry_run = false;
                    manifest.phases.remove(&Phase::Merge);
                }
                Ok((dir, manifest))
            }
        }
    }
}

impl std::future::IntoFuture for BackfillBuilder {
    type Output = Result<BackfillOutcome>;
    type IntoFuture = futures::future::BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}

/// The phases of one run, sharing the builder's settings and the run directory.
struct Phases<'a> {
    builder: &'a BackfillBuilder,
    dir: &'a RunDir,
}

impl Phases<'_> {
    fn begin(&self, m: &mut Manifest, phase: Phase) -> Result<Instant> {
        m.mark(phase, PhaseStatus::Started, Utc::now(), None);
        m.save(&self.dir.manifest())?;
        Ok(Instant::now())
    }

    fn finish(&self, m: &mut Manifest, phase: Phase, clock: Instant, message: &str) -> Result<()> {
        let ms = clock.elapsed().as_millis() as u64;
        m.mark(phase, PhaseStatus::Done, Utc::now(), Some(ms));
        m.save(&self.dir.manifest())?;
        (self.builder.progress)(phase, &format!("{message} ({ms} ms)"));
        Ok(())
    }

    async fn export(&mut self, m: &mut Manifest) -> Result<()> {
        let clock = self.begin(m, Phase::Export)?;
        failpoint::hit("export:started").await;
        let x = match &self.builder.warehouse {
            Warehouse::Local(w) => crate::export::export(w, m.range, self.dir).await?,
            Warehouse::BigQuery(w) => {
                use crate::warehouse::bigquery::{export::export, plan::ExportPlan};
                let plan = ExportPlan::new(w, m.range, &m.run_id, m.extended).await?;
                let mut record = m.bigquery.clone().unwrap_or_default();
                let x = export(w, &plan, &mut record).await;
                m.bigquery = Some(record);
                x?
            }
        };
        failpoint::hit("export:written").await;
        m.snapshot = Some(x.snapshot.clone()).filter(|_| m.bigquery.is_none());
        m.season_starts = x.season_starts;
        m.rows.insert("features".into(), x.num_feature_rows);
        m.rows.insert("games".into(), x.num_game_rows);
        let note = if x.schedule_missing {
            "; no schedule table, using the known season starts"
        } else {
            ""
        };
        let pinned = match &m.bigquery {
            Some(b) => format!("to {}", b.features_uri.trim_end_matches("/features")),
            None => format!("(table version {})", x.snapshot.features_version),
        };
        let message = format!(
            "export: {} feature records {pinned}, {} game rows{note}",
            x.num_feature_rows, x.num_game_rows
        );
        self.finish(m, Phase::Export, clock, &message)?;
        failpoint::hit("export:done").await;
        Ok(())
    }

    /// Where the exported features and games are: the run directory, or the bucket.
    fn exported(&self, m: &Manifest) -> Result<(Location, Location)> {
        match (&m.bigquery, &self.builder.warehouse) {
            (Some(b), Warehouse::BigQuery(w)) => Ok((
                w.stores.locate(&b.features_uri)?,
                w.stores.locate(&b.games_uri)?,
            )),
            _ => Ok((
                self.dir.exported_features().into(),
                self.dir.exported_games().into(),
            )),
        }
    }

    async fn compute(&mut self, m: &mut Manifest) -> Result<()> {
        let clock = self.begin(m, Phase::Compute)?;
        failpoint::hit("compute:started").await;
        let (features, games) = self.exported(m)?;
        let metrics = crate::compute::ComputeBuilder::new(features, games, self.dir.results())
            .with_start(Some(m.range.start))
            .with_end(Some(m.range.end))
            .await?;
        m.rows.insert("results".into(), metrics.num_records as u64);
        let mut message = format!("compute: {} records", metrics.num_records);
        if m.extended {
            message.push_str(&self.compute_extended(m).await?);
        }
        self.finish(m, Phase::Compute, clock, &message)?;
        failpoint::hit("compute:done").await;
        Ok(())
    }

    /// `extended.parquet`: the extended struct of every result key, from the exported
    /// games and the schedule at the version the export pinned.
    async fn compute_extended(&self, m: &Manifest) -> Result<String> {
        let ctx = crate::engine::session();
        let results = crate::engine::read_parquet(
            &ctx,
            &self.dir.results(),
            &[PLAYER_LOOKUP, GAME_DATE],
            "results",
        )
        .await?;
        let keys: Vec<(String, chrono::NaiveDate)> =
            crate::columns::strings(&results, PLAYER_LOOKUP)?
                .into_iter()
                .zip(crate::columns::dates(&results, GAME_DATE)?)
                .filter_map(|(p, d)| Some((p?, d?)))
                .collect();
        let exported_games = self.exported(m)?.1;
        // Which games list their rosters (exports before 2026-12 lack these columns).
        let mut columns = vec![PLAYER_LOOKUP, GAME_DATE, "team_abbr"];
        for flag in ["is_active", "is_dnp", "primary_source_used"] {
            if crate::engine::has_column(&ctx, &exported_games, flag).await? {
                columns.push(flag);
            }
        }
        let games =
            crate::engine::read_parquet_at(&ctx, &exported_games, &columns, "exported games")
                .await?;
        let schedule = self.team_games(m).await?;
        let no_schedule = schedule.iter().all(|b| b.num_rows() == 0);
        let inputs = crate::gaps::GapInputs::from_batches(&games, &schedule)?;
        let values = crate::extended::extended(&keys, &inputs, &m.calendar());
        crate::extended::write(&self.dir.extended(), &keys, &values)?;
        let missing = values
            .iter()
            .filter(|v| !v.missing_game_dates.is_empty())
            .count();
        Ok(if no_schedule {
            ", extended: no schedule games, so no missing games can be found".into()
        } else {
            format!(", extended: {missing} with missing games")
        })
    }

    /// The schedule's team games around the run: at the version the export pinned
    /// locally, from the schedule table on BigQuery.
    async fn team_games(&self, m: &Manifest) -> Result<Vec<arrow::array::RecordBatch>> {
        match &self.builder.warehouse {
            Warehouse::Local(w) => match m.snapshot.as_ref().and_then(|s| s.schedule_version) {
                Some(v) => crate::extended::team_games(w, v, m.range).await,
                None => Ok(Vec::new()),
            },
            Warehouse::BigQuery(w) => {
                if w.client.table(&w.tables.schedule).await?.is_none() {
                    return Ok(Vec::new());
                }
                let params = crate::extended::team_games_params(m.range);
                crate::warehouse::bigquery::checks::run(
                    w,
                    crate::queries::Query::TeamGames,
                    &params,
                )
                .await
            }
        }
    }

    /// The extended structs compute wrote, by key.
    async fn read_extended(
        &self,
        m: &Manifest,
    ) -> Result<
        Option<
            Arc<std::collections::HashMap<(String, i32), crate::extended::ExtendedCompleteness>>,
        >,
    > {
        if !m.extended {
            return Ok(None);
        }
        let ctx = crate::engine::session();
        let batches = crate::engine::read_parquet(
            &ctx,
            &self.dir.extended(),
            &[PLAYER_LOOKUP, GAME_DATE, crate::extended::EXTENDED_COLUMN],
            "extended results",
        )
        .await?;
        Ok(Some(Arc::new(crate::extended::by_key(&batches)?)))
    }

    async fn diff(&mut self, m: &mut Manifest) -> Result<Report> {
        let clock = self.begin(m, Phase::Diff)?;
        failpoint::hit("diff:started").await;
        let ctx = crate::engine::session();
        let results = crate::engine::read_parquet(
            &ctx,
            &self.dir.results(),
            &[
                PLAYER_LOOKUP,
                GAME_DATE,
                crate::model::HISTORICAL_COMPLETENESS,
            ],
            "results",
        )
        .await?;
        let mut columns = crate::export::FEATURE_COLUMNS.to_vec();
        let exported = self.exported(m)?.0;
        if m.extended
            && crate::engine::has_column(&ctx, &exported, crate::extended::EXTENDED_COLUMN).await?
        {
            columns.push(crate::extended::EXTENDED_COLUMN);
        }
        let current =
            crate::engine::read_parquet_at(&ctx, &exported, &columns, "exported features").await?;
        let options = DiffOptions {
            calendar: m.calendar(),
            include_bootstrap: m.include_bootstrap,
            extended: self.read_extended(m).await?,
        };
        let location = match &self.builder.warehouse {
            Warehouse::Local(w) => w.table_path(FEATURES_TABLE).display().to_string(),
            Warehouse::BigQuery(w) => w.describe(),
        };
        let outcome = crate::diff::diff(&results, &current, &options, &location)?;
        crate::tally_check::cross_check(&results, &current, &outcome.report).await?;
        crate::engine::write_parquet(
            &self.dir.changes(),
            outcome.changes.schema(),
            std::slice::from_ref(&outcome.changes),
        )?;
        failpoint::hit("diff:written").await;
        let mut report = outcome.report;
        report.run_id = m.run_id.clone();
        report.range = Some(m.range);
        report.dry_run = m.dry_run;
        report.write(&self.dir.report_dir())?;
        m.rows
            .insert("changes".into(), outcome.changes.num_rows() as u64);
        let message = format!(
            "diff: {} added, {} changed, {} unchanged, {} skipped",
            report.records.added,
            report.records.changed,
            report.records.unchanged,
            report.records.skipped_bootstrap
        );
        self.finish(m, Phase::Diff, clock, &message)?;
        failpoint::hit("diff:done").await;
        Ok(report)
    }

    async fn merge(&mut self, m: &mut Manifest) -> Result<()> {
        match &self.builder.warehouse {
            Warehouse::Local(w) => self.merge_local(w, m).await,
            Warehouse::BigQuery(w) => self.merge_bigquery(w, m).await,
        }
    }

    /// Refuse to merge a plan whose games changed since its export (unless allowed).
    async fn refuse_stale(&self, m: &Manifest) -> Result<()> {
        if self.builder.allow_stale {
            return Ok(());
        }
        if let (Warehouse::Local(w), Some(pinned)) = (&self.builder.warehouse, &m.snapshot) {
            let games = w.open_table(crate::model::GAMES_TABLE).await?;
            if games.version() == Some(pinned.games_version) {
                return Ok(()); // nothing was committed to the games since the export
            }
        }
        let ctx = crate::engine::session();
        let exported = crate::engine::read_parquet_at(
            &ctx,
            &self.exported(m)?.1,
            &[PLAYER_LOOKUP, GAME_DATE],
            "exported games",
        )
        .await?;
        let then = crate::staleness::exported_counts(&exported, m.range)?;
        let source = crate::check::Source::open(self.builder.warehouse.clone()).await?;
        let now = crate::staleness::current_counts(&source, m.range).await?;
        let changes = crate::staleness::compare(&then, &now);
        match changes.is_empty() {
            true => Ok(()),
            false => Err(crate::staleness::refusal(&m.run_id, m.range, &changes)),
        }
    }

    async fn merge_bigquery(&mut self, w: &BigQueryWarehouse, m: &mut Manifest) -> Result<()> {
        use crate::warehouse::bigquery::merge as bq;
        let num_changes = m.rows.get("changes").copied().unwrap_or(0);
        if let Some(job) = bq::find_merge(w, &m.run_id).await? {
            let mut record = m.bigquery.clone().unwrap_or_default();
            let mut x = crate::merge::MergeMetrics {
                num_changes,
                ..Default::default()
            };
            bq::apply_job_stats(&job, &mut x, &mut record);
            m.bigquery = Some(record);
            m.merge = Some(MergeRecord {
                rows_written: x.num_rows_written,
                conflicts: x.num_conflicts,
                ..Default::default()
            });
            m.mark(Phase::Merge, PhaseStatus::Done, Utc::now(), None);
            m.save(&self.dir.manifest())?;
            (self.builder.progress)(
                Phase::Merge,
                &format!("merge: already applied by BigQuery job {}", job.id),
            );
            return Ok(());
        }
        // A copy of the record, never taken out: the manifest saved meanwhile (and a
        // resumed run) keeps the exports it names.
        self.refuse_stale(m).await?;
        let mut record = m.bigquery.clone().unwrap_or_default();
        let clock = self.begin(m, Phase::Merge)?;
        failpoint::hit("merge:started").await;
        let x = bq::merge(
            w,
            &self.dir.changes(),
            num_changes,
            m.range,
            &m.run_id,
            self.builder.now(),
            &mut record,
        )
        .await;
        m.bigquery = Some(record);
        let x = x?;
        m.save(&self.dir.manifest())
            .map_err(|e| m.after_commit(e))?;
        failpoint::hit("merge:after-commit").await;
        m.merge = Some(MergeRecord {
            rows_written: x.num_rows_written,
            conflicts: x.num_conflicts,
            conflict_keys: x.conflict_keys.clone(),
            ..Default::default()
        });
        let message = if x.num_changes == 0 {
            "merge: nothing to write, no job".to_string()
        } else {
            format!(
                "merge: {} rows written by one MERGE, {} conflicts",
                x.num_rows_written, x.num_conflicts
            )
        };
        self.finish(m, Phase::Merge, clock, &message)
            .map_err(|e| m.after_commit(e))
    }

    /// A rolled-back run is never applied again: its rows were restored on purpose.
    async fn refuse_rolled_back(&self, m: &Manifest) -> Result<()> {
        use crate::warehouse::delta::log;
        let Warehouse::Local(w) = &self.builder.warehouse else {
            return Ok(()); // BigQuery keeps no record of rollbacks in the table
        };
        let table = w.open_table(FEATURES_TABLE).await?;
        if !log::has_transaction(&table, &log::rollback_app_id(&m.run_id)).await? {
            return Ok(());
        }
        let version = log::history(&table)?
            .into_iter()
            .find(|c| c.rollback_of.as_deref() == Some(&m.run_id))
            .map_or("an earlier version".to_string(), |c| {
                format!("version {}", c.version)
            });
        Err(Error::input(format!(
            "run {} was rolled back in {version}: its rows were restored and it is not applied \
             again; to write the structs anew, start a new run: completeness backfill --start {} --end {}{}",
            m.run_id,
            m.range.start,
            m.range.end,
            [
                (m.include_bootstrap, " --include-bootstrap"),
                (m.extended, " --extended")
            ]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, flag)| *flag)
            .collect::<String>()
        )))
    }

    async fn merge_local(&mut self, warehouse: &LocalWarehouse, m: &mut Manifest) -> Result<()> {
        use crate::warehouse::delta::log;
        let table = warehouse.open_table(FEATURES_TABLE).await?;
        if log::has_transaction(&table, &log::merge_app_id(&m.run_id)).await? {
            // Its commit file may be gone (log cleanup); the manifest then keeps what it had.
            let commit = log::history(&table)?
                .into_iter()
                .find(|c| c.run_id.as_deref() == Some(&m.run_id));
            let record = m.merge.get_or_insert_with(MergeRecord::default);
            if let Some(c) = &commit {
                record.table_version = Some(c.version);
                record.rows_written = c.rows_updated.unwrap_or(record.rows_written);
            }
            m.mark(Phase::Merge, PhaseStatus::Done, Utc::now(), None);
            m.save(&self.dir.manifest())?;
            let at = commit.map_or("earlier".to_string(), |c| {
                format!("as version {}", c.version)
            });
            (self.builder.progress)(Phase::Merge, &format!("merge: already committed {at}"));
            return Ok(());
        }
        self.refuse_stale(m).await?;
        let clock = self.begin(m, Phase::Merge)?;
        failpoint::hit("merge:started").await;
        let ctx = crate::engine::session();
        let schema = crate::diff::changes_schema_for(m.extended);
        let changes = crate::engine::read_parquet(
            &ctx,
            &self.dir.changes(),
            &schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>(),
            "changes",
        )
        .await?;
        let changes = normalise_changes(changes, schema)?;
        let staging = self.dir.path.join("staged");
        if staging.exists() {
            // What an interrupted attempt staged: never committed, rewritten below.
            std::fs::remove_dir_all(&staging)
                .map_err(Error::io("clearing staged files", &staging))?;
        }
        let now = self.builder.now();
        let x = crate::merge::merge(warehouse, changes, &m.run_id, now, &staging).await;
        let _ = std::fs::remove_dir_all(&staging);
        let x = x?;
        let committed = x.table_version;
        m.merge = Some(MergeRecord {
            read_version: Some(x.read_version),
            table_version: x.table_version,
            rows_written: x.num_rows_written,
            conflicts: x.num_conflicts,
            conflict_keys: x.conflict_keys.clone(),
            steps_ms: x.steps_ms.clone(),
        });
        let steps: Vec<String> = x
            .steps_ms
            .iter()
            .map(|(step, ms)| format!("{step} {ms} ms"))
            .collect();
        let message = match x.table_version {
            Some(v) => format!(
                "merge: {} rows written in version {v}, {} conflicts [{}]",
                x.num_rows_written,
                x.num_conflicts,
                steps.join(", ")
            ),
            None => format!(
                "merge: nothing to write, no commit ({} conflicts)",
                x.num_conflicts
            ),
        };
        self.finish(m, Phase::Merge, clock, &message)
            .map_err(|e| match committed {
                Some(_) => m.after_commit(e),
                None => e,
            })
    }

    /// The exported Parquet of a merged run is no longer needed (a dry run keeps its
    /// exports for `merge --run`); a failure to delete it is only a warning.
    async fn drop_exports(&self, m: &Manifest) {
        let removed = match (&m.bigquery, &self.builder.warehouse) {
            (Some(b), Warehouse::BigQuery(w)) => {
                crate::warehouse::bigquery::export::delete_exports(w, b).await
            }
            _ => {
                let dir = self.dir.path.join("export");
                std::fs::remove_dir_all(&dir)
                    .or_else(|e| match e.kind() {
                        std::io::ErrorKind::NotFound => Ok(()),
                        _ => Err(e),
                    })
                    .map_err(Error::io("removing the run's exports", &dir))
            }
        };
        if let Err(e) = removed {
            tracing::warn!("{e}");
            (self.builder.progress)(Phase::Merge, &format!("warning: {e}"));
        }
    }

    fn write_report(&self, report: &Report) -> Result<()> {
        if report.merge.is_some() && failpoint::injected("report:fail-after-commit") {
            return Err(Error::io("writing the report", self.dir.report_dir())(
                std::io::Error::other("injected failure"),
            ));
        }
        report.write(&self.dir.report_dir())?;
        if let Some(dir) = &self.builder.report_dir {
            report.write(dir)?;
        }
        Ok(())
    }

    fn outcome(&self, manifest: Manifest, report: Report) -> Result<BackfillOutcome> {
        Ok(BackfillOutcome {
            run_id: self.dir.id.clone(),
            run_dir: self.dir.path.clone(),
            report,
            manifest,
            already_applied: false,
        })
    }
}

/// Cast the changes read back from Parquet to the exact schema the merge expects.
fn normalise_changes(
    batches: Vec<arrow::array::RecordBatch>,
    schema: arrow::datatypes::SchemaRef,
) -> Result<Vec<arrow::array::RecordBatch>> {
    batches
        .into_iter()
        .filter(|b| b.num_rows() > 0)
        .map(|b| {
            let columns = schema
                .fields()
                .iter()
                .zip(b.columns())
                .map(|(f, c)| arrow::compute::cast(c, f.data_type()))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(Error::arrow("reading changes"))?;
            arrow::array::RecordBatch::try_new(schema.clone(), columns)
                .map_err(Error::arrow("reading changes"))
        })
        .collect()
}
