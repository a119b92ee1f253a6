//! As-of reconstruction: each record's struct from only the player_game_summary rows
//! that existed when the feature record was created, compared with the struct from
//! today's rows (what a backfill writes).
//!
//! The struct is meant to describe the data the features were computed from, but a
//! backfill can only see today's table. Rows carry `created_at` (first written, else
//! `processed_at`); a row existed for a record if it was written at or before the
//! record's `created_at`. Rows without either timestamp count as always there. The
//! answer is a report, never a write: the five fields keep semantics.md's meaning.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Serialize;

use crate::error::Result;
use crate::io::columns::{dates, micros, strings};
use crate::model::dates::DateRange;
use crate::model::{HistoricalCompleteness, LOOKBACK_DAYS};
use crate::ops::check::Source;
use crate::ops::spot_check::recompute_from_dates;
use crate::queries::{Param, Query};

/// What the reconstruction found over a range.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AsOfReport {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub records: u64,
    /// Records without a created_at (left out).
    pub records_without_created_at: u64,
    /// Records whose struct as of their creation differs from the one from today's rows.
    pub differ: u64,
    /// Per field, how many records differ in it.
    pub fields_differ: BTreeMap<&'static str, u64>,
    /// `"THEN → NOW"` label pairs of the differing records.
    pub label_changes: BTreeMap<String, u64>,
    /// Why: per game date, the rows that arrived after records that needed them.
    pub late_dates: Vec<LateDate>,
    /// A few differing records, for a look.
    pub examples: Vec<AsOfExample>,
}

/// Rows of one game date that arrived after some records were created.
#[derive(Debug, Clone, Serialize)]
pub struct LateDate {
    pub game_date: NaiveDate,
    /// Distinct late rows behind the differing records.
    pub rows: u64,
    /// Differing records that lacked them.
    pub records: u64,
    /// When the last of them was written, and how many days after the game.
    pub latest_arrival: DateTime<Utc>,
    pub days_after_game: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AsOfExample {
    pub player_lookup: String,
    pub game_date: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub then: HistoricalCompleteness,
    pub now: HistoricalCompleteness,
    /// Game dates of the rows written after the record was created.
    pub late_rows: Vec<NaiveDate>,
}

const EXAMPLES: usize = 5;

/// A feature record: player, date, created_at (µs).
type Record = (String, NaiveDate, Option<i64>);

/// Rebuild the structs of `range` as of each record's creation.
pub async fn reconstruct(source: &Source, range: DateRange) -> Result<AsOfReport> {
    let params = [
        Param::date("first", range.start),
        Param::date("last", range.end),
    ];
    let features = source.run(Query::AsOfFeatures, &params).await?;
    let mut records: Vec<Record> = strings(&features, "player_lookup")?
        .into_iter()
        .zip(dates(&features, "game_date")?)
        .zip(micros(&features, "created_at")?)
        .filter_map(|((p, d), c)| Some((p?, d?, c)))
        .collect();
    // Examples come first to last: the same ones whichever engine listed the rows.
    records.sort_unstable_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    let game_params = [
        Param::date("first", range.start - Days::new(LOOKBACK_DAYS as u64)),
        Param::date("last", range.end),
    ];
    let games = source.run(Query::AsOfGames, &game_params).await?;
    let rows = strings(&games, "player_lookup")?
        .into_iter()
        .zip(dates(&games, "game_date")?)
        .zip(micros(&games, "created_at")?)
        .zip(micros(&games, "processed_at")?)
        .filter_map(|(((p, d), c), pr)| Some((p?, (d?, c.or(pr)))));
    let mut history: HashMap<String, Vec<(NaiveDate, Option<i64>)>> = HashMap::new();
    for (player, row) in rows {
        history.entry(player).or_default().push(row);
    }
    history
        .values_mut()
        .for_each(|v| v.sort_unstable_by(|a, b| b.cmp(a)));
    Ok(compare(range, &records, &history))
}

/// The comparison itself, over records and each player's rows (newest first).
pub fn compare(
    range: DateRange,
    records: &[Record],
    history: &HashMap<String, Vec<(NaiveDate, Option<i64>)>>,
) -> AsOfReport {
    let mut report = AsOfReport {
        start: range.start,
        end: range.end,
        records: records.len() as u64,
        ..AsOfReport::default()
    };
    let mut late: BTreeMap<NaiveDate, LateAcc> = BTreeMap::new();
    for (player, day, created) in records {
        let Some(created) = *created else {
            report.records_without_created_at += 1;
            continue;
        };
        let window_start = *day - Days::new(LOOKBACK_DAYS as u64);
        let rows: Vec<(NaiveDate, Option<i64>)> = history
            .get(player)
            .into_iter()
            .flatten()
            .copied()
            .filter(|(d, _)| *d >= window_start && *d < *day)
            .collect();
        let all: Vec<NaiveDate> = rows.iter().map(|r| r.0).collect();
        let then: Vec<NaiveDate> = rows
            .iter()
            .filter(|(_, written)| written.is_none_or(|w| w <= created))
            .map(|r| r.0)
            .collect();
        if then.len() == all.len() {
            continue;
        }
        let (now, then) = (
            recompute_from_dates(&all, *day),
            recompute_from_dates(&then, *day),
        );
        if now == then {
            continue;
        }
        let late_rows: Vec<(NaiveDate, i64)> = rows
            .iter()
            .filter_map(|(d, w)| w.filter(|w| *w > created).map(|w| (*d, w)))
            .collect();
        report.count(&then, &now);
        for (d, written) in &late_rows {
            late.entry(*d).or_default().add(player, *written);
        }
        if report.examples.len() < EXAMPLES {
            report.examples.push(AsOfExample {
                player_lookup: player.clone(),
                game_date: *day,
                created_at: utc(created),
                then,
                now,
                late_rows: late_rows.iter().map(|r| r.0).collect(),
            });
        }
    }
    report.late_dates = late.into_iter().map(|(d, acc)| acc.finish(d)).collect();
    report
        .late_dates
        .sort_by(|a, b| (b.records, a.game_date).cmp(&(a.records, b.game_date)));
    report
}

impl AsOfReport {
    fn count(&mut self, then: &HistoricalCompleteness, now: &HistoricalCompleteness) {
        self.differ += 1;
        let fields = [
            ("games_found", then.games_found != now.games_found),
            ("games_expected", then.games_expected != now.games_expected),
            ("is_complete", then.is_complete != now.is_complete),
            ("is_bootstrap", then.is_bootstrap != now.is_bootstrap),
            (
                "contributing_game_dates",
                then.contributing_game_dates != now.contributing_game_dates,
            ),
        ];
        for (name, differs) in fields {
            *self.fields_differ.entry(name).or_default() += u64::from(differs);
        }
        let labels = format!("{:?} → {:?}", then.label(), now.label()).to_uppercase();
        *self.label_changes.entry(labels).or_default() += 1;
    }
}

/// Late rows of one game date, accumulated over the differing records.
#[derive(Default)]
struct LateAcc {
    rows: std::collections::BTreeSet<String>,
    records: u64,
    latest: i64,
}

impl LateAcc {
    fn add(&mut self, player: &str, written: i64) {
        self.rows.insert(player.to_string());
        self.records += 1;
        self.latest = self.latest.max(written);
    }

    fn finish(self, game_date: NaiveDate) -> LateDate {
        let latest_arrival = utc(self.latest);
        LateDate {
            game_date,
            rows: self.rows.len() as u64,
            records: self.records,
            days_after_game: (latest_arrival.date_naive() - game_date).num_days(),
            latest_arrival,
        }
    }
}

fn utc(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

/// The terminal summary.
pub fn render(r: &AsOfReport, shown: usize) -> String {
    use crate::model::count::thousands;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "as of created_at, {} → {} (dry run: nothing written)",
        r.start, r.end
    );
    let _ = writeln!(
        s,
        "  {} records; {} differ between as of then and as of now{}",
        thousands(r.records),
        thousands(r.differ),
        if r.records_without_created_at > 0 {
            format!(
                " ({} without created_at left out)",
                thousands(r.records_without_created_at)
            )
        } else {
            String::new()
        }
    );
    for (change, n) in &r.label_changes {
        let _ = writeln!(s, "  {change:<26}{:>8}", thousands(*n));
    }
    if r.late_dates.is_empty() {
        return s;
    }
    let _ = writeln!(s, "  why: rows written after the records that needed them");
    let _ = writeln!(
        s,
        "    game_date     rows   records  last written (days after the game)"
    );
    for l in r.late_dates.iter().take(shown) {
        let _ = writeln!(
            s,
            "    {}  {:>6}  {:>8}  {} ({})",
            l.game_date,
            thousands(l.rows),
            thousands(l.records),
            l.latest_arrival.format("%Y-%m-%d %H:%M"),
            l.days_after_game
        );
    }
    if r.late_dates.len() > shown {
        let _ = writeln!(
            s,
            "    … and {} more dates (--json lists all {})",
            thousands((r.late_dates.len() - shown) as u64),
            thousands(r.late_dates.len() as u64)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, day).unwrap()
    }

    /// µs at `hour`:00 UTC on March `day`.
    fn at(day: u32, hour: u32) -> i64 {
        d(day)
            .and_hms_opt(hour, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_micros()
    }

    /// ann plays March 1–12; the row of the 10th is written on the 25th, the others the
    /// morning after. Her records are created at 15:00 on their day.
    fn history() -> HashMap<String, Vec<(NaiveDate, Option<i64>)>> {
        let mut rows: Vec<(NaiveDate, Option<i64>)> = (1..=12)
            .map(|x| (d(x), Some(if x == 10 { at(25, 9) } else { at(x + 1, 9) })))
            .collect();
        rows.sort_unstable_by(|a, b| b.cmp(a));
        HashMap::from([("ann".to_string(), rows)])
    }

    #[test]
    fn records_created_before_a_late_row_differ_and_name_it() {
        let records: Vec<Record> = (11..=13)
            .map(|x| ("ann".to_string(), d(x), Some(at(x, 15))))
            .chain([("ann".to_string(), d(26), Some(at(26, 15)))])
            .chain([("bob".to_string(), d(13), None)])
            .collect();
        let range = DateRange::new(d(11), d(26)).unwrap();
        let r = compare(range, &records, &history());
        // The 11th, 12th and 13th were created before the 10th's row; the 26th after.
        assert_eq!(r.differ, 3);
        assert_eq!(r.records_without_created_at, 1);
        assert_eq!(r.late_dates.len(), 1);
        let late = &r.late_dates[0];
        assert_eq!((late.game_date, late.rows, late.records), (d(10), 1, 3));
        assert_eq!(late.days_after_game, 15);
        let first = &r.examples[0];
        assert_eq!(first.game_date, d(11));
        assert_eq!(first.then.games_found, 9);
        assert_eq!(first.now.games_found, 10);
        assert_eq!(first.late_rows, [d(10)]);
        // Nine games then (9/9, a complete bootstrap), ten now: both COMPLETE, but the
        // 11th's is_bootstrap and every list differ.
        assert_eq!(r.label_changes.get("COMPLETE → COMPLETE"), Some(&3));
        assert_eq!(r.fields_differ["is_bootstrap"], 1);
        assert_eq!(r.fields_differ["contributing_game_dates"], 3);
    }

    /// The terminal table writes counts as everywhere (1,466) and, cut short, says how
    /// many dates it leaves out and where all of them are (issue 25, items 11 and 15).
    #[test]
    fn render_marks_the_dates_it_leaves_out() {
        let late = |day: u32, records: u64| LateDate {
            game_date: d(day),
            rows: 1_148,
            records,
            latest_arrival: utc(at(day, 9)),
            days_after_game: 0,
        };
        let report = AsOfReport {
            start: d(1),
            end: d(28),
            records: 46_200,
            differ: 3_238,
            late_dates: (1..=12).map(|day| late(day, 1_466)).collect(),
            ..AsOfReport::default()
        };
        let text = render(&report, 10);
        assert!(text.contains("  1,148     1,466  2025-03-01"), "{text}");
        assert!(
            text.contains("… and 2 more dates (--json lists all 12)"),
            "{text}"
        );
        assert_eq!(render(&report, 12).matches("more dates").count(), 0);
    }

    #[test]
    fn rows_without_timestamps_count_as_always_there() {
        let mut h = history();
        h.get_mut("ann")
            .unwrap()
            .iter_mut()
            .for_each(|r| r.1 = None);
        let records = vec![("ann".to_string(), d(11), Some(at(11, 15)))];
        let r = compare(DateRange::new(d(11), d(11)).unwrap(), &records, &h);
        assert_eq!(r.differ, 0);
        assert!(r.late_dates.is_empty());
    }
}
