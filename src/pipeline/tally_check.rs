//! The diff's counts, recounted in SQL before anything is written.
//!
//! The diff classifies records in Rust; `queries/diff_tallies.sql` counts the same
//! thing per game date with a join. On every date the run covers (no skipped bootstrap
//! records) the two must agree, or the run stops: a report that disagrees with the
//! data must never reach a merge. The recount runs while the diff does
//! ([`checked_diff`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use chrono::NaiveDate;
use datafusion::datasource::MemTable;

use crate::error::{Error, Result};
use crate::io::columns::{dates, i64s};
use crate::pipeline::diff::{DiffOptions, DiffOutcome};
use crate::queries::Query;
use crate::report::Report;

/// The diff of `results` against `current` ([`crate::pipeline::diff::diff`]), checked
/// against the recount. The two run at the same time: the diff on a blocking thread,
/// the SQL on the runtime's workers.
pub async fn checked_diff(
    results: Vec<RecordBatch>,
    current: Vec<RecordBatch>,
    options: DiffOptions,
    location: String,
) -> Result<DiffOutcome> {
    let mut sql = AbortOnDrop(tokio::spawn(recount(results.clone(), current.clone())));
    let outcome = crate::pipeline::blocking(move || {
        crate::pipeline::diff::diff(&results, &current, &options, &location)
    })
    .await?;
    let tallies = (&mut sql.0)
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
    compare(&tallies, &outcome.report)?;
    Ok(outcome)
}

/// A spawned task that stops when its handle goes (the recount, when the diff fails).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Recount `results` against `current` and compare with `report.by_date`.
pub async fn cross_check(
    results: &[RecordBatch],
    current: &[RecordBatch],
    report: &Report,
) -> Result<()> {
    compare(&recount(results.to_vec(), current.to_vec()).await?, report)
}

/// What `queries/diff_tallies.sql` counts: (added, changed) per game date; `None`
/// when there is nothing to join.
type Tallies = Option<BTreeMap<NaiveDate, (u64, u64)>>;

async fn recount(results: Vec<RecordBatch>, current: Vec<RecordBatch>) -> Result<Tallies> {
    if results.is_empty() || current.is_empty() {
        return Ok(None);
    }
    // One partition: the recount runs beside the diff (one thread) and the games the
    // reasons read, and splitting its join only added a repartition to that contention.
    let ctx = crate::io::engine::session_with_partitions(1);
    register(&ctx, "results", results)?;
    register(&ctx, "current", current)?;
    let tallies = Query::DiffTallies.run(&ctx, &[]).await?;
    per_date(&tallies).map(Some)
}

/// On every date the run covers, the diff's counts are the SQL's.
fn compare(tallies: &Tallies, report: &Report) -> Result<()> {
    let Some(by_date) = tallies else {
        // Nothing recomputed or nothing stored: the diff can have found nothing either.
        let found: u64 = report.by_date.iter().map(|r| r.added + r.changed).sum();
        return match found {
            0 => Ok(()),
            n => Err(Error::input(format!(
                "internal check failed: the diff counted {n} changes without any input rows"
            ))),
        };
    };
    for row in report.by_date.iter().filter(|r| r.skipped == 0) {
        let sql = by_date.get(&row.game_date).copied().unwrap_or_default();
        if sql != (row.added, row.changed) {
            return Err(Error::input(format!(
                "internal check failed on {}: the diff counted {} added and {} changed, \
                 queries/diff_tallies.sql counts {} and {}; nothing was written (please report this)",
                row.game_date, row.added, row.changed, sql.0, sql.1
            )));
        }
    }
    Ok(())
}

fn register(
    ctx: &datafusion::prelude::SessionContext,
    name: &str,
    batches: Vec<RecordBatch>,
) -> Result<()> {
    let schema = batches[0].schema();
    let table = MemTable::try_new(schema, vec![batches])
        .map_err(Error::datafusion(format!("registering {name}")))?;
    ctx.register_table(name, Arc::new(table))
        .map_err(Error::datafusion(format!("registering {name}")))?;
    Ok(())
}

fn per_date(tallies: &[RecordBatch]) -> Result<BTreeMap<NaiveDate, (u64, u64)>> {
    let days = dates(tallies, "game_date")?;
    let added = i64s(tallies, "added")?;
    let changed = i64s(tallies, "changed")?;
    Ok(days
        .into_iter()
        .zip(added.into_iter().zip(changed))
        .filter_map(|(d, (a, c))| Some((d?, (a.unwrap_or(0) as u64, c.unwrap_or(0) as u64))))
        .collect())
}

#[cfg(test)]
mod tests {
    use arrow::array::{Date32Array, StringArray};

    use super::*;
    use crate::model::completeness_column::CompletenessBuilder;
    use crate::report::DateRow;

    fn batch(stored: Option<i64>) -> RecordBatch {
        let mut structs = CompletenessBuilder::with_capacity(1);
        match stored {
            Some(found) => structs.append_parts(found, 10, [20_000]),
            None => structs.append(None),
        }
        RecordBatch::try_new(
            crate::pipeline::compute::results_schema(),
            vec![
                Arc::new(StringArray::from(vec!["ann"])),
                Arc::new(Date32Array::from(vec![20_001])),
                Arc::new(structs.finish()),
            ],
        )
        .unwrap()
    }

    fn report(added: u64, changed: u64) -> Report {
        let row = DateRow {
            game_date: crate::model::days_to_date(20_001),
            total: 1,
            added,
            changed,
            skipped: 0,
            complete: 0,
            incomplete: 1,
            bootstrap: 0,
            data_gaps: None,
        };
        Report {
            by_date: vec![row],
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn agrees_with_a_correct_report_and_stops_a_wrong_one() {
        let (results, null, other) = ([batch(Some(9))], [batch(None)], [batch(Some(8))]);
        cross_check(&results, &null, &report(1, 0)).await.unwrap();
        cross_check(&results, &other, &report(0, 1)).await.unwrap();
        cross_check(&results, &results, &report(0, 0))
            .await
            .unwrap();
        let err = cross_check(&results, &null, &report(0, 1))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("internal check failed"), "{err}");
    }

    /// The stored record of `batch`, with the updated_at the export saw.
    fn stored(found: Option<i64>) -> RecordBatch {
        use arrow::array::{Array, TimestampMicrosecondArray};
        use arrow::datatypes::{Field, Schema};
        let b = batch(found);
        let updated = TimestampMicrosecondArray::from(vec![Some(1)]).with_timezone("UTC");
        let mut fields = b.schema().fields().to_vec();
        fields.push(Arc::new(Field::new(
            "updated_at",
            updated.data_type().clone(),
            true,
        )));
        let mut columns = b.columns().to_vec();
        columns.push(Arc::new(updated));
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
    }

    #[tokio::test]
    async fn the_checked_diff_is_the_diff_and_fails_as_it_does() {
        let run = |current| {
            let options = DiffOptions::default();
            checked_diff(vec![batch(Some(9))], current, options, "t".into())
        };
        let outcome = run(vec![stored(None)]).await.unwrap();
        let r = &outcome.report.records;
        assert_eq!((r.added, r.changed, outcome.changes.num_rows()), (1, 0, 1));
        let outcome = run(vec![stored(Some(9))]).await.unwrap();
        assert_eq!(outcome.report.records.unchanged, 1);
        let err = run(Vec::new()).await.err().unwrap().to_string();
        assert!(err.contains("has no feature record in t"), "{err}");
    }
}
