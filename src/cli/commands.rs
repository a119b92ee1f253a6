//! Turns parsed arguments into operations and prints their results.
//!
//! Human output goes to stdout (summaries) and stderr (progress); `--json` prints one
//! JSON document on stdout. The returned code is the process exit code for a command
//! that ran: 0, or 1 when it found failures (merge conflicts).

use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;

use crate::cli::{
    BackfillArgs, CheckCommand, CheckOutputArgs, Cli, Command, ComputeArgs, DailyArgs, DiffArgs,
    GenerateArgs, MergeArgs, RangeArgs, ReportCommand, RollbackArgs, RunsArgs, SamplesCommand,
    SpotCheckArgs,
};
use crate::config::{FileConfig, Settings};
use crate::error::{Error, Result};
use crate::hint::COMPLETENESS;
use crate::model::count::thousands;
use crate::model::dates::DateRange;
use crate::ops::check::Check;
use crate::ops::data_end::DataEnd;
use crate::pipeline::backfill::{BackfillBuilder, BackfillOutcome, Progress, StopAfter};
use crate::report::RunStatus;
use crate::run::manifest::Compute;
use crate::warehouse::{BigQueryWarehouse, LocalWarehouse, Warehouse};
use crate::{say, say_text, tell, tell_text};

/// The location flags typed on this command line go into every command printed for
/// pasting (those from the environment do not: the pasting shell has them).
fn remember_location_flags(cli: &Cli) {
    let run_dir = cli.run_dir.as_ref().map(|p| p.to_string_lossy());
    let config = cli.config.as_ref().map(|p| p.to_string_lossy());
    let flags = [
        ("--warehouse", cli.warehouse.as_deref()),
        ("--run-dir", run_dir.as_deref()),
        ("--config", config.as_deref()),
    ];
    crate::hint::set_flags(flags.into_iter().filter_map(|(f, v)| Some((f, v?))));
}

/// Run a parsed command line; returns the exit code.
pub fn run(cli: Cli) -> Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::io("starting the async runtime", "."))?;
    runtime.block_on(dispatch(cli))
}

struct Output {
    json: bool,
    quiet: bool,
}

impl Output {
    fn progress(&self) -> Progress {
        crate::cli::progress::reporter(self.quiet, crate::cli::progress::spinners_wanted(self.json))
    }

    /// A spinner while a long step without phases works (a terminal only, not under
    /// `-q` or `--json`).
    fn working(&self, label: &str) -> crate::cli::progress::Working {
        let spinners = !self.quiet && crate::cli::progress::spinners_wanted(self.json);
        crate::cli::progress::Working::start(label, spinners)
    }

    fn json<T: Serialize>(&self, value: &T) {
        println!(
            "{}",
            serde_json::to_string_pretty(value).expect("serializable")
        );
    }
}

async fn dispatch(cli: Cli) -> Result<u8> {
    remember_location_flags(&cli);
    let config = cli
        .config
        .or_else(|| crate::config::from_env("COMPLETENESS_CONFIG"));
    let file = FileConfig::load(config.as_deref())?;
    let settings = Settings::resolve(cli.warehouse, cli.run_dir, file);
    crate::cli::logging::init(cli.verbose, cli.quiet, cli.json);
    tracing::debug!(
        "{} warehouse: {}; run dir: {}; config: {}",
        settings.kind.name(),
        match settings.kind {
            crate::config::Kind::Local => settings.warehouse.clone().unwrap_or_default(),
            crate::config::Kind::Bigquery => settings
                .bigquery
                .as_ref()
                .map_or("(no [bigquery] section)".into(), |b| b.project.clone()),
        },
        settings.run_dir.display(),
        settings
            .config_file
            .as_ref()
            .map_or("none".into(), |p| p.display().to_string())
    );
    let out = Output {
        json: cli.json,
        quiet: cli.quiet,
    };
    match cli.command {
        Command::Samples(SamplesCommand::Generate(args)) => generate(args, &out).await,
        Command::Samples(SamplesCommand::Inputs(args)) => {
            let m = crate::samples::inputs::write_inputs(&warehouse(&settings)?, &args.out).await?;
            print_inputs(&m, &args.out, &out)
        }
        Command::Compute(args) => compute(args, &settings, &out).await,
        Command::Doctor => doctor(&settings, &out).await,
        Command::Export(args) => export(args, &settings, &out).await,
        Command::Diff(args) => diff(args, &settings, &out).await,
        Command::Merge(args) => merge(args, &settings, &out).await,
        Command::Backfill(args) => backfill(args, &settings, &out).await,
        Command::Check(command) => check(command, &settings, &out).await,
        Command::SpotCheck(args) => spot_check(args, &settings, &out).await,
        Command::Rollback(args) => rollback(args, &settings, &out).await,
        Command::Runs(args) => runs(args, &settings, &out).await,
        Command::Report(ReportCommand::Daily(args)) => report_daily(args, &settings, &out).await,
        Command::Completions(args) => {
            crate::cli::generated::completions(args.shell, &mut std::io::stdout());
            Ok(0)
        }
        Command::Man(args) => man(args, &out),
        Command::Views(args) => {
            if out.json {
                let views = crate::ops::views::statements(&args.dataset, &args.features_table)?;
                out.json(&serde_json::json!({ "views": views }));
            } else {
                print!(
                    "{}",
                    crate::ops::views::render(&args.dataset, &args.features_table)?
                );
            }
            Ok(0)
        }
    }
}

fn man(args: crate::cli::ManArgs, out: &Output) -> Result<u8> {
    let Some(dir) = args.out else {
        return crate::cli::generated::man(&mut std::io::stdout()).map(|()| 0);
    };
    let pages = crate::cli::generated::man_pages(&dir)?;
    if !out.quiet {
        say!("wrote {} man pages into {}", pages.len(), dir.display());
    }
    Ok(0)
}

fn print_inputs(
    m: &crate::samples::inputs::InputMetrics,
    dir: &std::path::Path,
    out: &Output,
) -> Result<u8> {
    if out.json {
        out.json(m);
    } else if !out.quiet {
        say!(
            "wrote {} feature keys and {} game rows to {}",
            thousands(m.num_feature_rows as u64),
            thousands(m.num_game_rows as u64),
            dir.display()
        );
    }
    Ok(0)
}

async fn generate(args: GenerateArgs, out: &Output) -> Result<u8> {
    DateRange::new(args.start, args.end)?;
    let options = crate::samples::SampleOptions {
        seed: args.seed,
        scale: args.scale,
        start: args.start,
        end: args.end,
    };
    if args.inputs_only {
        let m = crate::samples::inputs::generate_inputs(&options, &args.out)?;
        return print_inputs(&m, &args.out, out);
    }
    let working = out.working("generating the sample warehouse");
    let metrics = crate::samples::write_samples(&args.out, &options).await?;
    drop(working);
    if out.json {
        out.json(&metrics);
    } else if !out.quiet {
        say!(
            "sample warehouse at {}: {} feature records on {} game days, {} game rows, {} scheduled games",
            args.out.display(),
            thousands(metrics.num_feature_rows as u64),
            thousands(metrics.num_game_days as u64),
            thousands(metrics.num_game_rows as u64),
            thousands(metrics.num_schedule_rows as u64)
        );
    }
    Ok(0)
}

async fn compute(args: ComputeArgs, settings: &Settings, out: &Output) -> Result<u8> {
    let features = settings.stores.locate(&args.features)?;
    let games = settings.stores.locate(&args.games)?;
    let metrics = crate::pipeline::compute::ComputeBuilder::new(features, games, &args.out)
        .with_start(args.start)
        .with_end(args.end)
        .await?;
    if out.json {
        out.json(&metrics);
    } else if !out.quiet {
        say!(
            "computed {} records from {} feature rows and {} game rows ({:.1} MiB of key columns decoded) into {} (read {} ms, compute {} ms, write {} ms)",
            metrics.num_records,
            metrics.num_feature_rows,
            metrics.num_game_rows,
            metrics.decoded_input_bytes as f64 / (1 << 20) as f64,
            args.out.display(),
            metrics.read_time_ms,
            metrics.compute_time_ms,
            metrics.write_time_ms
        );
    }
    Ok(0)
}

/// The local warehouse, for the commands that only run there.
fn warehouse(settings: &Settings) -> Result<LocalWarehouse> {
    if settings.kind == crate::config::Kind::Bigquery {
        return Err(Error::input(
            "this command runs on a local warehouse only; on BigQuery (kind = \"bigquery\") use doctor, export, diff, merge, backfill, rollback, runs, check, spot-check and report",
        ));
    }
    LocalWarehouse::open(settings.require_warehouse()?)
}

/// The configured warehouse: local Delta or BigQuery.
fn any_warehouse(settings: &Settings) -> Result<Warehouse> {
    match settings.kind {
        crate::config::Kind::Local => Ok(warehouse(settings)?.into()),
        crate::config::Kind::Bigquery => Ok(bigquery_warehouse(settings)?.into()),
    }
}

fn bigquery_warehouse(settings: &Settings) -> Result<BigQueryWarehouse> {
    BigQueryWarehouse::open(settings.require_bigquery()?, &settings.stores)
}

/// Where the checks run: the local tables or BigQuery.
async fn check_source(settings: &Settings) -> Result<crate::warehouse::Source> {
    any_warehouse(settings)?.source().await
}

async fn doctor(settings: &Settings, out: &Output) -> Result<u8> {
    let progress = |step: &str| {
        use std::io::IsTerminal;
        if !out.quiet && !out.json && std::io::stderr().is_terminal() {
            eprintln!("{step}");
        }
    };
    let report = crate::ops::doctor::diagnose(settings, &progress).await;
    if out.json {
        out.json(&report);
    } else {
        say_text!("{}", report.render());
    }
    Ok(if report.ok() { 0 } else { 1 })
}

async fn export(args: RangeArgs, settings: &Settings, out: &Output) -> Result<u8> {
    let range = DateRange::new(args.start, args.end)?;
    // An export is a plan nobody has looked at: a dry run until `merge --run` says so.
    let outcome = BackfillBuilder::new(any_warehouse(settings)?, &settings.run_dir, range)
        .with_dry_run(true)
        .with_stop_after(StopAfter::Export)
        .with_progress(out.progress())
        .await?;
    if outcome.manifest.rows.get("features") == Some(&0) {
        let why = no_records_in(range, settings).await?;
        tell!("warning: {why}; its diff will have nothing to compute");
    }
    if out.json {
        out.json(&outcome.manifest);
    } else if out.quiet {
        // `RUN=$(completeness -q export …)`: the run id, and only that.
        println!("{}", outcome.run_id);
    } else {
        say!(
            "exported run {} into {}",
            outcome.run_id,
            outcome.run_dir.display()
        );
        say!("next: `{COMPLETENESS} diff --run {}`", outcome.run_id);
    }
    Ok(0)
}

async fn diff(args: DiffArgs, settings: &Settings, out: &Output) -> Result<u8> {
    if let Some(run) = args.run {
        let outcome = BackfillBuilder::resume(any_warehouse(settings)?, &settings.run_dir, &run)
            .with_stop_after(StopAfter::Diff)
            .with_report_dir(args.report)
            .with_progress(out.progress())
            .await?;
        return print_outcome(&explained(outcome, settings).await?, out);
    }
    let (results, current) = (
        args.results.expect("clap group"),
        args.current.expect("clap requires"),
    );
    let ctx = crate::io::engine::session();
    let keys = [
        crate::model::PLAYER_LOOKUP,
        crate::model::GAME_DATE,
        crate::model::HISTORICAL_COMPLETENESS,
    ];
    let result_batches = crate::io::engine::read_parquet(&ctx, &results, &keys, "results").await?;
    let columns = [keys[0], keys[1], crate::model::UPDATED_AT, keys[2]];
    let current_batches =
        crate::io::engine::read_parquet(&ctx, &current, &columns, "current").await?;
    let options = crate::pipeline::diff::DiffOptions {
        include_bootstrap: args.include_bootstrap,
        ..Default::default()
    };
    let location = format!("current {}", current.display());
    let outcome =
        crate::pipeline::diff::diff(&result_batches, &current_batches, &options, &location)?;
    let mut report = outcome.report;
    report.dry_run = true;
    report.status = RunStatus::FileComparison;
    // The dates of the records compared (by_date is newest first).
    report.range = match (report.by_date.last(), report.by_date.first()) {
        (Some(first), Some(last)) => Some(DateRange {
            start: first.game_date,
            end: last.game_date,
        }),
        _ => None,
    };
    if let Some(dir) = &args.report {
        report.write(dir)?;
    }
    if out.json {
        out.json(&report);
    } else {
        say_text!("{}", crate::report::terminal::render(&report));
        if let Some(dir) = &args.report {
            say!("  report: {}", dir.join("report.html").display());
        }
    }
    Ok(0)
}

async fn merge(args: MergeArgs, settings: &Settings, out: &Output) -> Result<u8> {
    if args.reapply
        && let Some(builder) = reapplied(&args.run, settings).await?
    {
        return run_interruptible(builder.with_progress(out.progress()), settings, out).await;
    }
    let builder = BackfillBuilder::resume(any_warehouse(settings)?, &settings.run_dir, &args.run)
        .with_apply(true)
        .with_allow_stale(args.allow_stale)
        .with_progress(out.progress());
    run_interruptible(builder, settings, out).await
}

/// `merge --run R --reapply` of a rolled-back run: a new run over R's range and flags
/// (said on stderr); None when R was not rolled back (then it is merged as usual).
async fn reapplied(run_id: &str, settings: &Settings) -> Result<Option<BackfillBuilder>> {
    let dir = crate::run::dir::RunDir::open(&settings.run_dir, run_id)?;
    let m = crate::run::manifest::Manifest::load(&dir.manifest())?;
    let wh = any_warehouse(settings)?;
    let Some(at) = wh.rolled_back_in(&m).await? else {
        return Ok(None);
    };
    if m.extended {
        wh.require_extended_column().await?;
    }
    tell!(
        "run {run_id} was rolled back in {at}: recomputing its range as a new run (`{}`)",
        m.backfill_command()
    );
    Ok(Some(
        BackfillBuilder::new(wh, &settings.run_dir, m.range)
            .with_include_bootstrap(m.include_bootstrap)
            .with_extended(m.extended)
            .with_compute(m.compute),
    ))
}

async fn backfill(args: BackfillArgs, settings: &Settings, out: &Output) -> Result<u8> {
    if args.as_of.is_some() {
        let range = DateRange::new(args.start.expect("clap"), args.end.expect("clap"))?;
        return as_of(range, settings, out).await;
    }
    let wh = any_warehouse(settings)?;
    let builder = match args.resume {
        Some(run) => BackfillBuilder::resume(wh, &settings.run_dir, &run),
        None => {
            let range = DateRange::new(args.start.expect("clap"), args.end.expect("clap"))?;
            let compute = compute_mode(args.compute_in, settings)?;
            if args.extended && compute == Compute::Local {
                wh.require_extended_column().await?;
            }
            BackfillBuilder::new(wh, &settings.run_dir, range)
                .with_dry_run(args.dry_run)
                .with_include_bootstrap(args.include_bootstrap)
                .with_extended(args.extended)
                .with_compute(compute)
        }
    };
    let builder = builder
        .with_report_dir(args.report)
        .with_allow_stale(args.allow_stale)
        .with_progress(out.progress());
    run_interruptible(builder, settings, out).await
}

/// Where a new run computes: `--compute-in`, else `compute` under `[bigquery]` (on a
/// BigQuery warehouse), else locally. BigQuery compute on a local warehouse is refused.
fn compute_mode(flag: Option<crate::cli::ComputeIn>, settings: &Settings) -> Result<Compute> {
    let bigquery = settings.kind == crate::config::Kind::Bigquery;
    let configured = match (bigquery, &settings.bigquery) {
        (true, Some(c)) => c.compute,
        _ => Compute::Local,
    };
    let mode = flag.map(Compute::from).unwrap_or(configured);
    if mode == Compute::Bigquery && !bigquery {
        return Err(Error::input(
            "--compute-in bigquery needs a BigQuery warehouse (kind = \"bigquery\" in \
             completeness.toml, or COMPLETENESS_KIND=bigquery); a local warehouse computes \
             locally",
        ));
    }
    Ok(mode)
}

/// `backfill --as-of created_at`: the reconstruction report; nothing is written.
async fn as_of(range: DateRange, settings: &Settings, out: &Output) -> Result<u8> {
    let report = crate::ops::as_of::reconstruct(&check_source(settings).await?, range).await?;
    if out.json {
        out.json(&report);
    } else {
        say_text!("{}", crate::ops::as_of::render(&report, 10));
    }
    Ok(0)
}

/// Run a backfill, stopping cleanly on SIGINT or SIGTERM with the command to resume.
///
/// Stopping drops the run between two awaits: every file is written atomically and the
/// Delta commit is all or nothing, so the run directory and the table are consistent,
/// and `--resume` finds out whether a merge in flight committed.
async fn run_interruptible(
    builder: BackfillBuilder,
    settings: &Settings,
    out: &Output,
) -> Result<u8> {
    let run_id = Arc::new(std::sync::Mutex::new(None::<String>));
    let seen = Arc::clone(&run_id);
    let builder = builder.with_run_started(Arc::new(move |id: &str| {
        *seen.lock().expect("run id lock") = Some(id.to_string());
    }));
    tokio::select! {
        outcome = builder.execute() => print_outcome(&explained(outcome?, settings).await?, out),
        (name, code) = crate::cli::signals::interrupted() => {
            let id = run_id.lock().expect("run id lock").clone();
            tell!("{}", crate::cli::signals::stopped_message(name, id.as_deref()));
            Ok(code)
        }
    }
}

/// The outcome with the warnings its report needs: why a run had nothing to compute.
async fn explained(mut outcome: BackfillOutcome, settings: &Settings) -> Result<BackfillOutcome> {
    let report = &outcome.report;
    if report.status != RunStatus::NothingToCompute {
        return Ok(outcome);
    }
    let m = &outcome.manifest;
    let what = match outcome.discarded {
        true => "nothing to compute, so no run was kept",
        false => "nothing to compute and nothing to merge",
    };
    let warning = match report.records.in_range {
        0 => format!("{}; {what}", no_records_in(m.range, settings).await?),
        n => {
            let covering = crate::run::manifest::Manifest {
                include_bootstrap: true,
                ..m.clone()
            };
            format!(
                "all {} records in range are on bootstrap days (the first 14 days of a \
                 season), which a backfill skips; {what}. `{} --dry-run` covers them",
                thousands(n),
                covering.backfill_command()
            )
        }
    };
    outcome.report.warnings.push(warning);
    Ok(outcome)
}

/// Why a range has no feature record: after the newest game_date, or a hole.
async fn no_records_in(range: DateRange, settings: &Settings) -> Result<String> {
    let today = chrono::Utc::now().date_naive();
    let newest =
        crate::ops::data_end::newest_feature_date(&check_source(settings).await?, today).await?;
    let within = format!("no feature records in {} – {}", range.start, range.end);
    Ok(match newest {
        DataEnd::Newest(d) if d < range.start => {
            format!("{within}: the range is after the newest game_date, {d}")
        }
        DataEnd::Newest(d) => format!("{within} (the newest game_date is {d})"),
        DataEnd::EmptyTable(_) => format!("{within}: the feature table has none"),
    })
}

fn print_outcome(outcome: &BackfillOutcome, out: &Output) -> Result<u8> {
    let report = &outcome.report;
    if out.json {
        out.json(report);
    } else {
        say_text!("{}", crate::report::terminal::render(report));
        for warning in &report.warnings {
            tell!("warning: {warning}");
        }
        // Even under -q (which quiets stderr): the report is what the run leaves behind.
        if !outcome.discarded {
            say!(
                "  report: {}",
                outcome.run_dir.join("report").join("report.html").display()
            );
        }
        if !out.quiet && report.status.is_plan() {
            match report.has_changes() {
                true => {
                    say!(
                        "  apply this run with `{COMPLETENESS} merge --run {}`",
                        outcome.run_id
                    );
                    say!(
                        "  or recompute and apply with `{}`",
                        outcome.manifest.backfill_command()
                    );
                }
                false => say!("  nothing would change: there is nothing to merge"),
            }
        }
    }
    let Some(merge) = report.merge.as_ref().filter(|m| m.conflicts > 0) else {
        return Ok(0);
    };
    let keys = &merge.conflict_keys;
    for (player, date) in keys.iter().take(CONFLICT_KEYS_SHOWN) {
        tell!("conflict: {player} {date} was rewritten after the export; left as it is");
    }
    let shown = keys.len().min(CONFLICT_KEYS_SHOWN) as u64;
    if merge.conflicts > shown {
        let listed = match merge.conflict_keys_truncated {
            true => format!("the first {}", thousands(keys.len() as u64)),
            false => "them all".to_string(),
        };
        tell!(
            "… and {} more (report.json lists {listed})",
            thousands(merge.conflicts - shown)
        );
    }
    tell!("{}", conflicts_advice(merge.conflicts, &outcome.manifest));
    Ok(1)
}

/// Conflicting keys printed on stderr; report.json has more.
const CONFLICT_KEYS_SHOWN: usize = 10;

/// What to do about rows the merge left alone: when runs of this tool committed since
/// the plan (the rows are likely theirs), rerun the dry run; else rerun the backfill.
fn conflicts_advice(conflicts: u64, m: &crate::run::manifest::Manifest) -> String {
    match m.moved_by_runs() {
        Some(moved) => {
            let by: Vec<String> = moved
                .runs
                .iter()
                .map(|(id, v)| format!("run {id} in version {v}"))
                .collect();
            format!(
                "{} rows were not written: the table moved since this plan (version \
                 {} → {}; {}), so the plan is stale; rerun the dry run: `{} --dry-run`",
                thousands(conflicts),
                moved.planned,
                moved.read,
                by.join(", "),
                m.backfill_command()
            )
        }
        None => format!(
            "{} rows were not written because someone else changed them after the \
             export; rerun the backfill for the same range to cover them: `{}`",
            thousands(conflicts),
            m.backfill_command()
        ),
    }
}

async fn check(command: CheckCommand, settings: &Settings, out: &Output) -> Result<u8> {
    match command {
        CheckCommand::Summary(a) => {
            let end = window_end(a.end, a.output.sql, settings, out).await?;
            let check = crate::ops::check::Summary::new(end, a.days)?;
            let title = format!(
                "Daily summary {} – {} (newest first; counts of the records with a struct)",
                check.range.start, check.range.end
            );
            run_check(&check, &title, &a.output, settings, out).await
        }
        CheckCommand::Incomplete(a) => {
            let range = check_range(a.start, a.end, a.output.sql, settings, out).await?;
            let title = format!(
                "Incomplete records {} – {}, each with its reason (only missing_games is a data gap)",
                range.start, range.end
            );
            let check = crate::ops::check::Incomplete { range };
            run_check(&check, &title, &a.output, settings, out).await
        }
        CheckCommand::Gaps(a) => {
            let range = check_range(a.start, a.end, a.output.sql, settings, out).await?;
            let title = format!(
                "Upstream gaps in the windows of {} – {} (worst first)",
                range.start, range.end
            );
            let check = crate::ops::check::Gaps { range };
            run_check(&check, &title, &a.output, settings, out).await
        }
        CheckCommand::Cascade(a) => {
            let check = crate::ops::check::Cascade::new(a.backfill_date, a.forward_days)?;
            let title = format!("Records that used {}", a.backfill_date);
            run_check(&check, &title, &a.output, settings, out).await
        }
    }
}

/// A check's `--start`/`--end`: by default the 30 days that end at the data.
async fn check_range(
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    sql: bool,
    settings: &Settings,
    out: &Output,
) -> Result<DateRange> {
    let end = window_end(end, sql, settings, out).await?;
    DateRange::new(start.unwrap_or(end - chrono::Days::new(29)), end)
}

/// `--end`, or where the data ends (said on stderr). `--sql` asks the table too, so
/// the SQL it prints answers the window the check itself would.
async fn window_end(
    end: Option<NaiveDate>,
    sql: bool,
    settings: &Settings,
    out: &Output,
) -> Result<NaiveDate> {
    let Some(end) = end else {
        let looked_up = async { data_end(&check_source(settings).await?, out).await };
        return match (looked_up.await, sql) {
            (Ok(end), _) => Ok(end),
            (Err(e), false) => Err(e),
            (Err(e), true) => Err(Error::input(format!(
                "--sql without --end ends the window at the newest game_date, and looking it \
                 up failed: {e}; pass --end to print the SQL without reading the table"
            ))),
        };
    };
    Ok(end)
}

/// The newest feature date, said on stderr (unless -q).
async fn data_end(source: &crate::warehouse::Source, out: &Output) -> Result<NaiveDate> {
    let today = chrono::Utc::now().date_naive();
    let end = crate::ops::data_end::newest_feature_date(source, today).await?;
    if !out.quiet {
        tell!("{}", end.note());
    }
    Ok(end.date())
}

async fn run_check(
    check: &impl Check,
    title: &str,
    args: &CheckOutputArgs,
    settings: &Settings,
    out: &Output,
) -> Result<u8> {
    if args.sql {
        let bigquery = match settings.kind {
            crate::config::Kind::Bigquery => Some(bigquery_warehouse(settings)?),
            crate::config::Kind::Local => None,
        };
        match out.json {
            true => out.json(&crate::ops::check::sql(check, bigquery.as_ref())?),
            false => print!(
                "{}",
                crate::ops::check::render_sql(check, bigquery.as_ref())?
            ),
        }
        return Ok(0);
    }
    let output = check.run(&check_source(settings).await?).await?;
    if out.json {
        out.json(&output.to_json(args.limit.unwrap_or(usize::MAX))?);
        return Ok(0);
    }
    say!("{title}");
    // First: how many records of the window have no struct (the check cannot see them).
    if let Some(coverage) = &output.coverage {
        say!("{}", coverage.line());
    }
    print!(
        "{}",
        crate::ops::check::table::render(
            &output.rows,
            args.limit.unwrap_or(20),
            terminal_width(),
            &output.droppable
        )?
    );
    for note in &output.notes {
        say!("{note}");
    }
    for warning in &output.warnings {
        tell!("warning: {warning}");
    }
    Ok(0)
}

/// The width tables must fit: `COLUMNS` when set, else the terminal's when stdout is
/// one (piped output keeps whole tables).
fn terminal_width() -> Option<usize> {
    crate::cli::wrap::width(crate::cli::wrap::Stream::Stdout)
}

async fn spot_check(args: SpotCheckArgs, settings: &Settings, out: &Output) -> Result<u8> {
    let seed = args.seed.unwrap_or_else(rand::random);
    let check = crate::ops::spot_check::SpotCheck {
        date: args.date,
        count: args.count as usize,
        players: args.player,
        all_players: args.all_players,
        seed,
    };
    let report = check.run(&check_source(settings).await?).await?;
    if out.json {
        out.json(&report);
    } else {
        say_text!("{}", crate::ops::spot_check::render(&report));
    }
    Ok(if report.failed > 0 { 1 } else { 0 })
}

async fn rollback(args: RollbackArgs, settings: &Settings, out: &Output) -> Result<u8> {
    let options = crate::warehouse::delta::rollback::RollbackOptions {
        dry_run: args.dry_run,
        force: args.force,
    };
    let working = out.working(if args.dry_run {
        "working out what a rollback would restore"
    } else {
        "rolling back"
    });
    let report = any_warehouse(settings)?
        .rollback(&settings.run_dir, &args.run_id, options, chrono::Utc::now())
        .await;
    drop(working);
    let report = report?;
    match (out.json, report.refused()) {
        (true, _) => out.json(&report),
        (false, false) => say_text!("{}", report.render()),
        (false, true) => tell_text!("{}", report.render()),
    }
    // Refused: the command ran and found rows it must not overwrite.
    Ok(u8::from(report.refused()))
}

async fn runs(args: RunsArgs, settings: &Settings, out: &Output) -> Result<u8> {
    if args.prune {
        let now = chrono::Utc::now();
        let report =
            crate::ops::prune::prune(&settings.run_dir, args.keep_days, now, args.dry_run)?;
        match out.json {
            true => out.json(&report),
            false => say_text!("{}", report.render()),
        }
        return Ok(0);
    }
    let runs = crate::ops::runs::list(&any_warehouse(settings)?, &settings.run_dir).await?;
    if out.json {
        out.json(&runs);
    } else {
        print!("{}", crate::ops::runs::render(&runs, terminal_width()));
    }
    Ok(0)
}

async fn report_daily(args: DailyArgs, settings: &Settings, out: &Output) -> Result<u8> {
    let source = check_source(settings).await?;
    let end = match args.end {
        Some(end) => end,
        None => data_end(&source, out).await?,
    };
    let daily = crate::ops::daily::daily_report(&source, end, args.days).await?;
    // One directory per window: reports of 90 and 30 days ending on one date both stay.
    let dir = args.out.unwrap_or_else(|| {
        settings
            .run_dir
            .join(format!("daily-{}_{}", daily.start, daily.end))
    });
    std::fs::create_dir_all(&dir).map_err(Error::io("creating report directory", &dir))?;
    let html = dir.join("report.html");
    let replaced = html.is_file();
    let page = crate::report::html::render(&crate::report::pages::daily_page(&daily));
    std::fs::write(&html, page).map_err(Error::io("writing report", &html))?;
    let json = dir.join("daily.json");
    let text = serde_json::to_string_pretty(&daily).expect("daily report serializes");
    std::fs::write(&json, text + "\n").map_err(Error::io("writing report", &json))?;
    if replaced && !out.quiet {
        tell!(
            "{} held a report of the same window: replaced",
            dir.display()
        );
    }
    if out.json {
        out.json(&daily);
    } else if !out.quiet {
        // The page's notes, in its order: the records without a struct first.
        say!("daily report {} – {}", daily.start, daily.end);
        for note in &daily.notes {
            say!("  {note}");
        }
        say!("  {}", html.display());
        say!("  {}", json.display());
    }
    Ok(0)
}
