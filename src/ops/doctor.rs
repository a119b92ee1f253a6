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

use crate::config::{Kind, Settings};
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
        let width = self
            .findings
            .iter()
            .map(|f| f.check.chars().count())
            .max()
            .unwrap_or(0)
            .max(18);
        // "  " + mark + " " + name + " ": where every detail line starts.
        let indent = " ".repeat(2 + 4 + 1 + width + 1);
        for f in &self.findings {
            let mark = match (f.ok, f.skipped) {
                (true, _) => "OK  ",
                (false, true) => "SKIP",
                (false, false) => "FAIL",
            };
            let detail = f.detail.replace('\n', &format!("\n{indent}"));
            out.push_str(&format!("  {mark} {:<width$} {detail}\n", f.check));
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
                crate::config::DEFAULT_CONFIG
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
    for (name, table, required) in [
        ("features table", FEATURES_TABLE, true),
        ("games table", GAMES_TABLE, true),
        ("schedule table", SCHEDULE_TABLE, false),
    ] {
        let result = match w.open_table(table).await {
            Ok(t) => Ok(format!("{table}: version {}", t.version().unwrap_or(0))),
            Err(_) if !required => Ok(format!(
                "{table} missing: the built-in season calendar is used"
            )),
            Err(e) => Err(e.to_string()),
        };
        d.add(name, result);
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
        Err(e) if is_credentials_error(&e.to_string()) => {
            let mode = settings
                .stores
                .gcs
                .credentials()
                .unwrap_or(Credentials::GoogleDefault);
            if let Ok(c) = settings.require_bigquery() {
                d.warehouse = format!("bigquery://{}", c.project);
                let at = format!("project {}, location {}", c.project, c.location);
                d.add("configuration", Ok(at));
            }
            let problem = token_problem(&credentials_source(&mode), &e.to_string());
            d.add(
                "credentials",
                Err(format!("{problem}\n{}", credentials_fix(&mode))),
            );
            d.skip(&REMOTE_CHECKS, "credentials");
            return d;
        }
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
    if mode == Credentials::None {
        return Ok("none (emulator endpoints)".into());
    }
    let source = credentials_source(&mode);
    let bucket = w.staging.base.host_str().unwrap_or_default();
    let store = settings
        .stores
        .gcs_bucket(bucket)
        .map_err(|e| format!("{source}: {e}"))?;
    match store.credentials().get_credential().await {
        Ok(_) => Ok(format!("{source}: a token was issued")),
        Err(e) => Err(format!(
            "{}\n{}",
            token_problem(&source, &e.to_string()),
            credentials_fix(&mode)
        )),
    }
}

/// Why `source` gave no token, in one sentence (object_store's own text, which names
/// URLs, status codes and parser positions, goes to the debug log for `-v`).
fn token_problem(source: &str, error: &str) -> String {
    tracing::debug!(source, error, "no token");
    let lower = error.to_lowercase();
    if lower.contains("metadata") || lower.contains("169.254.169.254") {
        return format!(
            "{source}: no token: no application-default credentials were found and no \
             metadata server answered (this is not a Google Cloud machine)"
        );
    }
    if lower.contains("rsa key") || lower.contains("private key") {
        return format!("{source}: no token: its private key cannot be read");
    }
    if let Some((_, why)) = error.split_once("Unable to decode service account file: ") {
        let why = why.split(" at line ").next().unwrap_or(why);
        return format!("{source}: not a valid service-account key file ({why})");
    }
    if lower.contains("no such file") || lower.contains("not found") {
        return format!("{source}: no token: the file does not exist");
    }
    // Anything else: the innermost cause, which is the part that says what went wrong.
    let cause = error.rsplit(": ").next().unwrap_or(error);
    format!("{source}: no token: {cause}")
}

/// Whether opening the warehouse failed on its credentials (a key file that cannot be
/// read is found when the storage client is set up).
fn is_credentials_error(error: &str) -> bool {
    let lower = error.to_lowercase();
    ["credential", "service account", "rsa key", "private key"]
        .iter()
        .any(|w| lower.contains(w))
}

/// Where a token comes from, for people.
fn credentials_source(mode: &Credentials) -> String {
    match mode {
        Credentials::None => "none (emulator endpoints)".into(),
        Credentials::KeyFile(path) => format!("service-account file {}", path.display()),
        Credentials::GoogleDefault => "the Google default chain".into(),
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

    /// Issue 25 item 22: every detail starts in one column, however long a check's
    /// name (the local tables are named by their paths).
    #[test]
    fn details_line_up_whatever_the_check_names() {
        let mut d = Diagnosis::default();
        d.add("config file", Ok("none".into()));
        d.add(
            "nba_predictions/ml_feature_store_v2",
            Ok("version 1".into()),
        );
        d.add("credentials", Err("no token\nfix: run this".into()));
        let text = d.render();
        let column = |needle: &str| {
            let line = text.lines().find(|l| l.contains(needle)).unwrap();
            line.find(needle).unwrap()
        };
        let first = column("none");
        for needle in ["version 1", "no token", "fix: run this"] {
            assert_eq!(column(needle), first, "{needle}:\n{text}");
        }
    }

    /// Issue 25 item 22: a token that cannot be had is one sentence and the fix, not
    /// object_store's text (which -v still logs).
    #[test]
    fn a_failed_token_is_one_sentence_and_the_fix() {
        let metadata = "Generic GCS error: Error performing token request: Error performing GET \
            http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token?\
            audience=https%3A%2F%2Fwww.googleapis.com%2Foauth2%2Fv4%2Ftoken in 1.027745ms - \
            Server returned non-2xx status code: 403 Forbidden: resolve_deny: denied destination";
        let text = token_problem("the Google default chain", metadata);
        assert!(!text.contains("Generic GCS error"), "{text}");
        assert!(!text.contains("169.254"), "{text}");
        assert!(text.contains("metadata server"), "{text}");
        let sentence = text.lines().next().unwrap();
        assert!(sentence.len() < 200, "{text}");
        let key = "Generic GCS error: GCP credential error: Unable to decode service account \
                   file: missing field `private_key` at line 1 column 26";
        let text = token_problem("service-account file /k.json", key);
        assert!(text.contains("/k.json"), "{text}");
        assert!(text.contains("missing field `private_key`"), "{text}");
        assert!(!text.contains("Generic GCS error"), "{text}");
        let rsa = token_problem(
            "service-account file /k.json",
            "Generic GCS error: Invalid RSA key: InvalidEncoding",
        );
        assert!(rsa.contains("private key"), "{rsa}");
        assert!(!rsa.contains("Generic GCS error"), "{rsa}");
    }

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
