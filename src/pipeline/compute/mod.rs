//! `compute`: one `historical_completeness` struct per distinct feature key.
//!
//! 1. Normalise and validate the key columns of both inputs ([`keys`]).
//! 2. Intern player names; drop game rows with NULL keys or without a feature record.
//! 3. Group both sides by player and sweep each player's dates once ([`kernel`]).
//! 4. Sort by `(game_date, player_lookup)` and build the output a slice at a time
//!    ([`output`]), each slice encoded and dropped before the next.
//!
//! The same struct in closed form, with `c60`/`c365` the player's rows in `[D-60, D)` and
//! `[D-365, D)`: found = min(c60, 10), expected = min(c365, 10) if c60 > 0 else 0,
//! complete ⇔ found ≥ expected, bootstrap ⇔ expected < 10. (With no game in 60 days the
//! record is 0/0, complete, bootstrap, as the production processor writes it.) The naive row-at-a-time version of this lives in
//! the tests as the oracle.

pub mod kernel;
pub mod keys;
pub mod output;

use std::future::IntoFuture;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use chrono::NaiveDate;
use futures::future::BoxFuture;
use serde::Serialize;

use crate::error::Result;
use crate::io::engine::ROWS_PER_GROUP;
use crate::io::storage::Location;
use crate::model::{
    GAME_DATE, HISTORICAL_COMPLETENESS, PLAYER_LOOKUP, completeness_type, date_to_days,
};
use output::Computed;

/// `player_lookup, game_date, historical_completeness`: the output of `compute`.
pub fn results_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(PLAYER_LOOKUP, DataType::Utf8, false),
        Field::new(GAME_DATE, DataType::Date32, false),
        Field::new(HISTORICAL_COMPLETENESS, completeness_type(), true),
    ]))
}

/// Compute the structs of every distinct feature key in `features` (optionally only those
/// with a game_date in `range`) from the game rows in `games`.
///
/// The output, in order, comes as one batch per core: building the Arrow arrays (14M
/// contributing dates at scale 30) is split over the cores like the sweep. The `compute`
/// command does the same steps without holding every input and output at once.
pub fn compute_batches(
    features: &[RecordBatch],
    games: &[RecordBatch],
    range: (Option<NaiveDate>, Option<NaiveDate>),
    locations: (&str, &str),
) -> Result<Vec<RecordBatch>> {
    let (interner, feature_pairs) = intern_features(features, range, locations.0)?;
    let game_keys = keys::keys_of_batches(games, locations.1)?;
    let game_pairs = keys::game_pairs(&game_keys, &interner);
    Computed::new(interner, feature_pairs, game_pairs).batches(rayon::current_num_threads())
}

/// Intern the feature keys: validated `(player id, date)` pairs of the records in `range`.
fn intern_features(
    features: &[RecordBatch],
    range: (Option<NaiveDate>, Option<NaiveDate>),
    location: &str,
) -> Result<(keys::Interner, Vec<(u32, i32)>)> {
    let feature_keys = keys::keys_of_batches(features, location)?;
    let mut interner = keys::Interner::default();
    let mut pairs = keys::feature_pairs(&feature_keys, &mut interner, location)?;
    let (lo, hi) = (
        range.0.map(date_to_days).unwrap_or(i32::MIN),
        range.1.map(date_to_days).unwrap_or(i32::MAX),
    );
    pairs.retain(|&(_, d)| lo <= d && d <= hi);
    Ok((interner, pairs))
}

/// What a `compute` run did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ComputeMetrics {
    /// Feature rows read.
    pub num_feature_rows: usize,
    /// Game rows read.
    pub num_game_rows: usize,
    /// Output records (distinct feature keys in range).
    pub num_records: usize,
    /// Arrow size of the two key columns of both inputs, as decoded.
    pub decoded_input_bytes: usize,
    pub read_time_ms: u64,
    pub compute_time_ms: u64,
    pub write_time_ms: u64,
}

/// Compute from Parquet files to a Parquet file: the `compute` command.
#[derive(Debug, Clone)]
pub struct ComputeBuilder {
    features: Location,
    games: Location,
    out: PathBuf,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    rows_per_group: usize,
}

impl ComputeBuilder {
    /// Read features and games from these Parquet files or directories; write `out`.
    pub fn new(
        features: impl Into<Location>,
        games: impl Into<Location>,
        out: impl Into<PathBuf>,
    ) -> Self {
        ComputeBuilder {
            features: features.into(),
            games: games.into(),
            out: out.into(),
            start: None,
            end: None,
            rows_per_group: ROWS_PER_GROUP,
        }
    }

    /// About how many records go in one row group of the output (default 65,536). The
    /// writer holds one row group per core in memory at a time.
    pub fn with_rows_per_group(mut self, rows: usize) -> Self {
        self.rows_per_group = rows.max(1);
        self
    }

    /// Only feature records on or after this date (default: no lower bound).
    pub fn with_start(mut self, start: Option<NaiveDate>) -> Self {
        self.start = start;
        self
    }

    /// Only feature records on or before this date (default: no upper bound).
    pub fn with_end(mut self, end: Option<NaiveDate>) -> Self {
        self.end = end;
        self
    }

    async fn execute(self) -> Result<ComputeMetrics> {
        if let (Some(s), Some(e)) = (self.start, self.end) {
            crate::model::dates::DateRange::new(s, e)?;
        }
        let ctx = crate::io::engine::session();
        let clock = Instant::now();
        let locations = (
            format!("features input {}", self.features),
            format!("games input {}", self.games),
        );
        let features = read_keys(&ctx, &self.features, "features input").await?;
        let mut metrics = ComputeMetrics {
            num_feature_rows: features.iter().map(|b| b.num_rows()).sum(),
            decoded_input_bytes: features.iter().map(|b| b.get_array_memory_size()).sum(),
            ..Default::default()
        };
        let (interner, feature_pairs) =
            intern_features(&features, (self.start, self.end), &locations.0)?;
        drop(features);
        let games = read_game_pairs(&ctx, &self.games, &interner, &locations.1).await?;
        metrics.num_game_rows = games.rows;
        metrics.decoded_input_bytes += games.decoded_bytes;
        metrics.read_time_ms = clock.elapsed().as_millis() as u64;

        let clock = Instant::now();
        let computed = Computed::new(interner, feature_pairs, games.pairs);
        metrics.compute_time_ms = clock.elapsed().as_millis() as u64;
        metrics.num_records = computed.len();

        let clock = Instant::now();
        let groups = crate::io::row_groups::slices(
            computed.len(),
            crate::io::row_groups::count(computed.len(), self.rows_per_group),
        );
        crate::io::engine::write_row_groups(
            &self.out,
            results_schema(),
            groups.len(),
            |i| Ok(vec![computed.batch(groups[i].clone())?]),
            crate::io::engine::results_writer_properties(),
        )?;
        metrics.write_time_ms = clock.elapsed().as_millis() as u64;
        Ok(metrics)
    }
}

/// The game rows of an input as `(player id, date)` pairs.
struct GamePairs {
    pairs: Vec<(u32, i32)>,
    rows: usize,
    decoded_bytes: usize,
}

/// Read the games' keys straight into pairs: local row groups are looked up as they are
/// decoded, so the game columns (the largest input) are never all in memory at once.
async fn read_game_pairs(
    ctx: &datafusion::prelude::SessionContext,
    location: &Location,
    interner: &keys::Interner,
    described: &str,
) -> Result<GamePairs> {
    let of_batch = |b: RecordBatch, first_row: usize| {
        Ok(GamePairs {
            pairs: keys::game_pairs_of(&b, interner, described, first_row)?,
            rows: b.num_rows(),
            decoded_bytes: b.get_array_memory_size(),
        })
    };
    let parts: Vec<GamePairs> = match location {
        Location::Local(path) => {
            crate::io::local_parquet::map_row_groups(path, &KEYS, "games input", of_batch)?
                .into_iter()
                .flatten()
                .collect()
        }
        Location::Remote(_) => {
            let mut first_row = 0;
            read_keys(ctx, location, "games input")
                .await?
                .into_iter()
                .map(|b| {
                    let rows = b.num_rows();
                    let pairs = of_batch(b, first_row);
                    first_row += rows;
                    pairs
                })
                .collect::<Result<_>>()?
        }
    };
    let mut games = GamePairs {
        pairs: Vec::with_capacity(parts.iter().map(|p| p.pairs.len()).sum()),
        rows: 0,
        decoded_bytes: 0,
    };
    for part in parts {
        games.pairs.extend_from_slice(&part.pairs);
        games.rows += part.rows;
        games.decoded_bytes += part.decoded_bytes;
    }
    Ok(games)
}

const KEYS: [&str; 2] = [PLAYER_LOOKUP, GAME_DATE];

/// The two key columns of an input: straight from local files, through DataFusion
/// from object storage.
async fn read_keys(
    ctx: &datafusion::prelude::SessionContext,
    location: &Location,
    what: &str,
) -> Result<Vec<RecordBatch>> {
    match location {
        Location::Local(path) => crate::io::local_parquet::read_columns(path, &KEYS, what),
        Location::Remote(_) => crate::io::engine::read_parquet_at(ctx, location, &KEYS, what).await,
    }
}

impl IntoFuture for ComputeBuilder {
    type Output = Result<ComputeMetrics>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}
