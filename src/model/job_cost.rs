//! What a warehouse job cost, as BigQuery reports it: the numbers an operator is billed
//! by. Recorded per job in the manifest and the report, so a run's cost is visible
//! without the BigQuery console.

use serde::{Deserialize, Serialize};

use crate::model::count::thousands;

/// One job of a run and its statistics (`None`: BigQuery did not report it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobCost {
    pub job_id: String,
    /// What the job was for: `plan`, `report`, `merge`, `export`, `load`, …
    pub step: String,
    /// `statistics.query.totalBytesProcessed`.
    pub bytes_processed: Option<u64>,
    /// `statistics.query.totalBytesBilled` (on-demand pricing bills these).
    pub bytes_billed: Option<u64>,
    /// `statistics.totalSlotMs`.
    pub slot_ms: Option<u64>,
}

/// A byte count for people: `1,234,567 bytes`, or what BigQuery did not report.
pub fn bytes(n: Option<u64>) -> String {
    match n {
        Some(n) => format!("{} bytes", thousands(n)),
        None => "not reported".to_string(),
    }
}

/// The sum over `costs` of one statistic; `None` when no job reported it.
pub fn total(costs: &[JobCost], stat: impl Fn(&JobCost) -> Option<u64>) -> Option<u64> {
    costs.iter().filter_map(stat).reduce(|a, b| a + b)
}

/// One line for a run's jobs: how many, bytes processed and billed, slot time.
pub fn summary(costs: &[JobCost]) -> String {
    let slot = match total(costs, |c| c.slot_ms) {
        Some(ms) => format!("{} slot ms", thousands(ms)),
        None => "slot ms not reported".to_string(),
    };
    format!(
        "{} BigQuery job(s): {} processed, {} billed, {slot}",
        costs.len(),
        bytes(total(costs, |c| c.bytes_processed)),
        bytes(total(costs, |c| c.bytes_billed)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_skip_what_was_not_reported() {
        let costs = [
            JobCost {
                job_id: "a".into(),
                step: "plan".into(),
                bytes_processed: Some(1_000_000),
                bytes_billed: Some(10_485_760),
                slot_ms: None,
            },
            JobCost {
                job_id: "b".into(),
                step: "report".into(),
                bytes_processed: Some(0),
                ..Default::default()
            },
        ];
        assert_eq!(total(&costs, |c| c.bytes_processed), Some(1_000_000));
        assert_eq!(total(&costs, |c| c.slot_ms), None);
        assert_eq!(
            summary(&costs),
            "2 BigQuery job(s): 1,000,000 bytes processed, 10,485,760 bytes billed, slot ms not reported"
        );
    }
}
