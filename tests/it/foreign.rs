//! Delta tables the tool did not write (issue 24): one test per case of the foreign
//! corpus. `tests/foreign/make_table.py` builds the case's feature table with the
//! Python `deltalake` writer, pyarrow and hand-written logs (never this crate), in a
//! copy of the sample warehouse; the real binary then runs on it, and
//! `tests/foreign/check_table.py` (deltalake Python and pyarrow only) checks what it
//! left against a copy taken before.
//!
//! - Writable cases: dry run (the warehouse byte-identical), `merge --run`, a rerun
//!   (no new version), `rollback`, a real `backfill`; every step exits 0 and each
//!   write passes check_table.py (row count, every other column, constraints,
//!   generated columns, the rows changed).
//! - Refused cases: the dry run already says "a merge into this table would be
//!   refused: <reason>" (exit 2), `doctor` says so too, a real backfill is refused
//!   (exit 2); nothing is written.
//! - Cases whose write would break a rule of the table (a CHECK constraint, an
//!   invariant, a generated column over a written column): refused with exit 2,
//!   naming the rule and a record that breaks it, nothing written; the dry run
//!   already names the rule.
//! - Another writer (deltalake Python) updates, deletes, appends, compacts or
//!   Z-orders between the dry run and `merge --run`: its rows are kept, a record it
//!   rewrote is a conflict (exit 1, named), the rerun picks up what was left.
//!
//! Identity columns, type widening and liquid clustering are expected refused (the
//! delta-rs commit machinery the tool uses supports none of them); absolute and
//! percent-encoded paths writable. `tests/foreign/README.md` lists every case.
//!
//! The Python is the emulator venv's (`$COMPLETENESS_EMULATOR_VENV`, default
//! `~/.cache/completeness-emulators/venv`, made by `scripts/emulators install`); without
//! it (or without `deltalake` in it) the tests skip, unless
//! `COMPLETENESS_REQUIRE_EMULATORS` is set (scripts/test), when they fail.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use chrono::NaiveDate;
use serde_json::Value;

use crate::support::*;

/// What the tool must do with a case's table.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Every step exits 0 and every write passes check_table.py.
    Writable,
    /// Refused from the dry run on (exit 2); the reason names one of these (any case).
    Refused(&'static [&'static str]),
    /// The write would break the table's rule of this name (a constraint, an
    /// invariant, a generated column): refused (exit 2) naming it and a record that
    /// breaks it.
    Breaks(Rule),
}

#[derive(Debug, Clone, Copy)]
struct Rule {
    /// Words a refusal must name, every one (any case): the constraint's name; for an
    /// invariant "invariant" and its column; the generated column.
    names: &'static [&'static str],
    /// Which records break it once the tool wrote them.
    breakers: Breakers,
}

#[derive(Debug, Clone, Copy)]
enum Breakers {
    /// Every record the tool rewrites (a rule on `updated_at`).
    EveryWrittenRecord,
    /// The records whose struct becomes 0/0: no game of the player in the 60 days
    /// before the date.
    ZeroOfZero,
}

/// Another writer's commit between the dry run and the merge (`other_writer.py`).
#[derive(Debug, Clone, Copy)]
enum Other {
    /// Rewrites one planned record (new `updated_at`).
    Update,
    /// Deletes one planned record.
    Delete,
    /// Appends a record of a new player.
    Append,
    /// OPTIMIZE (compaction).
    Optimize,
    /// Z-ORDER by player_lookup.
    Zorder,
}

impl Other {
    fn action(self) -> &'static str {
        match self {
            Other::Update => "update",
            Other::Delete => "delete",
            Other::Append => "append",
            Other::Optimize => "optimize",
            Other::Zorder => "zorder",
        }
    }
}

/// The game dates of most cases' tables (and the range every command runs on).
const RANGE: (&str, &str) = ("2026-01-20", "2026-01-22");
/// The January dates whose backfill yields 0/0 structs (make_table.py's
/// `ZERO_OF_ZERO_DATES`): one record on each.
const ZERO_OF_ZERO_RANGE: (&str, &str) = ("2026-01-15", "2026-01-16");
const REFUSED: &str = "a merge into this table would be refused";

/// One test per case: `name => expectation [, range]`; `TESTED` lists the cases.
macro_rules! cases {
    ($($test:ident: $case:literal => $expect:expr $(, $range:expr)?;)*) => {
        const TESTED: &[&str] = &[$($case),*];
        $(
            #[test]
            fn $test() {
                #[allow(unused_mut, unused_assignments)]
                let mut range = RANGE;
                $(range = $range;)?
                run_case($case, $expect, range);
            }
        )*
    };
}

const WORDS_DELETION_VECTORS: &[&str] = &["deletion vector"];
const WORDS_COLUMN_MAPPING: &[&str] = &["column mapping", "columnMapping"];

cases! {
    // The two defects of issue 24: absolute paths ...
    writable_absolute_paths: "absolute-paths" => Expect::Writable;
    writable_shallow_clone: "shallow-clone" => Expect::Writable;
    // ... and rules the rewrite never evaluated.
    breaks_check_games_expected: "check-games-expected" => Expect::Breaks(Rule {
        names: &["games_expected_positive"],
        breakers: Breakers::ZeroOfZero,
    }), ZERO_OF_ZERO_RANGE;
    breaks_check_plain_sql: "check-plain-sql" => Expect::Breaks(Rule {
        names: &["games_expected_positive"],
        breakers: Breakers::ZeroOfZero,
    }), ZERO_OF_ZERO_RANGE;
    breaks_check_updated_at: "check-updated-at" => Expect::Breaks(Rule {
        names: &["updated_before_cutoff"],
        breakers: Breakers::EveryWrittenRecord,
    });
    breaks_invariant_updated_at: "invariant-updated-at" => Expect::Breaks(Rule {
        names: &["invariant", "updated_at"],
        breakers: Breakers::EveryWrittenRecord,
    });
    // A generated column computed from a written column would go stale: refused, named
    // (issue 24 allows computing it or refusing the table).
    refused_generated_updated_date: "generated-updated-date" => Expect::Refused(&["updated_date"]);
    writable_generated_player_initial: "generated-player-initial" => Expect::Writable;

    // Not tried before issue 24.
    refused_column_mapping_id: "column-mapping-id" => Expect::Refused(WORDS_COLUMN_MAPPING);
    refused_identity_column: "identity-column" => Expect::Refused(&["identity"]);
    refused_type_widening: "type-widening" => Expect::Refused(&["type widening", "typeWidening"]);
    refused_liquid_clustering: "liquid-clustering" => Expect::Refused(&["cluster", "partition"]);
    writable_percent_encoded_space: "percent-encoded-space" => Expect::Writable;
    // delta-rs writes a remove's path in its own encoding, which matches no add of this
    // log: refused before a run rather than leaving the old files in the table.
    refused_percent_encoded_noncanonical: "percent-encoded-noncanonical" => Expect::Refused(&["percent-encoding"]);

    // Writers and layouts.
    writable_deltalake_writer: "deltalake-writer" => Expect::Writable;
    writable_pyarrow_hand_log: "pyarrow-hand-log" => Expect::Writable;
    writable_convert_to_deltalake: "convert-to-deltalake" => Expect::Writable;
    writable_flat_layout: "flat-layout" => Expect::Writable;
    writable_files_several_per_date: "files-several-per-date" => Expect::Writable;
    refused_unpartitioned: "unpartitioned" => Expect::Refused(&["partition"]);

    // Parquet as other writers write it.
    writable_row_groups_many: "row-groups-many" => Expect::Writable;
    writable_encoding_plain: "encoding-plain" => Expect::Writable;
    writable_codec_snappy: "codec-snappy" => Expect::Writable;
    writable_codec_zstd: "codec-zstd" => Expect::Writable;
    writable_codec_gzip: "codec-gzip" => Expect::Writable;
    writable_codec_lz4: "codec-lz4" => Expect::Writable;
    writable_codec_brotli: "codec-brotli" => Expect::Writable;
    writable_codec_none: "codec-none" => Expect::Writable;
    writable_no_statistics: "no-statistics" => Expect::Writable;
    writable_page_index: "page-index" => Expect::Writable;
    writable_data_page_v2: "data-page-v2" => Expect::Writable;
    writable_timestamps_int96: "timestamps-int96" => Expect::Writable;
    writable_timestamps_ms: "timestamps-ms" => Expect::Writable;
    writable_timestamps_ns: "timestamps-ns" => Expect::Writable;
    writable_timestamp_ntz: "timestamp-ntz" => Expect::Writable;
    writable_struct_fields_not_null: "struct-fields-not-null" => Expect::Writable;
    writable_schema_evolution: "schema-evolution" => Expect::Writable;
    writable_checkpoint: "checkpoint" => Expect::Writable;
    writable_checkpoint_v2: "checkpoint-v2" => Expect::Writable;
    writable_log_cleaned: "log-cleaned" => Expect::Writable;
    writable_lists_item_naming: "lists-item-naming" => Expect::Writable;
    writable_columns_reordered: "columns-reordered" => Expect::Writable;

    // Delta features the tool does not write.
    refused_deletion_vectors: "deletion-vectors" => Expect::Refused(WORDS_DELETION_VECTORS);
    refused_deletion_vector_property_off: "deletion-vector-property-off" => Expect::Refused(WORDS_DELETION_VECTORS);
    refused_column_mapping_name: "column-mapping-name" => Expect::Refused(WORDS_COLUMN_MAPPING);
    refused_row_tracking: "row-tracking" => Expect::Refused(&["row tracking", "rowTracking"]);
    refused_change_data_feed: "change-data-feed" => Expect::Refused(&["change data feed", "changeDataFeed"]);
    refused_append_only: "append-only" => Expect::Refused(&["append-only", "append only", "appendOnly"]);
    refused_domain_metadata: "domain-metadata" => Expect::Refused(&["domain metadata", "domainMetadata"]);
    refused_in_commit_timestamps: "in-commit-timestamps" => Expect::Refused(&["in-commit timestamp", "inCommitTimestamp"]);
}

/// Another writer commits between the dry run and `merge --run`: `base case, action`.
macro_rules! interleaved {
    ($($test:ident: $case:literal, $action:expr;)*) => {$(
        #[test]
        fn $test() {
            let Some(python) = python() else { return };
            let fx = Fixture::new(python, $case, RANGE);
            let mut problems = Vec::new();
            fx.interleaved($action, &mut problems);
            assert!(
                problems.is_empty(),
                "case {} with another writer's {:?}, table {}:\n- {}",
                $case,
                $action,
                fx.table.display(),
                problems.join("\n- ")
            );
        }
    )*};
}

interleaved! {
    another_writer_updates_a_planned_record: "files-several-per-date", Other::Update;
    another_writer_deletes_a_planned_record: "files-several-per-date", Other::Delete;
    another_writer_appends_a_record: "files-several-per-date", Other::Append;
    another_writer_compacts_the_files: "files-several-per-date", Other::Optimize;
    another_writer_z_orders_the_files: "files-several-per-date", Other::Zorder;
    another_writer_updates_a_record_of_an_absolute_path_table: "absolute-paths", Other::Update;
    another_writer_z_orders_an_absolute_path_table: "absolute-paths", Other::Zorder;
}

/// The corpus lists exactly the cases above: a case added to make_table.py without a
/// test here (or the reverse) fails.
#[test]
fn every_case_of_the_corpus_has_a_test() {
    let Some(python) = python() else { return };
    let out = std::process::Command::new(python)
        .arg(script("make_table.py"))
        .arg("--list")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let listed: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let tested: BTreeSet<String> = TESTED.iter().map(|c| c.to_string()).collect();
    assert_eq!(TESTED.len(), tested.len(), "a case tested twice");
    let untested: Vec<_> = listed.difference(&tested).collect();
    let unknown: Vec<_> = tested.difference(&listed).collect();
    assert!(
        untested.is_empty() && unknown.is_empty(),
        "cases without a test: {untested:?}; tests of cases make_table.py does not list: {unknown:?}"
    );
}

// ------------------------------------------------------------------------------------
// The harness
// ------------------------------------------------------------------------------------

fn run_case(case: &'static str, expect: Expect, range: (&'static str, &'static str)) {
    let Some(python) = python() else { return };
    let fx = Fixture::new(python, case, range);
    let mut problems = Vec::new();
    match expect {
        Expect::Writable => fx.writable(&mut problems),
        Expect::Refused(words) => fx.refused(words, &mut problems),
        Expect::Breaks(rule) => fx.breaks(rule, &mut problems),
    }
    assert!(
        problems.is_empty(),
        "case {case} ({expect:?}), table {}:\n- {}",
        fx.table.display(),
        problems.join("\n- ")
    );
}

/// The emulator venv's Python when it has deltalake; `None` (skip) otherwise, or a
/// failure under `COMPLETENESS_REQUIRE_EMULATORS`.
fn python() -> Option<PathBuf> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        let venv = std::env::var_os("COMPLETENESS_EMULATOR_VENV")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .map(|h| PathBuf::from(h).join(".cache/completeness-emulators/venv"))
            })
            .ok_or("neither COMPLETENESS_EMULATOR_VENV nor HOME is set")?;
        let python = venv.join("bin/python");
        if !python.exists() {
            return Err(format!(
                "no Python at {} (scripts/emulators install makes it)",
                python.display()
            ));
        }
        let probe = std::process::Command::new(&python)
            .args(["-c", "import deltalake, pyarrow"])
            .output()
            .map_err(|e| format!("{}: {e}", python.display()))?;
        if !probe.status.success() {
            return Err(format!(
                "{} has no deltalake (scripts/emulators install pins it): {}",
                python.display(),
                String::from_utf8_lossy(&probe.stderr)
                    .lines()
                    .last()
                    .unwrap_or_default()
            ));
        }
        Ok(python)
    });
    match found {
        Ok(python) => Some(python.clone()),
        Err(why) => {
            assert!(
                std::env::var_os("COMPLETENESS_REQUIRE_EMULATORS").is_none(),
                "COMPLETENESS_REQUIRE_EMULATORS is set but the foreign-table corpus cannot run: {why}"
            );
            eprintln!("skipped: {why}");
            None
        }
    }
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/foreign")
        .join(name)
}

/// A command's exit code, stdout and stderr, for messages and searching (a JSON
/// stdout compacted).
fn text(out: &Output) -> String {
    let stdout = match serde_json::from_slice::<Value>(&out.stdout) {
        Ok(json) => json.to_string(),
        Err(_) => String::from_utf8_lossy(&out.stdout).into_owned(),
    };
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        clip(&stdout),
        clip(&String::from_utf8_lossy(&out.stderr))
    )
}

fn clip(s: &str) -> String {
    const MAX: usize = 3000;
    if s.len() <= MAX {
        return s.trim_end().to_string();
    }
    let mut cut = MAX;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}… ({} bytes in all)", &s[..cut], s.len())
}

fn contains_any(haystack: &str, words: &[&str]) -> bool {
    let haystack = haystack.to_lowercase();
    words.iter().any(|w| haystack.contains(&w.to_lowercase()))
}

/// The newest version in a table's log (`NNNNN.json` commits; checkpoints and
/// cleaned logs do not count).
fn latest_version(table: &Path) -> Option<u64> {
    std::fs::read_dir(table.join("_delta_log"))
        .ok()?
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let digits = name.strip_suffix(".json")?;
            (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
                .then(|| digits.parse().ok())?
        })
        .max()
}

/// A case's table in a private warehouse (the sample's games and schedule), a copy
/// of the table as built, and a run directory.
struct Fixture {
    _dir: tempfile::TempDir,
    python: PathBuf,
    range: (&'static str, &'static str),
    wh: PathBuf,
    runs: PathBuf,
    table: PathBuf,
    /// Where `shallow-clone` keeps the files its log names (outside the warehouse).
    external: PathBuf,
    before: PathBuf,
}

impl Fixture {
    fn new(python: PathBuf, case: &'static str, range: (&'static str, &'static str)) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let wh = dir.path().join("warehouse");
        for table in [
            completeness::model::GAMES_TABLE,
            completeness::model::SCHEDULE_TABLE,
        ] {
            copy_dir(&sample_warehouse().join(table), &wh.join(table));
        }
        let table = features_table(&wh);
        let external = dir.path().join("clone-source");
        let out = std::process::Command::new(&python)
            .arg(script("make_table.py"))
            .arg(case)
            .arg("--source")
            .arg(features_table(&sample_warehouse()))
            .arg("--out")
            .arg(&table)
            .arg("--external")
            .arg(&external)
            .arg("--dates")
            .arg(dates_of(range).join(","))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "make_table.py {case} failed: {}",
            text(&out)
        );
        let before = dir.path().join("before");
        copy_dir(&table, &before);
        Fixture {
            python,
            range,
            runs: dir.path().join("runs"),
            wh,
            table,
            external,
            before,
            _dir: dir,
        }
    }

    fn range_args(&self) -> [&'static str; 4] {
        ["--start", self.range.0, "--end", self.range.1]
    }

    /// The binary on this warehouse: `--json ARGS`.
    fn run(&self, args: &[&str]) -> Output {
        cli_at(&self.wh, &self.runs)
            .arg("--json")
            .args(args)
            .output()
            .unwrap()
    }

    /// Every file the tool must not touch unless it commits: the warehouse and the
    /// clone's source.
    fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = file_snapshot(&self.wh);
        if self.external.exists() {
            for (path, bytes) in file_snapshot(&self.external) {
                files.insert(Path::new("<clone-source>").join(path), bytes);
            }
        }
        files
    }

    /// [`Fixture::snapshot`] without the feature table: the files a write must never
    /// touch (the other tables, the clone's source).
    fn outside_the_table(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let table = self.table.strip_prefix(&self.wh).unwrap().to_path_buf();
        let mut files = self.snapshot();
        files.retain(|path, _| !path.starts_with(&table));
        files
    }

    /// Problems if files outside the feature table changed since `then`.
    fn untouched_outside(&self, then: &BTreeMap<PathBuf, Vec<u8>>, step: &str) -> Option<String> {
        let now = self.outside_the_table();
        (now != *then).then(|| {
            format!(
                "{step} wrote outside the feature table: {}",
                changed_files(then, &now)
            )
        })
    }

    /// check_table.py against the copy taken before; its verdict, or the failures.
    fn check(&self, expect_changed: u64) -> Result<Value, String> {
        let out = std::process::Command::new(&self.python)
            .arg(script("check_table.py"))
            .arg("--before")
            .arg(&self.before)
            .arg("--after")
            .arg(&self.table)
            .arg("--expect-changed")
            .arg(expect_changed.to_string())
            .output()
            .unwrap();
        let verdict: Option<Value> = serde_json::from_slice(&out.stdout).ok();
        match (out.status.success(), verdict) {
            (true, Some(v)) => Ok(v),
            (_, Some(v)) => Err(format!(
                "check_table.py: {}",
                v["failures"]
                    .as_array()
                    .map(|f| f
                        .iter()
                        .map(|x| x.as_str().unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join("; "))
                    .unwrap_or_default()
            )),
            (_, None) => Err(format!("check_table.py printed no verdict: {}", text(&out))),
        }
    }

    /// Dry run, `merge --run`, rerun, rollback, real backfill: all exit 0, every write
    /// checked by check_table.py.
    fn writable(&self, problems: &mut Vec<String>) {
        let range = self.range_args();
        let pristine = self.snapshot();
        let outside = self.outside_the_table();
        let version = latest_version(&self.table);

        // 1. The dry run writes nothing.
        let dry = self.run(&[&["backfill", "--dry-run"][..], &range[..]].concat());
        if !dry.status.success() {
            problems.push(format!("the dry run failed: {}", text(&dry)));
            return;
        }
        let now = self.snapshot();
        if now != pristine {
            problems.push(format!(
                "the dry run changed files: {}",
                changed_files(&pristine, &now)
            ));
        }
        let report: Value = serde_json::from_slice(&dry.stdout).unwrap();
        let run_id = report["run_id"].as_str().unwrap().to_string();
        let planned = report["records"]["changed"].as_u64().unwrap_or(0)
            + report["records"]["added"].as_u64().unwrap_or(0);
        if planned == 0 {
            problems.push(format!("the dry run plans no change: {}", text(&dry)));
            return;
        }

        // 2. merge --run applies exactly that plan, and nothing but the two columns.
        let merge = self.run(&["merge", "--run", run_id.as_str()]);
        if !merge.status.success() {
            problems.push(format!("merge --run {run_id} failed: {}", text(&merge)));
            self.after_failure(problems);
            return;
        }
        problems.extend(self.untouched_outside(&outside, "merge --run"));
        let written = rows_written(&merge);
        if written != planned {
            problems.push(format!(
                "merge --run wrote {written} rows, the dry run planned {planned}"
            ));
        }
        if latest_version(&self.table) != version.map(|v| v + 1) {
            problems.push(format!(
                "merge --run: version {:?} → {:?}, expected one commit",
                version,
                latest_version(&self.table)
            ));
        }
        if let Err(e) = self.check(written) {
            problems.push(format!("after merge --run: {e}"));
            return;
        }

        // 3. A rerun changes nothing and commits nothing.
        let merged = latest_version(&self.table);
        let rerun = self.run(&[&["backfill"][..], &range[..]].concat());
        if !rerun.status.success() {
            problems.push(format!("the rerun failed: {}", text(&rerun)));
        } else if rows_written(&rerun) != 0 || latest_version(&self.table) != merged {
            problems.push(format!(
                "the rerun wrote {} rows (version {:?} → {:?})",
                rows_written(&rerun),
                merged,
                latest_version(&self.table)
            ));
        }

        // 4. The rollback restores the struct and updated_at of every row.
        let rollback = self.run(&["rollback", run_id.as_str()]);
        problems.extend(self.untouched_outside(&outside, "the rerun or the rollback"));
        if !rollback.status.success() {
            problems.push(format!("rollback {run_id} failed: {}", text(&rollback)));
            return;
        }
        if let Err(e) = self.check(0) {
            problems.push(format!("after the rollback: {e}"));
            return;
        }

        // 5. A real backfill writes the same rows again.
        let again = self.run(&[&["backfill"][..], &range[..]].concat());
        if !again.status.success() {
            problems.push(format!(
                "the backfill after the rollback failed: {}",
                text(&again)
            ));
            return;
        }
        problems.extend(self.untouched_outside(&outside, "the backfill after the rollback"));
        let rewritten = rows_written(&again);
        if rewritten != written {
            problems.push(format!(
                "the backfill after the rollback wrote {rewritten} rows, the merge {written}"
            ));
        }
        if let Err(e) = self.check(rewritten) {
            problems.push(format!("after the backfill: {e}"));
        }
    }

    /// Dry run, another writer's commit ([`Other`]), `merge --run`, a rerun: the other
    /// writer's rows are kept, a record it rewrote or deleted is left alone (exit 1 for
    /// a rewrite), every other planned row written; the rerun covers what it left.
    fn interleaved(&self, other: Other, problems: &mut Vec<String>) {
        let range = self.range_args();
        let dry = self.run(&[&["backfill", "--dry-run"][..], &range[..]].concat());
        if !dry.status.success() {
            problems.push(format!("the dry run failed: {}", text(&dry)));
            return;
        }
        let report: Value = serde_json::from_slice(&dry.stdout).unwrap();
        let run_id = report["run_id"].as_str().unwrap().to_string();
        let planned = report["records"]["changed"].as_u64().unwrap_or(0)
            + report["records"]["added"].as_u64().unwrap_or(0);

        let out = std::process::Command::new(&self.python)
            .arg(script("other_writer.py"))
            .arg(other.action())
            .arg("--table")
            .arg(&self.table)
            .output()
            .unwrap();
        assert!(out.status.success(), "other_writer.py: {}", text(&out));
        let done: Value = serde_json::from_slice(&out.stdout).unwrap();
        // From here on, "before" is the table as the other writer left it.
        std::fs::remove_dir_all(&self.before).unwrap();
        copy_dir(&self.table, &self.before);
        let outside = self.outside_the_table();

        let merge = self.run(&["merge", "--run", run_id.as_str()]);
        problems.extend(self.untouched_outside(&outside, "merge --run"));
        let (code, left_alone) = match other {
            Other::Update => (Some(1), 1),
            Other::Delete => (merge.status.code().filter(|c| *c <= 1), 1),
            Other::Append | Other::Optimize | Other::Zorder => (Some(0), 0),
        };
        if merge.status.code() != code {
            problems.push(format!(
                "merge --run after another writer's {} of {}: expected exit {code:?}: {}",
                other.action(),
                done["key"],
                text(&merge)
            ));
            self.after_failure(problems);
            return;
        }
        let written = rows_written(&merge);
        if written != planned - left_alone {
            problems.push(format!(
                "merge --run wrote {written} rows; planned {planned}, {left_alone} left alone"
            ));
        }
        if let Other::Update = other {
            let key = &done["key"];
            let all = text(&merge);
            let named = key[0].as_str().is_some_and(|p| all.contains(p))
                && key[1].as_str().is_some_and(|d| all.contains(d));
            if !named {
                problems.push(format!(
                    "merge --run does not name the conflict {key}: {all}"
                ));
            }
        }
        if let Err(e) = self.check(written) {
            problems.push(format!("after merge --run: {e}"));
            return;
        }

        // The rerun covers the rewritten and the appended record, and nothing else.
        let rerun = self.run(&[&["backfill"][..], &range[..]].concat());
        let picked_up = match other {
            Other::Update | Other::Append => 1,
            Other::Delete | Other::Optimize | Other::Zorder => 0,
        };
        if !rerun.status.success() || rows_written(&rerun) != picked_up {
            problems.push(format!(
                "the rerun must exit 0 writing {picked_up} rows: {}",
                text(&rerun)
            ));
        }
        if let Err(e) = self.check(written + picked_up) {
            problems.push(format!("after the rerun: {e}"));
        }
    }

    /// After a failed write: does the table still read, did it keep its rows?
    fn after_failure(&self, problems: &mut Vec<String>) {
        if let Err(e) = self.check(0) {
            problems.push(format!("and then: {e}"));
        }
    }

    /// The dry run, `doctor` and a real backfill all refuse, naming the reason;
    /// nothing is written.
    fn refused(&self, words: &[&str], problems: &mut Vec<String>) {
        let range = self.range_args();
        let pristine = self.snapshot();
        let says_refused = |out: &Output| {
            let all = text(out);
            all.contains(REFUSED) && contains_any(&all, words)
        };

        let dry = self.run(&[&["backfill", "--dry-run"][..], &range[..]].concat());
        if dry.status.code() != Some(2) || !says_refused(&dry) {
            problems.push(format!(
                "the dry run must exit 2 saying \"{REFUSED}: …\" naming one of {words:?}: {}",
                text(&dry)
            ));
        }
        let now = self.snapshot();
        if now != pristine {
            problems.push(format!(
                "the dry run changed files: {}",
                changed_files(&pristine, &now)
            ));
        }
        let left: Vec<_> = std::fs::read_dir(&self.runs)
            .map(|d| d.filter_map(|e| Some(e.ok()?.file_name())).collect())
            .unwrap_or_default();
        if !left.is_empty() {
            problems.push(format!(
                "the refused dry run left run directories: {left:?}"
            ));
        }

        let doctor = cli_at(&self.wh, &self.runs).arg("doctor").output().unwrap();
        if doctor.status.code() != Some(1) || !says_refused(&doctor) {
            problems.push(format!(
                "doctor must report the refusal (exit 1) naming one of {words:?}: {}",
                text(&doctor)
            ));
        }

        let real = self.run(&[&["backfill"][..], &range[..]].concat());
        if real.status.code() != Some(2) || !contains_any(&text(&real), words) {
            problems.push(format!(
                "a real backfill must be refused (exit 2) naming one of {words:?}: {}",
                text(&real)
            ));
        }
        let now = self.snapshot();
        if now != pristine {
            problems.push(format!(
                "the refused backfill changed files: {}",
                changed_files(&pristine, &now)
            ));
            self.after_failure(problems);
        }
    }

    /// The write would break `rule`: the dry run names it; the merge (of the dry run,
    /// when it planned one) and a real backfill are refused with exit 2 naming it and
    /// a record that breaks it; nothing is written.
    fn breaks(&self, rule: Rule, problems: &mut Vec<String>) {
        let range = self.range_args();
        let pristine = self.snapshot();
        let breakers = self.breakers(rule.breakers);
        assert!(
            !breakers.is_empty(),
            "no record of {:?} breaks {:?} (the case is wrong)",
            self.range,
            rule.names
        );
        let names_the_rule = |all: &str| {
            let all = all.to_lowercase();
            rule.names.iter().all(|n| all.contains(&n.to_lowercase()))
        };
        let names_a_breaker = |all: &str| {
            breakers
                .iter()
                .any(|(player, date)| all.contains(player.as_str()) && all.contains(date))
        };
        let refused_properly = |what: &str, out: &Output, problems: &mut Vec<String>| {
            let all = text(out);
            if out.status.code() != Some(2) || !names_the_rule(&all) || !names_a_breaker(&all) {
                problems.push(format!(
                    "{what} must exit 2 naming {:?} and a record that breaks it (e.g. {} on {}): {all}",
                    rule.names, breakers[0].0, breakers[0].1
                ));
            }
        };

        let dry = self.run(&[&["backfill", "--dry-run"][..], &range[..]].concat());
        match dry.status.code() {
            Some(0) => {
                if !names_the_rule(&text(&dry)) {
                    problems.push(format!(
                        "the dry run must warn that the merge would break {:?}: {}",
                        rule.names,
                        text(&dry)
                    ));
                }
                let report: Value = serde_json::from_slice(&dry.stdout).unwrap();
                let run_id = report["run_id"].as_str().unwrap();
                let merge = self.run(&["merge", "--run", run_id]);
                refused_properly("merge --run", &merge, problems);
            }
            Some(2) => refused_properly("the dry run", &dry, problems),
            _ => problems.push(format!(
                "the dry run must exit 0 warning, or 2 refusing: {}",
                text(&dry)
            )),
        }
        if self.snapshot() != pristine {
            problems.push(format!(
                "the dry run or merge --run changed files under the warehouse (version {:?} → {:?})",
                latest_version(&self.before),
                latest_version(&self.table)
            ));
            self.after_failure(problems);
            return;
        }

        let real = self.run(&[&["backfill"][..], &range[..]].concat());
        refused_properly("a real backfill", &real, problems);
        if self.snapshot() != pristine {
            problems.push(format!(
                "a refused backfill changed files under the warehouse (version {:?} → {:?})",
                latest_version(&self.before),
                latest_version(&self.table)
            ));
            self.after_failure(problems);
        }
    }

    /// (player, date) of the records whose rewrite breaks the rule.
    fn breakers(&self, which: Breakers) -> Vec<(String, String)> {
        let features = read_table(&self.before, None, "game_date, player_lookup");
        let keys: Vec<(String, NaiveDate)> = strings(&features, "player_lookup")
            .into_iter()
            .zip(dates(&features, "game_date"))
            .map(|(p, d)| (p.unwrap(), d.unwrap()))
            .collect();
        let games = match which {
            Breakers::EveryWrittenRecord => None,
            Breakers::ZeroOfZero => Some(self.game_dates_by_player()),
        };
        // 0/0: no game of the player in [D-60, D).
        let keep = |(player, day): &(String, NaiveDate)| {
            games.as_ref().is_none_or(|games| {
                let from = *day - chrono::Days::new(60);
                !games
                    .get(player)
                    .is_some_and(|g| g.iter().any(|d| *d >= from && d < day))
            })
        };
        keys.into_iter()
            .filter(|k| keep(k))
            .map(|(p, d)| (p, d.to_string()))
            .collect()
    }

    /// Every player's game dates in player_game_summary.
    fn game_dates_by_player(&self) -> BTreeMap<String, Vec<NaiveDate>> {
        let games = read_table(
            &self.wh.join(completeness::model::GAMES_TABLE),
            None,
            "game_date",
        );
        let mut by_player: BTreeMap<String, Vec<NaiveDate>> = BTreeMap::new();
        for (p, d) in strings(&games, "player_lookup")
            .into_iter()
            .zip(dates(&games, "game_date"))
        {
            by_player.entry(p.unwrap()).or_default().push(d.unwrap());
        }
        by_player
    }
}

/// The paths added, removed or changed between two snapshots (the first few).
fn changed_files(then: &BTreeMap<PathBuf, Vec<u8>>, now: &BTreeMap<PathBuf, Vec<u8>>) -> String {
    let paths: BTreeSet<&PathBuf> = then.keys().chain(now.keys()).collect();
    let changed: Vec<String> = paths
        .into_iter()
        .filter(|p| then.get(*p) != now.get(*p))
        .map(|p| {
            let how = match (then.contains_key(p), now.contains_key(p)) {
                (false, _) => "added",
                (_, false) => "removed",
                _ => "changed",
            };
            format!("{} ({how})", p.display())
        })
        .collect();
    let more = changed.len().saturating_sub(5);
    let mut listed = changed.into_iter().take(5).collect::<Vec<_>>().join(", ");
    if more > 0 {
        listed.push_str(&format!(" and {more} more"));
    }
    listed
}

fn rows_written(out: &Output) -> u64 {
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    report["merge"]["rows_written"].as_u64().unwrap_or(0)
}

fn dates_of(range: (&str, &str)) -> Vec<String> {
    let (start, end) = (d(range.0), d(range.1));
    start
        .iter_days()
        .take_while(|day| *day <= end)
        .map(|day| day.to_string())
        .collect()
}
