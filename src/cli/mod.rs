//! Command-line definitions (clap). Every flag's doc comment is its `--help` text.

pub mod commands;
pub mod generated;
pub mod logging;
pub mod output;
pub mod progress;
pub mod signals;
pub mod wrap;

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

use crate::model::dates::parse_date;

/// `--version`: the release and the commit it was built from (see build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("COMPLETENESS_COMMIT"),
    ")"
);

/// Backfill and audit `historical_completeness` in the ML feature store.
///
/// Exports the feature records of a date range and the player_game_summary rows they
/// need to Parquet, recomputes the struct locally on all cores, reports what would
/// change, and writes the changed rows back in one commit.
///
/// Start with a dry run:  completeness backfill --start 2026-01-01 --end 2026-01-22 --dry-run
#[derive(Debug, Parser)]
#[command(name = "completeness", version = VERSION, max_term_width = 100)]
pub struct Cli {
    /// Warehouse root holding nba_predictions/ml_feature_store_v2 and friends
    /// [env: COMPLETENESS_WAREHOUSE] [default: data-samples/warehouse when it exists]
    //
    // The environment variables are read by `config::Settings`, not by clap: clap would
    // put a flag set by one into every usage line as if it were required.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "URL"
    )]
    pub warehouse: Option<String>,

    /// Where run directories (exported Parquet, results, reports, manifest.json) go
    /// [env: COMPLETENESS_RUN_DIR] [default: ./completeness-runs]
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "DIR"
    )]
    pub run_dir: Option<PathBuf>,

    /// Config file [env: COMPLETENESS_CONFIG] [default: ./completeness.toml when it exists]
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// Print one JSON document on stdout instead of tables
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,

    /// More detail on stderr: -v debug (phases, jobs, timings), -vv trace
    #[arg(short, long, global = true, help_heading = "Global options", action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr (stdout keeps the results and the report path)
    #[arg(
        short,
        long,
        global = true,
        help_heading = "Global options",
        conflicts_with = "verbose"
    )]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate the sample warehouse (deterministic, NBA-like)
    #[command(subcommand)]
    Samples(SamplesCommand),

    /// Export a pinned snapshot of a date range into a new run directory
    Export(RangeArgs),

    /// Compute the struct for every feature key of Parquet inputs
    ///
    /// Inputs need at least player_lookup and game_date (other columns are ignored).
    /// Output: player_lookup, game_date, historical_completeness, one row per distinct
    /// feature key, sorted by game_date, player_lookup.
    Compute(ComputeArgs),

    /// Compare recomputed structs with the stored ones and write the report
    Diff(DiffArgs),

    /// Apply a run's changes to the feature table in one commit
    Merge(MergeArgs),

    /// Export, compute, diff and (unless --dry-run) merge a date range
    ///
    /// Records on the first 14 days of a season are skipped (and counted) unless
    /// --include-bootstrap. Exit 1 when some rows were rewritten by someone else after
    /// the export (they are left alone; rerun to cover them). On BigQuery,
    /// --compute-in bigquery computes inside BigQuery instead (no export): one job writes
    /// the plan, one reads the report from it, one MERGE applies it.
    Backfill(BackfillArgs),

    /// Ask the stored structs a question: daily summary, incomplete records, cascade, gaps
    ///
    /// Every check prints a table (first rows, then a count of the rest), --json prints
    /// everything, --sql prints the query (from queries/, or queries/bigquery/checks/ on
    /// BigQuery) instead of running it.
    #[command(subcommand)]
    Check(CheckCommand),

    /// Recompute a few players' structs row by row and compare with the table
    ///
    /// Independent of the fast path: each player's player_game_summary rows are read and
    /// the five fields rebuilt from their definition. Prints one PASS line per player
    /// that agrees, and every check (PASS/WARN/FAIL) of one that does not; exit 1 when
    /// anything fails. The sample is seeded: rerun with the
    /// printed --seed to check the same players again.
    SpotCheck(SpotCheckArgs),

    /// Undo a run's commit: its rows get their previous struct and updated_at back
    ///
    /// One new commit. Rows that someone rewrote after the run are refused (listed,
    /// nothing written) unless --force; other later commits are kept. A dry run or an
    /// unknown run id is an error (exit 2).
    Rollback(RollbackArgs),

    /// List runs: from the run directories and the feature table's history
    ///
    /// With --prune, delete the directories of finished runs (dry runs and merged
    /// runs) older than --keep-days instead; interrupted runs are kept for --resume.
    Runs(RunsArgs),

    /// Write reports (a self-contained report.html with charts, plus JSON)
    #[command(subcommand)]
    Report(ReportCommand),

    /// Check the configuration, credentials, tables and buckets before a run
    ///
    /// On BigQuery: the credentials yield a token (never printed), the three tables
    /// exist with the columns the tool reads (the struct with its five fields), the
    /// staging dataset exists or can be created, and the staging and export buckets
    /// accept a write, a read and a delete. Each problem is named; exit 1 if any.
    Doctor,

    /// Print the BigQuery DDL of the operators' views (daily summary, incomplete records)
    ///
    /// Install them with: completeness views | bq query --use_legacy_sql=false
    Views(ViewsArgs),

    /// Print shell completions for bash, zsh, fish, elvish or powershell
    ///
    /// e.g. completeness completions bash > ~/.local/share/bash-completion/completions/completeness
    Completions(CompletionsArgs),

    /// Print the man page (roff), or write one per command, generated from this --help
    ///
    /// e.g. completeness man --out ~/.local/share/man/man1   (completeness.1,
    /// completeness-backfill.1, …)
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write completeness.1 and a page per command (completeness-backfill.1, …) into
    /// this directory instead of printing the main page
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ViewsArgs {
    /// Dataset to create the views in ([project.]dataset)
    #[arg(long, default_value = "nba_predictions")]
    pub dataset: String,
    /// The feature table the views read ([project.]dataset.table)
    #[arg(long, default_value = "nba_predictions.ml_feature_store_v2")]
    pub features_table: String,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The daily summary of the stored structs as report.html and daily.json
    Daily(DailyArgs),
}

#[derive(Debug, Args)]
pub struct DailyArgs {
    /// Number of days, ending on --end
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3653))]
    pub days: u32,
    /// Last game date of the report [default: the newest game_date in the feature table]
    #[arg(long, value_parser = parse_date)]
    pub end: Option<NaiveDate>,
    /// Directory to write into [default: <run-dir>/daily-<start>_<end>, one per window]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Delete the run directories of finished runs older than --keep-days
    #[arg(long)]
    pub prune: bool,
    /// With --prune: keep the runs created in the last N days
    #[arg(long, value_name = "N", default_value_t = 30, requires = "prune")]
    pub keep_days: u32,
    /// With --prune: list what would be deleted, delete nothing
    #[arg(long, requires = "prune")]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The run to undo (see `completeness runs`)
    pub run_id: String,
    /// Show what would be restored; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Also restore rows rewritten after the run (their newer writes are lost)
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SpotCheckArgs {
    /// Game date to check [default: the newest date with structs]
    #[arg(long, value_parser = parse_date)]
    pub date: Option<NaiveDate>,
    /// How many random players
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub count: u64,
    /// Check this player (repeatable) instead of a random sample
    #[arg(long, value_name = "PLAYER_LOOKUP", conflicts_with = "all_players")]
    pub player: Vec<String>,
    /// Check every player with a struct on the date
    #[arg(long)]
    pub all_players: bool,
    /// Random seed for the sample [default: a fresh one, printed]
    #[arg(long)]
    pub seed: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// Per game date: records with a struct, complete / incomplete / bootstrap, averages
    ///
    /// complete and bootstrap overlap (a bootstrap record can be complete). Incomplete
    /// records are counted by reason; only those missing a game upstream are data gaps.
    /// Says first how many records in the window have no struct yet.
    Summary(SummaryArgs),

    /// Records neither complete nor bootstrap, worst first on the newest dates, each with
    /// its reason (missing_games, the only data gap; early_season; dnp_inactive; absence)
    Incomplete(IncompleteArgs),

    /// Records that used DATE in their window: what to recompute after backfilling DATE
    ///
    /// Also answers the what-if: the rows missing on DATE (found from the schedule: players
    /// with rows for their team before and after it) and the records whose struct would
    /// change if they were backfilled, so a date with no rows at all no longer reports 0.
    Cascade(CascadeArgs),

    /// Upstream gaps: per team game, the players with no player_game_summary row
    ///
    /// A player with rows for a team before and after one of its games (at most three
    /// games apart) but none for the game is missing a row. Ranked by how many feature
    /// records in --start..--end have the game in their 60-day window, each with the
    /// backfill to run once the rows are restored upstream.
    Gaps(GapsArgs),
}

/// Flags every check takes.
#[derive(Debug, Args)]
pub struct CheckOutputArgs {
    /// Print the SQL (with values filled in) instead of running it
    #[arg(long)]
    pub sql: bool,
    /// Rows to show (terminal default 20; --json default all)
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// Number of days, ending on --end
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3653))]
    pub days: u32,
    /// Last game date of the summary [default: the newest game_date in the feature
    /// table]
    #[arg(long, value_parser = parse_date)]
    pub end: Option<NaiveDate>,
    #[command(flatten)]
    pub output: CheckOutputArgs,
}

#[derive(Debug, Args)]
pub struct IncompleteArgs {
    /// First game date [default: 29 days before --end]
    #[arg(long, value_parser = parse_date)]
    pub start: Option<NaiveDate>,
    /// Last game date [default: the newest game_date in the feature table]
    #[arg(long, value_parser = parse_date)]
    pub end: Option<NaiveDate>,
    #[command(flatten)]
    pub output: CheckOutputArgs,
}

#[derive(Debug, Args)]
pub struct GapsArgs {
    /// First feature date whose window counts [default: 29 days before --end]
    #[arg(long, value_parser = parse_date)]
    pub start: Option<NaiveDate>,
    /// Last feature date whose window counts [default: the newest game_date in the
    /// feature table]
    #[arg(long, value_parser = parse_date)]
    pub end: Option<NaiveDate>,
    #[command(flatten)]
    pub output: CheckOutputArgs,
}

#[derive(Debug, Args)]
pub struct CascadeArgs {
    /// The date whose upstream rows were (or will be) backfilled
    #[arg(long, value_parser = parse_date)]
    pub backfill_date: NaiveDate,
    /// How many days after it to look at
    #[arg(long, default_value_t = 21)]
    pub forward_days: u32,
    #[command(flatten)]
    pub output: CheckOutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum SamplesCommand {
    /// Write the three sample Delta tables under DIR
    Generate(GenerateArgs),

    /// Write the warehouse's compute inputs as plain Parquet (for other engines)
    ///
    /// DIR/features.parquet: player_lookup, game_date of every feature record.
    /// DIR/games.parquet: every player_game_summary column.
    Inputs(InputsArgs),
}

#[derive(Debug, Args)]
pub struct InputsArgs {
    /// Directory to write features.parquet and games.parquet into
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Warehouse root to create (must not hold the tables yet)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Random seed; the same seed gives the same warehouse
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of independent leagues (players scale, the schedule does not)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub scale: u32,
    /// First date of feature records
    #[arg(long, value_parser = parse_date, default_value = "2024-11-06")]
    pub start: NaiveDate,
    /// Last date of feature records and game rows
    #[arg(long, value_parser = parse_date, default_value = "2026-01-22")]
    pub end: NaiveDate,
    /// Write only the compute inputs (DIR/features.parquet, DIR/games.parquet), league by
    /// league: for benchmark scales whose warehouse would not fit in memory
    #[arg(long)]
    pub inputs_only: bool,
}

#[derive(Debug, Args)]
pub struct RangeArgs {
    /// First game_date, inclusive (YYYY-MM-DD, today or yesterday)
    #[arg(long, value_parser = parse_date)]
    pub start: NaiveDate,
    /// Last game_date, inclusive (YYYY-MM-DD, today or yesterday)
    #[arg(long, value_parser = parse_date)]
    pub end: NaiveDate,
}

#[derive(Debug, Args)]
pub struct ComputeArgs {
    /// Feature records: a Parquet file or a directory of them (a path, or a gs://,
    /// s3:// or file:// URL; see [gcs] and [s3] in completeness.toml)
    #[arg(long, value_name = "PARQUET")]
    pub features: String,
    /// player_game_summary rows: a Parquet file or a directory of them (path or URL)
    #[arg(long, value_name = "PARQUET")]
    pub games: String,
    /// Output Parquet file
    #[arg(long, value_name = "PARQUET")]
    pub out: PathBuf,
    /// Only feature records on or after this date
    #[arg(long, value_parser = parse_date)]
    pub start: Option<NaiveDate>,
    /// Only feature records on or before this date
    #[arg(long, value_parser = parse_date)]
    pub end: Option<NaiveDate>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["run", "results"])))]
pub struct DiffArgs {
    /// A run made by `export` or `backfill` (computes it first when needed)
    #[arg(long, value_name = "RUN_ID")]
    pub run: Option<String>,
    /// Results Parquet (from `compute`)
    #[arg(long, value_name = "PARQUET", requires = "current")]
    pub results: Option<PathBuf>,
    /// Current feature records: player_lookup, game_date, updated_at, historical_completeness
    #[arg(long, value_name = "PARQUET", requires = "results")]
    pub current: Option<PathBuf>,
    /// Also write report.json and report.md here
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Cover bootstrap dates too (with --results/--current)
    #[arg(long)]
    pub include_bootstrap: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The run whose changes to apply
    #[arg(long, value_name = "RUN_ID")]
    pub run: String,
    /// Apply the run even if player_game_summary changed since its export (by default
    /// such a plan is refused: its structs would be stale)
    #[arg(long)]
    pub allow_stale: bool,
    /// For a run that was rolled back: recompute its range (and flags) as a new run and
    /// apply that. The old plan is never written again: its rows were restored on
    /// purpose, and the table has moved since.
    #[arg(long, conflicts_with = "allow_stale")]
    pub reapply: bool,
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// First game_date, inclusive (YYYY-MM-DD, today or yesterday); required unless --resume
    #[arg(long, value_parser = parse_date, required_unless_present = "resume")]
    pub start: Option<NaiveDate>,
    /// Last game_date, inclusive (YYYY-MM-DD, today or yesterday); required unless --resume
    #[arg(long, value_parser = parse_date, required_unless_present = "resume")]
    pub end: Option<NaiveDate>,
    /// Stop after the diff: print the report, write nothing to the warehouse
    #[arg(long)]
    pub dry_run: bool,
    /// Also cover the first 14 days of each season
    #[arg(long)]
    pub include_bootstrap: bool,
    /// Also write report.json and report.md here
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Also fill historical_completeness_ext (missing games from the schedule, window
    /// span and teams, the reason a record is not complete), adding the column to the
    /// Delta table first if needed. The five-field struct is computed as always
    #[arg(long, conflicts_with = "resume")]
    pub extended: bool,
    /// Continue an interrupted run from its first unfinished phase
    #[arg(long, value_name = "RUN_ID", conflicts_with_all = ["start", "end", "dry_run", "include_bootstrap"])]
    pub resume: Option<String>,
    /// Where to compute the structs on BigQuery: local (export to Parquet, compute on
    /// this machine) or bigquery (one generated statement inside BigQuery, no export)
    /// [default: compute in completeness.toml's [bigquery], else local]
    #[arg(long, value_name = "WHERE", value_enum, conflicts_with_all = ["resume", "as_of"])]
    pub compute_in: Option<ComputeIn>,
    /// With --resume: merge even if player_game_summary changed since the run's export
    /// (by default the stale plan is refused)
    #[arg(long, requires = "resume")]
    pub allow_stale: bool,
    /// Rebuild each struct from only the player_game_summary rows written before the
    /// record's created_at, and report how many differ from today's and why (the rows
    /// that arrived late). Always a dry run: nothing is written.
    #[arg(long, value_name = "COLUMN", value_enum, conflicts_with_all = ["resume", "include_bootstrap", "report"])]
    pub as_of: Option<AsOfColumn>,
}

/// Where `--compute-in` computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ComputeIn {
    /// Export to Parquet and compute on this machine
    Local,
    /// One generated GoogleSQL statement computes the plan inside BigQuery
    Bigquery,
}

impl From<ComputeIn> for crate::run::manifest::Compute {
    fn from(c: ComputeIn) -> Self {
        match c {
            ComputeIn::Local => crate::run::manifest::Compute::Local,
            ComputeIn::Bigquery => crate::run::manifest::Compute::Bigquery,
        }
    }
}

/// What `--as-of` reconstructs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AsOfColumn {
    /// The feature record's created_at
    #[value(name = "created_at")]
    CreatedAt,
}
