//! Feature records as `ml_feature_store_v2` Arrow batches.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Date32Builder, Float64Array, Float64Builder, Int64Array,
    ListBuilder, StringArray, StringBuilder, StructArray, TimestampMicrosecondArray,
};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Field};
use arrow::record_batch::RecordBatch;

use super::chunks;
use super::features::{FEATURE_NAMES, FEATURE_VERSION, FeatureRecord};
use super::schedule::{Schedule, team_abbr};
use crate::model::{HistoricalCompleteness, completeness_fields, date_to_days, features_schema};

pub fn to_batches(records: &[FeatureRecord], sched: &Schedule) -> Vec<RecordBatch> {
    chunks(records).map(|c| feature_batch(c, sched)).collect()
}

fn element(item: DataType) -> Arc<Field> {
    Arc::new(Field::new("element", item, true))
}

fn feature_batch(rows: &[FeatureRecord], sched: &Schedule) -> RecordBatch {
    let n = rows.len() as i64;
    let strings = |f: fn(&FeatureRecord) -> &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(rows.iter().map(f)))
    };
    let ts = |f: fn(&FeatureRecord) -> i64| -> ArrayRef {
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(rows.iter().map(f)).with_timezone("UTC"),
        )
    };
    let columns: Vec<ArrayRef> = vec![
        strings(|r| &r.lookup),
        strings(|r| &r.universal_id),
        Arc::new(Date32Array::from_iter_values(
            rows.iter().map(|r| date_to_days(r.date)),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| sched.games[r.game].id.as_str()),
        )),
        values_column(rows),
        names_column(rows.len()),
        Arc::new(Int64Array::from_iter_values(
            (0..n).map(|_| FEATURE_NAMES.len() as i64),
        )),
        Arc::new(StringArray::from_iter_values(
            (0..n).map(|_| FEATURE_VERSION),
        )),
        Arc::new(Float64Array::from_iter_values(
            rows.iter().map(|r| r.quality_score),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| team_abbr(r.opponent)),
        )),
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| Some(r.is_home)),
        )),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.days_rest),
        )),
        strings(|r| r.source),
        strings(|r| &r.hash),
        completeness_column(rows),
        ts(|r| r.created_us),
        ts(|r| r.updated_us),
    ];
    RecordBatch::try_new(features_schema(), columns).expect("feature columns match the schema")
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

fn names_column(n: usize) -> ArrayRef {
    let bytes: usize = FEATURE_NAMES.iter().map(|s| s.len()).sum();
    let inner = StringBuilder::with_capacity(n * FEATURE_NAMES.len(), n * bytes);
    let mut b = ListBuilder::with_capacity(inner, n).with_field(element(DataType::Utf8));
    for _ in 0..n {
        for name in FEATURE_NAMES {
            b.values().append_value(name);
        }
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
