//! How many feature records a check's window holds and how many have no struct yet:
//! the first thing every check and page says.

use chrono::NaiveDate;
use serde::Serialize;

use crate::hint::COMPLETENESS;
use crate::model::count::{plural, thousands};

/// The feature records of a check's window, and how many still have no struct: the
/// first thing a check says (a record without a struct is never counted as complete, and
/// a check of the stored structs cannot see it at all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Coverage {
    /// Feature records in the window.
    pub records: u64,
    /// Of them, records whose struct is still NULL.
    pub without_struct: u64,
    pub dates_without_struct: u64,
    /// The first and last date with such a record.
    pub first_date: Option<NaiveDate>,
    pub last_date: Option<NaiveDate>,
    /// The window.
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Coverage {
    /// The line a check prints first.
    pub fn line(&self) -> String {
        let (start, end) = (self.start, self.end);
        if self.records == 0 {
            return format!(
                "warning: no feature records between {start} and {end}: the window holds no data (check --end)"
            );
        }
        if self.without_struct == 0 {
            return format!(
                "every record in the window has a struct ({})",
                plural(self.records, "record", "records")
            );
        }
        let dates = plural(self.dates_without_struct, "date", "dates");
        // A dry run first, as the runbook says; --include-bootstrap, or the first 14
        // days of a season would stay without a struct.
        let plan = match (self.first_date, self.last_date) {
            (Some(first), Some(last)) => format!(
                " Plan their backfill with `{COMPLETENESS} backfill --start {first} --end {last} \
                 --include-bootstrap --dry-run`, then apply it with the `merge --run` line it \
                 prints."
            ),
            _ => String::new(),
        };
        format!(
            "warning: {} of {} in {start} – {end} have no struct yet (on {dates}), and none \
             of them counts as complete.{plan}",
            thousands(self.without_struct),
            plural(self.records, "record", "records"),
        )
    }
}
