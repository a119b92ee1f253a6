//! `spot-check`: recompute a few players' structs row by row and compare with the table.
//!
//! Independent of the fast path on purpose: the players' player_game_summary rows are
//! read one player at a time (`queries/player_games.sql`) and the five fields are
//! rebuilt straight from the definition in semantics.md, so a bug in the kernel, the
//! diff or the merge shows up here as a FAIL naming the field. The sample is drawn with
//! a seed that is always printed, so a failure can be reproduced.

use crate::ops::check::Source;
use chrono::{DateTime, Days, NaiveDate, Utc};
use rand::SeedableRng;
use rand::seq::IndexedRandom;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::hint::COMPLETENESS;
use crate::io::columns::{dates, strings};
use crate::model::completeness_column::CompletenessColumn;
use crate::model::count::{plural, thousands};
use crate::model::{HistoricalCompleteness, LOOKBACK_DAYS, WINDOW_DAYS, WINDOW_GAMES};
use crate::queries::{Param, Query};

/// Which players to check, on which date.
#[derive(Debug, Clone, Default)]
pub struct SpotCheck {
    /// Default: the newest date with structs.
    pub date: Option<NaiveDate>,
    pub count: usize,
    /// Check exactly these players (instead of a sample).
    pub players: Vec<String>,
    pub all_players: bool,
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

/// One comparison for one player.
#[derive(Debug, Clone, Serialize)]
pub struct FieldCheck {
    pub field: &'static str,
    pub status: Status,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlayerCheck {
    pub player_lookup: String,
    pub stored: HistoricalCompleteness,
    pub recomputed: HistoricalCompleteness,
    pub checks: Vec<FieldCheck>,
}

impl PlayerCheck {
    pub fn status(&self) -> Status {
        self.checks
            .iter()
            .map(|c| c.status)
            .max_by_key(|s| *s as u8)
            .unwrap_or(Status::Pass)
    }
}

/// What a spot check found.
#[derive(Debug, Clone, Serialize)]
pub struct SpotCheckReport {
    pub game_date: NaiveDate,
    pub seed: u64,
    /// Players with a struct on the date (the population sampled from).
    pub population: usize,
    pub passed: usize,
    pub warned: usize,
    pub failed: usize,
    pub players: Vec<PlayerCheck>,
}

/// A stored record on the date.
struct Candidate {
    player: String,
    stored: HistoricalCompleteness,
    updated_at: Option<i64>,
}

impl SpotCheck {
    pub async fn run(&self, source: &Source) -> Result<SpotCheckReport> {
        let date = match self.date {
            Some(d) => d,
            None => newest_struct_date(source).await?,
        };
        let candidates = candidates(source, date).await?;
        let chosen = self.choose(&candidates, date)?;
        let mut players = Vec::with_capacity(chosen.len());
        for c in chosen {
            players.push(check_player(source, c, date).await?);
        }
        players.sort_by(|a, b| a.player_lookup.cmp(&b.player_lookup));
        let count = |s: Status| players.iter().filter(|p| p.status() == s).count();
        Ok(SpotCheckReport {
            game_date: date,
            seed: self.seed,
            population: candidates.len(),
            passed: count(Status::Pass),
            warned: count(Status::Warn),
            failed: count(Status::Fail),
            players,
        })
    }

    fn choose<'a>(
        &self,
        candidates: &'a [Candidate],
        date: NaiveDate,
    ) -> Result<Vec<&'a Candidate>> {
        if self.all_players {
            return Ok(candidates.iter().collect());
        }
        if self.players.is_empty() {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(self.seed);
            return Ok(candidates.choose_multiple(&mut rng, self.count).collect());
        }
        self.players
            .iter()
            .map(|p| {
                candidates.iter().find(|c| &c.player == p).ok_or_else(|| {
                    Error::input(format!(
                        "player {p} has no record with a historical_completeness struct on {date}"
                    ))
                })
            })
            .collect()
    }
}

/// The newest date with a struct, looked for over the ten years up to a year ahead (a
/// bound the feature table's partition filter accepts).
async fn newest_struct_date(source: &Source) -> Result<NaiveDate> {
    let today = chrono::Utc::now().date_naive();
    let params = [
        Param::date(
            "since",
            today - Days::new(crate::model::dates::MAX_RANGE_DAYS as u64),
        ),
        Param::date("until", today + Days::new(366)),
    ];
    let rows = source.run(Query::NewestStructDate, &params).await?;
    dates(&rows, "game_date")?
        .into_iter()
        .flatten()
        .next()
        .ok_or_else(|| {
            Error::input(format!(
                "no feature record from {} to {} has a historical_completeness struct yet; run a backfill first (or pass --date)",
                params[0].literal(),
                params[1].literal()
            ))
        })
}

async fn candidates(source: &Source, date: NaiveDate) -> Result<Vec<Candidate>> {
    let rows = source
        .run(
            Query::SpotCheckCandidates,
            &[Param::date("game_date", date)],
        )
        .await?;
    let mut out = Vec::new();
    for batch in &rows {
        let location = format!("feature records on {date}");
        let column = batch
            .column_by_name("historical_completeness")
            .ok_or_else(|| {
                Error::input(format!("{location}: no historical_completeness column"))
            })?;
        let structs = CompletenessColumn::try_new(column.as_ref(), &location)?;
        let players = strings(std::slice::from_ref(batch), "player_lookup")?;
        let updated = crate::io::columns::micros(std::slice::from_ref(batch), "updated_at")?;
        for (i, (player, updated_at)) in players.into_iter().zip(updated).enumerate() {
            if let (Some(player), Some(stored)) = (player, structs.get(i)) {
                out.push(Candidate {
                    player,
                    stored,
                    updated_at,
                });
            }
        }
    }
    if out.is_empty() {
        return Err(Error::input(format!(
            "no feature record on {date} has a historical_completeness struct (pick another --date, or backfill it first)"
        )));
    }
    Ok(out)
}

/// One upstream row: its date and when it was processed (µs since the epoch).
struct GameRow {
    date: NaiveDate,
    processed_at: Option<i64>,
}

async fn check_player(source: &Source, c: &Candidate, date: NaiveDate) -> Result<PlayerCheck> {
    let from = date - Days::new(LOOKBACK_DAYS as u64);
    let rows = source
        .run(
            Query::PlayerGames,
            &[
                Param::text("player", &c.player),
                Param::date("since", from),
                Param::date("before", date),
            ],
        )
        .await?;
    let games: Vec<GameRow> = dates(&rows, "game_date")?
        .into_iter()
        .zip(crate::io::columns::micros(&rows, "processed_at")?)
        .filter_map(|(d, p)| {
            d.map(|date| GameRow {
                date,
                processed_at: p,
            })
        })
        .collect();
    let recomputed = recompute(&games, date);
    let mut checks = compare(&c.stored, &recomputed);
    let mismatch = checks.iter().any(|c| c.status == Status::Fail);
    checks.push(freshness(&games, c.updated_at, mismatch));
    checks.push(same_day_rows(&recomputed.contributing_game_dates));
    Ok(PlayerCheck {
        player_lookup: c.player.clone(),
        stored: c.stored.clone(),
        recomputed,
        checks,
    })
}

/// The five fields from the player's rows in `[date - 365, date)`, newest first,
/// straight from the definition.
pub fn recompute_from_dates(newest_first: &[NaiveDate], date: NaiveDate) -> HistoricalCompleteness {
    let window_start = date - Days::new(WINDOW_DAYS as u64);
    let mut found = Vec::new();
    let mut c365 = 0i64;
    for &d in newest_first {
        c365 += 1;
        if d >= window_start && found.len() < WINDOW_GAMES {
            found.push(d);
        }
    }
    let games_found = found.len() as i64;
    // semantics.md step 5: no game in 60 days is 0/0, whatever the year holds.
    let games_expected = if found.is_empty() {
        0
    } else {
        c365.min(WINDOW_GAMES as i64)
    };
    HistoricalCompleteness {
        games_found,
        games_expected,
        is_complete: games_found >= games_expected,
        is_bootstrap: games_expected < WINDOW_GAMES as i64,
        contributing_game_dates: found,
    }
}

fn recompute(games: &[GameRow], date: NaiveDate) -> HistoricalCompleteness {
    let newest_first: Vec<NaiveDate> = games.iter().map(|g| g.date).collect();
    recompute_from_dates(&newest_first, date)
}

fn compare(stored: &HistoricalCompleteness, fresh: &HistoricalCompleteness) -> Vec<FieldCheck> {
    let scalar = |field: &'static str, s: String, f: String| FieldCheck {
        field,
        status: if s == f { Status::Pass } else { Status::Fail },
        reason: if s == f {
            s.clone()
        } else {
            format!("stored {s}, player_game_summary gives {f}")
        },
    };
    vec![
        scalar(
            "games_found",
            stored.games_found.to_string(),
            fresh.games_found.to_string(),
        ),
        scalar(
            "games_expected",
            stored.games_expected.to_string(),
            fresh.games_expected.to_string(),
        ),
        scalar(
            "is_complete",
            stored.is_complete.to_string(),
            fresh.is_complete.to_string(),
        ),
        scalar(
            "is_bootstrap",
            stored.is_bootstrap.to_string(),
            fresh.is_bootstrap.to_string(),
        ),
        compare_dates(
            &stored.contributing_game_dates,
            &fresh.contributing_game_dates,
        ),
    ]
}

fn compare_dates(stored: &[NaiveDate], fresh: &[NaiveDate]) -> FieldCheck {
    let field = "contributing_game_dates";
    if stored == fresh {
        let reason = format!("{} dates, newest first", stored.len());
        return FieldCheck {
            field,
            status: Status::Pass,
            reason,
        };
    }
    let (mut a, mut b) = (stored.to_vec(), fresh.to_vec());
    a.sort();
    b.sort();
    let reason = if a == b {
        "the same dates in another order (expected newest first)".to_string()
    } else {
        let missing: Vec<_> = b
            .iter()
            .filter(|d| !a.contains(d))
            .map(|d| d.to_string())
            .collect();
        let extra: Vec<_> = a
            .iter()
            .filter(|d| !b.contains(d))
            .map(|d| d.to_string())
            .collect();
        format!(
            "stored {} dates, player_game_summary gives {}; missing from the struct: [{}]; not in player_game_summary: [{}]",
            stored.len(),
            fresh.len(),
            missing.join(", "),
            extra.join(", ")
        )
    };
    FieldCheck {
        field,
        status: Status::Fail,
        reason,
    }
}

/// When the struct disagrees and upstream rows were processed after it was written, the
/// struct is probably stale rather than computed wrongly: WARN with that explanation.
/// When it agrees, late rows changed nothing and the check passes.
fn freshness(games: &[GameRow], updated_at: Option<i64>, mismatch: bool) -> FieldCheck {
    let field = "freshness";
    let Some(written) = updated_at else {
        return FieldCheck {
            field,
            status: Status::Pass,
            reason: "updated_at is NULL".into(),
        };
    };
    let late: Vec<&GameRow> = games
        .iter()
        .filter(|g| g.processed_at.is_some_and(|p| p > written))
        .collect();
    if late.is_empty() || !mismatch {
        let reason = if late.is_empty() {
            "no upstream row processed after the struct was written".to_string()
        } else {
            format!(
                "{} arrived after the struct was written; it still agrees",
                plural(late.len() as u64, "upstream row", "upstream rows")
            )
        };
        return FieldCheck {
            field,
            status: Status::Pass,
            reason,
        };
    }
    let written = DateTime::<Utc>::from_timestamp_micros(written)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    FieldCheck {
        field,
        status: Status::Warn,
        reason: format!(
            "{} in the window (first {}) {} processed after the struct was written ({written}): the struct is likely stale, not miscomputed; a backfill of this date would pick {}",
            plural(late.len() as u64, "upstream row", "upstream rows"),
            late[0].date,
            if late.len() == 1 { "was" } else { "were" },
            if late.len() == 1 { "it up" } else { "them up" },
        ),
    }
}

/// The terminal rendering: one line per passing player; a player that warns or fails
/// gets one line per check under it, so what is wrong is in front of the reader; then
/// the verdict.
pub fn render(report: &SpotCheckReport) -> String {
    let mut text = format!(
        "Spot check of {} on {} (of {} with a struct; --seed {})\n\n",
        plural(report.players.len() as u64, "player", "players"),
        report.game_date,
        thousands(report.population as u64),
        report.seed
    );
    let width = report
        .players
        .iter()
        .map(|p| p.player_lookup.chars().count())
        .max()
        .unwrap_or(0);
    for p in &report.players {
        let status = p.status();
        if status == Status::Pass {
            let h = &p.stored;
            text.push_str(&format!(
                "PASS  {:<width$}  {}/{} {}, {}: all {} checks agree\n",
                p.player_lookup,
                h.games_found,
                h.games_expected,
                format!("{:?}", h.label()).to_uppercase(),
                plural(h.contributing_game_dates.len() as u64, "date", "dates"),
                p.checks.len()
            ));
            continue;
        }
        if !text.ends_with("\n\n") {
            text.push('\n');
        }
        text.push_str(&format!("{:<5} {}\n", label(status), p.player_lookup));
        for c in &p.checks {
            text.push_str(&format!(
                "  {:<5} {:<24} {}\n",
                label(c.status),
                c.field,
                c.reason
            ));
        }
        text.push('\n');
    }
    if text.ends_with("\n\n") {
        text.pop();
    }
    text.push_str(&format!(
        "\n{} passed, {} warned, {} failed\n",
        report.passed, report.warned, report.failed
    ));
    if report.failed > 0 {
        text.push_str(&format!(
            "rerun these players with `{COMPLETENESS} spot-check --date {} --count {} --seed {}`; recompute with `{COMPLETENESS} backfill --start {d} --end {d}`\n",
            report.game_date,
            report.players.len(),
            report.seed,
            d = report.game_date
        ));
    }
    text
}

fn label(s: Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
    }
}

/// Two upstream rows on one date (two game_ids) both count, as semantics.md says, but
/// usually mean a duplicate in player_game_summary: worth a look, not a failure.
fn same_day_rows(newest_first: &[NaiveDate]) -> FieldCheck {
    let field = "same_day_rows";
    let repeated: Vec<String> = newest_first
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0].to_string())
        .collect();
    if repeated.is_empty() {
        return FieldCheck {
            field,
            status: Status::Pass,
            reason: "one upstream row per game date".into(),
        };
    }
    FieldCheck {
        field,
        status: Status::Warn,
        reason: format!(
            "more than one player_game_summary row on {} (counted once per row); check for a duplicate game_id",
            repeated.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn recompute_follows_the_definition_at_the_window_edges() {
        let date = d("2026-03-20");
        // 2026-01-19 is exactly D-60 (inside), 2026-01-18 is D-61 (outside the 60 days).
        let rows = [
            d("2026-03-19"),
            d("2026-01-19"),
            d("2026-01-18"),
            d("2025-03-20"),
        ];
        let h = recompute_from_dates(&rows, date);
        assert_eq!(h.games_found, 2);
        assert_eq!(h.games_expected, 4);
        assert!(!h.is_complete);
        assert!(h.is_bootstrap);
        assert_eq!(
            h.contributing_game_dates,
            [d("2026-03-19"), d("2026-01-19")]
        );
    }

    #[test]
    fn recompute_gives_zero_of_zero_without_a_game_in_60_days() {
        let date = d("2026-03-20");
        let rows = [d("2026-01-18"), d("2025-12-01"), d("2025-06-01")];
        let h = recompute_from_dates(&rows, date);
        assert_eq!((h.games_found, h.games_expected), (0, 0));
        assert!(h.is_complete && h.is_bootstrap);
    }

    #[test]
    fn an_order_only_difference_fails_with_its_reason() {
        let stored = [d("2026-01-01"), d("2026-01-02")];
        let fresh = [d("2026-01-02"), d("2026-01-01")];
        let check = compare_dates(&stored, &fresh);
        assert_eq!(check.status, Status::Fail);
        assert!(check.reason.contains("another order"), "{}", check.reason);
        let check = compare_dates(&stored[..1], &fresh);
        assert!(
            check
                .reason
                .contains("missing from the struct: [2026-01-02]"),
            "{}",
            check.reason
        );
    }

    #[test]
    fn late_upstream_rows_warn_only_when_the_struct_disagrees() {
        let games = [GameRow {
            date: d("2026-01-01"),
            processed_at: Some(200),
        }];
        assert_eq!(freshness(&games, Some(100), true).status, Status::Warn);
        assert_eq!(freshness(&games, Some(100), false).status, Status::Pass);
        assert_eq!(freshness(&games, Some(300), true).status, Status::Pass);
    }

    fn player(name: &str, checks: Vec<FieldCheck>) -> PlayerCheck {
        let h = recompute_from_dates(&[d("2026-01-01")], d("2026-01-02"));
        PlayerCheck {
            player_lookup: name.into(),
            stored: h.clone(),
            recomputed: h,
            checks,
        }
    }

    fn field(field: &'static str, status: Status, reason: &str) -> FieldCheck {
        FieldCheck {
            field,
            status,
            reason: reason.into(),
        }
    }

    /// Issue 25 item 22: a passing player is one line; a player that warns or fails
    /// keeps one line per check, so the reader sees what is wrong.
    #[test]
    fn a_passing_player_is_one_line_and_a_failing_one_shows_its_checks() {
        let pass = player(
            "ann",
            vec![
                field("games_found", Status::Pass, "1"),
                field("freshness", Status::Pass, "no upstream row processed after"),
            ],
        );
        let fail = player(
            "bob",
            vec![
                field(
                    "games_found",
                    Status::Fail,
                    "stored 0, player_game_summary gives 1",
                ),
                field("freshness", Status::Pass, "no upstream row processed after"),
            ],
        );
        let report = SpotCheckReport {
            game_date: d("2026-01-02"),
            seed: 1,
            population: 2,
            passed: 1,
            warned: 0,
            failed: 1,
            players: vec![pass, fail],
        };
        let text = render(&report);
        let ann: Vec<&str> = text.lines().filter(|l| l.contains("ann")).collect();
        assert_eq!(ann.len(), 1, "{text}");
        assert!(ann[0].starts_with("PASS  ann"), "{text}");
        assert!(!text.contains("  PASS  games_found"), "{text}");
        assert!(text.contains("FAIL  bob"), "{text}");
        assert!(text.contains("  FAIL  games_found"), "{text}");
        assert!(text.contains("  PASS  freshness"), "{text}");
    }

    /// Issue 25 item 22: "1 upstream row", never "1 upstream rows".
    #[test]
    fn one_late_row_is_singular() {
        let games = [GameRow {
            date: d("2026-01-01"),
            processed_at: Some(200),
        }];
        let warn = freshness(&games, Some(100), true);
        assert!(
            warn.reason.starts_with("1 upstream row in"),
            "{}",
            warn.reason
        );
        let pass = freshness(&games, Some(100), false);
        assert!(
            pass.reason.starts_with("1 upstream row arrived"),
            "{}",
            pass.reason
        );
    }

    #[test]
    fn two_rows_on_one_date_warn() {
        let dates = [d("2026-01-03"), d("2026-01-02"), d("2026-01-02")];
        let check = same_day_rows(&dates);
        assert_eq!(check.status, Status::Warn);
        assert!(check.reason.contains("2026-01-02"), "{}", check.reason);
        assert_eq!(same_day_rows(&dates[..2]).status, Status::Pass);
    }
}
