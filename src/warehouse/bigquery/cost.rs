//! What a run's BigQuery jobs cost, read from their statistics.
//!
//! A job resource carries `statistics.query.totalBytesProcessed`, `…totalBytesBilled`
//! and `statistics.totalSlotMs` (numbers as strings). Jobs the run holds in hand are
//! recorded as they finish ([`of_job`]); jobs recorded by id only (the export path) are
//! looked up afterwards with `jobs.get`, which is not a job and costs nothing
//! ([`complete`]).

use serde_json::Value;

use crate::model::job_cost::JobCost;
use crate::run::manifest::BigQueryRun;

use super::BigQueryWarehouse;

/// The cost of finished job `id`, from its REST resource, as BigQuery reports it.
pub fn of_job(id: &str, resource: &Value, step: &str) -> JobCost {
    let stats = &resource["statistics"];
    JobCost {
        job_id: id.to_string(),
        step: step.to_string(),
        bytes_processed: number(&stats["query"]["totalBytesProcessed"])
            .or_else(|| number(&stats["totalBytesProcessed"])),
        bytes_billed: number(&stats["query"]["totalBytesBilled"]),
        slot_ms: number(&stats["totalSlotMs"]).or_else(|| number(&stats["query"]["totalSlotMs"])),
    }
}

/// The bytes a dry run says the statement would process.
pub fn dry_run_bytes(resource: &Value) -> Option<u64> {
    let stats = &resource["statistics"];
    number(&stats["query"]["totalBytesProcessed"]).or_else(|| number(&stats["totalBytesProcessed"]))
}

/// Add the costs of the run's jobs that were recorded by id only. A job that cannot be
/// read is left out with a warning: the cost is reported, never a reason to fail a run.
pub async fn complete(w: &BigQueryWarehouse, record: &mut BigQueryRun) {
    let known: Vec<String> = record.costs.iter().map(|c| c.job_id.clone()).collect();
    for id in record.jobs.clone() {
        if known.contains(&id) {
            continue;
        }
        match w.client.job(&id).await {
            Ok(Some(job)) => record.costs.push(of_job(&id, &job.resource, step_of(&id))),
            Ok(None) => tracing::warn!("job {id} not found: its cost is not reported"),
            Err(e) => tracing::warn!("reading job {id} for its cost: {e}"),
        }
    }
}

/// The step a job id names (`completeness_<run>_export_features` → `export`).
fn step_of(id: &str) -> &'static str {
    ["export", "load", "merge", "conflicts", "plan", "report"]
        .into_iter()
        .find(|s| id.contains(&format!("_{s}")))
        .unwrap_or("query")
}

/// A statistic: BigQuery sends int64 as a string; emulators may send a number.
fn number(v: &Value) -> Option<u64> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_u64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statistics_are_read_where_bigquery_puts_them() {
        let resource = json!({"statistics": {"totalSlotMs": "5321",
            "query": {"totalBytesProcessed": "1073741824", "totalBytesBilled": "1074790400"}}});
        assert_eq!(
            of_job("completeness_r_plan", &resource, "plan"),
            JobCost {
                job_id: "completeness_r_plan".into(),
                step: "plan".into(),
                bytes_processed: Some(1_073_741_824),
                bytes_billed: Some(1_074_790_400),
                slot_ms: Some(5321),
            }
        );
        // bqemulator 1.4.0: only totalBytesProcessed, always "0".
        let emulated = json!({"statistics": {"query": {"totalBytesProcessed": "0"}}});
        let cost = of_job("x", &emulated, "report");
        assert_eq!(
            (cost.bytes_processed, cost.bytes_billed, cost.slot_ms),
            (Some(0), None, None)
        );
        assert_eq!(step_of("completeness_2026_x_export_games"), "export");
        assert_eq!(step_of("completeness_2026_x_merge_2"), "merge");
    }
}
