//! The document of `report daily`, the daily summary of the stored structs, as the page
//! (report.html) and daily.json show it. [`crate::ops::daily`] gathers it.

use chrono::NaiveDate;
use serde::Serialize;

/// The daily summary over a window, with the games_found histogram.
#[derive(Debug, Clone, Serialize)]
pub struct DailyReport {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub totals: SummaryTotals,
    /// Newest first.
    pub rows: Vec<DailyRow>,
    pub games_found_histogram: [u64; 11],
}

/// Sums over the dates of the summary (also `check summary`'s totals).
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct SummaryTotals {
    pub dates: u64,
    pub total_features: u64,
    pub complete: u64,
    pub incomplete: u64,
    pub bootstrap: u64,
    /// Records in the window whose struct is still NULL.
    pub without_struct: u64,
    pub dates_without_struct: u64,
}

/// One line of `queries/daily_summary.sql`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyRow {
    pub game_date: NaiveDate,
    pub total_features: u64,
    pub complete: u64,
    pub incomplete: u64,
    pub bootstrap: u64,
    pub complete_pct: f64,
    pub incomplete_pct: f64,
    pub avg_games_found: f64,
    pub avg_games_expected: f64,
}
