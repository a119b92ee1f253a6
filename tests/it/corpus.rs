//! The bad-input corpus: every case is one row of the table in TESTING.md.
//!
//! Each case builds its input (small files under `tests/bad-inputs/`, or Parquet and
//! Delta tables generated here), runs the CLI, and checks the exit code, that the
//! message names what and where, that the warehouse is byte-for-byte unchanged and that
//! no run directory is left behind. A few cases are inputs that look wrong but are
//! valid (extra columns, an empty file, an empty range); they must succeed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{Field, Schema};
use predicates::str::contains;

use crate::support::*;

/// Where a case runs: a temp dir, maybe a copy of the sample warehouse.
struct Ctx {
    dir: PathBuf,
    wh: PathBuf,
}

struct Case {
    id: &'static str,
    /// Prepares the inputs; returns the arguments after `--warehouse … --run-dir …`.
    setup: fn(&Ctx) -> Vec<String>,
    code: i32,
    message: &'static str,
}

fn corpus_file(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/bad-inputs")
        .join(name)
        .display()
        .to_string()
}

fn parquet(path: &Path, columns: Vec<(&str, ArrayRef)>) -> String {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(
        schema.clone(),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    path.display().to_string()
}

fn s(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}
fn days(v: &[i32]) -> ArrayRef {
    Arc::new(Date32Array::from(v.to_vec()))
}

/// A valid games file.
fn games(c: &Ctx) -> String {
    parquet(
        &c.dir.join("games.parquet"),
        vec![
            ("player_lookup", s(&["a", "a"])),
            ("game_date", days(&[20_100, 20_101])),
        ],
    )
}

/// `compute` with these features (and valid games).
fn compute(c: &Ctx, features: String) -> Vec<String> {
    let out = c.dir.join("out.parquet").display().to_string();
    vec![
        "compute".into(),
        "--features".into(),
        features,
        "--games".into(),
        games(c),
        "--out".into(),
        out,
    ]
}

/// `compute` with valid features and these games.
fn compute_games(c: &Ctx, games: String) -> Vec<String> {
    let features = parquet(
        &c.dir.join("features.parquet"),
        vec![("player_lookup", s(&["a"])), ("game_date", days(&[20_110]))],
    );
    let out = c.dir.join("out.parquet").display().to_string();
    vec![
        "compute".into(),
        "--features".into(),
        features,
        "--games".into(),
        games,
        "--out".into(),
        out,
    ]
}

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn backfill(range: [&str; 2]) -> Vec<String> {
    args(&[
        "backfill",
        "--start",
        range[0],
        "--end",
        range[1],
        "--dry-run",
    ])
}

fn truncated(c: &Ctx, name: &str) -> String {
    let path = c.dir.join(name);
    let full = parquet(
        &path,
        vec![
            ("player_lookup", s(&["a"; 50])),
            ("game_date", days(&[20_110; 50])),
        ],
    );
    let bytes = std::fs::read(&full).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    full
}

/// Replace the sample feature table with one whose struct has another shape.
fn reshaped_struct_table(c: &Ctx) {
    let table = c.wh.join(completeness::model::FEATURES_TABLE);
    std::fs::remove_dir_all(&table).unwrap();
    let found = Arc::new(Int64Array::from(vec![3])) as ArrayRef;
    let shape = arrow::array::StructArray::from(vec![(
        Arc::new(Field::new(
            "games_found",
            arrow::datatypes::DataType::Int64,
            true,
        )),
        found,
    )]);
    let micros = arrow::array::TimestampMicrosecondArray::from(vec![0]).with_timezone("UTC");
    let batch = RecordBatch::try_from_iter(vec![
        ("player_lookup", s(&["a"])),
        ("game_date", days(&[20_460])),
        ("data_source", s(&["phase4"])),
        ("updated_at", Arc::new(micros) as ArrayRef),
        ("historical_completeness", Arc::new(shape) as ArrayRef),
    ])
    .unwrap();
    runtime().block_on(async {
        let wh = completeness::warehouse::LocalWarehouse::open(c.wh.to_str().unwrap()).unwrap();
        wh.create_table(completeness::model::FEATURES_TABLE, vec![batch], &[])
            .await
            .unwrap();
    });
}

/// Delete one data file the Delta log of the feature table still refers to.
fn delete_a_data_file(c: &Ctx) {
    let table = c.wh.join(completeness::model::FEATURES_TABLE);
    let victim = std::fs::read_dir(&table)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.is_dir()
                && p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("game_date=2026-01-1")
        })
        .unwrap();
    for f in std::fs::read_dir(victim).unwrap() {
        std::fs::remove_file(f.unwrap().path()).unwrap();
    }
}

fn cases() -> Vec<Case> {
    vec![
        // --- the feature records (compute input) ---
        Case {
            id: "features-missing-game-date",
            code: 2,
            message: "missing column `game_date`",
            setup: |c| {
                compute(
                    c,
                    parquet(&c.dir.join("f.parquet"), vec![("player_lookup", s(&["a"]))]),
                )
            },
        },
        Case {
            id: "features-renamed-player-column",
            code: 2,
            message: "missing column `player_lookup` (columns present: player, game_date)",
            setup: |c| {
                compute(
                    c,
                    parquet(
                        &c.dir.join("f.parquet"),
                        vec![("player", s(&["a"])), ("game_date", days(&[20_110]))],
                    ),
                )
            },
        },
        Case {
            id: "features-game-date-as-string",
            code: 2,
            message: "column `game_date` has type",
            setup: |c| {
                compute(
                    c,
                    parquet(
                        &c.dir.join("f.parquet"),
                        vec![
                            ("player_lookup", s(&["a"])),
                            ("game_date", s(&["2025-01-01"])),
                        ],
                    ),
                )
            },
        },
        Case {
            id: "features-game-date-as-timestamp",
            code: 2,
            message: "column `game_date` has type Timestamp",
            setup: |c| {
                compute(
                    c,
                    parquet(
                        &c.dir.join("f.parquet"),
                        vec![
                            ("player_lookup", s(&["a"])),
                            (
                                "game_date",
                                Arc::new(arrow::array::TimestampMicrosecondArray::from(vec![0]))
                                    as ArrayRef,
                            ),
                        ],
                    ),
                )
            },
        },
        Case {
            id: "features-player-as-int32",
            code: 2,
            message: "column `player_lookup` has type Int32",
            setup: |c| {
                compute(
                    c,
                    parquet(
                        &c.dir.join("f.parquet"),
                        vec![
                            (
                                "player_lookup",
                                Arc::new(Int32Array::from(vec![7])) as ArrayRef,
                            ),
                            ("game_date", days(&[20_110])),
                        ],
                    ),
                )
            },
        },
        Case {
            id: "features-null-player",
            code: 2,
            message: "NULL player_lookup",
            setup: |c| {
                compute(
                    c,
                    parquet(
                        &c.dir.join("f.parquet"),
                        vec![
                            (
                                "player_lookup",
                                Arc::new(StringArray::from(vec![None::<&str>])) as ArrayRef,
                            ),
                            ("game_date", days(&[20_110])),
                        ],
                    ),
                )
            },
        },
        Case {
            id: "features-null-game-date",
            code: 2,
            message: "NULL game_date",
            setup: |c| {
                compute(
                    c,
                    parquet(
                        &c.dir.join("f.parquet"),
                        vec![
                            ("player_lookup", s(&["a"])),
                            (
                                "game_date",
                                Arc::new(Date32Array::from(vec![None])) as ArrayRef,
                            ),
                        ],
                    ),
                )
            },
        },
        Case {
            id: "features-truncated-parquet",
            code: 2,
            message: "not a readable Parquet file",
            setup: |c| compute(c, truncated(c, "f.parquet")),
        },
        Case {
            id: "features-garbage-bytes",
            code: 2,
            message: "not-parquet.parquet: not a readable Parquet file",
            setup: |c| compute(c, corpus_file("not-parquet.parquet")),
        },
        Case {
            id: "features-corrupt-footer",
            code: 2,
            message: "corrupt-footer.parquet: not a readable Parquet file",
            setup: |c| compute(c, corpus_file("corrupt-footer.parquet")),
        },
        Case {
            id: "features-empty-directory",
            code: 2,
            message: "the directory holds no .parquet files",
            setup: |c| {
                let d = c.dir.join("empty");
                std::fs::create_dir(&d).unwrap();
                compute(c, d.display().to_string())
            },
        },
        Case {
            id: "features-missing-path",
            code: 2,
            message: "does-not-exist.parquet: cannot read it",
            setup: |c| {
                compute(
                    c,
                    c.dir.join("does-not-exist.parquet").display().to_string(),
                )
            },
        },
        Case {
            id: "features-unreadable-symlink",
            code: 2,
            message: "dangling.parquet: cannot read it",
            setup: |c| {
                let l = c.dir.join("dangling.parquet");
                std::os::unix::fs::symlink(c.dir.join("gone"), &l).unwrap();
                compute(c, l.display().to_string())
            },
        },
        Case {
            id: "features-extra-columns-accepted",
            code: 0,
            message: "computed 1 records",
            setup: |c| {
                compute(
                    c,
                    parquet(
                        &c.dir.join("f.parquet"),
                        vec![
                            ("player_lookup", s(&["a"])),
                            ("game_date", days(&[20_110])),
                            ("unexpected", s(&["x"])),
                        ],
                    ),
                )
            },
        },
        Case {
            id: "features-empty-file-accepted",
            code: 0,
            message: "computed 0 records",
            setup: |c| {
                compute(
                    c,
                    parquet(
                        &c.dir.join("f.parquet"),
                        vec![("player_lookup", s(&[])), ("game_date", days(&[]))],
                    ),
                )
            },
        },
        // --- player_game_summary (compute input) ---
        Case {
            id: "games-missing-player",
            code: 2,
            message: "missing column `player_lookup`",
            setup: |c| {
                compute_games(
                    c,
                    parquet(
                        &c.dir.join("g.parquet"),
                        vec![("game_date", days(&[20_100]))],
                    ),
                )
            },
        },
        Case {
            id: "games-game-date-as-string",
            code: 2,
            message: "column `game_date` has type",
            setup: |c| {
                compute_games(
                    c,
                    parquet(
                        &c.dir.join("g.parquet"),
                        vec![
                            ("player_lookup", s(&["a"])),
                            ("game_date", s(&["2025-01-01"])),
                        ],
                    ),
                )
            },
        },
        Case {
            id: "games-game-date-as-int32",
            code: 2,
            message: "column `game_date` has type Int32",
            setup: |c| {
                compute_games(
                    c,
                    parquet(
                        &c.dir.join("g.parquet"),
                        vec![
                            ("player_lookup", s(&["a"])),
                            (
                                "game_date",
                                Arc::new(Int32Array::from(vec![20_100])) as ArrayRef,
                            ),
                        ],
                    ),
                )
            },
        },
        Case {
            id: "features-date-beyond-2100",
            code: 2,
            message: "column `game_date` at row 1: 2150-01-01 is outside the supported dates",
            setup: |c| {
                compute(
                    c,
                    parquet(
                        &c.dir.join("f.parquet"),
                        vec![
                            ("player_lookup", s(&["a", "b"])),
                            ("game_date", days(&[20_110, 65_744])),
                        ],
                    ),
                )
            },
        },
        Case {
            id: "games-date-at-the-date32-limit",
            code: 2,
            message: "column `game_date` at row 2: day -2147483648 since 1970-01-01 is outside the supported dates",
            setup: |c| {
                compute_games(
                    c,
                    parquet(
                        &c.dir.join("g.parquet"),
                        vec![
                            ("player_lookup", s(&["a", "a", "a"])),
                            ("game_date", days(&[20_100, 20_101, i32::MIN])),
                        ],
                    ),
                )
            },
        },
        Case {
            id: "games-truncated-parquet",
            code: 2,
            message: "not a readable Parquet file",
            setup: |c| compute_games(c, truncated(c, "g.parquet")),
        },
        // --- the stored records (diff input) ---
        Case {
            id: "current-duplicate-keys",
            code: 2,
            message: "duplicate feature record for player_lookup a on 2025-01-21",
            setup: |c| {
                let results = c.dir.join("results.parquet");
                let mut a = compute(
                    c,
                    parquet(
                        &c.dir.join("f.parquet"),
                        vec![("player_lookup", s(&["a"])), ("game_date", days(&[20_109]))],
                    ),
                );
                a[6] = results.display().to_string();
                let status = cli().args(&a).output().unwrap();
                assert!(status.status.success());
                let micros = Arc::new(
                    arrow::array::TimestampMicrosecondArray::from(vec![0, 0]).with_timezone("UTC"),
                ) as ArrayRef;
                let current = parquet(
                    &c.dir.join("current.parquet"),
                    vec![
                        ("player_lookup", s(&["a", "a"])),
                        ("game_date", days(&[20_109, 20_109])),
                        ("updated_at", micros),
                        (
                            "historical_completeness",
                            arrow::array::new_null_array(
                                &completeness::model::completeness_type(),
                                2,
                            ),
                        ),
                    ],
                );
                args(&[
                    "diff",
                    "--results",
                    &results.display().to_string(),
                    "--current",
                    &current,
                ])
            },
        },
        // --- the warehouse ---
        Case {
            id: "warehouse-struct-of-another-shape",
            code: 2,
            message: "column `historical_completeness` has type",
            setup: |c| {
                reshaped_struct_table(c);
                backfill(["2026-01-01", "2026-01-22"])
            },
        },
        Case {
            id: "warehouse-log-points-at-missing-file",
            code: 3,
            message: "No such file",
            setup: |c| {
                delete_a_data_file(c);
                backfill(["2026-01-01", "2026-01-22"])
            },
        },
        Case {
            id: "warehouse-unknown-url-scheme",
            code: 2,
            message: "only local paths and file:// URLs",
            setup: |_| {
                args(&[
                    "--warehouse",
                    "s3://bucket/warehouse",
                    "backfill",
                    "--start",
                    "2026-01-01",
                    "--end",
                    "2026-01-22",
                ])
            },
        },
        Case {
            id: "warehouse-missing-directory",
            code: 2,
            message: "no such directory",
            setup: |c| {
                args(&[
                    "--warehouse",
                    &c.dir.join("nowhere").display().to_string(),
                    "check",
                    "summary",
                ])
            },
        },
        Case {
            id: "warehouse-without-feature-table",
            code: 2,
            message: "no Delta table at",
            setup: |c| {
                let d = c.dir.join("empty-wh");
                std::fs::create_dir(&d).unwrap();
                args(&[
                    "--warehouse",
                    &d.display().to_string(),
                    "backfill",
                    "--start",
                    "2026-01-01",
                    "--end",
                    "2026-01-22",
                ])
            },
        },
        Case {
            id: "warehouse-empty-range-accepted",
            code: 0,
            message: "in range",
            setup: |_| backfill(["2023-06-01", "2023-06-30"]),
        },
        // --- dates and ranges ---
        Case {
            id: "range-reversed",
            code: 2,
            message: "the range is reversed",
            setup: |_| backfill(["2026-02-01", "2026-01-01"]),
        },
        Case {
            id: "range-of-decades",
            code: 2,
            message: "at most",
            setup: |_| backfill(["2000-01-01", "2026-01-01"]),
        },
        Case {
            id: "date-before-1900",
            code: 2,
            message: "1899-12-31",
            setup: |_| backfill(["1899-12-31", "1900-01-10"]),
        },
        Case {
            id: "date-after-2100",
            code: 2,
            message: "2101-01-01",
            setup: |_| backfill(["2100-12-25", "2101-01-01"]),
        },
        Case {
            id: "date-impossible",
            code: 2,
            message: "invalid date '2026-02-30'",
            setup: |_| backfill(["2026-02-30", "2026-03-01"]),
        },
        // --- configuration and identifiers ---
        Case {
            id: "config-unknown-key",
            code: 2,
            message: "unknown field `warehous`",
            setup: |_| {
                args(&[
                    "--config",
                    &corpus_file("unknown-key.toml"),
                    "check",
                    "summary",
                ])
            },
        },
        Case {
            id: "config-not-toml",
            code: 2,
            message: "not-toml.toml",
            setup: |_| {
                args(&[
                    "--config",
                    &corpus_file("not-toml.toml"),
                    "check",
                    "summary",
                ])
            },
        },
        Case {
            id: "identifier-hostile-table",
            code: 2,
            message: "project `nba` is not a valid project id",
            setup: |_| args(&["views", "--features-table", "nba.t`; DROP TABLE nba.t; --"]),
        },
        Case {
            id: "identifier-hostile-run-id",
            code: 2,
            message: "invalid run id",
            setup: |_| args(&["rollback", "../../../etc/passwd"]),
        },
        // --- the run directory and outputs ---
        Case {
            id: "output-disk-full",
            code: 3,
            message: "No space left on device",
            setup: |c| {
                let out = c.dir.join("full.parquet");
                std::os::unix::fs::symlink("/dev/full", out.with_extension("parquet.tmp")).unwrap();
                let mut a = compute(
                    c,
                    parquet(
                        &c.dir.join("f.parquet"),
                        vec![("player_lookup", s(&["a"])), ("game_date", days(&[20_110]))],
                    ),
                );
                a[6] = out.display().to_string();
                a
            },
        },
    ]
}

#[test]
fn every_bad_input_is_refused_clearly_and_writes_nothing() {
    let cases = cases();
    assert!(cases.iter().filter(|c| c.code != 0).count() >= 25);
    let testing =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("TESTING.md")).unwrap();
    for case in cases {
        assert!(
            testing.contains(&format!("`{}`", case.id)),
            "{} is not listed in TESTING.md",
            case.id
        );
        let dir = tempfile::tempdir().unwrap();
        let ctx = Ctx {
            dir: dir.path().to_path_buf(),
            wh: copy_of_samples(dir.path()),
        };
        let runs = dir.path().join("runs");
        let argv = (case.setup)(&ctx);
        let before = file_snapshot(&ctx.wh);
        let mut cmd = if argv.iter().any(|a| a == "--warehouse") {
            let mut cmd = cli();
            cmd.arg("--run-dir").arg(&runs);
            cmd
        } else {
            cli_at(&ctx.wh, &runs)
        };
        let assert = cmd.args(&argv).assert();
        let output = assert.get_output().clone();
        eprintln!(
            "{}: exit {:?}: {}",
            case.id,
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
        let assert = assert.code(case.code);
        if case.code == 0 {
            assert.stdout(contains(case.message));
            continue;
        }
        assert.stderr(contains(case.message));
        assert!(
            file_snapshot(&ctx.wh) == before,
            "{}: the warehouse changed",
            case.id
        );
        let left: Vec<_> = std::fs::read_dir(&runs)
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        assert!(
            left.is_empty(),
            "{}: run directories left behind: {left:?}",
            case.id
        );
    }
}
