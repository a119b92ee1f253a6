//! The document of `report daily`, the daily summary of the stored structs, as the page
//! (report.html) and daily.json show it. [`crate::ops::daily`] gathers it.

use chrono::NaiveDate;
use serde::Serialize;

use crate::model::coverage::Coverage;
use crate::model::reasons::ReasonCounts;

/// The daily summary over a window, with the games_found histogram.
#[derive(Debug, Clone, Serialize)]
pub struct DailyReport {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub totals: SummaryTotals,
    /// The records of the window, and how many have no struct yet.
    pub coverage: Coverage,
    /// Newest first.
    pub rows: Vec<DailyRow>,
    pub games_found_histogram: [u64; 11],
    /// What `check summary` says of the window, in its order (the records without a
    /// struct first): the page's notes and the terminal's lines.
    pub notes: Vec<String>,
}

/// Sums over the dates of the summary (also `check summary`'s totals).
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct SummaryTotals {
    /// Dates with a record that has a struct.
    pub dates: u64,
    pub total_features: u64,
    pub complete: u64,
    /// Neither complete nor bootstrap, whatever the reason (see `incomplete_by_reason`).
    pub incomplete: u64,
    pub bootstrap: u64,
    /// Records in the window whose struct is still NULL.
    pub without_struct: u64,
    pub dates_without_struct: u64,
    /// The incomplete records that are data gaps (a game of the player's team has no
    /// row for him); None without a schedule, which finding them needs.
    #[serde(default)]
    pub data_gaps: Option<u64>,
    /// The incomplete records by reason; None without a schedule.
    #[serde(default)]
    pub incomplete_by_reason: Option<ReasonCounts>,
}

/// One line of `check summary` (`queries/daily_summary.sql` and the data gaps).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyRow {
    pub game_date: NaiveDate,
    /// Records with a struct (the counts and shares are of them).
    pub total_features: u64,
    pub complete: u64,
    pub incomplete: u64,
    /// Of the incomplete records, the data gaps; None when the reasons are unknown.
    pub data_gaps: Option<u64>,
    pub bootstrap: u64,
    /// None on a date with no struct at all.
    pub complete_pct: Option<f64>,
    pub incomplete_pct: Option<f64>,
    pub avg_games_found: Option<f64>,
    pub avg_games_expected: Option<f64>,
    /// Records on the date that have no struct yet.
    pub without_struct: u64,
}
