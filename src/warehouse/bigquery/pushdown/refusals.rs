//! The refusals the pushdown's statements raise themselves (GoogleSQL `ERROR()`), turned
//! into the tool's own: bad input, exit 2, nothing written, worded as the local path
//! words them.
//!
//! A statement that calls `ERROR()` fails as a whole, so nothing of it is written; the
//! job fails with BigQuery's `invalidQuery` (or the emulator's equivalent) and the
//! message somewhere in its text. Each refusal is recognised by the words the SQL
//! writes, which the SQL files and this module share.

use crate::error::Error;
use crate::run::manifest::Manifest;

/// plan.sql: a duplicate key among the feature records in range.
const DUPLICATE: &str = "duplicate feature record for player_lookup ";
/// plan.sql: a feature record with a NULL player_lookup.
const NULL_KEY: &str = "NULL player_lookup in a feature record on ";
/// merge.sql: player_game_summary changed since the plan.
const STALE: &str = "player_game_summary changed since the plan: ";
/// merge.sql: the staging table is not one plan.
const NOT_A_PLAN: &str = "the staging table holds ";
/// merge.sql: the MERGE's range differs from the plan's.
const OTHER_RANGE: &str = "the parameters start, end, games_start of the MERGE differ";
/// merge.sql: a key twice in the plan.
const PLAN_KEY_TWICE: &str = "the plan holds ";

/// The plan job's failure, as the refusal it is (or unchanged).
pub fn plan_failure(e: Error, features: &str) -> Error {
    let Some(message) = job_message(&e) else {
        return e;
    };
    for marker in [DUPLICATE, NULL_KEY] {
        if let Some(text) = from(message, marker) {
            return Error::input(format!("{features}: {text}; nothing was written"));
        }
    }
    e
}

/// The MERGE's failure, as the refusal it is (or unchanged): a stale plan as the local
/// staleness refusal words it, naming the first changed date and how many more.
pub fn merge_failure(e: Error, m: &Manifest) -> Error {
    let run_id = &m.run_id;
    let Some(message) = job_message(&e) else {
        return e;
    };
    if let Some(text) = from(message, STALE) {
        let detail = text.trim_start_matches(STALE);
        let detail = detail
            .split("; nothing was written")
            .next()
            .unwrap_or(detail);
        return crate::run::manifest::stale_plan(
            run_id,
            "computed its plan",
            detail,
            &m.backfill_command(),
        );
    }
    for marker in [NOT_A_PLAN, OTHER_RANGE, PLAN_KEY_TWICE] {
        if let Some(text) = from(message, marker) {
            return Error::input(format!(
                "run {run_id}: its plan cannot be applied: {text}; nothing was written"
            ));
        }
    }
    e
}

/// The message of a failed job.
fn job_message(e: &Error) -> Option<&str> {
    match e {
        Error::JobFailed { message, .. } => Some(message),
        _ => None,
    }
}

/// `message` from `marker` on, without what a client adds after it (the emulator
/// appends the statement's position or a closing quote).
fn from<'a>(message: &'a str, marker: &str) -> Option<&'a str> {
    let start = message.find(marker)?;
    let text = &message[start..];
    let end = text.find(['\n', '"', '\'']).unwrap_or(text.len());
    Some(text[..end].trim_end_matches(['.', ' ']))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(message: &str) -> Error {
        Error::JobFailed {
            job: "j".into(),
            what: "w".into(),
            reason: "invalidQuery".into(),
            message: message.into(),
        }
    }

    fn manifest() -> Manifest {
        let range = crate::model::dates::DateRange::new(
            "2025-01-05".parse().unwrap(),
            "2025-01-20".parse().unwrap(),
        )
        .unwrap();
        Manifest {
            run_id: "r1".into(),
            created_at: chrono::Utc::now(),
            tool_version: "0".into(),
            warehouse: "w".into(),
            range,
            dry_run: false,
            include_bootstrap: false,
            extended: false,
            compute: crate::run::manifest::Compute::Bigquery,
            snapshot: None,
            season_starts: Default::default(),
            rows: Default::default(),
            phases: Default::default(),
            merge: None,
            bigquery: None,
        }
    }

    #[test]
    fn a_stale_plan_is_refused_as_locally_naming_the_date() {
        let e = merge_failure(
            failed(
                "Error: player_game_summary changed since the plan: 2025-01-03: 20 rows (20 players) \
                 at plan, 21 (21) now and 2 more dates; nothing was written",
            ),
            &manifest(),
        );
        assert_eq!(e.exit_code(), 2);
        let text = e.to_string();
        assert!(
            text.starts_with(
                "player_game_summary changed since run r1 computed its plan: 2025-01-03: 20 rows \
                 (20 players) at plan, 21 (21) now and 2 more dates. "
            ),
            "{text}"
        );
        assert!(text.contains("--allow-stale"), "{text}");
        assert!(
            text.contains(
                "`completeness backfill --start 2025-01-05 --end 2025-01-20 --compute-in bigquery`"
            ),
            "{text}"
        );
    }

    #[test]
    fn duplicate_and_null_keys_are_input_errors_others_pass_through() {
        let e = plan_failure(
            failed(
                "duplicate feature record for player_lookup ab on 2025-01-06; the key (player_lookup, game_date) must be unique",
            ),
            "bigquery://p/d.t",
        );
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.to_string(),
            "bigquery://p/d.t: duplicate feature record for player_lookup ab on 2025-01-06; the key (player_lookup, game_date) must be unique; nothing was written"
        );
        let other = plan_failure(failed("Unrecognized name: x"), "t");
        assert_eq!(other.exit_code(), 3);
        let remote = Error::Remote {
            context: "c".into(),
            message: STALE.into(),
        };
        assert_eq!(merge_failure(remote, &manifest()).exit_code(), 3);
    }
}
