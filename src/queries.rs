//! The SQL the engine runs, one file per question under `queries/`.
//!
//! The files are embedded at build time, so the binary and the golden tests
//! (`tests/queries/*.slt`) run exactly the same text. Parameters are named placeholders
//! (`$start`, `$end`, …) bound as typed values, never spliced into the text; `--sql`
//! prints a copy with literals substituted so it can be pasted into another client.

use arrow::array::RecordBatch;
use chrono::NaiveDate;
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;

use crate::error::{Error, Result};
use crate::model::date_to_days;

/// One query file of `queries/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    DailySummary,
    MissingStructs,
    GamesFoundHistogram,
    IncompleteRecords,
    Cascade,
    CascadeWindowSpans,
    UpstreamRowsOnDate,
    SpotCheckCandidates,
    NewestStructDate,
    NewestFeatureDate,
    PlayerGames,
    DiffTallies,
    RollbackRows,
    GapRows,
    TeamGames,
    FeatureKeys,
    AsOfFeatures,
    AsOfGames,
    SeasonStarts,
    GamesPerDate,
}

impl Query {
    pub const ALL: [Query; 20] = [
        Query::DailySummary,
        Query::MissingStructs,
        Query::GamesFoundHistogram,
        Query::IncompleteRecords,
        Query::Cascade,
        Query::CascadeWindowSpans,
        Query::UpstreamRowsOnDate,
        Query::SpotCheckCandidates,
        Query::NewestStructDate,
        Query::NewestFeatureDate,
        Query::PlayerGames,
        Query::DiffTallies,
        Query::RollbackRows,
        Query::GapRows,
        Query::TeamGames,
        Query::FeatureKeys,
        Query::AsOfFeatures,
        Query::AsOfGames,
        Query::SeasonStarts,
        Query::GamesPerDate,
    ];

    /// The file stem under `queries/`.
    pub fn name(self) -> &'static str {
        match self {
            Query::DailySummary => "daily_summary",
            Query::MissingStructs => "missing_structs",
            Query::GamesFoundHistogram => "games_found_histogram",
            Query::IncompleteRecords => "incomplete_records",
            Query::Cascade => "cascade",
            Query::CascadeWindowSpans => "cascade_window_spans",
            Query::UpstreamRowsOnDate => "upstream_rows_on_date",
            Query::SpotCheckCandidates => "spot_check_candidates",
            Query::NewestStructDate => "newest_struct_date",
            Query::NewestFeatureDate => "newest_feature_date",
            Query::PlayerGames => "player_games",
            Query::DiffTallies => "diff_tallies",
            Query::RollbackRows => "rollback_rows",
            Query::GapRows => "gap_rows",
            Query::TeamGames => "team_games",
            Query::FeatureKeys => "feature_keys",
            Query::AsOfFeatures => "as_of_features",
            Query::AsOfGames => "as_of_games",
            Query::SeasonStarts => "season_starts",
            Query::GamesPerDate => "games_per_date",
        }
    }

    /// The SQL text, as in the file.
    pub fn sql(self) -> &'static str {
        match self {
            Query::DailySummary => include_str!("../queries/daily_summary.sql"),
            Query::MissingStructs => include_str!("../queries/missing_structs.sql"),
            Query::GamesFoundHistogram => include_str!("../queries/games_found_histogram.sql"),
            Query::IncompleteRecords => include_str!("../queries/incomplete_records.sql"),
            Query::Cascade => include_str!("../queries/cascade.sql"),
            Query::CascadeWindowSpans => include_str!("../queries/cascade_window_spans.sql"),
            Query::UpstreamRowsOnDate => include_str!("../queries/upstream_rows_on_date.sql"),
            Query::SpotCheckCandidates => include_str!("../queries/spot_check_candidates.sql"),
            Query::NewestStructDate => include_str!("../queries/newest_struct_date.sql"),
            Query::NewestFeatureDate => include_str!("../queries/newest_feature_date.sql"),
            Query::PlayerGames => include_str!("../queries/player_games.sql"),
            Query::DiffTallies => include_str!("../queries/diff_tallies.sql"),
            Query::RollbackRows => include_str!("../queries/rollback_rows.sql"),
            Query::GapRows => include_str!("../queries/gap_rows.sql"),
            Query::TeamGames => include_str!("../queries/team_games.sql"),
            Query::FeatureKeys => include_str!("../queries/feature_keys.sql"),
            Query::AsOfFeatures => include_str!("../queries/as_of_features.sql"),
            Query::AsOfGames => include_str!("../queries/as_of_games.sql"),
            Query::SeasonStarts => include_str!("../queries/season_starts.sql"),
            Query::GamesPerDate => include_str!("../queries/games_per_date.sql"),
        }
    }

    /// The same question in BigQuery's dialect (`queries/bigquery/checks/`), with
    /// `{features}` / `{games}` for the tables and `@name` parameters; None for the
    /// queries that only run on the local engine.
    pub fn bigquery_sql(self) -> Option<&'static str> {
        Some(match self {
            Query::DailySummary => include_str!("../queries/bigquery/checks/daily_summary.sql"),
            Query::MissingStructs => {
                include_str!("../queries/bigquery/checks/missing_structs.sql")
            }
            Query::GamesFoundHistogram => {
                include_str!("../queries/bigquery/checks/games_found_histogram.sql")
            }
            Query::IncompleteRecords => {
                include_str!("../queries/bigquery/checks/incomplete_records.sql")
            }
            Query::Cascade => include_str!("../queries/bigquery/checks/cascade.sql"),
            Query::CascadeWindowSpans => {
                include_str!("../queries/bigquery/checks/cascade_window_spans.sql")
            }
            Query::UpstreamRowsOnDate => {
                include_str!("../queries/bigquery/checks/upstream_rows_on_date.sql")
            }
            Query::SpotCheckCandidates => {
                include_str!("../queries/bigquery/checks/spot_check_candidates.sql")
            }
            Query::NewestStructDate => {
                include_str!("../queries/bigquery/checks/newest_struct_date.sql")
            }
            Query::NewestFeatureDate => {
                include_str!("../queries/bigquery/checks/newest_feature_date.sql")
            }
            Query::PlayerGames => include_str!("../queries/bigquery/checks/player_games.sql"),
            Query::GapRows => include_str!("../queries/bigquery/checks/gap_rows.sql"),
            Query::TeamGames => include_str!("../queries/bigquery/checks/team_games.sql"),
            Query::FeatureKeys => include_str!("../queries/bigquery/checks/feature_keys.sql"),
            Query::AsOfFeatures => {
                include_str!("../queries/bigquery/checks/as_of_features.sql")
            }
            Query::AsOfGames => include_str!("../queries/bigquery/checks/as_of_games.sql"),
            Query::SeasonStarts => {
                include_str!("../queries/bigquery/checks/season_starts.sql")
            }
            Query::GamesPerDate => {
                include_str!("../queries/bigquery/checks/games_per_date.sql")
            }
            Query::DiffTallies | Query::RollbackRows => return None,
        })
    }

    pub fn by_name(name: &str) -> Option<Query> {
        Query::ALL.into_iter().find(|q| q.name() == name)
    }

    /// Run with `params` in `ctx` (which has the tables the query names registered).
    pub async fn run(self, ctx: &SessionContext, params: &[Param]) -> Result<Vec<RecordBatch>> {
        let context = format!("running queries/{}.sql", self.name());
        let values: Vec<(String, ScalarValue)> = params
            .iter()
            .map(|p| (p.name.to_string(), p.value.clone()))
            .collect();
        let clock = std::time::Instant::now();
        let rows = ctx
            .sql(self.sql())
            .await
            .and_then(|df| df.with_param_values(values))
            .map_err(Error::datafusion(context.clone()))?
            .collect()
            .await
            .map_err(Error::datafusion(context))?;
        let ms = clock.elapsed().as_millis() as u64;
        tracing::debug!(
            rows = rows.iter().map(|b| b.num_rows()).sum::<usize>(),
            elapsed_ms = ms,
            "query queries/{}.sql: {ms} ms",
            self.name()
        );
        Ok(rows)
    }

    /// The SQL with every placeholder replaced by its literal, headed by where it came from.
    pub fn render(self, params: &[Param]) -> String {
        let mut sql = self.sql().to_string();
        // Longest names first, so `$start` never clobbers the prefix of `$start_day`.
        let mut sorted: Vec<&Param> = params.iter().collect();
        sorted.sort_by_key(|p| std::cmp::Reverse(p.name.len()));
        for p in sorted {
            sql = sql.replace(&format!("${}", p.name), &p.literal());
        }
        format!("-- queries/{}.sql\n{sql}", self.name())
    }
}

/// A named, typed query parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: &'static str,
    pub value: ScalarValue,
}

impl Param {
    pub fn date(name: &'static str, d: NaiveDate) -> Param {
        Param {
            name,
            value: ScalarValue::Date32(Some(date_to_days(d))),
        }
    }

    /// `$start` and `$end`, the bounds of `range`.
    pub fn range(range: &crate::model::dates::DateRange) -> Vec<Param> {
        vec![
            Param::date("start", range.start),
            Param::date("end", range.end),
        ]
    }

    pub fn int(name: &'static str, v: i64) -> Param {
        Param {
            name,
            value: ScalarValue::Int64(Some(v)),
        }
    }

    pub fn text(name: &'static str, v: &str) -> Param {
        Param {
            name,
            value: ScalarValue::Utf8(Some(v.to_string())),
        }
    }

    /// The value as a SQL literal (strings quoted with `'` doubled).
    pub fn literal(&self) -> String {
        match &self.value {
            ScalarValue::Date32(Some(_)) => format!("DATE '{}'", self.value),
            ScalarValue::Utf8(Some(s)) => format!("'{}'", s.replace('\'', "''")),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_file_is_embedded_under_its_name() {
        for q in Query::ALL {
            assert_eq!(Query::by_name(q.name()), Some(q));
            assert!(q.sql().contains("SELECT"), "{} has no SELECT", q.name());
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
        let files = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "sql"))
            .count();
        assert_eq!(
            files,
            Query::ALL.len(),
            "a file in queries/ is not embedded"
        );
    }

    /// `$name`s (local) or `@name`s (BigQuery) in `sql`, comments skipped.
    fn placeholders(sql: &str, sigil: char) -> std::collections::BTreeSet<String> {
        sql.lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .flat_map(|l| l.split(sigil).skip(1))
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect()
            })
            .collect()
    }

    #[test]
    fn every_bigquery_check_query_is_embedded_and_takes_the_same_parameters() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/bigquery/checks");
        let mut files = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_str().unwrap();
            let q = Query::by_name(stem).unwrap_or_else(|| panic!("{stem} is no query"));
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(q.bigquery_sql(), Some(text.as_str()), "{stem} not embedded");
            // The emulator counts an `@` in a comment as a parameter.
            assert!(
                text.lines()
                    .all(|l| !l.starts_with("--") || !l.contains('@')),
                "{stem}: `@` in a comment"
            );
            assert_eq!(
                placeholders(&text, '@'),
                placeholders(q.sql(), '$'),
                "{stem}: parameters differ between the dialects"
            );
            files += 1;
        }
        let expected = Query::ALL
            .iter()
            .filter(|q| q.bigquery_sql().is_some())
            .count();
        assert_eq!(files, expected);
        assert_eq!(placeholders(Query::PlayerGames.sql(), '$').len(), 3);
    }

    #[test]
    fn render_substitutes_literals_and_quotes_strings() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 22).unwrap();
        let sql = Query::PlayerGames.render(&[
            Param::text("player", "o'neal"),
            Param::date("since", d),
            Param::date("before", d),
        ]);
        assert!(sql.contains("player_lookup = 'o''neal'"), "{sql}");
        assert!(sql.contains("game_date >= DATE '2026-01-22'"), "{sql}");
        assert!(!sql.contains("$player"), "{sql}");
        assert!(sql.starts_with("-- queries/player_games.sql"));
    }
}
