//! `report daily`: the daily summary of the stored structs over a window and the
//! games_found histogram, gathered from the warehouse and handed to
//! [`crate::report::daily`] to render.

use chrono::NaiveDate;

use crate::error::Result;
use crate::io::columns::{dates, f64s, i64s};
use crate::ops::check::{Check, Summary};
use crate::queries::{Param, Query};
use crate::report::daily::{DailyReport, DailyRow, SummaryTotals};
use crate::warehouse::Source;

/// Run the summary and the histogram for `days` days ending on `end`.
pub async fn daily_report(source: &Source, end: NaiveDate, days: u32) -> Result<DailyReport> {
    let summary = Summary::new(end, days)?;
    let output = summary.run(source).await?;
    let totals: SummaryTotals =
        serde_json::from_value(output.totals.clone()).expect("summary totals round-trip");
    let params = Param::range(&summary.range);
    let histogram = source.run(Query::GamesFoundHistogram, &params).await?;
    let coverage = output.coverage.expect("the summary counts its records");
    let notes = std::iter::once(coverage.line())
        .chain(output.notes.iter().cloned())
        .collect();
    Ok(DailyReport {
        start: summary.range.start,
        end: summary.range.end,
        totals,
        coverage,
        rows: rows(&output.rows)?,
        games_found_histogram: histogram_counts(&histogram)?,
        notes,
    })
}

fn rows(batches: &[arrow::array::RecordBatch]) -> Result<Vec<DailyRow>> {
    let count = |name| -> Result<Vec<u64>> {
        Ok(i64s(batches, name)?
            .into_iter()
            .map(|v| v.unwrap_or(0) as u64)
            .collect())
    };
    let float = |name| f64s(batches, name);
    let (days, total, complete) = (
        dates(batches, "game_date")?,
        count("total_features")?,
        count("complete")?,
    );
    let (incomplete, bootstrap) = (count("incomplete")?, count("bootstrap")?);
    let gaps = i64s(batches, "data_gaps")?;
    let without = count("without_struct")?;
    let (cp, ip) = (float("complete_pct")?, float("incomplete_pct")?);
    let (found, expected) = (float("avg_games_found")?, float("avg_games_expected")?);
    Ok((0..days.len())
        .filter_map(|i| {
            Some(DailyRow {
                game_date: days[i]?,
                total_features: total[i],
                complete: complete[i],
                incomplete: incomplete[i],
                data_gaps: gaps[i].map(|n| n as u64),
                bootstrap: bootstrap[i],
                complete_pct: cp[i],
                incomplete_pct: ip[i],
                avg_games_found: found[i],
                avg_games_expected: expected[i],
                without_struct: without[i],
            })
        })
        .collect())
}

fn histogram_counts(batches: &[arrow::array::RecordBatch]) -> Result<[u64; 11]> {
    let mut counts = [0u64; 11];
    let found = i64s(batches, "games_found")?;
    let records = i64s(batches, "records")?;
    for (f, n) in found.into_iter().zip(records) {
        if let (Some(f), Some(n)) = (f, n) {
            counts[f.clamp(0, 10) as usize] += n as u64;
        }
    }
    Ok(counts)
}
