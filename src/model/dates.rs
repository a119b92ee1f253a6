//! Date arguments, date ranges, and the season calendar that decides bootstrap dates.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Dates outside these years are rejected as absurd: the feature store starts in 2021.
const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 2100;
/// The first and last dates the tool accepts anywhere, as days since 1970-01-01
/// (1900-01-01 and 2100-12-31): on the command line and in every input column.
pub const FIRST_DAY: i32 = -25_567;
pub const LAST_DAY: i32 = 47_846;
/// The longest range one run accepts; a decade is certainly a typo.
pub const MAX_RANGE_DAYS: i64 = 3653;
/// Days 0..=13 from a season's first regular-season game are bootstrap dates.
pub const BOOTSTRAP_DAYS: i64 = 14;

/// Parse a date argument: `YYYY-MM-DD`, `today` or `yesterday` (UTC).
///
/// The error text is shown to the user by clap as is.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    parse_date_at(s, Utc::now().date_naive())
}

/// [`parse_date`] with an explicit "today", for tests.
pub fn parse_date_at(s: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let date = match s.trim() {
        "today" => today,
        "yesterday" => today - Duration::days(1),
        text => NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
            format!("invalid date '{text}': expected a calendar date as YYYY-MM-DD, 'today' or 'yesterday'")
        })?,
    };
    if !(MIN_YEAR..=MAX_YEAR).contains(&date.year()) {
        return Err(format!(
            "date {date} is out of range: only years {MIN_YEAR} to {MAX_YEAR} are accepted"
        ));
    }
    Ok(date)
}

/// An inclusive range of game dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRange {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl DateRange {
    /// A validated range: start not after end, and not longer than [`MAX_RANGE_DAYS`].
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<DateRange> {
        if start > end {
            return Err(Error::input(format!(
                "--start {start} is after --end {end}: the range is reversed"
            )));
        }
        let days = (end - start).num_days() + 1;
        if days > MAX_RANGE_DAYS {
            return Err(Error::input(format!(
                "the range {start}..{end} spans {days} days; at most {MAX_RANGE_DAYS} (ten years) are accepted in one run"
            )));
        }
        Ok(DateRange { start, end })
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        self.start <= d && d <= self.end
    }

    /// First date of player_game_summary a range needs: `start - 365 days`.
    pub fn lookback_start(&self) -> NaiveDate {
        self.start - Duration::days(crate::model::LOOKBACK_DAYS as i64)
    }

    /// The schedule dates holding the first day of every season the range touches:
    /// from July 1 of its first season (where production looks from too) to its end.
    pub fn season_starts_window(&self) -> (NaiveDate, NaiveDate) {
        let july = NaiveDate::from_ymd_opt(season_year(self.start), 7, 1);
        (july.expect("July 1 exists"), self.end)
    }
}

/// Season year of a date: `year if month >= 10 else year - 1`.
pub fn season_year(d: NaiveDate) -> i32 {
    if d.month() >= 10 {
        d.year()
    } else {
        d.year() - 1
    }
}

/// First regular-season game date per season year.
///
/// Built from the schedule table when there is one; otherwise (and for seasons the
/// schedule lacks) the known first days, then October 22.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeasonCalendar {
    pub starts: BTreeMap<i32, NaiveDate>,
}

/// Production's fallback table (shared/config/nba_season_dates.py); 2026 is provisional.
const KNOWN_STARTS: [(i32, u32, u32); 6] = [
    (2021, 10, 19),
    (2022, 10, 18),
    (2023, 10, 24),
    (2024, 10, 22),
    (2025, 10, 21),
    (2026, 10, 21),
];

impl SeasonCalendar {
    pub fn from_schedule(starts: BTreeMap<i32, NaiveDate>) -> SeasonCalendar {
        SeasonCalendar { starts }
    }

    /// The first regular-season day of `season`.
    pub fn season_start(&self, season: i32) -> NaiveDate {
        if let Some(d) = self.starts.get(&season) {
            return *d;
        }
        KNOWN_STARTS
            .iter()
            .find(|(y, _, _)| *y == season)
            .and_then(|(y, m, d)| NaiveDate::from_ymd_opt(*y, *m, *d))
            .unwrap_or_else(|| NaiveDate::from_ymd_opt(season, 10, 22).expect("Oct 22 exists"))
    }

    /// Whether `d` is one of the first 14 days of its season.
    pub fn is_bootstrap_date(&self, d: NaiveDate) -> bool {
        let offset = (d - self.season_start(season_year(d))).num_days();
        (0..BOOTSTRAP_DAYS).contains(&offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn parses_iso_today_and_yesterday() {
        let today = d("2026-01-22");
        assert_eq!(parse_date_at("2025-03-01", today), Ok(d("2025-03-01")));
        assert_eq!(parse_date_at("today", today), Ok(today));
        assert_eq!(parse_date_at("yesterday", today), Ok(d("2026-01-21")));
    }

    #[test]
    fn rejects_impossible_dates_with_the_expected_form() {
        let err = parse_date_at("2026-13-01", d("2026-01-22")).unwrap_err();
        assert_eq!(
            err,
            "invalid date '2026-13-01': expected a calendar date as YYYY-MM-DD, 'today' or 'yesterday'"
        );
        assert!(parse_date_at("2025-02-29", d("2026-01-22")).is_err());
        assert!(parse_date_at("2024-02-29", d("2026-01-22")).is_ok());
    }

    #[test]
    fn the_supported_days_are_the_supported_years() {
        use crate::model::date_to_days;
        assert_eq!(FIRST_DAY, date_to_days(d("1900-01-01")));
        assert_eq!(LAST_DAY, date_to_days(d("2100-12-31")));
    }

    #[test]
    fn rejects_absurd_years() {
        let err = parse_date_at("1850-01-01", d("2026-01-22")).unwrap_err();
        assert!(err.contains("only years 1900 to 2100"), "{err}");
        assert!(parse_date_at("2200-01-01", d("2026-01-22")).is_err());
    }

    #[test]
    fn range_rejects_reversed_and_decades() {
        let err = DateRange::new(d("2026-02-01"), d("2026-01-01")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--start 2026-02-01 is after --end 2026-01-01: the range is reversed"
        );
        assert_eq!(err.exit_code(), 2);
        assert!(DateRange::new(d("2000-01-01"), d("2026-01-01")).is_err());
        assert!(DateRange::new(d("2024-10-22"), d("2026-01-22")).is_ok());
    }

    #[test]
    fn season_year_turns_in_october() {
        assert_eq!(season_year(d("2025-09-30")), 2024);
        assert_eq!(season_year(d("2025-10-01")), 2025);
        assert_eq!(season_year(d("2026-01-22")), 2025);
    }

    #[test]
    fn bootstrap_is_days_0_to_13_of_the_season() {
        let cal = SeasonCalendar::default();
        assert!(cal.is_bootstrap_date(d("2025-10-21")));
        assert!(cal.is_bootstrap_date(d("2025-11-03")));
        assert!(!cal.is_bootstrap_date(d("2025-11-04")));
        assert!(!cal.is_bootstrap_date(d("2025-10-20")));
        // unknown season falls back to October 22
        assert!(cal.is_bootstrap_date(d("2030-10-22")));
        assert!(!cal.is_bootstrap_date(d("2030-10-21")));
        let from_schedule =
            SeasonCalendar::from_schedule(BTreeMap::from([(2025, d("2025-10-28"))]));
        assert!(!from_schedule.is_bootstrap_date(d("2025-10-21")));
        assert!(from_schedule.is_bootstrap_date(d("2025-11-10")));
    }
}
