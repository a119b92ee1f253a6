//! Refusing a stale plan: before a run's merge, the player_game_summary rows its structs
//! were computed from (the rows it exported, `[start − 365, end]`) are counted per date
//! again in the table. A date whose rows or players differ means the structs would be
//! stale the moment they were written, so the merge is refused (exit 2), naming the
//! dates and the command to rerun, unless the operator passes `--allow-stale`.
//!
//! The `updated_at` guard protects the feature rows; this protects their inputs. Rows
//! and distinct players per date are compared (the same SQL on both sides), which
//! catches rows added, deleted or moved to another date; a row edited in place with
//! the same player and date changes no struct and is not looked for.

use std::collections::BTreeMap;

use arrow::array::RecordBatch;
use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::hint::COMPLETENESS;
use crate::io::columns::{dates, i64s, strings};
use crate::model::dates::DateRange;
use crate::model::{GAME_DATE, PLAYER_LOOKUP};
use crate::queries::{Param, Query};
use crate::warehouse::Source;

/// Rows and distinct players of one date.
pub type Counts = (u64, u64);

/// A date whose rows differ between the export and now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateChange {
    pub date: NaiveDate,
    pub then: Counts,
    pub now: Counts,
}

/// Per-date counts of exported game rows (`player_lookup`, `game_date`) in `range`'s
/// lookback.
pub fn exported_counts(
    games: &[RecordBatch],
    range: DateRange,
) -> Result<BTreeMap<NaiveDate, Counts>> {
    let mut players: BTreeMap<NaiveDate, std::collections::HashSet<String>> = BTreeMap::new();
    let mut rows: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    for (p, d) in strings(games, PLAYER_LOOKUP)?
        .into_iter()
        .zip(dates(games, GAME_DATE)?)
    {
        if let (Some(p), Some(d)) = (p, d)
            && d >= range.lookback_start()
            && d <= range.end
        {
            *rows.entry(d).or_default() += 1;
            players.entry(d).or_default().insert(p);
        }
    }
    Ok(rows
        .into_iter()
        .map(|(d, n)| (d, (n, players[&d].len() as u64)))
        .collect())
}

/// Per-date counts in the table now (`queries/games_per_date.sql`).
pub async fn current_counts(
    source: &Source,
    range: DateRange,
) -> Result<BTreeMap<NaiveDate, Counts>> {
    let params = [
        Param::date("first", range.lookback_start()),
        Param::date("last", range.end),
    ];
    let rows = source.run(Query::GamesPerDate, &params).await?;
    Ok(dates(&rows, GAME_DATE)?
        .into_iter()
        .zip(i64s(&rows, "game_rows")?)
        .zip(i64s(&rows, "players")?)
        .filter_map(|((d, n), p)| Some((d?, (n? as u64, p? as u64))))
        .collect())
}

/// The dates whose counts differ, in date order.
pub fn compare(
    then: &BTreeMap<NaiveDate, Counts>,
    now: &BTreeMap<NaiveDate, Counts>,
) -> Vec<DateChange> {
    let dates: std::collections::BTreeSet<&NaiveDate> = then.keys().chain(now.keys()).collect();
    dates
        .into_iter()
        .filter_map(|d| {
            let (a, b) = (
                then.get(d).copied().unwrap_or_default(),
                now.get(d).copied().unwrap_or_default(),
            );
            (a != b).then_some(DateChange {
                date: *d,
                then: a,
                now: b,
            })
        })
        .collect()
}

/// The refusal, naming the changed dates and what to run instead.
pub fn refusal(run_id: &str, range: DateRange, changes: &[DateChange]) -> Error {
    let shown: Vec<String> = changes
        .iter()
        .take(5)
        .map(|c| {
            format!(
                "{}: {} rows ({} players) at export, {} ({}) now",
                c.date, c.then.0, c.then.1, c.now.0, c.now.1
            )
        })
        .collect();
    let more = match changes.len() {
        n if n > 5 => format!(" and {} more dates", n - 5),
        _ => String::new(),
    };
    let recompute = format!(
        "{COMPLETENESS} backfill --start {} --end {}",
        range.start, range.end
    );
    crate::run::manifest::stale_plan(
        run_id,
        "exported it",
        &format!("{}{more}", shown.join("; ")),
        &recompute,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_date_that_appeared_or_changed_is_named() {
        let then = BTreeMap::from([(d("2025-01-02"), (20, 20)), (d("2025-01-03"), (22, 22))]);
        let mut now = then.clone();
        now.insert(d("2025-01-01"), (217, 217));
        now.insert(d("2025-01-03"), (22, 21));
        assert_eq!(
            compare(&then, &now),
            [
                DateChange {
                    date: d("2025-01-01"),
                    then: (0, 0),
                    now: (217, 217)
                },
                DateChange {
                    date: d("2025-01-03"),
                    then: (22, 22),
                    now: (22, 21)
                },
            ]
        );
        assert!(compare(&then, &then).is_empty());
        let range = DateRange::new(d("2025-01-02"), d("2025-03-02")).unwrap();
        let text = refusal("r1", range, &compare(&then, &now)).to_string();
        assert!(
            text.contains("2025-01-01: 0 rows (0 players) at export, 217 (217) now"),
            "{text}"
        );
        assert!(text.contains("completeness backfill --start 2025-01-02 --end 2025-03-02"));
    }
}
