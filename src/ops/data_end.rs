//! Where a window ends when `--end` is not given: at the data, not at today.
//!
//! A warehouse whose newest feature record is older than today (the samples end on
//! 2026-01-22; a table between seasons) would otherwise give an empty window, and a
//! check over it would find nothing to say. The newest `game_date` of the feature table
//! is looked for over the ten years up to a year ahead, a bound the table's partition
//! filter accepts.

use chrono::{Days, NaiveDate};

use crate::error::Result;
use crate::io::columns::dates;
use crate::model::dates::MAX_RANGE_DAYS;
use crate::queries::{Param, Query};
use crate::warehouse::Source;

/// Where a default window ends, and why there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataEnd {
    /// The newest `game_date` with a feature record.
    Newest(NaiveDate),
    /// The feature table has no record in the searched years: today.
    EmptyTable(NaiveDate),
}

impl DataEnd {
    pub fn date(self) -> NaiveDate {
        match self {
            DataEnd::Newest(d) | DataEnd::EmptyTable(d) => d,
        }
    }

    /// The newest `game_date`, if the table has any record.
    pub fn newest(self) -> Option<NaiveDate> {
        match self {
            DataEnd::Newest(d) => Some(d),
            DataEnd::EmptyTable(_) => None,
        }
    }

    /// The line that tells the operator which end was taken.
    pub fn note(self) -> String {
        match self {
            DataEnd::Newest(d) => {
                format!("--end not given: using {d}, the newest game_date in the feature table")
            }
            DataEnd::EmptyTable(d) => {
                format!("--end not given and the feature table has no records: using today, {d}")
            }
        }
    }
}

/// The newest feature `game_date` up to a year after `today`.
pub async fn newest_feature_date(source: &Source, today: NaiveDate) -> Result<DataEnd> {
    let params = [
        Param::date("since", today - Days::new(MAX_RANGE_DAYS as u64)),
        Param::date("until", today + Days::new(366)),
    ];
    let rows = source.run(Query::NewestFeatureDate, &params).await?;
    let newest = dates(&rows, "game_date")?.into_iter().flatten().next();
    Ok(match newest {
        Some(d) => DataEnd::Newest(d),
        None => DataEnd::EmptyTable(today),
    })
}
