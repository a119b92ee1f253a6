//! `backfill`: export → compute → diff → merge, each phase recorded in the manifest.
//!
//! A run starts fresh ([`BackfillBuilder::new`]) or continues one ([`BackfillBuilder::resume`]):
//! phases already done are not repeated, so a run interrupted at any point can be
//! resumed and ends as an uninterrupted run would. A dry run stops after the diff;
//! `merge --run` applies such a run later. The merge phase, when it was started but not
//! recorded as done, first asks the table whether the run committed (its application
//! transaction on Delta, its MERGE job on BigQuery): if so, the merge happened and is not
//! repeated. Before merging, the games the run was computed from are compared with the
//! table's ([`crate::pipeline::staleness`]): a stale plan is refused unless allowed.
//!
//! A run computed in BigQuery ([`Compute::Bigquery`], `--compute-in bigquery`) has no
//! export: its compute phase is one job writing the plan into a staging table, its diff
//! phase one job reading the report from it, its merge one MERGE that refuses a stale
//! plan itself ([`pushdown`]). The manifest records the mode, so `merge --run`,
//! `--resume` and `rollback` treat the run as it was made.

mod pushdown;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::failpoint;
use crate::hint::COMPLETENESS;
use crate::io::storage::Location;
use crate::model::count::thousands;
use crate::model::dates::DateRange;
use crate::model::{GAME_DATE, PLAYER_LOOKUP};
use crate::pipeline::blocking;
use crate::pipeline::diff::DiffOptions;
use crate::pipeline::gaps::{GapInputs, TeamGames};
use crate::report::{MergeSummary, Report, RunStatus};
use crate::run::dir::RunDir;
use crate::run::manifest::{Compute, Manifest, Phase, PhaseStatus};
use crate::warehouse::Warehouse;

/// What the progress callback hears as the run goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// A phase began (a terminal can show it working).
    Started(Phase),
    /// A phase ended, with its one-line summary.
    Done(Phase, &'a str),
    /// A line to show that ends no phase (a warning, an earlier commit found).
    Note(Phase, &'a str),
}

/// Called with each [`Step`] of the run.
pub type Progress = Arc<dyn Fn(Step) + Send + Sync>;

/// What a backfill produced.
#[derive(Debug, Clone, Serialize)]
pub struct BackfillOutcome {
    pub run_id: String,
    pub run_dir: PathBuf,
    pub report: Report,
    pub manifest: Manifest,
    /// The run's merge was committed before this invocation, which wrote nothing.
    pub already_applied: bool,
    /// The run had no record to compute and its directory was removed (a new run).
    pub discarded: bool,
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
        compute: Compute,
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
                compute: Compute::Local,
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
            progress: Arc::new(|_| {}),
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

    /// Where a new run computes the structs (default: [`Compute::Local`]; a resumed run
    /// keeps the mode its manifest records).
    pub fn with_compute(mut self, mode: Compute) -> Self {
        if let Start::New { compute, .. } = &mut self.start {
            *compute = mode;
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
        self.refuse_unsupported()?;
        // Fail on a missing table before a run directory exists.
        self.warehouse.require_features().await?;
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
        let in_warehouse = manifest.compute == Compute::Bigquery;
        let first = match in_warehouse {
            true if !manifest.is_done(Phase::Compute) => phases.plan(&mut manifest).await,
            false if !manifest.is_done(Phase::Export) => {
                phases.export_writable(&mut manifest).await
            }
            _ => Ok(()),
        };
        if let Err(e) = first {
            // A new run that could not even export (or plan) leaves nothing behind.
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
        } else if in_warehouse {
            phases.plan_report(&mut manifest).await?
        } else {
            phases.diff(&mut manifest).await?
        };
        report.merge = merge_summary(&manifest);
        report.status = RunStatus::of(&report.records, report.merge.as_ref(), manifest.dry_run);
        if report.status == RunStatus::NothingToCompute {
            return phases.nothing_to_compute(manifest, report, _lock).await;
        }
        if manifest.dry_run || self.stop_after == StopAfter::Diff {
            // A plan its merge would refuse is not kept as a run.
            let preview = self
                .warehouse
                .preview_merge(&manifest, &dir, self.now())
                .await;
            if let Err(e) = preview {
                if matches!(self.start, Start::New { .. }) {
                    drop(_lock);
                    let _ = std::fs::remove_dir_all(&dir.path);
                }
                return Err(e);
            }
            report.dry_run = report.merge.is_none();
            phases.note_costs(&mut manifest, &mut report).await?;
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
        report.merge = merge_summary(&manifest);
        report.status = RunStatus::of(&report.records, report.merge.as_ref(), false);
        // The run's report records what its merge did (again, when an earlier command
        // committed it and stopped before its report was written).
        phases
            .note_costs(&mut manifest, &mut report)
            .await
            .map_err(|e| manifest.after_commit(e))?;
        phases
            .write_report(&report)
            .map_err(|e| manifest.after_commit(e))?;
        phases.drop_exports(&manifest).await;
        if already_applied {
            report = now_already_applied(report);
        }
        let mut outcome = phases.outcome(manifest, report)?;
        outcome.already_applied = already_applied;
        Ok(outcome)
    }

    /// What a run computed in BigQuery does not cover is refused before anything exists.
    fn refuse_unsupported(&self) -> Result<()> {
        match self.start {
            Start::New {
                extended: true,
                compute: Compute::Bigquery,
                ..
            } => Err(Error::input(
                "--extended is not covered when the run computes in BigQuery (--compute-in \
                 bigquery, or compute = \"bigquery\" in completeness.toml): run it with \
                 --compute-in local; nothing was written",
            )),
            _ => Ok(()),
        }
    }

    fn open_run(&self) -> Result<(RunDir, Manifest)> {
        match &self.start {
            Start::New {
                range,
                dry_run,
                include_bootstrap,
                extended,
                compute,
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
                    compute: *compute,
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
        m.mark(phase, PhaseStatus::Started, self.builder.now(), None);
        m.save(&self.dir.manifest())?;
        tracing::debug!(run = %m.run_id, ?phase, "phase started");
        (self.builder.progress)(Step::Started(phase));
        Ok(Instant::now())
    }

    fn finish(&self, m: &mut Manifest, phase: Phase, clock: Instant, message: &str) -> Result<()> {
        let ms = clock.elapsed().as_millis() as u64;
        m.mark(phase, PhaseStatus::Done, self.builder.now(), Some(ms));
        m.save(&self.dir.manifest())?;
        tracing::debug!(run = %m.run_id, ?phase, elapsed_ms = ms, "phase done");
        let line = format!("{message} ({} ms)", thousands(ms));
        (self.builder.progress)(Step::Done(phase, &line));
        Ok(())
    }

    async fn export(&mut self, m: &mut Manifest) -> Result<()> {
        let clock = self.begin(m, Phase::Export)?;
        failpoint::hit("export:started").await;
        let x = self.builder.warehouse.export(m, self.dir).await?;
        failpoint::hit("export:written").await;
        m.season_starts = x.season_starts;
        m.rows.insert("features".into(), x.num_feature_rows);
        m.rows.insert("games".into(), x.num_game_rows);
        let note = if x.schedule_missing {
            "; no schedule table, using the known season starts"
        } else {
            ""
        };
        let pinned = self.builder.warehouse.pinned(m);
        let message = format!(
            "export: {} feature records {pinned}, {} game rows{note}",
            thousands(x.num_feature_rows),
            thousands(x.num_game_rows)
        );
        self.finish(m, Phase::Export, clock, &message)?;
        failpoint::hit("export:done").await;
        Ok(())
    }

    /// The export of a new run, then the question whether its merge could ever write the
    /// table: a run that could never be applied is not planned (the columns the export
    /// validates are named first).
    async fn export_writable(&mut self, m: &mut Manifest) -> Result<()> {
        self.export(m).await?;
        match self.builder.start {
            Start::New { extended, .. } => self.builder.warehouse.require_writable(extended).await,
            Start::Resume { .. } => Ok(()),
        }
    }

    /// Where the exported features and games are: the run directory, or the bucket.
    fn exported(&self, m: &Manifest) -> Result<(Location, Location)> {
        self.builder.warehouse.exported(m, self.dir)
    }

    async fn compute(&mut self, m: &mut Manifest) -> Result<()> {
        let clock = self.begin(m, Phase::Compute)?;
        failpoint::hit("compute:started").await;
        let (features, games) = self.exported(m)?;
        let metrics =
            crate::pipeline::compute::ComputeBuilder::new(features, games, self.dir.results())
                .with_start(Some(m.range.start))
                .with_end(Some(m.range.end))
                .await?;
        m.rows.insert("results".into(), metrics.num_records as u64);
        let mut message = format!("compute: {} records", thousands(metrics.num_records as u64));
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
        let ctx = crate::io::engine::session();
        let results = crate::io::engine::read_parquet(
            &ctx,
            &self.dir.results(),
            &[PLAYER_LOOKUP, GAME_DATE],
            "results",
        )
        .await?;
        let keys = crate::io::columns::record_keys(&results)?;
        let (inputs, no_schedule) = self.gap_inputs(m).await?;
        let values = crate::pipeline::extended::extended(&keys, &inputs, &m.calendar());
        crate::pipeline::extended::write(&self.dir.extended(), &keys, &values)?;
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

    /// What the gap rule reads for the run: the exported games and the schedule's team
    /// games at the version the export pinned; and whether there is no schedule (then
    /// no missing game can be found).
    async fn gap_inputs(&self, m: &Manifest) -> Result<(GapInputs, bool)> {
        let mut inputs = self.exported_game_rows(m).await?;
        let no_schedule = self.add_team_games(m, &mut inputs).await?;
        Ok((inputs, no_schedule))
    }

    /// The exported games as the gap rule reads them, without the schedule yet.
    async fn exported_game_rows(&self, m: &Manifest) -> Result<GapInputs> {
        let clock = Instant::now();
        const COLUMNS: [&str; 3] = [PLAYER_LOOKUP, GAME_DATE, "team_abbr"];
        // Which games list their rosters (exports before 2026-12 lack these columns).
        const FLAGS: [&str; 3] = ["is_active", "is_dnp", "primary_source_used"];
        const WHAT: &str = "exported games";
        let exported_games = self.exported(m)?.1;
        let games = match exported_games {
            // Straight from the file's row groups on all cores, as compute reads it.
            Location::Local(path) => {
                blocking(move || {
                    crate::io::local_parquet::read_columns_with_optional(
                        &path, &COLUMNS, &FLAGS, WHAT,
                    )
                })
                .await?
            }
            remote @ Location::Remote(_) => {
                let ctx = crate::io::engine::session();
                let mut columns = COLUMNS.to_vec();
                for flag in FLAGS {
                    if crate::io::engine::has_column(&ctx, &remote, flag).await? {
                        columns.push(flag);
                    }
                }
                crate::io::engine::read_parquet_at(&ctx, &remote, &columns, WHAT).await?
            }
        };
        let inputs = blocking(move || GapInputs::from_batches(&games, &[])).await?;
        tracing::debug!(
            elapsed_ms = clock.elapsed().as_millis() as u64,
            "exported games read for the gap rule"
        );
        Ok(inputs)
    }

    /// The schedule's team games into `inputs`; whether there are none.
    async fn add_team_games(&self, m: &Manifest, inputs: &mut GapInputs) -> Result<bool> {
        let schedule = self.builder.warehouse.team_games(m).await?;
        inputs.teams = TeamGames::from_batches(&schedule)?;
        Ok(inputs.teams.is_empty())
    }

    /// Why each INCOMPLETE record of the diff falls short (the words every report uses:
    /// only a game missing upstream is a data gap), from the exported games `rows`;
    /// None without a schedule.
    async fn reasons(
        &self,
        m: &Manifest,
        incomplete: &[(String, chrono::NaiveDate)],
        mut rows: GapInputs,
    ) -> Result<Option<Vec<crate::model::reasons::Reason>>> {
        if incomplete.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let clock = Instant::now();
        if self.add_team_games(m, &mut rows).await? {
            return Ok(None);
        }
        let reasons =
            crate::pipeline::extended::incomplete_reasons(incomplete, &rows, &m.calendar());
        tracing::debug!(
            records = incomplete.len(),
            elapsed_ms = clock.elapsed().as_millis() as u64,
            "reasons of the incomplete records"
        );
        Ok(Some(reasons))
    }

    /// The extended structs compute wrote, by key.
    async fn read_extended(
        &self,
        m: &Manifest,
    ) -> Result<
        Option<
            Arc<
                std::collections::HashMap<
                    (String, i32),
                    crate::model::extended_column::ExtendedCompleteness,
                >,
            >,
        >,
    > {
        if !m.extended {
            return Ok(None);
        }
        let ctx = crate::io::engine::session();
        let batches = crate::io::engine::read_parquet(
            &ctx,
            &self.dir.extended(),
            &[
                PLAYER_LOOKUP,
                GAME_DATE,
                crate::model::extended_column::EXTENDED_COLUMN,
            ],
            "extended results",
        )
        .await?;
        Ok(Some(Arc::new(crate::pipeline::extended::by_key(&batches)?)))
    }

    async fn diff(&mut self, m: &mut Manifest) -> Result<Report> {
        let clock = self.begin(m, Phase::Diff)?;
        failpoint::hit("diff:started").await;
        let ctx = crate::io::engine::session();
        let results = crate::io::engine::read_parquet(
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
        let mut columns = crate::pipeline::diff::STORED_COLUMNS.to_vec();
        let exported = self.exported(m)?.0;
        if m.extended
            && crate::io::engine::has_column(
                &ctx,
                &exported,
                crate::model::extended_column::EXTENDED_COLUMN,
            )
            .await?
        {
            columns.push(crate::model::extended_column::EXTENDED_COLUMN);
        }
        let current =
            crate::io::engine::read_parquet_at(&ctx, &exported, &columns, "exported features")
                .await?;
        let options = DiffOptions {
            calendar: m.calendar(),
            include_bootstrap: m.include_bootstrap,
            extended: self.read_extended(m).await?,
        };
        let location = self.builder.warehouse.features_location();
        // The games the reasons read are parsed while the diff runs, and the changes are
        // written while the reasons are found (the phase's three longest steps). A diff
        // that finds no INCOMPLETE record has read the games for nothing: the rare case.
        let skipped = self.builder.warehouse.reasons_skipped(m);
        let rows = async {
            match skipped {
                Some(_) => Ok(None),
                None => self.exported_game_rows(m).await.map(Some),
            }
        };
        let checked =
            crate::pipeline::tally_check::checked_diff(results, current, options, location);
        let step = Instant::now();
        let (outcome, rows) = tokio::try_join!(checked, rows)?;
        tracing::debug!(
            elapsed_ms = step.elapsed().as_millis() as u64,
            "diff, its SQL recount and the games for the reasons, side by side"
        );
        let (path, changes) = (self.dir.changes(), outcome.changes.clone());
        let write = blocking(move || {
            let step = Instant::now();
            let written = crate::io::engine::write_parquet_grouped(
                &path,
                changes.schema(),
                std::slice::from_ref(&changes),
            );
            tracing::debug!(
                rows = changes.num_rows(),
                elapsed_ms = step.elapsed().as_millis() as u64,
                "changes.parquet written"
            );
            written
        });
        let reasons = async {
            match rows {
                Some(rows) => self.reasons(m, &outcome.incomplete, rows).await,
                None => Ok(None),
            }
        };
        let (written, reasons) = tokio::join!(write, reasons);
        written?;
        failpoint::hit("diff:written").await;
        let mut report = outcome.report;
        match (skipped, reasons?) {
            (Some(why), _) => report.reasons_unknown = Some(why),
            (None, Some(reasons)) => {
                let days = outcome.incomplete.iter().map(|(_, day)| *day);
                report.set_reasons(days.zip(reasons));
            }
            (None, None) => {}
        }
        report.run_id = m.run_id.clone();
        report.range = Some(m.range);
        // Nothing is written yet: a plan (the merge, if any, rewrites the report).
        report.dry_run = true;
        report.status = RunStatus::of(&report.records, None, m.dry_run);
        report.write(&self.dir.report_dir())?;
        m.rows
            .insert("changes".into(), outcome.changes.num_rows() as u64);
        let message = format!(
            "diff: {} added, {} changed, {} unchanged, {} skipped",
            thousands(report.records.added),
            thousands(report.records.changed),
            thousands(report.records.unchanged),
            thousands(report.records.skipped_bootstrap)
        );
        self.finish(m, Phase::Diff, clock, &message)?;
        failpoint::hit("diff:done").await;
        Ok(report)
    }

    /// Apply the run's changes, unless the run committed them before (then only its
    /// record is brought up to date).
    async fn merge(&mut self, m: &mut Manifest) -> Result<()> {
        let warehouse = &self.builder.warehouse;
        if let Some(how) = warehouse.applied_merge(m).await? {
            m.mark(Phase::Merge, PhaseStatus::Done, self.builder.now(), None);
            m.save(&self.dir.manifest())?;
            let line = format!("merge: already committed {how}");
            (self.builder.progress)(Step::Note(Phase::Merge, &line));
            return Ok(());
        }
        // A plan computed in BigQuery is checked by its own MERGE, in the same statement.
        if m.compute == Compute::Local {
            self.refuse_stale(m).await?;
        }
        let clock = self.begin(m, Phase::Merge)?;
        failpoint::hit("merge:started").await;
        let x = match m.compute {
            Compute::Local => warehouse.merge(m, self.dir, self.builder.now()).await?,
            Compute::Bigquery => self.merge_plan(m).await?,
        };
        failpoint::hit("merge:after-commit").await;
        let committed = x.table_version.is_some() || x.job_id.is_some();
        self.finish(m, Phase::Merge, clock, &merge_message(&x))
            .map_err(|e| match committed {
                true => m.after_commit(e),
                false => e,
            })
    }

    /// Refuse to merge a plan whose games changed since its export (unless allowed).
    async fn refuse_stale(&self, m: &Manifest) -> Result<()> {
        let warehouse = &self.builder.warehouse;
        if self.builder.allow_stale || warehouse.games_unchanged(m).await? {
            return Ok(());
        }
        let ctx = crate::io::engine::session();
        let exported = crate::io::engine::read_parquet_at(
            &ctx,
            &self.exported(m)?.1,
            &[PLAYER_LOOKUP, GAME_DATE],
            "exported games",
        )
        .await?;
        let then = crate::pipeline::staleness::exported_counts(&exported, m.range)?;
        let now =
            crate::pipeline::staleness::current_counts(&warehouse.source().await?, m.range).await?;
        let changes = crate::pipeline::staleness::compare(&then, &now);
        match changes.is_empty() {
            true => Ok(()),
            false => Err(crate::pipeline::staleness::refusal(
                &m.run_id, m.range, &changes,
            )),
        }
    }

    /// A rolled-back run is never applied again: its rows were restored on purpose.
    async fn refuse_rolled_back(&self, m: &Manifest) -> Result<()> {
        let Some(version) = self.builder.warehouse.rolled_back_in(m).await? else {
            return Ok(());
        };
        Err(Error::input(format!(
            "run {} was rolled back in {version}: its rows were restored and it is not applied \
             again; to write the structs anew, start a new run: `{COMPLETENESS} merge --run {} \
             --reapply` recomputes its range, as `{}` does",
            m.run_id,
            m.run_id,
            m.backfill_command()
        )))
    }

    /// The exported Parquet of a merged run is no longer needed (a dry run keeps its
    /// exports for `merge --run`); a failure to delete it is only a warning.
    async fn drop_exports(&self, m: &Manifest) {
        if let Err(e) = self.builder.warehouse.drop_exports(m, self.dir).await {
            tracing::warn!("{e}");
            (self.builder.progress)(Step::Note(Phase::Merge, &format!("warning: {e}")));
        }
    }

    /// The cost of the run's warehouse jobs into the report (and the manifest, which
    /// keeps them per job); nothing on a local warehouse.
    async fn note_costs(&self, m: &mut Manifest, report: &mut Report) -> Result<()> {
        report.jobs = self.builder.warehouse.job_costs(m).await;
        match report.jobs.is_empty() {
            true => Ok(()),
            false => m.save(&self.dir.manifest()),
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
            discarded: false,
        })
    }

    /// A run without a record to compute (a window after the data, or of bootstrap days
    /// only) has nothing to merge: a new one leaves no run directory and no exports (its
    /// report goes only to `--report DIR`); a resumed one keeps its directory and its
    /// report says so.
    async fn nothing_to_compute(
        &self,
        manifest: Manifest,
        mut report: Report,
        lock: std::fs::File,
    ) -> Result<BackfillOutcome> {
        report.dry_run = true;
        let discarded = matches!(self.builder.start, Start::New { .. });
        if discarded {
            self.drop_exports(&manifest).await;
            drop(lock);
            std::fs::remove_dir_all(&self.dir.path)
                .map_err(Error::io("removing the run directory", &self.dir.path))?;
            report.run_id = String::new();
            if let Some(dir) = &self.builder.report_dir {
                report.write(dir)?;
            }
        } else {
            self.write_report(&report)?;
        }
        let mut outcome = self.outcome(manifest, report)?;
        outcome.discarded = discarded;
        Ok(outcome)
    }
}

/// The report's merge summary from the manifest's merge record (none before a merge).
fn merge_summary(m: &Manifest) -> Option<MergeSummary> {
    let merge = m.merge.as_ref()?;
    Some(MergeSummary {
        rows_written: merge.rows_written,
        conflicts: merge.conflicts,
        table_version: merge.table_version,
        conflict_keys: merge.conflict_keys.clone(),
        conflict_keys_truncated: (merge.conflict_keys.len() as u64) < merge.conflicts,
        runs_since_plan: merge.runs_since_plan.clone(),
        job_id: m.merge_job().map(str::to_string),
    })
}

/// The report of a command that found the run applied before: it wrote nothing now.
/// The version (or job) of the run's commit stays, so the header can name it.
fn now_already_applied(mut report: Report) -> Report {
    report.status = RunStatus::AlreadyApplied;
    report.already_applied = true;
    if let Some(m) = report.merge.as_mut() {
        *m = MergeSummary {
            table_version: m.table_version,
            job_id: m.job_id.take(),
            ..MergeSummary::default()
        };
    }
    report
}

/// The progress line of a merge: the commit (or job) and its counts.
fn merge_message(x: &crate::warehouse::MergeMetrics) -> String {
    let steps: Vec<String> = x
        .steps_ms
        .iter()
        .map(|(step, ms)| format!("{step} {} ms", thousands(*ms)))
        .collect();
    match (x.table_version, &x.job_id) {
        (Some(v), _) => format!(
            "merge: {} rows written in version {v}, {} conflicts [{}]",
            thousands(x.num_rows_written),
            thousands(x.num_conflicts),
            steps.join(", ")
        ),
        (None, Some(job)) => format!(
            "merge: {} rows written by one MERGE (BigQuery job {job}), {} conflicts",
            thousands(x.num_rows_written),
            thousands(x.num_conflicts)
        ),
        (None, None) => format!(
            "merge: nothing to write, no commit ({} conflicts)",
            thousands(x.num_conflicts)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts and timings in the merge's progress line are written as everywhere.
    #[test]
    fn the_merge_line_groups_digits() {
        let x = crate::warehouse::MergeMetrics {
            num_rows_written: 43_662,
            num_conflicts: 1_200,
            table_version: Some(3),
            steps_ms: [("commit".to_string(), 1_289)].into_iter().collect(),
            ..Default::default()
        };
        assert_eq!(
            merge_message(&x),
            "merge: 43,662 rows written in version 3, 1,200 conflicts [commit 1,289 ms]"
        );
    }
}
