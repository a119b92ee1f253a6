//! `historical_completeness_ext`, the opt-in second struct (`backfill --extended`): its
//! value, its name, its Arrow encoding and decoding, and its BigQuery type.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Date32Builder, Float64Builder, Int64Builder, ListBuilder,
    StringBuilder, StructArray,
};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Date32Type, Field, Fields, Float64Type, Int64Type};

use chrono::NaiveDate;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::{date_to_days, days_to_date};

/// The column's name in the feature table.
pub const EXTENDED_COLUMN: &str = "historical_completeness_ext";

/// One record's extended completeness.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExtendedCompleteness {
    /// Rows present over rows expected in the 60-day window, in percent (one decimal);
    /// NULL when the player has neither.
    pub completeness_pct: Option<f64>,
    /// Games in the 60-day window the player has no row for (newest first), known
    /// before the record's date.
    pub missing_game_dates: Vec<NaiveDate>,
    /// Days from the oldest of the (up to ten) window games to the record's date.
    pub window_span_days: Option<i64>,
    pub oldest_game_date: Option<NaiveDate>,
    pub newest_game_date: Option<NaiveDate>,
    /// Teams of the window games, newest first, each once.
    pub teams_in_window: Vec<String>,
    /// missing_games, new_player, early_season, no_data or stale_window; NULL when
    /// nothing is amiss.
    pub incompleteness_reason: Option<String>,
}

/// The BigQuery DDL that adds the column (`table` already quoted).
pub fn bigquery_ddl(table: &str) -> String {
    format!(
        "ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {EXTENDED_COLUMN} STRUCT<\n  \
         completeness_pct FLOAT64,\n  missing_game_dates ARRAY<DATE>,\n  \
         window_span_days INT64,\n  oldest_game_date DATE,\n  newest_game_date DATE,\n  \
         teams_in_window ARRAY<STRING>,\n  incompleteness_reason STRING\n>;\n"
    )
}

fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("element", item, true)))
}

fn extended_fields() -> Fields {
    Fields::from(vec![
        Field::new("completeness_pct", DataType::Float64, true),
        Field::new("missing_game_dates", list_of(DataType::Date32), true),
        Field::new("window_span_days", DataType::Int64, true),
        Field::new("oldest_game_date", DataType::Date32, true),
        Field::new("newest_game_date", DataType::Date32, true),
        Field::new("teams_in_window", list_of(DataType::Utf8), true),
        Field::new("incompleteness_reason", DataType::Utf8, true),
    ])
}

/// `STRUCT<completeness_pct FLOAT64, missing_game_dates ARRAY<DATE>, …>` in Arrow.
pub fn extended_type() -> DataType {
    DataType::Struct(extended_fields())
}

/// Builds the column row by row; `None` appends a NULL struct.
pub struct ExtendedBuilder {
    pct: Float64Builder,
    missing: ListBuilder<Date32Builder>,
    span: Int64Builder,
    oldest: Date32Builder,
    newest: Date32Builder,
    teams: ListBuilder<StringBuilder>,
    reason: StringBuilder,
    validity: Vec<bool>,
}

impl Default for ExtendedBuilder {
    fn default() -> Self {
        let item = |t| Arc::new(Field::new("element", t, true));
        ExtendedBuilder {
            pct: Float64Builder::new(),
            missing: ListBuilder::new(Date32Builder::new()).with_field(item(DataType::Date32)),
            span: Int64Builder::new(),
            oldest: Date32Builder::new(),
            newest: Date32Builder::new(),
            teams: ListBuilder::new(StringBuilder::new()).with_field(item(DataType::Utf8)),
            reason: StringBuilder::new(),
            validity: Vec::new(),
        }
    }
}

impl ExtendedBuilder {
    pub fn append(&mut self, value: Option<&ExtendedCompleteness>) {
        let v = value.cloned().unwrap_or_default();
        self.pct.append_option(v.completeness_pct);
        let days = v.missing_game_dates.iter().map(|d| Some(date_to_days(*d)));
        self.missing.values().extend(days);
        self.missing.append(value.is_some());
        self.span.append_option(v.window_span_days);
        self.oldest
            .append_option(v.oldest_game_date.map(date_to_days));
        self.newest
            .append_option(v.newest_game_date.map(date_to_days));
        for team in &v.teams_in_window {
            self.teams.values().append_value(team);
        }
        self.teams.append(value.is_some());
        self.reason
            .append_option(v.incompleteness_reason.as_deref());
        self.validity.push(value.is_some());
    }

    pub fn finish(mut self) -> StructArray {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.pct.finish()),
            Arc::new(self.missing.finish()),
            Arc::new(self.span.finish()),
            Arc::new(self.oldest.finish()),
            Arc::new(self.newest.finish()),
            Arc::new(self.teams.finish()),
            Arc::new(self.reason.finish()),
        ];
        let nulls = NullBuffer::from(self.validity);
        let nulls = (nulls.null_count() > 0).then_some(nulls);
        StructArray::new(extended_fields(), columns, nulls)
    }
}

/// Read access to a stored extended column, checked once against the expected shape and
/// cast once to exactly [`extended_type`] (Parquet may hand strings back as views).
pub struct ExtendedColumn {
    array: StructArray,
}

impl ExtendedColumn {
    pub fn try_new(array: &dyn Array, location: &str) -> Result<ExtendedColumn> {
        let wrong = || {
            Error::input(format!(
                "{location}: column {} has type {}, expected {}",
                EXTENDED_COLUMN,
                array.data_type(),
                extended_type()
            ))
        };
        let array = array.as_struct_opt().ok_or_else(wrong)?;
        let names: Vec<&str> = array.fields().iter().map(|f| f.name().as_str()).collect();
        let expected: Vec<String> = extended_fields().iter().map(|f| f.name().clone()).collect();
        if names != expected {
            return Err(wrong());
        }
        let cast = arrow::compute::cast(array, &extended_type()).map_err(|_| wrong())?;
        Ok(ExtendedColumn {
            array: cast.as_struct().clone(),
        })
    }

    /// The value at row `i`, or `None` when the struct is NULL.
    pub fn get(&self, i: usize) -> Option<ExtendedCompleteness> {
        if self.array.is_null(i) {
            return None;
        }
        let c = self.array.columns();
        let date = |k: usize| {
            let a = c[k].as_primitive::<Date32Type>();
            (!a.is_null(i)).then(|| days_to_date(a.value(i)))
        };
        let list = |k: usize| -> Option<ArrayRef> {
            let l = c[k].as_list::<i32>();
            (!l.is_null(i)).then(|| l.value(i))
        };
        let pct = c[0].as_primitive::<Float64Type>();
        let span = c[2].as_primitive::<Int64Type>();
        let reason = arrow::compute::cast(&c[6], &DataType::Utf8).ok()?;
        let reason = reason.as_string::<i32>();
        let teams = list(5)
            .and_then(|a| arrow::compute::cast(&a, &DataType::Utf8).ok())
            .map(|a| {
                a.as_string::<i32>()
                    .iter()
                    .flatten()
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        Some(ExtendedCompleteness {
            completeness_pct: (!pct.is_null(i)).then(|| pct.value(i)),
            missing_game_dates: list(1)
                .map(|a| {
                    let a = a.as_primitive::<Date32Type>();
                    a.iter().flatten().map(days_to_date).collect()
                })
                .unwrap_or_default(),
            window_span_days: (!span.is_null(i)).then(|| span.value(i)),
            oldest_game_date: date(3),
            newest_game_date: date(4),
            teams_in_window: teams,
            incompleteness_reason: (!reason.is_null(i)).then(|| reason.value(i).to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_the_column() {
        let d = |x| chrono::NaiveDate::from_ymd_opt(2025, 1, x).unwrap();
        let full = ExtendedCompleteness {
            completeness_pct: Some(90.9),
            missing_game_dates: vec![d(9), d(3)],
            window_span_days: Some(24),
            oldest_game_date: Some(d(1)),
            newest_game_date: Some(d(20)),
            teams_in_window: vec!["LAL".into(), "BOS".into()],
            incompleteness_reason: Some("missing_games".into()),
        };
        let empty = ExtendedCompleteness {
            incompleteness_reason: Some("no_data".into()),
            ..Default::default()
        };
        let values = [Some(&full), None, Some(&empty)];
        let mut b = ExtendedBuilder::default();
        values.iter().for_each(|v| b.append(*v));
        let array = b.finish();
        assert_eq!(array.data_type(), &extended_type());
        let column = ExtendedColumn::try_new(&array, "test").unwrap();
        assert_eq!(column.get(0).as_ref(), Some(&full));
        assert_eq!(column.get(1), None);
        assert_eq!(column.get(2).as_ref(), Some(&empty));
    }

    #[test]
    fn a_column_of_another_shape_is_refused() {
        let mut b = crate::model::completeness_column::CompletenessBuilder::with_capacity(1);
        b.append(None);
        let other = b.finish();
        let err = ExtendedColumn::try_new(&other, "features.parquet")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("historical_completeness_ext"), "{err}");
    }
}
