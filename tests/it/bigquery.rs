//! The production path end to end, on loopback emulators (scripts/emulators): BigQuery
//! (bqemulator), GCS (fake-gcs-server behind the XML proxy) and S3 (moto).
//!
//! Each test seeds its own datasets (named after the test) from the sample warehouse,
//! runs the binary with a `kind = "bigquery"` config, and reads the emulated table back
//! through EXPORT DATA. Without the emulators' variables the tests skip, unless
//! `COMPLETENESS_REQUIRE_EMULATORS` is set (scripts/test sets it), when they fail.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use completeness::config::{FileConfig, Settings};
use completeness::io::storage::Location;
use completeness::warehouse::BigQueryWarehouse;
use completeness::warehouse::bigquery::client::{Job, Param};
use object_store::ObjectStoreExt;
use serde_json::Value;

use crate::support;

/// Where the emulators listen (from `scripts/emulators start`'s env file).
pub(crate) struct Emulators {
    gcs: String,
    pub(crate) gcs_root: PathBuf,
    pub(crate) bigquery: String,
    s3: String,
}

pub(crate) fn emulators() -> Option<Emulators> {
    let var = |k: &str| std::env::var(k).ok();
    let found = (|| {
        Some(Emulators {
            gcs: var("COMPLETENESS_TEST_GCS_ENDPOINT")?,
            gcs_root: var("COMPLETENESS_TEST_GCS_ROOT")?.into(),
            bigquery: var("COMPLETENESS_TEST_BQ_ENDPOINT")?,
            s3: var("COMPLETENESS_TEST_S3_ENDPOINT")?,
        })
    })();
    if found.is_none() {
        assert!(
            var("COMPLETENESS_REQUIRE_EMULATORS").is_none(),
            "COMPLETENESS_REQUIRE_EMULATORS is set but the emulators' variables are not: run through scripts/emulators run"
        );
        eprintln!("skipped: no emulators (scripts/test starts them)");
    }
    found
}

/// One test's datasets, config file and run directory.
pub(crate) struct Fixture {
    pub(crate) em: Emulators,
    pub(crate) name: String,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) config: PathBuf,
    /// Build the tables without NOT NULL on the keys (NULL upstream keys).
    pub(crate) nullable_keys: bool,
}

impl Fixture {
    pub(crate) fn new(em: Emulators, name: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("completeness.toml");
        std::fs::write(&config, config_text(&em, name, "")).unwrap();
        Fixture {
            em,
            name: name.to_string(),
            dir,
            config,
            nullable_keys: false,
        }
    }

    pub(crate) fn runs(&self) -> PathBuf {
        self.dir.path().join("runs")
    }

    /// The binary, configured for this fixture's BigQuery warehouse.
    pub(crate) fn cli(&self) -> assert_cmd::Command {
        let mut cmd = support::cli();
        cmd.arg("--config")
            .arg(&self.config)
            .arg("--run-dir")
            .arg(self.runs());
        cmd
    }

    pub(crate) fn warehouse(&self) -> BigQueryWarehouse {
        let file = FileConfig::load(Some(&self.config)).unwrap();
        let settings = Settings::resolve(None, None, file);
        BigQueryWarehouse::open(settings.bigquery.as_ref().unwrap(), &settings.stores).unwrap()
    }

    pub(crate) fn dataset(&self, suffix: &str) -> String {
        format!("{}_{suffix}", self.name)
    }

    /// Seed the three tables from the sample warehouse: features in `features`, games
    /// from `games_from` on, the whole schedule.
    pub(crate) fn seed(&self, features: (&str, &str), games_from: &str) {
        self.seed_from(&support::sample_warehouse(), features, games_from)
    }

    /// Build the three objects in production's shapes (`tests/emulators/
    /// production_ddl.sql`: the partitioned feature table and player_game_summary, the
    /// schedule as a view over a partitioned base table) and seed them from the local
    /// warehouse `wh`: features in `features`, games from `games_from` on, the whole
    /// schedule. Columns production has and the sample lacks stay NULL.
    pub(crate) fn seed_from(&self, wh: &Path, features: (&str, &str), games_from: &str) {
        self.seed_rows(
            wh,
            [
                format!("game_date BETWEEN '{}' AND '{}'", features.0, features.1),
                format!("game_date BETWEEN '{games_from}' AND '{}'", features.1),
                "true".to_string(),
            ],
        )
    }

    /// Build the objects and seed every row of the local warehouse `wh` (NULL keys too).
    pub(crate) fn seed_whole(&self, wh: &Path) {
        self.seed_rows(wh, ["true", "true", "true"].map(str::to_string))
    }

    /// Build the objects and seed the rows of `wh`'s features, games and schedule
    /// matching each filter.
    fn seed_rows(&self, wh: &Path, [features, games, schedule]: [String; 3]) {
        let w = self.warehouse();
        let local = support::read_table(
            &wh.join("nba_predictions/ml_feature_store_v2"),
            None,
            "game_date",
        );
        let extended = local
            .column_by_name(completeness::model::extended_column::EXTENDED_COLUMN)
            .is_some();
        self.create_production_objects(&w, extended);
        let tables = [
            (
                "nba_predictions/ml_feature_store_v2",
                format!("{}.ml_feature_store_v2", self.dataset("predictions")),
                features,
            ),
            (
                "nba_analytics/player_game_summary",
                format!("{}.player_game_summary", self.dataset("analytics")),
                games,
            ),
            (
                "nba_reference/nba_schedule",
                format!("{}.nbac_schedule", self.dataset("raw")),
                schedule,
            ),
        ];
        for (local, table, filter) in tables {
            let batch = read_local(&wh.join(local), &filter);
            let scratch = self.dir.path().join("seed.parquet");
            support::runtime().block_on(insert_rows(&w, &table, &batch, &scratch));
        }
    }

    /// The production DDL, one statement per job, with this fixture's datasets (and the
    /// extended column, as `ALTER TABLE` would add it: the emulator does not show a
    /// column added that way in the table's schema).
    pub(crate) fn create_production_objects(&self, w: &BigQueryWarehouse, extended: bool) {
        let mut ddl = include_str!("../emulators/production_ddl.sql").to_string();
        if extended {
            let kind = completeness::warehouse::bigquery::schema::ddl_type(
                &completeness::model::extended_column::extended_type(),
            )
            .unwrap();
            ddl = ddl.replace(
                "  processor_run_id STRING\n)",
                &format!("  processor_run_id STRING,\n  historical_completeness_ext {kind}\n)"),
            );
        }
        if self.nullable_keys {
            ddl = ddl
                .replace("player_lookup STRING NOT NULL", "player_lookup STRING")
                .replace("game_date DATE NOT NULL", "game_date DATE");
        }
        let ddl = ddl
            .replace("{project}", "test-project")
            .replace("{predictions}", &self.dataset("predictions"))
            .replace("{analytics}", &self.dataset("analytics"))
            .replace("{raw}", &self.dataset("raw"))
            .replace("{reference}", &self.dataset("reference"));
        support::runtime().block_on(async {
            for suffix in ["predictions", "analytics", "raw", "reference", "seed"] {
                w.client
                    .ensure_dataset(&self.dataset(suffix))
                    .await
                    .unwrap();
            }
            for (i, statement) in ddl.split("\n;\n").enumerate() {
                let id = format!("ddl_{}_{i}_{:x}", self.name, rand::random::<u32>());
                w.client.query(&id, statement, &[], "DDL").await.unwrap();
            }
        });
    }

    /// The feature table as it is in the emulator, sorted by key.
    pub(crate) fn read_features(&self, tag: &str) -> RecordBatch {
        let w = self.warehouse();
        let uri = format!("gs://completeness-exports/{}/readback/{tag}", self.name);
        let sql = format!(
            "EXPORT DATA OPTIONS(uri='{uri}/*.parquet', format='PARQUET', overwrite=true) AS \
             SELECT * FROM {} WHERE game_date BETWEEN '1900-01-01' AND '2100-12-31'",
            w.sql_name(&w.tables.features)
        );
        support::runtime().block_on(async {
            let id = format!("readback_{}_{tag}", self.name);
            w.client.query(&id, &sql, &[], "read back").await.unwrap();
        });
        let dir = self
            .em
            .gcs_root
            .join(format!("completeness-exports/{}/readback/{tag}", self.name));
        sorted(&read_parquet_dir(&dir))
    }

    pub(crate) fn sql(&self, id: &str, sql: &str, params: &[Param]) -> Job {
        let w = self.warehouse();
        support::runtime()
            .block_on(async { w.client.query(id, sql, params, "test").await.unwrap() })
    }

    pub(crate) fn manifest(&self, run_id: &str) -> Value {
        let path = self.runs().join(run_id).join("manifest.json");
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }
}

pub(crate) fn config_text(em: &Emulators, name: &str, extra: &str) -> String {
    format!(
        r#"kind = "bigquery"
[bigquery]
project = "test-project"
features_table = "{name}_predictions.ml_feature_store_v2"
games_table = "{name}_analytics.player_game_summary"
schedule_table = "{name}_reference.nba_schedule"
staging_uri = "gs://completeness-staging/{name}"
export_uri = "gs://completeness-exports/{name}"
staging_dataset = "{name}_staging"
endpoint = "{bq}"
{extra}
[gcs]
endpoint = "{gcs}"
credentials = "none"
"#,
        bq = em.bigquery,
        gcs = em.gcs
    )
}

/// Rows of a local Delta table matching `filter`.
pub(crate) fn read_local(table: &Path, filter: &str) -> RecordBatch {
    let all = support::read_table(table, None, "1");
    support::runtime().block_on(async {
        let ctx = datafusion::prelude::SessionContext::new();
        ctx.register_batch("t", all).unwrap();
        let df = ctx
            .sql(&format!("SELECT * FROM t WHERE {filter}"))
            .await
            .unwrap();
        let schema = std::sync::Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await.unwrap();
        arrow::compute::concat_batches(&schema, &batches).unwrap()
    })
}

/// Insert the batch's rows into the existing `table` (production's DDL): load them into
/// a plain table of the batch's own schema (through the staging bucket), then `INSERT
/// … SELECT` the columns the batch has. The schedule's computed `game_type` is the
/// view's.
async fn insert_rows(w: &BigQueryWarehouse, table: &str, batch: &RecordBatch, scratch: &Path) {
    use completeness::model::identifiers::TableRef;
    use completeness::warehouse::bigquery::schema::fields_of;
    let batch = plain_strings(batch);
    let target = TableRef::parse(table, 2, "table").unwrap();
    let plain = TableRef::parse(
        &format!(
            "{}_seed.{}",
            target.parts[0].rsplit_once('_').unwrap().0,
            target.parts[1]
        ),
        2,
        "table",
    )
    .unwrap();
    completeness::io::engine::write_parquet(scratch, batch.schema(), std::slice::from_ref(&batch))
        .unwrap();
    let object = w.staging.child("seed").child(&format!("{table}.parquet"));
    let bytes = std::fs::read(scratch).unwrap();
    object
        .store
        .put(&object.prefix, bytes.into())
        .await
        .unwrap();
    w.client.delete_table(&plain).await.unwrap();
    let fields = fields_of(&batch.schema()).unwrap();
    w.client
        .create_table(&plain, fields.clone(), None)
        .await
        .unwrap();
    let config =
        completeness::warehouse::bigquery::merge::load_config(w, &plain, &object.url(), fields);
    let id = format!("seed_{}_{}", plain.parts[0], plain.parts[1]);
    w.client.run_job(&id, config, "seeding").await.unwrap();

    let columns: Vec<String> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|c| c != "game_type")
        .collect();
    let list = columns.join(", ");
    let insert = format!(
        "INSERT INTO {} ({list}) SELECT {list} FROM {}",
        w.sql_name(&target),
        w.sql_name(&plain)
    );
    let id = format!("seed_insert_{}_{}", target.parts[0], target.parts[1]);
    w.client.query(&id, &insert, &[], "seeding").await.unwrap();
}

/// Utf8View columns (DataFusion's default) as Utf8, so the Parquet is plain.
fn plain_strings(batch: &RecordBatch) -> RecordBatch {
    use arrow::datatypes::{DataType, Field, Schema};
    let fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8View => f.as_ref().clone().with_data_type(DataType::Utf8),
            _ => f.as_ref().clone(),
        })
        .collect();
    let columns = batch
        .columns()
        .iter()
        .zip(&fields)
        .map(|(c, f)| arrow::compute::cast(c, f.data_type()).unwrap())
        .collect();
    RecordBatch::try_new(std::sync::Arc::new(Schema::new(fields)), columns).unwrap()
}

pub(crate) fn read_parquet_dir(dir: &Path) -> RecordBatch {
    support::runtime().block_on(async {
        let ctx = completeness::io::engine::session();
        let df = ctx
            .read_parquet(format!("{}/", dir.display()), Default::default())
            .await
            .unwrap();
        let schema = std::sync::Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await.unwrap();
        arrow::compute::concat_batches(&schema, &batches).unwrap()
    })
}

pub(crate) fn sorted(batch: &RecordBatch) -> RecordBatch {
    use arrow::compute::{SortColumn, lexsort_to_indices, take_record_batch};
    let column = |n: &str| SortColumn {
        values: batch.column_by_name(n).unwrap().clone(),
        options: None,
    };
    let idx = lexsort_to_indices(&[column("game_date"), column("player_lookup")], None).unwrap();
    take_record_batch(batch, &idx).unwrap()
}

/// Per key, the debug text of every column but the excluded ones.
pub(crate) fn rows_by_key(
    batch: &RecordBatch,
    exclude: &[&str],
) -> BTreeMap<(String, String), Vec<String>> {
    use arrow::util::display::{ArrayFormatter, FormatOptions};
    let options = FormatOptions::default();
    let names: Vec<String> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| !exclude.contains(&n.as_str()))
        .collect();
    let formatters: Vec<_> = names
        .iter()
        .map(|n| {
            ArrayFormatter::try_new(batch.column_by_name(n).unwrap().as_ref(), &options).unwrap()
        })
        .collect();
    let key = |c: &str, i: usize| {
        ArrayFormatter::try_new(batch.column_by_name(c).unwrap().as_ref(), &options)
            .unwrap()
            .value(i)
            .to_string()
    };
    (0..batch.num_rows())
        .map(|i| {
            let values = formatters.iter().map(|f| f.value(i).to_string()).collect();
            ((key("player_lookup", i), key("game_date", i)), values)
        })
        .collect()
}

/// `(player, date) -> struct` as text, NULLs included.
pub(crate) fn structs(batch: &RecordBatch) -> BTreeMap<(String, String), String> {
    let only = batch
        .project(&[
            batch.schema().index_of("player_lookup").unwrap(),
            batch.schema().index_of("game_date").unwrap(),
            batch.schema().index_of("historical_completeness").unwrap(),
        ])
        .unwrap();
    rows_by_key(&only, &["player_lookup", "game_date"])
        .into_iter()
        .map(|(k, v)| (k, v.join("")))
        .collect()
}

pub(crate) const START: &str = "2025-01-05";
pub(crate) const MIDDLE: &str = "2025-01-12";
pub(crate) const END: &str = "2025-01-20";

#[test]
#[cfg(feature = "test-hooks")]
fn backfill_on_bigquery_equals_the_local_backfill_and_rolls_back() {
    let Some(em) = emulators() else { return };
    let fx = Fixture::new(em, "e2e");
    fx.seed(("2025-01-01", "2025-01-31"), "2023-12-01");
    let seeded = fx.read_features("seeded");
    assert!(
        seeded.num_rows() > 1000,
        "seeded {} rows",
        seeded.num_rows()
    );

    // doctor: everything in place, every statement accepted by BigQuery's validator.
    let out = fx.cli().arg("doctor").assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("all checks passed"), "{text}");
    assert!(text.contains("OK   statements"), "{text}");
    assert!(text.contains("OK   schedule view"), "{text}");

    // The local backfill of the same range is the expected result.
    let local = tempfile::tempdir().unwrap();
    let wh = support::copy_of_samples(local.path());
    let local_runs = local.path().join("runs");
    support::cli_at(&wh, &local_runs)
        .args(["backfill", "--start", START, "--end", END])
        .assert()
        .success();
    let expected = structs(&support::read_table(
        &support::features_table(&wh),
        None,
        "game_date, player_lookup",
    ));

    // A dry run writes nothing and reports what the local run changed.
    let dry = fx
        .cli()
        .args([
            "--json",
            "backfill",
            "--start",
            START,
            "--end",
            END,
            "--dry-run",
        ])
        .assert()
        .success();
    let dry_report: Value = serde_json::from_slice(&dry.get_output().stdout).unwrap();
    let local_report = local_runs_report(&local_runs);
    assert_eq!(dry_report["records"], local_report["records"]);
    assert_eq!(structs(&fx.read_features("after-dry")), structs(&seeded));

    // A first run over part of the range, so the main run finds rows already right:
    // the runbook's dry run, then `merge --run` of exactly that run.
    let first = fx
        .cli()
        .args([
            "--json",
            "backfill",
            "--start",
            START,
            "--end",
            MIDDLE,
            "--dry-run",
        ])
        .assert()
        .success();
    let first: Value = serde_json::from_slice(&first.get_output().stdout).unwrap();
    let first_id = first["run_id"].as_str().unwrap();
    fx.cli()
        .args(["merge", "--run", first_id])
        .assert()
        .success();
    let first_manifest = fx.manifest(first_id);
    assert_eq!(
        first_manifest["merge"]["rows_written"],
        first_manifest["rows"]["changes"]
    );
    let before = fx.read_features("before");
    assert_ne!(structs(&before), structs(&seeded), "the merge wrote");

    // The main run; a row is rewritten by someone else while it waits before its merge.
    let release = fx.dir.path().join("release");
    let victim = first_added_key(&before);
    let (child, rest) = spawn_parked_bq(&fx, &release);
    fx.sql(
        "e2e_concurrent_write",
        &format!(
            "UPDATE {} SET data_hash = 'rewritten', updated_at = CURRENT_TIMESTAMP() \
             WHERE player_lookup = @p AND game_date = @d",
            fx.warehouse().sql_name(&fx.warehouse().tables.features)
        ),
        &[
            Param {
                name: "p",
                kind: "STRING",
                value: victim.0.clone(),
            },
            Param::date("d", victim.1.parse().unwrap()),
        ],
    );
    std::fs::write(&release, "").unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = rest.join().unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "conflict exit code; {stderr}"
    );
    let run1 = fx.runs().read_dir().unwrap().count();
    assert_eq!(run1, 3, "two dry runs (one merged) and the main run");
    // Run ids sort by second only: name the main run as the one directory not seen before.
    let known = [dry_report["run_id"].as_str().unwrap(), first_id];
    let run1 = run_ids(&fx.runs())
        .into_iter()
        .find(|id| !known.contains(&id.as_str()))
        .unwrap();
    let manifest = fx.manifest(&run1);
    let jobs: Vec<&str> = manifest["bigquery"]["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j.as_str().unwrap())
        .collect();
    assert_eq!(
        jobs.iter().filter(|j| j.ends_with("_load")).count(),
        1,
        "{jobs:?}"
    );
    assert_eq!(
        jobs.iter().filter(|j| j.contains("_merge")).count(),
        1,
        "{jobs:?}"
    );
    let changes = manifest["rows"]["changes"].as_u64().unwrap();
    let in_range = manifest["rows"]["features"].as_u64().unwrap();
    assert!(changes > 0 && changes < in_range, "{changes} of {in_range}");
    let load = support::runtime()
        .block_on(
            fx.warehouse()
                .client
                .job(jobs.iter().find(|j| j.ends_with("_load")).unwrap()),
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        load.output_rows(),
        Some(changes as i64),
        "only changed rows staged"
    );
    assert_eq!(
        manifest["merge"]["rows_written"].as_u64(),
        Some(changes - 1)
    );
    assert_eq!(manifest["merge"]["conflicts"].as_u64(), Some(1));

    // The table: the local result everywhere but the rewritten row; nothing else changed.
    let after = fx.read_features("after-run1");
    let mut got = structs(&after);
    let victim_struct = got.remove(&victim).unwrap();
    assert_eq!(
        victim_struct,
        structs(&before)[&victim],
        "the rewritten row kept"
    );
    for (key, value) in &got {
        if key.1.as_str() >= START && key.1.as_str() <= END {
            assert_eq!(Some(value), expected.get(key), "{key:?}");
        } else {
            assert_eq!(
                Some(value),
                structs(&seeded).get(key),
                "outside the range: {key:?}"
            );
        }
    }
    let others = ["historical_completeness", "updated_at", "data_hash"];
    let mut before_rows = rows_by_key(&before, &others);
    let mut after_rows = rows_by_key(&after, &others);
    assert_eq!(after_rows.len(), before_rows.len());
    before_rows.remove(&victim);
    after_rows.remove(&victim);
    assert_eq!(
        after_rows, before_rows,
        "only the struct and updated_at changed"
    );

    // Rerun: picks up the rewritten row; a third run changes nothing.
    let run2 = backfill_run_id(&fx);
    assert_eq!(
        fx.manifest(&run2)["merge"]["rows_written"].as_u64(),
        Some(1)
    );
    let after2 = fx.read_features("after-run2");
    let run3 = backfill_run_id(&fx);
    let m3 = fx.manifest(&run3);
    assert_eq!(m3["rows"]["changes"].as_u64(), Some(0));
    assert!(
        !m3["bigquery"]["jobs"].as_array().unwrap().iter().any(|j| {
            let j = j.as_str().unwrap();
            j.ends_with("_load") || j.contains("_merge")
        }),
        "a no-op run submits no load and no MERGE"
    );
    assert_eq!(
        rows_by_key(&fx.read_features("after-run3"), &[]),
        rows_by_key(&after2, &[])
    );

    // Rollback of the main run: its rows are back as before it; run 2's write is kept.
    fx.cli().args(["rollback", &run1]).assert().success();
    let rolled = fx.read_features("after-rollback");
    let mut want = rows_by_key(&before, &[]);
    let mut have = rows_by_key(&rolled, &[]);
    let victim_after = have.remove(&victim).unwrap();
    assert_eq!(Some(&victim_after), rows_by_key(&after2, &[]).get(&victim));
    want.remove(&victim);
    assert_eq!(
        have, want,
        "rollback restores the rows as they were before the run"
    );
    fx.cli()
        .args(["rollback", &run1])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("already rolled back"));
    fx.assert_statements_bounded();
}

pub(crate) fn local_runs_report(runs: &Path) -> Value {
    let [run] = run_ids(runs).try_into().expect("one local run");
    serde_json::from_slice(
        &std::fs::read(runs.join(run).join("report").join("report.json")).unwrap(),
    )
    .unwrap()
}

pub(crate) fn run_ids(runs: &Path) -> Vec<String> {
    runs.read_dir()
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect()
}

/// A full-range backfill (expecting success); its run id, from the JSON report.
fn backfill_run_id(fx: &Fixture) -> String {
    let out = fx
        .cli()
        .args(["--json", "backfill", "--start", START, "--end", END])
        .assert()
        .success();
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    report["run_id"].as_str().unwrap().to_string()
}

/// A record in range with no struct yet (so the run will add one) on a regular day.
fn first_added_key(seeded: &RecordBatch) -> (String, String) {
    let structs = structs(seeded);
    structs
        .into_iter()
        .find(|((_, date), v)| date.as_str() == "2025-01-15" && v.is_empty())
        .map(|(k, _)| k)
        .expect("a record without a struct on 2025-01-15")
}

#[cfg(feature = "test-hooks")]
fn spawn_parked_bq(
    fx: &Fixture,
    release: &Path,
) -> (std::process::Child, std::thread::JoinHandle<String>) {
    let base = [
        "--config".to_string(),
        fx.config.display().to_string(),
        "--run-dir".to_string(),
        fx.runs().display().to_string(),
    ];
    support::spawn_parked_with(
        &base,
        &["backfill", "--start", START, "--end", END],
        "merge:started",
        Some(release),
    )
}

/// The checks' answers on BigQuery equal the local ones on the same rows: each check,
/// spot-check and report daily runs against a local warehouse and the emulated tables
/// seeded from it, and the JSON documents must be identical.
#[test]
fn checks_on_bigquery_answer_as_the_local_checks() {
    let Some(em) = emulators() else { return };
    let fx = Fixture::new(em, "checks");
    let local = tempfile::tempdir().unwrap();
    let wh = support::copy_of_samples(local.path());
    let local_runs = local.path().join("runs");
    support::cli_at(&wh, &local_runs)
        .args(["backfill", "--start", "2025-01-20", "--end", "2025-02-15"])
        .assert()
        .success();
    // Features from five days before the backfilled range, so some have no struct, to
    // past the All-Star break (so both tables' data end after the dates asked about).
    fx.seed_from(&wh, ("2025-01-15", "2025-02-20"), "2024-01-15");

    let json = |cmd: &mut assert_cmd::Command| -> Value {
        let out = cmd.assert().success();
        serde_json::from_slice(&out.get_output().stdout).unwrap()
    };
    let checks = [
        "check summary --end 2025-02-15 --days 32",
        "check incomplete --start 2025-01-15 --end 2025-02-15",
        // A date with games, and the All-Star break (no rows: the warning's path).
        "check cascade --backfill-date 2025-02-01 --forward-days 7",
        "check cascade --backfill-date 2025-02-14 --forward-days 1",
        "spot-check --date 2025-02-10 --count 3 --seed 7",
        // Gaps whose closing rows are within the seeded games (to 2025-02-15).
        "check gaps --start 2025-01-20 --end 2025-02-01",
        "backfill --as-of created_at --start 2025-01-20 --end 2025-02-10",
    ];
    let mut answers = BTreeMap::new();
    for line in checks {
        let args: Vec<&str> = line.split_whitespace().collect();
        let want = json(support::cli_at(&wh, &local_runs).arg("--json").args(&args));
        let got = json(fx.cli().arg("--json").args(&args));
        assert_same_answer(&got, &want, &format!("{args:?}"));
        answers.insert(line, want);
    }
    // Not vacuous: the answers hold rows of every kind.
    let totals = |k: &str| answers.iter().find(|(a, _)| a.contains(k)).unwrap().1["totals"].clone();
    let summary = totals("summary");
    assert!(summary["incomplete"].as_u64() > Some(0), "{summary}");
    assert!(summary["without_struct"].as_u64() > Some(0), "{summary}");
    // The reasons were found on both (issue 25 item 3), not left unknown.
    let reasons = &summary["incomplete_by_reason"];
    assert!(reasons["early_season"].as_u64().is_some(), "{summary}");
    assert!(totals("incomplete")["by_reason"].is_object());
    assert!(totals("incomplete")["count"].as_u64() > Some(0));
    assert!(totals("2025-02-01")["count"].as_u64() > Some(0));
    assert!(totals("gaps")["missing_rows"].as_u64() > Some(0));
    assert!(totals("gaps")["missing_rows"].as_u64() > Some(0));
    let spot = &answers["spot-check --date 2025-02-10 --count 3 --seed 7"];
    assert_eq!(spot["passed"], 3, "{spot}");

    // report daily writes the same daily.json.
    let daily = |cmd: &mut assert_cmd::Command, dir: &Path| -> Value {
        cmd.args([
            "report",
            "daily",
            "--end",
            "2025-02-15",
            "--days",
            "10",
            "--out",
        ])
        .arg(dir)
        .assert()
        .success();
        serde_json::from_slice(&std::fs::read(dir.join("daily.json")).unwrap()).unwrap()
    };
    let want = daily(
        &mut support::cli_at(&wh, &local_runs),
        &local.path().join("daily"),
    );
    let got = daily(&mut fx.cli(), &fx.dir.path().join("daily"));
    assert_same_answer(&got, &want, "report daily");

    // --sql prints the BigQuery text: the configured table, literals for the parameters.
    let out = fx
        .cli()
        .args(["check", "cascade", "--backfill-date", "2025-02-01", "--sql"])
        .assert()
        .success();
    let sql = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        sql.contains("FROM `test-project.checks_predictions.ml_feature_store_v2`"),
        "{sql}"
    );
    assert!(sql.contains("DATE '2025-02-01' IN UNNEST("), "{sql}");
    assert!(!sql.contains('@') && !sql.contains('{'), "{sql}");
    fx.assert_statements_bounded();
}

/// `backfill --extended` on BigQuery fills the extended column exactly as locally, in
/// the same MERGE, and a rollback restores it; without the column the run is refused
/// with the DDL that adds it.
#[test]
fn extended_backfill_on_bigquery_equals_the_local_one() {
    let Some(em) = emulators() else { return };
    let fx = Fixture::new(em, "ext");
    let local = tempfile::tempdir().unwrap();
    let wh = support::copy_of_samples(local.path());
    let runs = local.path().join("runs");
    // An earlier extended run locally, so the seeded table has the column and values.
    support::cli_at(&wh, &runs)
        .args(["backfill", "--extended", "--start", START, "--end", MIDDLE])
        .assert()
        .success();
    fx.seed_from(&wh, ("2025-01-01", "2025-01-31"), "2023-12-01");
    let seeded = fx.read_features("seeded");

    let range = ["--start", START, "--end", END];
    support::cli_at(&wh, &runs)
        .args(["backfill", "--extended"])
        .args(range)
        .assert()
        .success();
    let out = fx
        .cli()
        .args(["--json", "backfill", "--extended"])
        .args(range)
        .assert()
        .success();
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert!(report["extended"]["changed"].as_u64() > Some(0), "{report}");
    let columns = ["historical_completeness", "historical_completeness_ext"];
    let want = by_key_in_range(
        &support::read_table(&support::features_table(&wh), None, "game_date"),
        &columns,
    );
    let got = by_key_in_range(&fx.read_features("after"), &columns);
    assert!(want.len() > 1000);
    assert_eq!(got, want);

    // Rollback restores both structs as they were seeded.
    let run = report["run_id"].as_str().unwrap();
    fx.cli().args(["rollback", run]).assert().success();
    assert_eq!(
        by_key_in_range(&fx.read_features("rolled-back"), &columns),
        by_key_in_range(&seeded, &columns)
    );
}

#[test]
fn extended_backfill_without_the_column_prints_the_ddl() {
    let Some(em) = emulators() else { return };
    let fx = Fixture::new(em, "extddl");
    fx.seed(("2025-01-10", "2025-01-12"), "2025-01-01");
    fx.cli()
        .args(["backfill", "--extended", "--start", "2025-01-10", "--end", "2025-01-12"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "ALTER TABLE `test-project.extddl_predictions.ml_feature_store_v2` ADD COLUMN IF NOT EXISTS historical_completeness_ext STRUCT<",
        ));
    assert!(!fx.runs().exists(), "no run directory");
}

/// Per key with a game_date in [START, END], the text of `columns`.
fn by_key_in_range(
    batch: &RecordBatch,
    columns: &[&str],
) -> BTreeMap<(String, String), Vec<String>> {
    let keep: Vec<usize> = ["player_lookup", "game_date"]
        .iter()
        .chain(columns)
        .map(|c| batch.schema().index_of(c).unwrap())
        .collect();
    rows_by_key(
        &batch.project(&keep).unwrap(),
        &["player_lookup", "game_date"],
    )
    .into_iter()
    .filter(|(k, _)| k.1.as_str() >= START && k.1.as_str() <= END)
    .collect()
}

/// `text` with the location flags of its `completeness …` commands left out.
fn without_flags(text: &str) -> String {
    let mut words = text.split(' ').peekable();
    let mut out = Vec::new();
    while let Some(word) = words.next() {
        out.push(word);
        if word.ends_with("completeness") {
            while words
                .peek()
                .is_some_and(|w| ["--warehouse", "--run-dir", "--config"].contains(w))
            {
                words.nth(1);
            }
        }
    }
    out.join(" ")
}

/// `got == want`, except that rounded averages and percentages may differ by one unit of
/// their last decimal: the emulator's engine (DuckDB) rounds binary ties such as 9.975
/// down where DataFusion rounds them up. Counts, dates and texts must be equal.
fn assert_same_answer(got: &Value, want: &Value, what: &str) {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            let keys = |m: &serde_json::Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(g), keys(w), "{what}");
            for (k, v) in w {
                assert_same_answer(&g[k], v, &format!("{what}.{k}"));
            }
        }
        (Value::Array(g), Value::Array(w)) => {
            assert_eq!(g.len(), w.len(), "{what}");
            for (i, (g, w)) in g.iter().zip(w).enumerate() {
                assert_same_answer(g, w, &format!("{what}[{i}]"));
            }
        }
        (Value::Number(g), Value::Number(w)) if w.is_f64() => {
            let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
            assert!((g - w).abs() <= 0.1 + 1e-9, "{what}: {g} != {w}");
        }
        // Printed commands carry each side's own location flags.
        (Value::String(g), Value::String(w)) => {
            assert_eq!(without_flags(g), without_flags(w), "{what}")
        }
        _ => assert_eq!(got, want, "{what}"),
    }
}

#[test]
fn doctor_names_each_problem_of_a_broken_setup() {
    let Some(em) = emulators() else { return };
    let fx = Fixture::new(em, "doctor");
    fx.seed(("2025-01-01", "2025-01-02"), "2025-01-01");
    // Break it: the games table is missing, the struct lost a field, the bucket is gone.
    let w = fx.warehouse();
    support::runtime().block_on(async {
        w.client.delete_table(&w.tables.games).await.unwrap();
    });
    fx.sql(
        "doctor_break_struct",
        &format!(
            "CREATE OR REPLACE TABLE {} (player_lookup STRING, game_date DATE, updated_at TIMESTAMP, \
             historical_completeness STRUCT<games_found INT64, games_expected INT64, is_complete BOOL>)",
            w.sql_name(&w.tables.features)
        ),
        &[],
    );
    let broken = config_text(&fx.em, "doctor", "").replace(
        "gs://completeness-staging/doctor",
        "gs://no-such-bucket/doctor",
    );
    std::fs::write(&fx.config, broken).unwrap();
    let out = fx.cli().arg("doctor").assert().code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("FAIL games table"), "{text}");
    assert!(
        text.contains("doctor_analytics.player_game_summary not found"),
        "{text}"
    );
    assert!(text.contains("FAIL features table"), "{text}");
    assert!(
        text.contains("column `historical_completeness` must be STRUCT<"),
        "{text}"
    );
    assert!(text.contains("FAIL staging bucket"), "{text}");
    assert!(text.contains("gs://no-such-bucket/doctor"), "{text}");
    assert!(text.contains("3 problem(s) found"), "{text}");
}

#[test]
fn hostile_or_missing_tables_are_refused_before_any_job() {
    let Some(em) = emulators() else { return };
    let fx = Fixture::new(em, "hostile");
    let text = config_text(&fx.em, "hostile", "").replace(
        "hostile_analytics.player_game_summary",
        "hostile_analytics.t` WHERE 1=1; DROP TABLE x; --",
    );
    std::fs::write(&fx.config, text).unwrap();
    fx.cli()
        .args(["backfill", "--start", START, "--end", END])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "games_table `hostile_analytics.t`",
        ));
    assert!(!fx.runs().exists(), "nothing written");

    std::fs::write(&fx.config, config_text(&fx.em, "hostile", "")).unwrap();
    fx.cli()
        .args(["backfill", "--start", START, "--end", END, "--dry-run"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "features_table hostile_predictions.ml_feature_store_v2: not found",
        ));
}

#[test]
fn compute_reads_inputs_from_gcs_and_s3() {
    let Some(em) = emulators() else { return };
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("inputs");
    support::cli()
        .arg("--warehouse")
        .arg(support::sample_warehouse())
        .args(["samples", "inputs", "--out"])
        .arg(&inputs)
        .assert()
        .success();
    let local_out = dir.path().join("local.parquet");
    support::cli()
        .args(["compute", "--features"])
        .arg(inputs.join("features.parquet"))
        .arg("--games")
        .arg(inputs.join("games.parquet"))
        .arg("--out")
        .arg(&local_out)
        .assert()
        .success();
    let config = dir.path().join("completeness.toml");
    std::fs::write(
        &config,
        format!(
            "[gcs]\nendpoint = \"{}\"\ncredentials = \"none\"\n[s3]\nendpoint = \"{}\"\nregion = \"us-east-1\"\naccess_key_id = \"test\"\nsecret_access_key = \"test\"\n",
            em.gcs, em.s3
        ),
    )
    .unwrap();
    let file = FileConfig::load(Some(&config)).unwrap();
    let stores = Settings::resolve(None, None, file).stores;
    for base in [
        "gs://completeness-staging/compute-test",
        "s3://compute-test/in",
    ] {
        let Location::Remote(remote) = stores.locate(base).unwrap() else {
            unreachable!()
        };
        support::runtime().block_on(async {
            if base.starts_with("s3://") {
                make_s3_bucket(&em.s3, "compute-test").await;
            }
            for name in ["features.parquet", "games.parquet"] {
                let object = remote.child(name);
                let bytes = std::fs::read(inputs.join(name)).unwrap();
                object
                    .store
                    .put(&object.prefix, bytes.into())
                    .await
                    .unwrap();
            }
        });
        let out = dir.path().join("remote.parquet");
        support::cli()
            .arg("--config")
            .arg(&config)
            .args(["compute", "--features"])
            .arg(format!("{base}/features.parquet"))
            .arg("--games")
            .arg(format!("{base}/games.parquet"))
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        assert_eq!(
            rows_by_key(&read_parquet_file(&out), &[]),
            rows_by_key(&read_parquet_file(&local_out), &[]),
            "{base}"
        );
    }
}

fn read_parquet_file(path: &Path) -> RecordBatch {
    let file = std::fs::File::open(path).unwrap();
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(file, 8192).unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap()
}

/// moto accepts any signature; a bucket is one PUT.
async fn make_s3_bucket(endpoint: &str, bucket: &str) {
    let client = reqwest::Client::new();
    let response = client
        .put(format!("{endpoint}/{bucket}"))
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0",
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{:?}", response.status());
}

/// The fault proxy (`tests/emulators/bq_fault_proxy.py`) in front of the emulator:
/// the first `times` query jobs whose SQL contains `pattern` fail with `message`.
struct FaultProxy {
    child: std::process::Child,
    endpoint: String,
}

impl FaultProxy {
    fn start(upstream: &str, pattern: &str, times: u32, message: &str) -> FaultProxy {
        FaultProxy::spawn(upstream, &["--match", pattern, "--message", message], times)
    }

    /// The first `times` GET responses whose URL holds `pattern` arrive cut off
    /// (`mode`: close, short or empty; see the script).
    fn cutting(upstream: &str, pattern: &str, mode: &str, times: u32) -> FaultProxy {
        FaultProxy::spawn(
            upstream,
            &["--cut-body", pattern, "--cut-mode", mode],
            times,
        )
    }

    fn spawn(upstream: &str, faults: &[&str], times: u32) -> FaultProxy {
        use std::io::{BufRead, BufReader};
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/emulators/bq_fault_proxy.py");
        let mut child = std::process::Command::new("python3")
            .arg(script)
            .args(["--upstream", upstream])
            .args(faults)
            .args(["--times", &times.to_string()])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs the fault proxy");
        let mut port = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut port)
            .unwrap();
        FaultProxy {
            child,
            endpoint: format!("http://127.0.0.1:{}", port.trim()),
        }
    }
}

impl FaultProxy {
    /// How many jobs the proxy failed and bodies it cut (`GET /_proxy/stats`).
    fn stats(&self) -> Value {
        use std::io::{Read, Write};
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        write!(
            stream,
            "GET /_proxy/stats HTTP/1.0\r\nHost: {address}\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let body = answer.split("\r\n\r\n").nth(1).unwrap();
        serde_json::from_str(body).unwrap()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Fixture {
    /// Point the config's BigQuery endpoint at `endpoint`.
    pub(crate) fn use_endpoint(&self, endpoint: &str) {
        let text = config_text(&self.em, &self.name, "").replace(&self.em.bigquery, endpoint);
        std::fs::write(&self.config, text).unwrap();
    }

    /// The ids of the jobs the emulator holds that touch this fixture's datasets, dry
    /// runs left out (they are no jobs an operator pays or audits). Other tests run at
    /// the same time on the same emulator: their jobs are not this fixture's.
    pub(crate) fn job_ids(&self) -> std::collections::BTreeSet<String> {
        let url = format!(
            "{}/bigquery/v2/projects/test-project/jobs?allUsers=true&projection=full&maxResults=100000",
            self.em.bigquery
        );
        let list: Value = support::runtime().block_on(async {
            let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
            serde_json::from_str(&text).unwrap()
        });
        list["jobs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|j| j["configuration"]["dryRun"].as_bool() != Some(true))
            .filter(|j| {
                j["configuration"]
                    .to_string()
                    .contains(&format!("{}_", self.name))
            })
            .filter_map(|j| j["jobReference"]["jobId"].as_str().map(str::to_string))
            .collect()
    }

    /// Every statement the tool sent for this fixture's tables (its jobs, dry runs
    /// included, listed by the emulator) bounds `game_date` on each of the three objects.
    pub(crate) fn assert_statements_bounded(&self) {
        let w = self.warehouse();
        let url = format!(
            "{}/bigquery/v2/projects/test-project/jobs?allUsers=true&projection=full&maxResults=100000",
            self.em.bigquery
        );
        let list: Value = support::runtime().block_on(async {
            let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
            serde_json::from_str(&text).unwrap()
        });
        let tables = [
            w.sql_name(&w.tables.features),
            w.sql_name(&w.tables.games),
            w.sql_name(&w.tables.schedule),
        ];
        let tables: Vec<&str> = tables.iter().map(String::as_str).collect();
        let mut seen = 0;
        for job in list["jobs"].as_array().unwrap() {
            let id = job["jobReference"]["jobId"].as_str().unwrap_or("");
            let sql = job["configuration"]["query"]["query"]
                .as_str()
                .unwrap_or("");
            if !id.starts_with("completeness_") || !tables.iter().any(|t| sql.contains(t)) {
                continue;
            }
            seen += 1;
            let missing = crate::partition_filter::unbounded(sql, &tables);
            assert!(
                missing.is_empty(),
                "job {id} reads {missing:?} without a game_date bound:\n{sql}"
            );
        }
        assert!(seen > 0, "no statements of the tool found");
    }
}

const SERIALIZE: &str = "Could not serialize access to table test-project:retry_predictions.ml_feature_store_v2 due to concurrent update";

/// The daily processor MERGEs into the same table: BigQuery fails one of two concurrent
/// DML jobs. The tool retries its MERGE under a new job id and the run succeeds.
#[test]
fn a_merge_meeting_a_concurrent_update_is_retried_under_a_new_job_id() {
    let Some(em) = emulators() else { return };
    let fx = Fixture::new(em, "retry");
    fx.seed(("2025-01-10", "2025-01-14"), "2024-01-01");
    let proxy = FaultProxy::start(&fx.em.bigquery, "MERGE ", 2, SERIALIZE);
    fx.use_endpoint(&proxy.endpoint);
    let out = fx
        .cli()
        .args([
            "--json",
            "backfill",
            "--start",
            "2025-01-12",
            "--end",
            "2025-01-14",
        ])
        .assert()
        .success();
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let run = report["run_id"].as_str().unwrap();
    let manifest = fx.manifest(run);
    let jobs: Vec<&str> = manifest["bigquery"]["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j.as_str().unwrap())
        .collect();
    let merge = format!("completeness_{}_merge_3", run.replace('-', "_"));
    assert!(
        jobs.contains(&merge.as_str()),
        "the third attempt ran: {jobs:?}"
    );
    let written = manifest["merge"]["rows_written"].as_u64().unwrap();
    assert!(written > 0 && written == manifest["rows"]["changes"].as_u64().unwrap());
    assert_eq!(manifest["merge"]["conflicts"], 0);
    drop(proxy);
    fx.use_endpoint(&fx.em.bigquery.clone());
    fx.assert_statements_bounded();
}

/// A backfill in the export mode creates at most 5 jobs (2 EXPORT, the staleness count,
/// 1 load, 1 MERGE; dry-run validations are not jobs an operator pays or audits): the
/// season starts come with the feature export, the conflicts are listed only when there
/// are some (issue 26, item 7). Its bootstrap dates are the local run's (the season
/// starts are still the schedule's).
#[test]
fn an_export_mode_backfill_creates_at_most_five_jobs() {
    let Some(em) = emulators() else { return };
    let fx = Fixture::new(em, "jobs");
    fx.seed(("2025-10-21", "2025-11-10"), "2024-10-01");
    let range = ["--start", "2025-10-28", "--end", "2025-11-10"];
    let before = fx.job_ids();
    let out = fx
        .cli()
        .args(["--json", "backfill"])
        .args(range)
        .assert()
        .success();
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let jobs: Vec<String> = fx.job_ids().difference(&before).cloned().collect();
    assert!(jobs.len() <= 5, "{} jobs: {jobs:?}", jobs.len());
    assert!(
        report["merge"]["rows_written"].as_u64() > Some(0),
        "{report}"
    );
    // The schedule is not read for the reasons (a sixth job); the report says so, and
    // the check it names, run as printed, gives them.
    assert!(report["incomplete_reasons"].is_null(), "{report}");
    let why = report["reasons_unknown"].as_str().expect("reasons_unknown");
    let check = why
        .split('`')
        .nth(1)
        .and_then(shlex::split)
        .unwrap_or_else(|| panic!("no command in: {why}"));
    assert_eq!(check[0], "completeness", "{why}");
    assert!(
        why.contains("check incomplete --start 2025-10-28 --end 2025-11-10"),
        "{why}"
    );
    let reasons = support::cli()
        .arg("--json")
        .args(&check[1..])
        .assert()
        .success();
    let reasons: Value = serde_json::from_slice(&reasons.get_output().stdout).unwrap();
    assert_eq!(reasons["check"], "incomplete", "{reasons}");

    let local = tempfile::tempdir().unwrap();
    let wh = support::copy_of_samples(local.path());
    let local_runs = local.path().join("runs");
    support::cli_at(&wh, &local_runs)
        .args(["backfill", "--dry-run"])
        .args(range)
        .assert()
        .success();
    let local_report = local_runs_report(&local_runs);
    assert!(local_report["records"]["skipped_bootstrap"].as_u64() > Some(0));
    assert_eq!(report["records"], local_report["records"]);
    fx.assert_statements_bounded();
}

/// A response body that does not arrive whole is retried like a 503, and a paged read
/// ends only with every row BigQuery counted: with a page cut off (connection closed
/// mid-body, a short body, an empty one), a check and a dry run answer exactly as
/// undisturbed (issue 26, item 8; before, a cut page was read as empty).
#[test]
fn a_cut_off_response_is_retried_never_read_as_an_answer() {
    let Some(em) = emulators() else { return };
    let fx = Fixture::new(em, "cutoff");
    fx.seed(("2025-01-15", "2025-02-01"), "2024-01-15");
    let gaps = [
        "--json",
        "check",
        "gaps",
        "--start",
        "2025-01-20",
        "--end",
        "2025-02-01",
    ];
    let answer = |cmd: &mut assert_cmd::Command| -> Value {
        let out = cmd.assert().success();
        serde_json::from_slice(&out.get_output().stdout).unwrap()
    };
    let want = answer(fx.cli().args(gaps));
    let cuts = [
        ("pageToken", "close"),
        ("pageToken", "short"),
        ("pageToken", "empty"),
        ("/queries/", "close"),
    ];
    for (pattern, mode) in cuts {
        let proxy = FaultProxy::cutting(&fx.em.bigquery, pattern, mode, 1);
        fx.use_endpoint(&proxy.endpoint);
        let got = answer(fx.cli().args(gaps));
        assert_eq!(
            proxy.stats()["cut"],
            1,
            "a body was cut ({pattern}, {mode})"
        );
        assert_eq!(
            got, want,
            "check gaps with a cut-off page ({pattern}, {mode})"
        );
    }
    // An empty first page (a dry run once read its season starts so: "query result has
    // no column season_year").
    let summary = [
        "--json",
        "check",
        "summary",
        "--end",
        "2025-02-01",
        "--days",
        "10",
    ];
    fx.use_endpoint(&fx.em.bigquery.clone());
    let want = answer(fx.cli().args(summary));
    let proxy = FaultProxy::cutting(&fx.em.bigquery, "/queries/", "empty", 1);
    fx.use_endpoint(&proxy.endpoint);
    let got = answer(fx.cli().args(summary));
    assert_eq!(proxy.stats()["cut"], 1);
    assert_eq!(got, want, "check summary with an empty first page");
    drop(proxy);
    fx.use_endpoint(&fx.em.bigquery.clone());
    fx.assert_statements_bounded();
}

/// Rows in the streaming buffer block MERGE for up to ~90 minutes: the run stops with
/// exit 3, says what it is and how to resume, and the resumed run completes.
#[test]
fn a_merge_blocked_by_the_streaming_buffer_stops_resumably() {
    let Some(em) = emulators() else { return };
    let fx = Fixture::new(em, "buffer");
    fx.seed(("2025-01-10", "2025-01-14"), "2024-01-01");
    let buffer = "UPDATE or DELETE statement over table test-project.buffer_predictions.ml_feature_store_v2 would affect rows in the streaming buffer, which is not supported";
    let proxy = FaultProxy::start(&fx.em.bigquery, "MERGE ", 1, buffer);
    fx.use_endpoint(&proxy.endpoint);
    let out = fx
        .cli()
        .args(["backfill", "--start", "2025-01-12", "--end", "2025-01-14"])
        .assert()
        .code(3);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("streaming buffer"), "{stderr}");
    assert!(stderr.contains("about 90 minutes"), "{stderr}");
    let [run] = run_ids(&fx.runs()).try_into().expect("one run");
    assert!(
        stderr.contains(&format!(
            "`completeness --run-dir {} --config {} backfill --resume {run}`",
            fx.runs().display(),
            fx.config.display()
        )),
        "{stderr}"
    );
    assert!(fx.manifest(&run)["merge"].is_null(), "nothing merged");

    // Later: the buffer is flushed, and the staging table has expired meanwhile; the
    // resumed run stages the changes again and merges (a new MERGE job id).
    let w = fx.warehouse();
    let staging = w.staging_table(&run);
    support::runtime().block_on(async {
        assert!(
            w.client.table(&staging).await.unwrap().is_some(),
            "staging kept"
        );
        w.client.delete_table(&staging).await.unwrap();
    });
    fx.cli()
        .args(["backfill", "--resume", &run])
        .assert()
        .success();
    let manifest = fx.manifest(&run);
    let written = manifest["merge"]["rows_written"].as_u64().unwrap();
    assert!(written > 0 && written == manifest["rows"]["changes"].as_u64().unwrap());
    let jobs = manifest["bigquery"]["jobs"].to_string();
    assert!(
        jobs.contains(&format!("completeness_{}_merge_2", run.replace('-', "_"))),
        "{jobs}"
    );
}

/// A schedule view of the wrong shape (the columns our samples had before production's
/// were known) stops a run in its pre-flight, before any export, naming the statement
/// and BigQuery's message; `doctor` names the missing columns.
#[test]
fn a_statement_bigquery_refuses_stops_the_run_before_any_export() {
    let Some(em) = emulators() else { return };
    let fx = Fixture::new(em, "preflight");
    fx.seed(("2025-01-10", "2025-01-12"), "2025-01-01");
    let w = fx.warehouse();
    fx.sql(
        "preflight_old_view",
        &format!(
            "CREATE OR REPLACE VIEW {} AS SELECT game_id, game_date, season_year, \
             'Regular Season' AS season_type, home_team_tricode AS home_team_abbr, \
             away_team_tricode AS away_team_abbr FROM `test-project.preflight_raw.nbac_schedule`",
            w.sql_name(&w.tables.schedule)
        ),
        &[],
    );
    let out = fx
        .cli()
        .args([
            "backfill",
            "--start",
            "2025-01-10",
            "--end",
            "2025-01-12",
            "--dry-run",
        ])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains(
            "BigQuery refuses the export of the feature records with their season starts"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("game_status"),
        "BigQuery's message names the column: {stderr}"
    );
    assert!(
        !fx.runs().exists() || run_ids(&fx.runs()).is_empty(),
        "no run directory"
    );
    let exported = fx.em.gcs_root.join("completeness-exports/preflight");
    assert!(
        !exported.exists(),
        "nothing exported: {}",
        exported.display()
    );

    let out = fx.cli().arg("doctor").assert().code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("FAIL schedule view"), "{text}");
    assert!(
        text.contains("missing column `home_team_tricode` (STRING)"),
        "{text}"
    );
}

/// `completeness views` installs production's own daily view, column for column, and it
/// answers on the production-shaped table.
#[test]
fn the_installed_views_keep_productions_columns() {
    let Some(em) = emulators() else { return };
    let fx = Fixture::new(em, "views");
    fx.seed(("2025-01-10", "2025-01-12"), "2025-01-01");
    let out = fx
        .cli()
        .args([
            "views",
            "--dataset",
            "views_predictions",
            "--features-table",
            "test-project.views_predictions.ml_feature_store_v2",
        ])
        .assert()
        .success();
    let ddl = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    for (i, statement) in ddl
        .split(";\n")
        .filter(|s| s.contains("CREATE"))
        .enumerate()
    {
        fx.sql(&format!("views_ddl_{i}"), statement, &[]);
    }
    let job = fx.sql(
        "views_query",
        "SELECT * FROM `test-project.views_predictions.v_historical_completeness_daily`",
        &[],
    );
    let rows = support::runtime()
        .block_on(fx.warehouse().client.rows(&job))
        .unwrap();
    let names: Vec<&str> = rows
        .fields
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "game_date",
            "total_features",
            "complete_count",
            "incomplete_count",
            "bootstrap_count",
            "complete_pct",
            "incomplete_pct",
            "avg_games_found",
            "avg_games_expected"
        ]
    );
}

/// A window of bootstrap days only has nothing to compute: the run warns, leaves no
/// run directory and no exported files in the bucket (issue 25, item 6).
#[test]
fn a_run_with_nothing_to_compute_leaves_no_exports_behind() {
    let Some(em) = emulators() else { return };
    let fx = Fixture::new(em, "nothing");
    fx.seed(("2025-10-21", "2025-11-03"), "2025-10-01");
    let out = fx
        .cli()
        .args([
            "--json",
            "backfill",
            "--dry-run",
            "--start",
            "2025-10-21",
            "--end",
            "2025-11-03",
        ])
        .assert()
        .success();
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(report["status"], "nothing_to_compute", "{report}");
    assert!(report["records"]["skipped_bootstrap"].as_u64() > Some(0));
    assert!(
        !fx.runs().exists() || run_ids(&fx.runs()).is_empty(),
        "no run directory"
    );
    let exported = fx.em.gcs_root.join("completeness-exports/nothing");
    let mut files = Vec::new();
    let mut stack = vec![exported.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten() {
            let path = entry.unwrap().path();
            match path.is_dir() {
                true => stack.push(path),
                false => files.push(path),
            }
        }
    }
    assert!(files.is_empty(), "exports left behind: {files:?}");
}
