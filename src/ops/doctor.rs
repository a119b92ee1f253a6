//! `doctor`: check everything a run needs before starting one, naming each problem.
//!
//! Every check runs even when an earlier one failed (an operator fixing a setup wants
//! the whole list at once), except those that cannot succeed: nothing can be checked
//! without a valid configuration, and nothing remote without a token. Those are listed
//! as skipped, so a root cause is reported once, with the command that fixes it. The
//! independent remote checks (tables, staging dataset, buckets) run concurrently.
//! Secrets are never printed: the credential check says which source was used and
//! whether it produced a token.
//!
//! On BigQuery it checks every column the tool reads on the three objects
//! ([`schema::FEATURE_READS`], [`schema::GAMES_READS`], [`schema::SCHEDULE_READS`]),
//! then has BigQuery validate every statement a run and the checks send, as dry-run
//! jobs: a partition filter it refuses, a column it cannot find, a type it cannot
//! compare all show up here, with the statement.

use object_store::ObjectStoreExt;
use serde::Serialize;

use crate::cli::config::{Kind, Settings};
use crate::io::storage::{Credentials, Remote};
use crate::model::{FEATURES_TABLE, GAMES_TABLE, SCHEDULE_TABLE};
use crate::warehouse::bigquery::schema;
use crate::warehouse::{BigQueryWarehouse, LocalWarehouse};

/// One line of the diagnosis.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub check: String,
    pub ok: bool,
    pub detail: String,
    /// Not run: an earlier finding it depends on failed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Diagnosis {
    pub warehouse: String,
    pub findings: Vec<Finding>,
}

impl Diagnosis {
    pub fn ok(&self) -> bool {
        self.findings.iter().all(|f| f.ok)
    }

    fn add(&mut self, check: impl Into<String>, result: Result<String, String>) {
        let (ok, detail) = match result {
            Ok(d) => (true, d),
            Err(d) => (false, d),
        };
        self.findings.push(Finding {
            check: check.into(),
            ok,
            detail,
            skipped: false,
        });
    }

    /// `checks` were not run because `cause` failed.
    fn skip(&mut self, checks: &[&str], cause: &str) {
        for check in checks {
            self.findings.push(Finding {
                check: check.to_string(),
                ok: false,
                detail: format!("skipped: needs {cause} (fix that first)"),
                skipped: true,
            });
        }
    }

    /// One line per check, then a verdict.
    pub fn render(&self) -> String {
        let mut out = format!("doctor: {}\n", self.warehouse);
        for f in &self.findings {
            let mark = match (f.ok, f.skipped) {
                (true, _) => "OK  ",
                (false, true) => "SKIP",
                (false, false) => "FAIL",
            };
            let detail = f.detail.replace('\n', &format!("\n{:26}", ""));
            out.push_str(&format!("  {mark} {:<18} {detail}\n", f.check));
        }
        let failed = self.findings.iter().filter(|f| !f.ok && !f.skipped).count();
        let skipped = self.findings.iter().filter(|f| f.skipped).count();
        out.push_str(&match (failed, skipped) {
            (0, _) => "all checks passed\n".to_string(),
            (n, 0) => format!("{n} problem(s) found\n"),
            (n, k) => format!("{n} problem(s) found; {k} check(s) skipped until they are fixed\n"),
        });
        out
    }
}

/// Diagnose the configured warehouse; `progress` hears of each step as it starts.
pub async fn diagnose(settings: &Settings, progress: &(dyn Fn(&str) + Sync)) -> Diagnosis {
    let mut d = match settings.kind {
        Kind::Local => local(settings).await,
        Kind::Bigquery => bigquery(settings, progress).await,
    };
    d.findings.insert(0, config_file(settings));
    d
}

/// Which config file is in use: one picked up from the working directory is named.
fn config_file(settings: &Settings) -> Finding {
    Finding {
        check: "config file".into(),
        ok: true,
        detail: match &settings.config_file {
            Some(path) => path.display().to_string(),
            None => format!(
                "none ({} not found; flags and COMPLETENESS_* only)",
                crate::cli::config::DEFAULT_CONFIG
            ),
        },
        skipped: false,
    }
}

async fn local(settings: &Settings) -> Diagnosis {
    let mut d = Diagnosis {
        warehouse: settings.warehouse.clone().unwrap_or_default(),
        ..Default::default()
    };
    let w = match settings.require_warehouse().and_then(LocalWarehouse::open) {
        Ok(w) => w,
        Err(e) => {
            d.add("configuration", Err(e.to_string()));
            return d;
        }
    };
    d.add("configuration", Ok("local Delta warehouse".into()));
    for (table, required) in [
        (FEATURES_TABLE, true),
        (GAMES_TABLE, true),
        (SCHEDULE_TABLE, false),
    ] {
        let result = match w.open_table(table).await {
            Ok(t) => Ok(format!("version {}", t.version().unwrap_or(0))),
            Err(_) if !required => Ok("missing: the built-in season calendar is used".into()),
            Err(e) => Err(e.to_string()),
        };
        d.add(table, result);
    }
    if let Ok(table) = w.open_table(FEATURES_TABLE).await {
        d.add("features writable", writable(&table));
    }
    d
}

/// Whether a merge can write the local feature table, and the rules it will honour.
fn writable(table: &deltalake::DeltaTable) -> Result<String, String> {
    use crate::warehouse::delta::{rules::Rules, writable};
    let written = [
        crate::model::HISTORICAL_COMPLETENESS,
        crate::model::UPDATED_AT,
    ];
    let reasons = writable::refusals(table, &written).map_err(|e| e.to_string())?;
    if !reasons.is_empty() {
        return Err(format!(
            "a merge into this table would be refused: {}",
            reasons.join("; ")
        ));
    }
    let rules = Rules::of(table, &written).map_err(|e| e.to_string())?;
    Ok(match rules.len() {
        0 => "a merge can write it".to_string(),
        n => format!("a merge can write it; {n} table rule(s) checked on every row written"),
    })
}

/// The checks that need a token.
const REMOTE_CHECKS: [&str; 5] = [
    "features table",
    "games table",
    "schedule view",
    "staging dataset",
    "staging bucket",
];

async fn bigquery(settings: &Settings, progress: &(dyn Fn(&str) + Sync)) -> Diagnosis {
    let mut d = Diagnosis::default();
    let w = match settings
        .require_bigquery()
        .and_then(|c| BigQueryWarehouse::open(c, &settings.stores))
    {
        Ok(w) => w,
        Err(e) => {
            d.add("configuration", Err(e.to_string()));
            return d;
        }
    };
    d.warehouse = w.describe();
    d.add(
        "configuration",
        Ok(format!(
            "project {}, location {}",
            w.config.project, w.config.location
        )),
    );
    progress(
        "doctor: asking for a token (off Google Cloud, the metadata server can take ~20 s to give up)",
    );
    let token = credentials(&w, settings).await;
    let has_token = token.is_ok();
    d.add("credentials", token);
    if !has_token {
        d.skip(&REMOTE_CHECKS, "credentials");
        return d;
    }
    progress("doctor: reading the tables, the staging dataset and the buckets");
    let (tables, dataset, staging, exports) =
        tokio::join!(tables(&w), staging_dataset(&w), bucket(&w.staging), async {
            match w.exports.url() != w.staging.url() {
                true => Some(bucket(&w.exports).await),
                false => None,
            }
        });
    let shaped = tables.iter().filter(|(_, _, shaped)| *shaped).count();
    for (name, result, _) in tables {
        d.add(name, result);
    }
    if shaped >= 2 {
        progress("doctor: having BigQuery validate every statement (dry runs)");
        d.add("statements", statements(&w).await);
    }
    d.add("staging dataset", dataset);
    d.add("staging bucket", staging);
    if let Some(exports) = exports {
        d.add("export bucket", exports);
    }
    d
}

/// The three objects the tool reads, each with the columns it needs (concurrently);
/// per object: its finding and whether it has the shape the statements need.
async fn tables(w: &BigQueryWarehouse) -> Vec<(&'static str, Result<String, String>, bool)> {
    let tables = [
        (
            "features table",
            &w.tables.features,
            &schema::FEATURE_READS[..],
        ),
        ("games table", &w.tables.games, &schema::GAMES_READS[..]),
        (
            "schedule view",
            &w.tables.schedule,
            &schema::SCHEDULE_READS[..],
        ),
    ];
    let checks = tables.map(|(name, table, reads)| async move {
        let result = match w.client.table(table).await {
            Err(e) => Err(e.to_string()),
            Ok(None) if name == "schedule view" => {
                return (
                    name,
                    Ok(format!(
                        "{table} not found: the built-in season calendar is used"
                    )),
                    false,
                );
            }
            Ok(None) => Err(format!("{table} not found")),
            Ok(Some(resource)) => {
                let problems = schema::read_problems(&resource, reads);
                match problems.is_empty() {
                    true => Ok(format!(
                        "{table}: the {} columns the tool reads are there",
                        reads.len()
                    )),
                    false => Err(format!("{table}: {}", problems.join("; "))),
                }
            }
        };
        let shaped = result.is_ok();
        (name, result, shaped)
    });
    futures::future::join_all(checks).await
}

async fn credentials(w: &BigQueryWarehouse, settings: &Settings) -> Result<String, String> {
    let mode = settings
        .stores
        .gcs
        .credentials()
        .map_err(|e| e.to_string())?;
    let source = match &mode {
        Credentials::None => return Ok("none (emulator endpoints)".into()),
        Credentials::KeyFile(path) => format!("service-account file {}", path.display()),
        Credentials::GoogleDefault => "the Google default chain".into(),
    };
    let bucket = w.staging.base.host_str().unwrap_or_default();
    let store = settings
        .stores
        .gcs_bucket(bucket)
        .map_err(|e| format!("{source}: {e}"))?;
    match store.credentials().get_credential().await {
        Ok(_) => Ok(format!("{source}: a token was issued")),
        Err(e) => Err(format!(
            "{source}: no token: {e}\n{}",
            credentials_fix(&mode)
        )),
    }
}

/// The command or setting that gives the tool a token.
fn credentials_fix(mode: &Credentials) -> String {
    match mode {
        Credentials::KeyFile(path) => format!(
            "fix: check that {} is a valid service-account key file, or use \
             `gcloud auth application-default login` and drop `[gcs] credentials`",
            path.display()
        ),
        _ => "fix: run `gcloud auth application-default login`, or point \
              GOOGLE_APPLICATION_CREDENTIALS (or `[gcs] credentials`) at a service-account \
              key file"
            .to_string(),
    }
}

/// Every statement of a run over the last 30 days (in either compute mode) and of the
/// checks, validated by BigQuery as dry-run jobs; each refusal is listed, and what a
/// backfill of those 30 days would process in each mode is said.
async fn statements(w: &BigQueryWarehouse) -> Result<String, String> {
    use crate::warehouse::bigquery::{plan::ExportPlan, preflight, pushdown};
    let today = chrono::Utc::now().date_naive();
    let range = crate::model::dates::DateRange::new(today - chrono::Days::new(30), today)
        .map_err(|e| e.to_string())?;
    let plan = ExportPlan::new(w, range, "doctor-dry-run", false)
        .await
        .map_err(|e| e.to_string())?;
    let export_mode = preflight::run_statements(w, &plan).map_err(|e| e.to_string())?;
    // The plan's target need not exist for a dry run, but its dataset must: the staging
    // dataset once the first run created it, the feature table's until then.
    let (project, dataset) = match w.client.dataset_exists(&w.config.staging_dataset).await {
        Ok(true) => (None, w.config.staging_dataset.clone()),
        _ => (
            w.tables.features.project.clone(),
            w.tables.features.parts[0].clone(),
        ),
    };
    let target = w.sql_name(&crate::model::identifiers::TableRef {
        project,
        parts: vec![dataset, "completeness_doctor_plan".into()],
    });
    let run = pushdown::statements::RunParams {
        range,
        include_bootstrap: false,
    };
    let in_bigquery = pushdown::dry_run_statements(w, &target, run, plan.schedule).to_vec();
    let checks = preflight::check_statements(w, today).map_err(|e| e.to_string())?;
    let mut refused = Vec::new();
    let mut scans = [None, None];
    for (mode, group) in [&export_mode, &in_bigquery, &checks]
        .into_iter()
        .enumerate()
    {
        for s in group {
            match w.client.dry_run(&s.sql, &s.params, &s.what).await {
                Ok(bytes) if mode < 2 => add(&mut scans[mode], bytes),
                Ok(_) => {}
                Err(e) => refused.push(e.to_string()),
            }
        }
    }
    let all = export_mode.len() + in_bigquery.len() + checks.len();
    match refused.is_empty() {
        true => Ok(format!(
            "BigQuery accepts all {all} statements (dry runs); a backfill of the last 30 days \
             would process {} computing locally (exports, MERGE), {} computing in BigQuery \
             (plan, report, MERGE)",
            crate::model::job_cost::bytes(scans[0]),
            crate::model::job_cost::bytes(scans[1]),
        )),
        false => Err(refused.join("\n")),
    }
}

/// `total + bytes`, where either may be unreported.
fn add(total: &mut Option<u64>, bytes: Option<u64>) {
    if let Some(b) = bytes {
        *total = Some(total.unwrap_or(0) + b);
    }
}

async fn staging_dataset(w: &BigQueryWarehouse) -> Result<String, String> {
    let name = &w.config.staging_dataset;
    match w.client.dataset_exists(name).await {
        Ok(true) => Ok(format!("{name} exists")),
        Ok(false) => Ok(format!("{name} does not exist; the first merge creates it")),
        Err(e) => Err(e.to_string()),
    }
}

/// Write, read back and delete a small object under the prefix.
async fn bucket(remote: &Remote) -> Result<String, String> {
    let probe = remote.child("_completeness_doctor");
    let url = probe.url();
    let body: &[u8] = b"completeness doctor probe";
    probe
        .store
        .put(&probe.prefix, body.to_vec().into())
        .await
        .map_err(|e| format!("{url}: cannot write: {e}"))?;
    let read = probe
        .store
        .get(&probe.prefix)
        .await
        .map_err(|e| format!("{url}: cannot read back: {e}"))?
        .bytes()
        .await
        .map_err(|e| format!("{url}: cannot read back: {e}"))?;
    if read.as_ref() != body {
        return Err(format!("{url}: read back different bytes"));
    }
    probe
        .store
        .delete(&probe.prefix)
        .await
        .map_err(|e| format!("{url}: cannot delete: {e}"))?;
    Ok(format!("{}: write, read, delete", remote.url()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks skipped for a failed root cause are listed, but the problem counts once.
    #[test]
    fn a_root_cause_counts_once_and_its_dependents_are_skipped() {
        let mut d = Diagnosis::default();
        d.add("configuration", Ok("project p".into()));
        d.add(
            "credentials",
            Err(format!(
                "no token: metadata server\n{}",
                credentials_fix(&Credentials::GoogleDefault)
            )),
        );
        d.skip(&REMOTE_CHECKS, "credentials");
        let text = d.render();
        assert!(!d.ok());
        assert!(
            text.contains("1 problem(s) found; 5 check(s) skipped"),
            "{text}"
        );
        assert_eq!(text.matches("metadata server").count(), 1, "{text}");
        assert_eq!(text.matches("SKIP").count(), 5, "{text}");
        assert!(
            text.contains("gcloud auth application-default login"),
            "{text}"
        );
        // The fix is on its own line, under the detail.
        assert!(
            text.contains(&format!("\n{:26}fix: run `gcloud", "")),
            "{text}"
        );
    }
}
