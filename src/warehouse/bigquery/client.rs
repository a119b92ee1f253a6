//! A small BigQuery REST v2 client: jobs (query, load), results, tables, datasets.
//!
//! Only what the tool needs, over the `reqwest` client `object_store` already brings.
//! Tokens come from `object_store`'s Google credential chain (its scope is
//! `cloud-platform`, which covers BigQuery), so GCS and BigQuery share one chain.
//! Transient failures (429, 5xx, rate limits, connection errors) are retried with
//! exponential backoff; permanent ones fail at once, naming the job and the reason.
//!
//! A run's jobs get client-chosen ids that carry an attempt number (`…_merge`,
//! `…_merge_2`, …): the first id holding a successful job is the answer, a failed one is
//! skipped. So a resumed run finds the job it submitted before a crash, and resubmits
//! one that failed instead of finding the failure forever. DML that BigQuery refuses
//! because another statement changed the table at the same time ("Could not serialize
//! access … due to concurrent update": the daily processor MERGEs into the same table)
//! is retried under the next attempt id with exponential backoff and jitter.

use std::time::Duration;

use object_store::gcp::GcpCredentialProvider;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::model::identifiers::TableRef;

/// Google's endpoint; emulators replace it.
pub const DEFAULT_ENDPOINT: &str = "https://bigquery.googleapis.com";
/// Attempts of one HTTP call before giving up on a transient failure.
const ATTEMPTS: u32 = 6;
/// Attempts of one job that failed transiently or on a concurrent update.
pub const JOB_ATTEMPTS: u32 = 7;
/// Attempt ids looked through for a job of a run (resumes included).
const MAX_ATTEMPT_IDS: u32 = 100;
/// The longest wait between two attempts of a job.
const MAX_JOB_BACKOFF: Duration = Duration::from_secs(32);

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

    fn is_done(&self) -> bool {
        self.resource["status"]["state"].as_str() == Some("DONE")
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
        let loopback = crate::io::storage::is_loopback(base);
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

    /// One REST call with retries of transient failures; the final status and body.
    async fn call_raw(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> std::result::Result<(StatusCode, Value), String> {
        let mut delay = self.backoff;
        for attempt in 1..=ATTEMPTS {
            let mut request = self.http.request(method.clone(), url);
            if let Some(token) = self.token().await.map_err(|e| e.to_string())? {
                request = request.bearer_auth(token);
            }
            if let Some(body) = body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_string());
            }
            let outcome = match request.send().await {
                Ok(response) => read_answer(response).await,
                Err(e) if e.is_connect() || e.is_timeout() => {
                    Err(Failure::Transient(e.to_string()))
                }
                Err(e) => Err(Failure::Permanent(e.to_string())),
            };
            let transient = match &outcome {
                Ok((status, value)) => is_transient(*status, value),
                Err(Failure::Transient(_)) => true,
                Err(Failure::Permanent(_)) => false,
            };
            if transient && attempt < ATTEMPTS {
                tracing::warn!(
                    "{url}: transient failure (attempt {attempt}), retrying in {delay:?}"
                );
                tokio::time::sleep(delay).await;
                delay *= 2;
                continue;
            }
            return outcome.map_err(|f| match f {
                Failure::Transient(m) | Failure::Permanent(m) => m,
            });
        }
        unreachable!("the last attempt returns")
    }

    /// One REST call with retries. `Ok(None)` for 404; `what` names it in errors.
    async fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Option<(StatusCode, Value)>> {
        match self.call_raw(method, url, body).await {
            Ok((StatusCode::NOT_FOUND, _)) => Ok(None),
            Ok((status, value)) if status.is_success() || status == StatusCode::CONFLICT => {
                Ok(Some((status, value)))
            }
            Ok((status, value)) => Err(Error::Remote {
                context: format!("BigQuery {what}"),
                message: format!("HTTP {status}: {}", error_message(&value)),
            }),
            Err(message) => Err(Error::Remote {
                context: format!("BigQuery {what}"),
                message,
            }),
        }
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
        let job = match inserted {
            Some((status, resource)) if status != StatusCode::CONFLICT => Job {
                id: id.to_string(),
                resource,
            },
            _ => self.job(id).await?.ok_or_else(|| Error::Remote {
                context: format!("BigQuery job {id} ({what})"),
                message: "submitted, then not found".into(),
            })?,
        };
        tracing::debug!(job = id, "BigQuery job submitted: {what}");
        let started = std::time::Instant::now();
        let job = self.wait(job, what).await?;
        let ms = started.elapsed().as_millis() as u64;
        tracing::debug!(
            job = id,
            elapsed_ms = ms,
            "BigQuery job done: {what}: {ms} ms"
        );
        match job.error() {
            Some((reason, message)) => Err(Error::JobFailed {
                job: id.to_string(),
                what: what.to_string(),
                reason,
                message,
            }),
            None => Ok(job),
        }
    }

    /// Poll `job` until BigQuery says it is done.
    async fn wait(&self, mut job: Job, what: &str) -> Result<Job> {
        let mut wait = Duration::from_millis(50);
        while !job.is_done() {
            tracing::trace!(job = %job.id, "waiting for {what}");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(2));
            job = self.job(&job.id).await?.ok_or_else(|| Error::Remote {
                context: format!("BigQuery job {} ({what})", job.id),
                message: "disappeared while running".into(),
            })?;
        }
        Ok(job)
    }

    /// The successful job of attempt series `base`, if one exists (a job still running
    /// is waited for). Failed attempts are passed over.
    pub async fn find_done(&self, base: &str, what: &str) -> Result<Option<Job>> {
        Ok(match self.first_open_attempt(base, what).await? {
            Attempt::Done(job) => Some(job),
            Attempt::Free(_) => None,
        })
    }

    /// The successful job of series `base`, or the first attempt id nobody used yet.
    async fn first_open_attempt(&self, base: &str, what: &str) -> Result<Attempt> {
        for n in 1..=MAX_ATTEMPT_IDS {
            let id = attempt_id(base, n);
            let Some(job) = self.job(&id).await? else {
                return Ok(Attempt::Free(id));
            };
            let job = self.wait(job, what).await?;
            if job.error().is_none() {
                return Ok(Attempt::Done(job));
            }
        }
        Err(Error::Remote {
            context: format!("BigQuery jobs {base}… ({what})"),
            message: format!("{MAX_ATTEMPT_IDS} attempts failed; see them in the BigQuery console"),
        })
    }

    /// Submit the configuration as a new attempt of series `base`, whatever earlier
    /// attempts did (a load whose table has since expired must run again).
    pub async fn run_fresh(&self, base: &str, configuration: Value, what: &str) -> Result<Job> {
        for n in 1..=MAX_ATTEMPT_IDS {
            let id = attempt_id(base, n);
            if self.job(&id).await?.is_none() {
                return self.run_job(&id, configuration, what).await;
            }
        }
        Err(Error::Remote {
            context: format!("BigQuery jobs {base}… ({what})"),
            message: format!("all {MAX_ATTEMPT_IDS} attempt ids are used"),
        })
    }

    /// Run the job of series `base` once: an earlier successful attempt is the answer,
    /// else the configuration is submitted under the first unused attempt id.
    pub async fn run_once(&self, base: &str, configuration: Value, what: &str) -> Result<Job> {
        match self.first_open_attempt(base, what).await? {
            Attempt::Done(job) => Ok(job),
            Attempt::Free(id) => self.run_job(&id, configuration, what).await,
        }
    }

    /// [`Client::run_once`], retrying a job that failed transiently or on a concurrent
    /// update, up to [`JOB_ATTEMPTS`] times with exponential backoff (from the client's
    /// backoff, at most 32 s) and jitter; each retry is a new job id.
    pub async fn run_retrying(&self, base: &str, configuration: Value, what: &str) -> Result<Job> {
        let mut delay = self.backoff;
        let mut attempt = 1;
        loop {
            match self.run_once(base, configuration.clone(), what).await {
                Err(e) if retryable(&e) && attempt < JOB_ATTEMPTS => {
                    let pause = jittered(delay);
                    tracing::warn!(
                        "{e}; retrying in {pause:?} (attempt {attempt} of {JOB_ATTEMPTS})"
                    );
                    tokio::time::sleep(pause).await;
                    delay = (delay * 2).min(MAX_JOB_BACKOFF);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Validate `sql` with a dry-run job: no data read, nothing written, no cost; the
    /// answer is the bytes BigQuery says it would process. A statement BigQuery refuses
    /// is an input error naming `what` and BigQuery's message.
    pub async fn dry_run(&self, sql: &str, params: &[Param], what: &str) -> Result<Option<u64>> {
        let id = format!("completeness_dryrun_{:016x}", rand::random::<u64>());
        let body = json!({
            "jobReference": {"projectId": self.project, "jobId": id, "location": self.location},
            "configuration": {"dryRun": true, "query": query_config(sql, params)},
        });
        let refused = |message: String| {
            Error::input(format!(
                "BigQuery refuses {what}: {message}\n  the statement:\n{}",
                indent(sql)
            ))
        };
        let answer = self
            .call_raw(Method::POST, &self.url("jobs"), Some(&body))
            .await
            .map_err(|e| Error::Remote {
                context: format!("BigQuery dry run of {what}"),
                message: e.to_string(),
            })?;
        match answer {
            (status, value) if status.is_success() => {
                let job = Job {
                    id,
                    resource: value,
                };
                match job.error() {
                    Some((reason, message)) => Err(refused(format!("{reason}: {message}"))),
                    None => Ok(super::cost::dry_run_bytes(&job.resource)),
                }
            }
            (status, value) if status.is_client_error() => {
                Err(refused(format!("HTTP {status}: {}", error_message(&value))))
            }
            (status, value) => Err(Error::Remote {
                context: format!("BigQuery dry run of {what}"),
                message: format!("HTTP {status}: {}", error_message(&value)),
            }),
        }
    }

    /// Run `sql` as query job `id` with named parameters.
    pub async fn query(&self, id: &str, sql: &str, params: &[Param], what: &str) -> Result<Job> {
        let configuration = json!({"query": query_config(sql, params)});
        self.run_job(id, configuration, what).await
    }

    /// Run `sql` as the query job of attempt series `base` ([`Client::run_once`]).
    pub async fn query_once(
        &self,
        base: &str,
        sql: &str,
        params: &[Param],
        what: &str,
    ) -> Result<Job> {
        let configuration = json!({"query": query_config(sql, params)});
        self.run_once(base, configuration, what).await
    }

    /// Run DML `sql` as series `base`, retried on concurrent updates
    /// ([`Client::run_retrying`]).
    pub async fn dml(&self, base: &str, sql: &str, params: &[Param], what: &str) -> Result<Job> {
        let configuration = json!({"query": query_config(sql, params)});
        self.run_retrying(base, configuration, what).await
    }

    /// The result rows of a finished query job, every page: as many as BigQuery counted
    /// (`totalRows`). A read that comes up short is read again; a partial result is
    /// never an answer.
    pub async fn rows(&self, job: &Job) -> Result<Rows> {
        let mut attempt = 1;
        loop {
            match self.all_pages(job).await {
                Err(Error::Remote { message, .. }) if message.contains(SHORT) && attempt < 3 => {
                    tracing::warn!("results of job {}: {message}; reading them again", job.id);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn all_pages(&self, job: &Job) -> Result<Rows> {
        let mut out = Rows::default();
        let mut page: Option<String> = None;
        let mut total = None;
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
            total = total.or(count(&value["totalRows"]));
            out.rows
                .extend(value["rows"].as_array().into_iter().flatten().cloned());
            match value["pageToken"].as_str() {
                Some(token) if !token.is_empty() => page = Some(token.to_string()),
                _ => break,
            }
        }
        match total {
            Some(n) if n == out.rows.len() as u64 => Ok(out),
            counted => Err(Error::Remote {
                context: format!("BigQuery results of job {}", job.id),
                message: format!(
                    "{} rows arrived of the {} BigQuery counted ({SHORT}); a partial result \
                     is no answer",
                    out.rows.len(),
                    counted.map_or("(unknown number)".to_string(), |n| n.to_string())
                ),
            }),
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

/// What a results read that came up short says.
const SHORT: &str = "a short read";

/// Why an HTTP exchange gave no answer: worth another attempt, or not.
enum Failure {
    Transient(String),
    Permanent(String),
}

/// The status and JSON body of a response. A body that does not arrive whole, or a
/// success whose body is not JSON (cut off), is a transient failure like a 503: read as
/// empty, it would be taken for an empty answer.
async fn read_answer(
    response: reqwest::Response,
) -> std::result::Result<(StatusCode, Value), Failure> {
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| {
        Failure::Transient(format!(
            "HTTP {status}: the response body did not arrive whole ({e})"
        ))
    })?;
    parse_body(status, &bytes).map(|value| (status, value))
}

fn parse_body(status: StatusCode, bytes: &[u8]) -> std::result::Result<Value, Failure> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => Ok(value),
        // No content, or an error status whose body is not ours to read: the status says it.
        Err(_) if status == StatusCode::NO_CONTENT || !status.is_success() => Ok(Value::Null),
        Err(e) => Err(Failure::Transient(format!(
            "HTTP {status}: a response body of {} bytes that is not whole JSON ({e})",
            bytes.len()
        ))),
    }
}

/// A count BigQuery sends as a string (or a number).
fn count(v: &Value) -> Option<u64> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_u64())
}

/// A job series' answer so far: a successful attempt, or the next id to use.
enum Attempt {
    Done(Job),
    Free(String),
}

/// Job id of attempt `n` of series `base`: `base`, `base_2`, `base_3`, …
pub fn attempt_id(base: &str, n: u32) -> String {
    match n {
        1 => base.to_string(),
        n => format!("{base}_{n}"),
    }
}

fn query_config(sql: &str, params: &[Param]) -> Value {
    json!({
        "query": sql,
        "useLegacySql": false,
        "parameterMode": "NAMED",
        "queryParameters": params.iter().map(Param::to_json).collect::<Vec<_>>(),
    })
}

fn indent(sql: &str) -> String {
    sql.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Messages of a failed job that another attempt may not meet: BigQuery's own
/// transient errors, and DML refused because another statement changed the table at
/// the same moment (production retries those too: shared/utils/bigquery_retry.py).
const RETRYABLE: [&str; 7] = [
    "backendError",
    "rateLimitExceeded",
    "internalError",
    "Could not serialize access",
    "due to concurrent update",
    "concurrent DML statements",
    "exceeded quota for total number of dml jobs",
];

/// Whether a job failure is worth another attempt.
pub fn retryable(e: &Error) -> bool {
    match e {
        Error::JobFailed {
            reason, message, ..
        } => {
            let text = format!("{reason}: {message}");
            RETRYABLE.iter().any(|r| text.contains(r))
        }
        _ => false,
    }
}

/// Whether BigQuery refused DML because rows are in the streaming buffer.
pub fn is_streaming_buffer(e: &Error) -> bool {
    matches!(e, Error::JobFailed { message, .. } if message.contains("streaming buffer"))
}

/// `delay` plus up to half of it again, at random: two clients retrying after the same
/// conflict do not collide again.
fn jittered(delay: Duration) -> Duration {
    delay + delay.mul_f64(rand::random::<f64>() / 2.0)
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
    fn a_body_cut_off_or_empty_is_no_answer_but_an_error_status_still_speaks() {
        let ok = StatusCode::OK;
        assert!(matches!(parse_body(ok, br#"{"rows": []}"#), Ok(v) if v["rows"].is_array()));
        assert!(matches!(
            parse_body(ok, br#"{"rows": [{"f"#),
            Err(Failure::Transient(_))
        ));
        assert!(matches!(parse_body(ok, b""), Err(Failure::Transient(_))));
        assert!(matches!(
            parse_body(StatusCode::NO_CONTENT, b""),
            Ok(Value::Null)
        ));
        let gateway = parse_body(StatusCode::BAD_GATEWAY, b"<html>");
        assert!(matches!(gateway, Ok(Value::Null)));
        assert_eq!(count(&json!("10000")), Some(10_000));
        assert_eq!(count(&json!(7)), Some(7));
        assert_eq!(count(&Value::Null), None);
    }

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

    fn failed(reason: &str, message: &str) -> Error {
        Error::JobFailed {
            job: "j".into(),
            what: "MERGE".into(),
            reason: reason.into(),
            message: message.into(),
        }
    }

    #[test]
    fn concurrent_updates_and_backend_errors_are_retried_others_not() {
        let serialize = "Could not serialize access to table p:d.t due to concurrent update";
        assert!(retryable(&failed("invalidQuery", serialize)));
        assert!(retryable(&failed("backendError", "")));
        assert!(!retryable(&failed("invalidQuery", "Unrecognized name: x")));
        let buffer = "UPDATE or DELETE statement over table p.d.t would affect rows in the streaming buffer, which is not supported";
        assert!(!retryable(&failed("invalidQuery", buffer)));
        assert!(is_streaming_buffer(&failed("invalidQuery", buffer)));
        assert!(!retryable(&Error::input("Could not serialize access")));
    }

    #[test]
    fn attempt_ids_number_from_two_and_jitter_stays_within_half() {
        assert_eq!(attempt_id("c_run_merge", 1), "c_run_merge");
        assert_eq!(attempt_id("c_run_merge", 3), "c_run_merge_3");
        for _ in 0..50 {
            let d = jittered(Duration::from_millis(100));
            assert!(d >= Duration::from_millis(100) && d <= Duration::from_millis(150));
        }
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
