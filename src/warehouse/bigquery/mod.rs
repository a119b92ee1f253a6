//! The production warehouse: tables in BigQuery, staging in a GCS bucket.
//!
//! Export is one `EXPORT DATA` job per table into `<export_uri>/<run_id>/`; compute and
//! diff read those files through object_store; merge uploads the changed rows, loads
//! them into a staging table and applies one `MERGE`. Every job has an id derived from
//! the run id, so a resumed run finds what it already did.

pub mod checks;
pub mod client;
pub mod cost;
pub mod export;
pub mod merge;
pub mod plan;
pub mod preflight;
pub mod pushdown;
pub mod results;
pub mod rollback;
pub mod run;
pub mod schema;
pub mod statements;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::io::storage::{Credentials, Location, Remote, Stores};
use crate::model::identifiers::TableRef;
use crate::run::manifest::Compute;
use client::{Auth, Client};

/// The `[bigquery]` section of `completeness.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BigQueryConfig {
    /// Project that runs the jobs (and holds the tables unless they name another).
    pub project: String,
    /// Location of the datasets and jobs (default `US`).
    #[serde(default = "default_location")]
    pub location: String,
    #[serde(default = "default_features")]
    pub features_table: String,
    #[serde(default = "default_games")]
    pub games_table: String,
    #[serde(default = "default_schedule")]
    pub schedule_table: String,
    /// `gs://bucket/prefix` for the files the merge loads.
    pub staging_uri: String,
    /// `gs://bucket/prefix` for the export (default: `staging_uri`).
    pub export_uri: Option<String>,
    /// Dataset of the short-lived staging tables (created when missing).
    #[serde(default = "default_staging_dataset")]
    pub staging_dataset: String,
    /// BigQuery API base URL (an emulator on 127.0.0.1); default Google's.
    pub endpoint: Option<String>,
    /// The host of a non-Google `endpoint` trusted with the Google token (default:
    /// none; tokens go only to `*.googleapis.com`).
    pub send_credentials_to: Option<String>,
    /// Hours a staging table lives if a run dies before dropping it.
    #[serde(default = "default_expiration_hours")]
    pub staging_expiration_hours: i64,
    /// The dataset's time-travel window; rollback refuses beyond it.
    #[serde(default = "default_time_travel_days")]
    pub time_travel_days: i64,
    /// Where a backfill computes the structs: `local` (export, compute on this machine;
    /// the default) or `bigquery` (one generated statement; `--compute-in` overrides).
    #[serde(default)]
    pub compute: Compute,
}

fn default_location() -> String {
    "US".into()
}
fn default_features() -> String {
    "nba_predictions.ml_feature_store_v2".into()
}
fn default_games() -> String {
    "nba_analytics.player_game_summary".into()
}
fn default_schedule() -> String {
    "nba_reference.nba_schedule".into()
}
fn default_staging_dataset() -> String {
    "completeness_staging".into()
}
fn default_expiration_hours() -> i64 {
    24
}
fn default_time_travel_days() -> i64 {
    7
}

/// The three tables, validated.
#[derive(Debug, Clone)]
pub struct Tables {
    pub features: TableRef,
    pub games: TableRef,
    pub schedule: TableRef,
}

/// An opened BigQuery warehouse: client, tables, staging locations.
#[derive(Clone)]
pub struct BigQueryWarehouse {
    pub config: BigQueryConfig,
    pub client: Client,
    pub tables: Tables,
    pub staging: Remote,
    pub exports: Remote,
    pub stores: Stores,
}

impl std::fmt::Debug for BigQueryWarehouse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.describe())
    }
}

impl BigQueryWarehouse {
    /// Validate the configuration and set up the clients (no network traffic yet).
    pub fn open(config: &BigQueryConfig, stores: &Stores) -> Result<BigQueryWarehouse> {
        let tables = Tables {
            features: TableRef::parse(&config.features_table, 2, "features_table")?,
            games: TableRef::parse(&config.games_table, 2, "games_table")?,
            schedule: TableRef::parse(&config.schedule_table, 2, "schedule_table")?,
        };
        TableRef::parse(&config.staging_dataset, 1, "staging_dataset")?;
        // An integer in the text of the plan's DDL (options take no parameters).
        if !(1..=8760).contains(&config.staging_expiration_hours) {
            return Err(Error::input(format!(
                "staging_expiration_hours = {}: expected 1 to 8760 (hours)",
                config.staging_expiration_hours
            )));
        }
        TableRef::parse(&format!("{}.d", config.project), 1, "project")?;
        let staging = gcs_prefix(stores, &config.staging_uri, "staging_uri")?;
        let export_uri = config.export_uri.as_deref().unwrap_or(&config.staging_uri);
        let exports = gcs_prefix(stores, export_uri, "export_uri")?;
        let auth = match stores.gcs.credentials()? {
            Credentials::None => Auth::None,
            _ => {
                if let Some(endpoint) = &config.endpoint {
                    crate::io::storage::token_allowed(
                        endpoint,
                        config.send_credentials_to.as_deref(),
                        "[bigquery]",
                    )?;
                }
                let bucket = staging.base.host_str().unwrap_or_default();
                Auth::Google(stores.gcs_bucket(bucket)?.credentials().clone())
            }
        };
        let client = Client::new(
            config.endpoint.as_deref(),
            &config.project,
            &config.location,
            auth,
        )?;
        Ok(BigQueryWarehouse {
            config: config.clone(),
            client,
            tables,
            staging,
            exports,
            stores: stores.clone(),
        })
    }

    /// `bigquery://project/dataset.table` of the feature table: what manifests record.
    pub fn describe(&self) -> String {
        format!(
            "bigquery://{}/{}",
            self.config.project, self.tables.features
        )
    }

    /// A table reference with the project filled in, quoted for SQL text.
    pub fn sql_name(&self, table: &TableRef) -> String {
        let project = table.project.as_deref().unwrap_or(&self.config.project);
        format!("`{project}.{}`", table.parts.join("."))
    }

    /// The staging table of run `run_id`.
    pub fn staging_table(&self, run_id: &str) -> TableRef {
        TableRef {
            project: None,
            parts: vec![
                self.config.staging_dataset.clone(),
                format!("changes_{}", job_safe(run_id)),
            ],
        }
    }

    /// The staging table holding the plan of run `run_id` when it computes in BigQuery.
    pub fn plan_table(&self, run_id: &str) -> TableRef {
        TableRef {
            project: None,
            parts: vec![
                self.config.staging_dataset.clone(),
                format!("plan_{}", job_safe(run_id)),
            ],
        }
    }
}

/// Run ids (`20261127T144700Z-0a1b2c`) as job and table id fragments.
pub fn job_safe(run_id: &str) -> String {
    run_id.replace('-', "_")
}

/// A `gs://bucket/prefix` whose characters are safe to put in SQL text (EXPORT DATA
/// takes its URI as a literal, not a parameter).
fn gcs_prefix(stores: &Stores, uri: &str, what: &str) -> Result<Remote> {
    let safe = uri.starts_with("gs://")
        && uri[5..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if !safe {
        return Err(Error::input(format!(
            "{what} `{uri}`: expected gs://bucket/prefix (letters, digits, - _ . / only)"
        )));
    }
    match stores.locate(uri)? {
        Location::Remote(r) => Ok(r),
        Location::Local(_) => unreachable!("gs:// is remote"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::storage::GcsOptions;

    fn config() -> BigQueryConfig {
        toml::from_str(
            r#"project = "test-project"
               staging_uri = "gs://staging/prefix"
               endpoint = "http://127.0.0.1:9"
            "#,
        )
        .unwrap()
    }

    fn emulator_stores() -> Stores {
        Stores {
            gcs: GcsOptions {
                endpoint: Some("http://127.0.0.1:9".into()),
                credentials: Some("none".into()),
                send_credentials_to: None,
            },
            ..Default::default()
        }
    }

    #[test]
    fn defaults_name_the_production_tables() {
        let c = config();
        assert_eq!(c.features_table, "nba_predictions.ml_feature_store_v2");
        assert_eq!(c.games_table, "nba_analytics.player_game_summary");
        assert_eq!(c.schedule_table, "nba_reference.nba_schedule");
        let w = BigQueryWarehouse::open(&c, &emulator_stores()).unwrap();
        assert_eq!(
            w.sql_name(&w.tables.features),
            "`test-project.nba_predictions.ml_feature_store_v2`"
        );
        assert_eq!(w.exports.url(), "gs://staging/prefix");
        assert_eq!(
            c.compute,
            Compute::Local,
            "computing locally is the default"
        );
        assert_eq!(
            w.sql_name(&w.plan_table("20261127T144700Z-0a1b2c")),
            "`test-project.completeness_staging.plan_20261127T144700Z_0a1b2c`"
        );
    }

    #[test]
    fn compute_and_the_staging_expiration_are_read_and_checked() {
        let mut c: BigQueryConfig = toml::from_str(
            r#"project = "test-project"
               staging_uri = "gs://staging/prefix"
               compute = "bigquery"
            "#,
        )
        .unwrap();
        assert_eq!(c.compute, Compute::Bigquery);
        let bad = toml::from_str::<BigQueryConfig>(
            "project = \"test-project\"\nstaging_uri = \"gs://s/p\"\ncompute = \"duckdb\"\n",
        );
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("unknown variant `duckdb`")
        );
        c.staging_expiration_hours = 0;
        c.endpoint = Some("http://127.0.0.1:9".into());
        let e = BigQueryWarehouse::open(&c, &emulator_stores()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "staging_expiration_hours = 0: expected 1 to 8760 (hours)"
        );
    }

    /// Review finding 5: any endpoint received the real Google token.
    #[test]
    fn a_google_token_goes_only_to_google_or_a_host_the_operator_names() {
        let google = Stores {
            gcs: GcsOptions {
                credentials: Some("google-default".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let mut c = config();
        c.endpoint = Some("https://bigquery.example.com".into());
        let e = BigQueryWarehouse::open(&c, &google).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string()
                .contains("tokens go only to Google's endpoints"),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("send_credentials_to = \"bigquery.example.com\""),
            "{e}"
        );
        c.endpoint = Some("http://127.0.0.1:9050".into());
        assert!(
            BigQueryWarehouse::open(&c, &google).is_err(),
            "loopback too"
        );
        c.endpoint = Some("https://bigquery.googleapis.com".into());
        assert!(BigQueryWarehouse::open(&c, &google).is_ok());
        c.endpoint = Some("https://bigquery.example.com".into());
        c.send_credentials_to = Some("bigquery.example.com".into());
        assert!(BigQueryWarehouse::open(&c, &google).is_ok());
        // A GCS endpoint likewise.
        let custom_gcs = GcsOptions {
            endpoint: Some("https://gcs.example.com".into()),
            credentials: Some("google-default".into()),
            send_credentials_to: None,
        };
        assert!(custom_gcs.credentials().is_err());
        let trusted = GcsOptions {
            send_credentials_to: Some("gcs.example.com".into()),
            ..custom_gcs
        };
        assert!(trusted.credentials().is_ok());
    }

    #[test]
    fn hostile_names_and_uris_are_refused() {
        let mut c = config();
        c.features_table = "nba.t`; DROP TABLE x; --".into();
        let e = BigQueryWarehouse::open(&c, &emulator_stores()).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().starts_with("features_table `"), "{e}");
        let mut c = config();
        c.export_uri = Some("gs://b/x', format='CSV".into());
        let e = BigQueryWarehouse::open(&c, &emulator_stores()).unwrap_err();
        assert!(e.to_string().starts_with("export_uri `"), "{e}");
    }
}
