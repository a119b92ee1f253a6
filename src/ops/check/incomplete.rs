//! `check incomplete`: the data gaps (`v_incomplete_features`): records that are neither
//! complete nor bootstrap, worst first on the newest dates.

use crate::model::count::thousands;
use crate::ops::check::Source;
use serde::Serialize;

use super::{Check, CheckOutput};
use crate::error::Result;
use crate::io::columns::{distinct, i64s};
use crate::model::dates::DateRange;
use crate::queries::{Param, Query};

#[derive(Debug, Clone, Copy)]
pub struct Incomplete {
    pub range: DateRange,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IncompleteTotals {
    pub count: u64,
    pub unique_dates: u64,
    pub unique_players: u64,
    pub total_games_missing: u64,
}

impl Incomplete {
    fn params(&self) -> Vec<Param> {
        Param::range(&self.range)
    }
}

impl Check for Incomplete {
    fn name(&self) -> &'static str {
        "incomplete"
    }

    fn queries(&self) -> Vec<(Query, Vec<Param>)> {
        vec![(Query::IncompleteRecords, self.params())]
    }

    async fn run(&self, source: &Source) -> Result<CheckOutput> {
        let rows = source.run(Query::IncompleteRecords, &self.params()).await?;
        let totals = IncompleteTotals {
            count: crate::io::columns::num_rows(&rows) as u64,
            unique_dates: distinct(&rows, "game_date")?,
            unique_players: distinct(&rows, "player_lookup")?,
            total_games_missing: i64s(&rows, "games_missing")?
                .into_iter()
                .flatten()
                .sum::<i64>() as u64,
        };
        let notes = vec![format!(
            "{} incomplete records on {} dates, {} players, {} games missing in total",
            thousands(totals.count),
            thousands(totals.unique_dates),
            thousands(totals.unique_players),
            thousands(totals.total_games_missing)
        )];
        Ok(CheckOutput::over_range(
            self.name(),
            &self.range,
            &totals,
            notes,
            rows,
        ))
    }
}
