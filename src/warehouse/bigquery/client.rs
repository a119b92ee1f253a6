//! A small BigQuery REST v2 client: jobs (query, load), results, tables, datasets.
//!
//! Only what the tool needs, over the `reqwest` client `object_store` already brings.
//! Tokens come from `object_store`'s Google credential chain (its scope is
//! `cloud-platform`, which covers BigQuery), so GCS and BigQuery share one chain.
//! Transient failures (429, 5xx, rate limits, connection errors) are retried with
//! exponential backoff; permanent ones fail at once, naming the job and the reason.
//! Jobs get client-chosen ids, which makes a retried insert idempotent and lets a
//! resumed run find the job it submitted before a crash.

use std::time::Duration;

use object_store::gcp::GcpCredentialProvider;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::identifiers::TableRef;

/// Google's endpoint; emulators replace it.
pub const DEFAULT_ENDPOINT: &str = "https://bigquery.googleapis.com";
/// Attempts of one HTTP call before giving up on a transient failure.
const ATTEMPTS: u32 = 6;

/// Where tokens come from.
#[derive(Clone)]
pub enum Auth {
    /// No `Authorization` header (emulators only).
    None,
    Google(GcpCredentialProvider),
}

/// A client bound to one project and location.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    pub project: String,
    pub location: String,
    auth: Auth,
    backoff: Duration,
}

/// A finished job: its id and the REST resource.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub resource: Value,
}

impl Job {
    fn stat(&self, path: &[&str]) -> Option<i64> {
        let mut v = &self.resource["statistics"];
        for p in path {
            v = &v[*p];
        }
        v.as_str()
            .and_then(|s| s.parse().ok())
            .or_else(|| v.as_i64())
    }

    /// Rows a DML statement changed.
    pub fn dml_affected_rows(&self) -> Option<i64> {
        self.stat(&["query", "numDmlAffectedRows"])
            .or_else(|| self.stat(&["query", "dmlStats", "updatedRowCount"]))
    }

    /// Rows a load job wrote.
    pub fn output_rows(&self) -> Option<i64> {
        self.stat(&["load", "outputRows"])
    }

    /// When the job started (server clock, ms since the epoch).
    pub fn start_time_ms(&self) -> Option<i64> {
        self.stat(&["startTime"])
    }

    /// The error of a finished job, if it failed.
    fn error(&self) -> Option<(String, String)> {
        let e = &self.resource["status"]["errorResult"];
        let e = if e.is_object() {
            e
        } else {
            // Some emulators report a failed query in `errors` only.
            &self.resource["status"]["errors"][0]
        };
        e.is_object().then(|| {
            (
                e["reason"].as_str().unwrap_or("unknown").to_string(),
                e["message"].as_str().unwrap_or("").to_string(),
            )
        })
    }
}

/// A named query parameter.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: &'static str,
    pub kind: &'static str,
    pub value: String,
}

impl Param {
    pub fn date(name: &'static str, d: chrono::NaiveDate) -> Param {
        Param {
            name,
            kind: "DATE",
            value: d.to_string(),
        }
    }

    pub fn timestamp(name: &'static str, t: chrono::DateTime<chrono::Utc>) -> Param {
        Param {
            name,
            kind: "TIMESTAMP",
            // BigQuery's canonical form (and ISO 8601, which emulators parse).
            value: t.format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string(),
        }
    }

    pub fn string(name: &'static str, v: &str) -> Param {
        Param {
            name,
            kind: "STRING",
            value: v.to_string(),
        }
    }

    pub fn int(name: &'static str, v: i64) -> Param {
        Param {
            name,
            kind: "INT64",
            value: v.to_string(),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "parameterType": {"type": self.kind},
            "parameterValue": {"value": self.value},
        })
    }
}

/// Result rows of a query as BigQuery sent them, with the result schema's `fields`.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub fields: Value,
    /// `{"f":[{"v":…}, …]}` each.
    pub rows: Vec<Value>,
}

impl Rows {
    /// The rows as one Arrow batch, typed by the result schema.
    pub fn to_batch(&self) -> Result<arrow::array::RecordBatch> {
        super::results::to_batch(&self.fields, &self.rows)
    }
}

impl Client {
    /// A client for `project`; `endpoint` None means Google's.
    pub fn new(
        endpoint: Option<&str>,
        project: &str,
        location: &str,
        auth: Auth,
    ) -> Result<Client> {
        let base = endpoint.unwrap_or(DEFAULT_ENDPOINT).trim_end_matches('/');
        let loopback = crate::storage::is_loopback(base);
        if !loopback && !base.starts_with("https://") {
            return Err(Error::input(format!(
                "BigQuery endpoint {base}: use https (plain http only for an emulator on 127.0.0.1)"
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(300))
            .build()
            .map_err(|e| Error::input(format!("BigQuery client: {e}")))?;
        Ok(Client {
            http,
            base: base.to_string(),
            project: project.to_string(),
            location: location.to_string(),
            auth,
            backoff: Duration::from_millis(500),
        })
    }

    /// First delay between retries (default 500 ms, doubling).
    pub fn with_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    fn url(&self, path: &str) -> String {
        format!("{}/bigquery/v2/projects/{}/{path}", self.base, self.project)
    }

    async fn token(&self) -> Result<Option<String>> {
        match &self.auth {
            Auth::None => Ok(None),
            Auth::Google(provider) => {
                let credential = provider.get_credential().await.map_err(|e| Error::Remote {
                    context: "getting a Google access token".into(),
                    message: e.to_string(),
                })?;
                Ok(Some(credential.bearer.clone()).filter(|t| !t.is_empty()))
            }
        }
    }

    /// One REST call with retries. `Ok(None)` for 404; `what` names it in errors.
    async fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Option<(StatusCode, Value)>> {
        let mut delay = self.backoff;
        for attempt in 1..=ATTEMPTS {
            let mut request = self.http.request(method.clone(), url);
            if let Some(token) = self.token().await? {
                request = request.bearer_auth(token);
            }
            if let Some(body) = body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_string());
            }
            let outcome = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let bytes = response.bytes().await.unwrap_or_default();
                    let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    Ok((status, value))
                }
                Err(e) => Err(e),
            };
            let transient = match &outcome {
                Ok((status, value)) => is_transient(*status, value),
                Err(e) => e.is_connect() || e.is_timeout(),
            };
            if transient && attempt < ATTEMPTS {
                tracing::warn!(
                    "{what}: transient failure (attempt {attempt}), retrying in {delay:?}"
                );
                tokio::time::sleep(delay).await;
                delay *= 2;
                continue;
            }
            return match outcome {
                Ok((StatusCode::NOT_FOUND, _)) => Ok(None),
                Ok((status, value)) if status.is_success() || status == StatusCode::CONFLICT => {
                    Ok(Some((status, value)))
                }
                Ok((status, value)) => Err(Error::Remote {
                    context: format!("BigQuery {what}"),
                    message: format!("HTTP {status}: {}", error_message(&value)),
                }),
                Err(e) => Err(Error::Remote {
                    context: format!("BigQuery {what}"),
                    message: e.to_string(),
                }),
            };
        }
        unreachable!("the last attempt returns")
    }

    /// The job `id`, if it exists.
    pub async fn job(&self, id: &str) -> Result<Option<Job>> {
        let url = format!(
            "{}?location={}",
            self.url(&format!("jobs/{id}")),
            self.location
        );
        let found = self
            .call(Method::GET, &url, None, &format!("job {id}"))
            .await?;
        Ok(found.map(|(_, resource)| Job {
            id: id.to_string(),
            resource,
        }))
    }

    /// Submit job `id` (or find it, if it was submitted before) and wait until it is done.
    /// A job that failed is an error naming it, `what` it was and BigQuery's reason.
    pub async fn run_job(&self, id: &str, configuration: Value, what: &str) -> Result<Job> {
        let body = json!({
            "jobReference": {"projectId": self.project, "jobId": id, "location": self.location},
            "configuration": configuration,
        });
        let inserted = self
            .call(
                Method::POST,
                &self.url("jobs"),
                Some(&body),
                &format!("job {id} ({what})"),
            )
            .await?;
        let mut job = match inserted {
            Some((status, resource)) if status != StatusCode::CONFLICT => Job {
                id: id.to_string(),
                resource,
            },
            _ => self.job(id).await?.ok_or_else(|| Error::Remote {
                context: format!("BigQuery job {id} ({what})"),
                message: "submitted, then not found".into(),
            })?,
        };
        let mut wait = Duration::from_millis(50);
        while job.resource["status"]["state"].as_str() != Some("DONE") {
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(2));
            job = self.job(id).await?.ok_or_else(|| Error::Remote {
                context: format!("BigQuery job {id} ({what})"),
                message: "disappeared while running".into(),
            })?;
        }
        match job.error() {
            Some((reason, message)) => Err(Error::Remote {
                context: format!("BigQuery job {id} ({what}) failed"),
                message: format!("{reason}: {message}"),
            }),
            None => Ok(job),
        }
    }

    /// Run `sql` as query job `id` with named parameters.
    pub async fn query(&self, id: &str, sql: &str, params: &[Param], what: &str) -> Result<Job> {
        let configuration = json!({"query": {
            "query": sql,
            "useLegacySql": false,
            "parameterMode": "NAMED",
            "queryParameters": params.iter().map(Param::to_json).collect::<Vec<_>>(),
        }});
        self.run_job(id, configuration, what).await
    }

    /// The result rows of a finished query job, every page.
    pub async fn rows(&self, job: &Job) -> Result<Rows> {
        let mut out = Rows::default();
        let mut page: Option<String> = None;
        loop {
            let mut url = format!(
                "{}?location={}&formatOptions.useInt64Timestamp=true",
                self.url(&format!("queries/{}", job.id)),
                self.location
            );
            if let Some(token) = &page {
                url.push_str(&format!("&pageToken={token}"));
            }
            let what = format!("results of job {}", job.id);
            let (_, value) = self
                .call(Method::GET, &url, None, &what)
                .await?
                .ok_or_else(|| Error::Remote {
                    context: format!("BigQuery {what}"),
                    message: "not found".into(),
                })?;
            if out.fields.is_null() {
                out.fields = value["schema"]["fields"].clone();
            }
            out.rows
                .extend(value["rows"].as_array().into_iter().flatten().cloned());
            match value["pageToken"].as_str() {
                Some(token) if !token.is_empty() => page = Some(token.to_string()),
                _ => return Ok(out),
            }
        }
    }

    fn table_url(&self, table: &TableRef) -> String {
        let project = table.project.as_deref().unwrap_or(&self.project);
        format!(
            "{}/bigquery/v2/projects/{project}/datasets/{}/tables/{}",
            self.base, table.parts[0], table.parts[1]
        )
    }

    /// The table resource (with its schema), if the table exists.
    pub async fn table(&self, table: &TableRef) -> Result<Option<Value>> {
        let what = format!("table {table}");
        Ok(self
            .call(Method::GET, &self.table_url(table), None, &what)
            .await?
            .map(|(_, v)| v))
    }

    /// Create `table` with `schema` (BigQuery JSON fields) expiring at `expires_ms`;
    /// an existing table is left as it is.
    pub async fn create_table(
        &self,
        table: &TableRef,
        schema: Value,
        expires_ms: Option<i64>,
    ) -> Result<()> {
        let project = table.project.as_deref().unwrap_or(&self.project);
        let mut body = json!({
            "tableReference": {"projectId": project, "datasetId": table.parts[0], "tableId": table.parts[1]},
            "schema": {"fields": schema},
        });
        if let Some(ms) = expires_ms {
            body["expirationTime"] = json!(ms.to_string());
        }
        let url = format!(
            "{}/bigquery/v2/projects/{project}/datasets/{}/tables",
            self.base, table.parts[0]
        );
        self.call(
            Method::POST,
            &url,
            Some(&body),
            &format!("creating table {table}"),
        )
        .await?;
        Ok(())
    }

    /// Delete `table`; a missing table is fine.
    pub async fn delete_table(&self, table: &TableRef) -> Result<()> {
        let what = format!("deleting table {table}");
        self.call(Method::DELETE, &self.table_url(table), None, &what)
            .await?;
        Ok(())
    }

    /// Whether dataset `name` exists.
    pub async fn dataset_exists(&self, name: &str) -> Result<bool> {
        let url = self.url(&format!("datasets/{name}"));
        let found = self
            .call(Method::GET, &url, None, &format!("dataset {name}"))
            .await?;
        Ok(found.is_some())
    }

    /// Create dataset `name` in the client's location unless it exists.
    pub async fn ensure_dataset(&self, name: &str) -> Result<()> {
        if self.dataset_exists(name).await? {
            return Ok(());
        }
        let body = json!({
            "datasetReference": {"projectId": self.project, "datasetId": name},
            "location": self.location,
        });
        self.call(
            Method::POST,
            &self.url("datasets"),
            Some(&body),
            &format!("creating dataset {name}"),
        )
        .await?;
        Ok(())
    }
}

/// Rate limits and server errors pass; bad requests and denied access do not.
fn is_transient(status: StatusCode, body: &Value) -> bool {
    let reason = body["error"]["errors"][0]["reason"].as_str().unwrap_or("");
    matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS
            | StatusCode::INTERNAL_SERVER_ERROR
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
    ) || matches!(
        reason,
        "rateLimitExceeded" | "backendError" | "internalError"
    )
}

fn error_message(body: &Value) -> String {
    body["error"]["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_and_server_errors_are_transient() {
        assert!(is_transient(StatusCode::TOO_MANY_REQUESTS, &Value::Null));
        assert!(is_transient(StatusCode::SERVICE_UNAVAILABLE, &Value::Null));
        let limited = json!({"error": {"errors": [{"reason": "rateLimitExceeded"}]}});
        assert!(is_transient(StatusCode::FORBIDDEN, &limited));
        let denied = json!({"error": {"errors": [{"reason": "accessDenied"}]}});
        assert!(!is_transient(StatusCode::FORBIDDEN, &denied));
        assert!(!is_transient(StatusCode::BAD_REQUEST, &Value::Null));
    }

    #[test]
    fn plain_http_is_refused_except_on_loopback() {
        let e = Client::new(Some("http://bigquery.example.com"), "p", "US", Auth::None)
            .err()
            .unwrap();
        assert_eq!(e.exit_code(), 2);
        assert!(Client::new(Some("http://127.0.0.1:9050"), "p", "US", Auth::None).is_ok());
    }

    #[test]
    fn job_statistics_are_read_from_strings() {
        let job = Job {
            id: "j".into(),
            resource: json!({"statistics": {"startTime": "1700000000000",
                "query": {"numDmlAffectedRows": "42"}, "load": {"outputRows": "7"}},
                "status": {"state": "DONE", "errorResult": {"reason": "invalidQuery", "message": "bad"}}}),
        };
        assert_eq!(job.dml_affected_rows(), Some(42));
        assert_eq!(job.output_rows(), Some(7));
        assert_eq!(job.start_time_ms(), Some(1_700_000_000_000));
        assert_eq!(job.error(), Some(("invalidQuery".into(), "bad".into())));
    }
}
