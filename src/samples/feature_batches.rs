//! Feature records as `ml_feature_store_v2` Arrow batches.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Date32Builder, Decimal128Array, Float64Array,
    Float64Builder, Int64Array, Int64Builder, ListBuilder, StringArray, StringBuilder, StructArray,
    TimestampMicrosecondArray,
};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Field};
use arrow::record_batch::RecordBatch;

use super::chunks;
use super::features::{FEATURE_NAMES, FEATURE_VERSION, FeatureRecord};
use super::schedule::{Schedule, team_abbr};
use crate::model::{
    FEATURE_SOURCES, HistoricalCompleteness, TRACKED_FEATURES, completeness_fields, date_to_days,
    features_schema,
};

pub fn to_batches(records: &[FeatureRecord], sched: &Schedule) -> Vec<RecordBatch> {
    chunks(records).map(|c| feature_batch(c, sched)).collect()
}

fn element(item: DataType) -> Arc<Field> {
    Arc::new(Field::new("element", item, true))
}

fn feature_batch(rows: &[FeatureRecord], sched: &Schedule) -> RecordBatch {
    let n = rows.len() as i64;
    let t: Vec<Tracking> = rows.iter().map(Tracking::of).collect();
    let text = |f: &dyn Fn(usize) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from_iter((0..rows.len()).map(f)))
    };
    let int = |f: &dyn Fn(usize) -> Option<i64>| -> ArrayRef {
        Arc::new(Int64Array::from_iter((0..rows.len()).map(f)))
    };
    let float = |f: &dyn Fn(usize) -> Option<f64>| -> ArrayRef {
        Arc::new(Float64Array::from_iter((0..rows.len()).map(f)))
    };
    let flag = |f: &dyn Fn(usize) -> Option<bool>| -> ArrayRef {
        Arc::new(BooleanArray::from_iter((0..rows.len()).map(f)))
    };
    let ts = |f: &dyn Fn(usize) -> Option<i64>| -> ArrayRef {
        Arc::new(TimestampMicrosecondArray::from_iter((0..rows.len()).map(f)).with_timezone("UTC"))
    };
    // NUMERIC(5,2) from a value in hundredths.
    let numeric = |f: &dyn Fn(usize) -> Option<i64>| -> ArrayRef {
        Arc::new(
            Decimal128Array::from_iter((0..rows.len()).map(|i| f(i).map(i128::from)))
                .with_precision_and_scale(5, 2)
                .expect("NUMERIC(5,2)"),
        )
    };
    let mut columns: Vec<ArrayRef> = vec![
        text(&|i| Some(rows[i].lookup.to_string())),
        text(&|i| Some(rows[i].universal_id.to_string())),
        Arc::new(Date32Array::from_iter_values(
            rows.iter().map(|r| date_to_days(r.date)),
        )),
        text(&|i| Some(sched.games[rows[i].game].id.clone())),
        values_column(rows),
        strings_column((0..rows.len()).map(|_| FEATURE_NAMES.as_slice())),
        Arc::new(Int64Array::from_iter_values(
            (0..n).map(|_| FEATURE_NAMES.len() as i64),
        )),
        text(&|_| Some(FEATURE_VERSION.to_string())),
        int(&|i| Some(t[i].generation_ms)),
        numeric(&|i| Some((rows[i].quality_score * 100.0).round() as i64)),
        text(&|i| Some(team_abbr(rows[i].opponent).to_string())),
        flag(&|i| Some(rows[i].is_home)),
        int(&|i| Some(rows[i].days_rest)),
        text(&|i| Some(rows[i].source.to_string())),
    ];
    for k in 0..FEATURE_SOURCES.len() {
        columns.extend([
            ts(&|i| Some(rows[i].created_us - t[i].source_age_s[k] * 1_000_000)),
            int(&|i| Some(t[i].source_rows[k])),
            numeric(&|i| Some(t[i].source_pct[k])),
            text(&|i| Some(format!("{:016x}", t[i].hash ^ (k as u64 + 1)))),
        ]);
    }
    let early = |i: usize| rows[i].source == "early_season";
    columns.extend([
        flag(&|i| Some(early(i))),
        text(&|i| early(i).then(|| "fewer than 5 games this season".to_string())),
        int(&|_| Some(10)),
        int(&|i| Some(t[i].actual_games)),
        float(&|i| Some(t[i].actual_games as f64 * 10.0)),
        flag(&|i| Some(!early(i) && t[i].actual_games >= 9)),
        strings_column(t.iter().map(|t| t.issues.as_slice())),
        int(&|i| Some(i64::from(t[i].circuit_breaker))),
        flag(&|i| Some(t[i].circuit_breaker)),
        ts(&|i| {
            t[i].circuit_breaker
                .then(|| rows[i].created_us + 7 * 86_400_000_000)
        }),
        text(&|i| {
            Some(
                if early(i) {
                    "early_season_placeholder"
                } else {
                    "processed"
                }
                .to_string(),
            )
        }),
        text(&|i| Some(rows[i].hash.clone())),
        completeness_column(rows),
        ts(&|i| Some(rows[i].created_us)),
        ts(&|i| rows[i].updated_us),
        text(&|i| Some(quality_tier(rows[i].quality_score).to_string())),
        strings_column(t.iter().map(|t| t.alerts.as_slice())),
        ints_column(t.iter().map(|t| t.defaults.as_slice())),
        flag(&|i| Some(rows[i].quality_score >= 85.0)),
        numeric(&|i| Some(t[i].matchup_pct)),
        text(&|i| Some(t[i].sources_json())),
        text(&|i| Some(t[i].breakdown_json(rows[i].quality_score))),
    ]);
    for k in 0..TRACKED_FEATURES {
        columns.push(float(&|i| Some(t[i].feature_quality(k))));
        columns.push(text(&|i| Some(t[i].feature_source(k).to_string())));
    }
    RecordBatch::try_new(features_schema(), columns).expect("feature columns match the schema")
}

/// The tracking and quality columns of one record, derived from its hash so the
/// feature values' random stream is not disturbed.
struct Tracking {
    hash: u64,
    generation_ms: i64,
    source_age_s: [i64; 4],
    source_rows: [i64; 4],
    /// Hundredths of a percent.
    source_pct: [i64; 4],
    actual_games: i64,
    issues: Vec<&'static str>,
    circuit_breaker: bool,
    alerts: Vec<&'static str>,
    defaults: Vec<i64>,
    /// Hundredths of a percent.
    matchup_pct: i64,
}

impl Tracking {
    fn of(r: &FeatureRecord) -> Tracking {
        let hash = u64::from_str_radix(&r.hash, 16).unwrap_or_default();
        let draw = |salt: u64, n: u64| (hash.rotate_left(salt as u32 * 7) ^ salt) % n;
        let placeholder = r.source == "early_season";
        let actual_games = if placeholder {
            0
        } else {
            6 + draw(1, 5) as i64
        };
        let defaults: Vec<i64> = if placeholder {
            (0..14).collect()
        } else {
            (0..draw(2, 4) as i64).map(|k| 54 + k).collect()
        };
        Tracking {
            hash,
            generation_ms: 40 + draw(3, 400) as i64,
            source_age_s: std::array::from_fn(|k| 3_600 + draw(10 + k as u64, 40_000) as i64),
            source_rows: std::array::from_fn(|k| 1 + draw(20 + k as u64, 30) as i64),
            source_pct: std::array::from_fn(|k| 8_000 + draw(30 + k as u64, 2_001) as i64),
            actual_games,
            issues: match (placeholder, draw(4, 20)) {
                (true, _) => vec!["early_season", "defaults_used"],
                (false, 0) => vec!["stale_source_data"],
                _ => vec![],
            },
            circuit_breaker: !placeholder && draw(5, 500) == 0,
            alerts: if defaults.len() > 2 {
                vec!["high_default_rate_20pct"]
            } else {
                vec![]
            },
            matchup_pct: if placeholder {
                0
            } else {
                7_000 + draw(6, 3_001) as i64
            },
            defaults,
        }
    }

    fn feature_source(&self, k: usize) -> &'static str {
        if self.defaults.contains(&(k as i64)) {
            "default"
        } else {
            ["phase4", "phase4", "phase4", "phase3", "calculated"]
                [(self.hash >> (k * 3)) as usize % 5]
        }
    }

    fn feature_quality(&self, k: usize) -> f64 {
        match self.feature_source(k) {
            "default" => 40.0,
            "phase4" => 100.0,
            "phase3" => 87.5,
            _ => 75.0,
        }
    }

    fn sources_json(&self) -> String {
        let entries: Vec<String> = (0..TRACKED_FEATURES)
            .map(|k| format!("\"{k}\":\"{}\"", self.feature_source(k)))
            .collect();
        format!("{{{}}}", entries.join(","))
    }

    fn breakdown_json(&self, score: f64) -> String {
        format!(
            "{{\"matchup\":{:.2},\"player_history\":{:.1},\"defaults\":{}}}",
            self.matchup_pct as f64 / 100.0,
            score,
            self.defaults.len()
        )
    }
}

fn quality_tier(score: f64) -> &'static str {
    match score {
        s if s > 95.0 => "gold",
        s if s >= 85.0 => "silver",
        s if s >= 70.0 => "bronze",
        s if s >= 50.0 => "poor",
        _ => "critical",
    }
}

fn values_column(rows: &[FeatureRecord]) -> ArrayRef {
    let cap = rows.len() * FEATURE_NAMES.len();
    let mut b = ListBuilder::with_capacity(Float64Builder::with_capacity(cap), rows.len())
        .with_field(element(DataType::Float64));
    for r in rows {
        b.values().append_slice(&r.values);
        b.append(true);
    }
    Arc::new(b.finish())
}

/// A `List<Utf8>` column, one list per row.
fn strings_column<'a>(lists: impl ExactSizeIterator<Item = &'a [&'a str]>) -> ArrayRef {
    let mut b = ListBuilder::with_capacity(StringBuilder::new(), lists.len())
        .with_field(element(DataType::Utf8));
    for list in lists {
        for s in list {
            b.values().append_value(s);
        }
        b.append(true);
    }
    Arc::new(b.finish())
}

/// A `List<Int64>` column, one list per row.
fn ints_column<'a>(lists: impl ExactSizeIterator<Item = &'a [i64]>) -> ArrayRef {
    let mut b = ListBuilder::with_capacity(Int64Builder::new(), lists.len())
        .with_field(element(DataType::Int64));
    for list in lists {
        b.values().append_slice(list);
        b.append(true);
    }
    Arc::new(b.finish())
}

/// The nullable struct; children are null where the struct is.
fn completeness_column(rows: &[FeatureRecord]) -> ArrayRef {
    let hc: Vec<Option<&HistoricalCompleteness>> =
        rows.iter().map(|r| r.completeness.as_ref()).collect();
    let mut dates = ListBuilder::new(Date32Builder::new()).with_field(element(DataType::Date32));
    for c in &hc {
        match c {
            Some(c) => {
                for d in &c.contributing_game_dates {
                    dates.values().append_value(date_to_days(*d));
                }
                dates.append(true);
            }
            None => dates.append(false),
        }
    }
    let children: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter(
            hc.iter().map(|c| c.map(|c| c.games_found)),
        )),
        Arc::new(Int64Array::from_iter(
            hc.iter().map(|c| c.map(|c| c.games_expected)),
        )),
        Arc::new(BooleanArray::from_iter(
            hc.iter().map(|c| c.map(|c| c.is_complete)),
        )),
        Arc::new(BooleanArray::from_iter(
            hc.iter().map(|c| c.map(|c| c.is_bootstrap)),
        )),
        Arc::new(dates.finish()),
    ];
    let valid = NullBuffer::from(hc.iter().map(Option::is_some).collect::<Vec<bool>>());
    Arc::new(
        StructArray::try_new(completeness_fields(), children, Some(valid))
            .expect("completeness children match the struct fields"),
    )
}
