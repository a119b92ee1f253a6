//! The diff's counts, recounted in SQL before anything is written.
//!
//! The diff classifies records in Rust; `queries/diff_tallies.sql` counts the same
//! thing per game date with a join. On every date the run covers (no skipped bootstrap
//! records) the two must agree, or the run stops: a report that disagrees with the
//! data must never reach a merge.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use chrono::NaiveDate;
use datafusion::datasource::MemTable;

use crate::error::{Error, Result};
use crate::io::columns::{dates, i64s};
use crate::queries::Query;
use crate::report::Report;

/// Recount `results` against `current` and compare with `report.by_date`.
pub async fn cross_check(
    results: &[RecordBatch],
    current: &[RecordBatch],
    report: &Report,
) -> Result<()> {
    if results.is_empty() || current.is_empty() {
        // Nothing recomputed or nothing stored: the diff can have found nothing either.
        let found: u64 = report.by_date.iter().map(|r| r.added + r.changed).sum();
        return match found {
            0 => Ok(()),
            n => Err(Error::input(format!(
                "internal check failed: the diff counted {n} changes without any input rows"
            ))),
        };
    }
    let ctx = crate::io::engine::session();
    register(&ctx, "results", results)?;
    register(&ctx, "current", current)?;
    let tallies = Query::DiffTallies.run(&ctx, &[]).await?;
    let by_date = per_date(&tallies)?;
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
    batches: &[RecordBatch],
) -> Result<()> {
    let schema = batches[0].schema();
    let table = MemTable::try_new(schema, vec![batches.to_vec()])
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
}
