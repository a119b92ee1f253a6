//! Arrow encoding and decoding of the `historical_completeness` struct column.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBuilder, Date32Array, Date32Builder, Int64Array,
    Int64Builder, ListArray, ListBuilder, StructArray,
};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Date32Type, Int64Type};

use crate::error::{Error, Result};
use crate::model::{HistoricalCompleteness, completeness_fields, date_to_days, days_to_date};

/// Builds a struct column row by row; `None` appends a NULL struct.
pub struct CompletenessBuilder {
    found: Int64Builder,
    expected: Int64Builder,
    complete: BooleanBuilder,
    bootstrap: BooleanBuilder,
    dates: ListBuilder<Date32Builder>,
    validity: Vec<bool>,
}

impl CompletenessBuilder {
    pub fn with_capacity(rows: usize) -> CompletenessBuilder {
        let field = match &completeness_fields()[4].data_type() {
            DataType::List(f) => f.clone(),
            _ => unreachable!("contributing_game_dates is a list"),
        };
        CompletenessBuilder {
            found: Int64Builder::with_capacity(rows),
            expected: Int64Builder::with_capacity(rows),
            complete: BooleanBuilder::with_capacity(rows),
            bootstrap: BooleanBuilder::with_capacity(rows),
            dates: ListBuilder::with_capacity(Date32Builder::with_capacity(rows * 10), rows)
                .with_field(field),
            validity: Vec::with_capacity(rows),
        }
    }

    /// Append one struct from its parts; `dates_newest_first` as Date32 days.
    pub fn append_parts(
        &mut self,
        found: i64,
        expected: i64,
        dates_newest_first: impl IntoIterator<Item = i32>,
    ) {
        self.found.append_value(found);
        self.expected.append_value(expected);
        self.complete.append_value(found >= expected);
        self.bootstrap
            .append_value(expected < crate::model::WINDOW_GAMES as i64);
        self.dates
            .values()
            .extend(dates_newest_first.into_iter().map(Some));
        self.dates.append(true);
        self.validity.push(true);
    }

    /// Append a value as it is (its flags are not recomputed).
    pub fn append(&mut self, value: Option<&HistoricalCompleteness>) {
        match value {
            Some(v) => {
                self.found.append_value(v.games_found);
                self.expected.append_value(v.games_expected);
                self.complete.append_value(v.is_complete);
                self.bootstrap.append_value(v.is_bootstrap);
                let days = v
                    .contributing_game_dates
                    .iter()
                    .map(|d| Some(date_to_days(*d)));
                self.dates.values().extend(days);
                self.dates.append(true);
                self.validity.push(true);
            }
            None => {
                self.found.append_null();
                self.expected.append_null();
                self.complete.append_null();
                self.bootstrap.append_null();
                self.dates.append(false);
                self.validity.push(false);
            }
        }
    }

    /// Append row `i` of `column` as [`CompletenessColumn::get`] reads it, without
    /// building the value.
    pub fn append_row(&mut self, column: &CompletenessColumn, i: usize) {
        if column.is_null(i) {
            return self.append(None);
        }
        self.found.append_value(column.games_found(i));
        self.expected.append_value(column.games_expected(i));
        self.complete.append_value(column.is_complete(i));
        self.bootstrap.append_value(column.is_bootstrap(i));
        self.dates.values().extend(column.dates_at(i).map(Some));
        self.dates.append(true);
        self.validity.push(true);
    }

    pub fn finish(mut self) -> StructArray {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.found.finish()),
            Arc::new(self.expected.finish()),
            Arc::new(self.complete.finish()),
            Arc::new(self.bootstrap.finish()),
            Arc::new(self.dates.finish()),
        ];
        let nulls = NullBuffer::from(self.validity);
        let nulls = (nulls.null_count() > 0).then_some(nulls);
        StructArray::new(completeness_fields(), columns, nulls)
    }
}

/// Read access to a struct column, checked once against the expected shape; the five
/// children are typed once, so a row is read without a downcast or an allocation per
/// field.
pub struct CompletenessColumn<'a> {
    array: &'a StructArray,
    found: &'a Int64Array,
    expected: &'a Int64Array,
    complete: &'a BooleanArray,
    bootstrap: &'a BooleanArray,
    dates: &'a ListArray,
    date_values: &'a Date32Array,
}

impl<'a> CompletenessColumn<'a> {
    /// Check that `array` has the five fields with the expected types.
    pub fn try_new(array: &'a dyn Array, location: &str) -> Result<CompletenessColumn<'a>> {
        let wrong = || {
            Error::input(format!(
                "{location}: column historical_completeness has type {}, expected {}",
                array.data_type(),
                crate::model::completeness_type()
            ))
        };
        let array = array.as_struct_opt().ok_or_else(wrong)?;
        let expected = completeness_fields();
        let fields = array.fields();
        let same_shape = fields.len() == expected.len()
            && fields.iter().zip(expected.iter()).all(|(a, b)| {
                a.name() == b.name() && same_type_ignoring_item_names(a.data_type(), b.data_type())
            });
        if !same_shape {
            return Err(wrong());
        }
        // The shape check above makes every downcast below succeed.
        let c = array.columns();
        let dates = c[4].as_list::<i32>();
        Ok(CompletenessColumn {
            array,
            found: c[0].as_primitive::<Int64Type>(),
            expected: c[1].as_primitive::<Int64Type>(),
            complete: c[2].as_boolean(),
            bootstrap: c[3].as_boolean(),
            dates,
            date_values: dates.values().as_primitive::<Date32Type>(),
        })
    }

    /// Every contributing date is supported (1900-01-01 to 2100-12-31), or the first
    /// that is not is an input error naming the row (numbered from `first_row`).
    pub fn check_dates(&self, location: &str, first_row: usize) -> Result<()> {
        use crate::model::dates::{FIRST_DAY, LAST_DAY};
        let values = self.date_values;
        let Some(at) = values
            .iter()
            .position(|d| d.is_some_and(|d| !(FIRST_DAY..=LAST_DAY).contains(&d)))
        else {
            return Ok(());
        };
        // The row whose list holds value `at`.
        let row = self
            .dates
            .offsets()
            .partition_point(|o| (*o as usize) <= at)
            - 1;
        Err(Error::input(format!(
            "{location}: column `historical_completeness.contributing_game_dates` at row {}: \
             {} is outside the supported dates (1900-01-01 to 2100-12-31)",
            first_row + row,
            days_to_date(values.value(at))
        )))
    }

    /// Whether row `i` is a NULL struct.
    pub fn is_null(&self, i: usize) -> bool {
        self.array.is_null(i)
    }

    /// The value at row `i`, or `None` when the struct is NULL. NULL fields read as
    /// 0/false, NULL dates are left out.
    pub fn get(&self, i: usize) -> Option<HistoricalCompleteness> {
        if self.array.is_null(i) {
            return None;
        }
        Some(HistoricalCompleteness {
            games_found: self.games_found(i),
            games_expected: self.games_expected(i),
            is_complete: self.is_complete(i),
            is_bootstrap: self.is_bootstrap(i),
            contributing_game_dates: self.dates_at(i).map(days_to_date).collect(),
        })
    }

    /// Whether row `i` holds the same value as row `j` of `other` (as [`Self::get`]
    /// reads them), without building either.
    pub fn same_as(&self, i: usize, other: &CompletenessColumn, j: usize) -> bool {
        match (self.is_null(i), other.is_null(j)) {
            (true, true) => true,
            (false, false) => {
                self.games_found(i) == other.games_found(j)
                    && self.games_expected(i) == other.games_expected(j)
                    && self.is_complete(i) == other.is_complete(j)
                    && self.is_bootstrap(i) == other.is_bootstrap(j)
                    && self.dates_at(i).eq(other.dates_at(j))
            }
            _ => false,
        }
    }

    /// games_found of a non-NULL row (NULL reads as 0).
    pub fn games_found(&self, i: usize) -> i64 {
        int(self.found, i)
    }

    pub fn games_expected(&self, i: usize) -> i64 {
        int(self.expected, i)
    }

    pub fn is_complete(&self, i: usize) -> bool {
        boolean(self.complete, i)
    }

    pub fn is_bootstrap(&self, i: usize) -> bool {
        boolean(self.bootstrap, i)
    }

    /// The contributing dates of row `i` as Date32 days, NULLs left out.
    fn dates_at(&self, i: usize) -> impl Iterator<Item = i32> + '_ {
        let range = match self.dates.is_null(i) {
            true => 0..0,
            false => {
                let offsets = self.dates.value_offsets();
                offsets[i] as usize..offsets[i + 1] as usize
            }
        };
        range
            .filter(|&k| self.date_values.is_valid(k))
            .map(|k| self.date_values.value(k))
    }
}

fn int(a: &Int64Array, i: usize) -> i64 {
    if a.is_null(i) { 0 } else { a.value(i) }
}

fn boolean(a: &BooleanArray, i: usize) -> bool {
    !a.is_null(i) && a.value(i)
}

/// Types equal up to the names of list items (`item` vs `element`) and nullability.
pub fn same_type_ignoring_item_names(a: &DataType, b: &DataType) -> bool {
    match (a, b) {
        (DataType::List(x), DataType::List(y))
        | (DataType::LargeList(x), DataType::LargeList(y)) => {
            same_type_ignoring_item_names(x.data_type(), y.data_type())
        }
        (DataType::Struct(x), DataType::Struct(y)) => {
            x.len() == y.len()
                && x.iter().zip(y.iter()).all(|(f, g)| {
                    f.name() == g.name()
                        && same_type_ignoring_item_names(f.data_type(), g.data_type())
                })
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn round_trips_values_nulls_and_empty_lists() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let full = HistoricalCompleteness {
            games_found: 2,
            games_expected: 3,
            is_complete: false,
            is_bootstrap: true,
            contributing_game_dates: vec![d("2025-01-03"), d("2025-01-03")],
        };
        let empty = HistoricalCompleteness {
            games_found: 0,
            games_expected: 0,
            is_complete: true,
            is_bootstrap: true,
            contributing_game_dates: vec![],
        };
        let mut b = CompletenessBuilder::with_capacity(3);
        b.append(Some(&full));
        b.append(None);
        b.append(Some(&empty));
        let array = b.finish();
        let col = CompletenessColumn::try_new(&array, "test").unwrap();
        assert_eq!(col.get(0), Some(full));
        assert_eq!(col.get(1), None);
        assert_eq!(col.get(2), Some(empty));
    }

    /// `same_as` and `append_row` read a row exactly as `get` does: NULL fields as
    /// 0/false, NULL dates left out.
    #[test]
    fn rows_compare_and_copy_as_their_values() {
        use arrow::array::{BooleanArray, Date32Array, Int64Array, ListArray};
        use arrow::buffer::OffsetBuffer;
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let value = |found, dates: &[&str]| HistoricalCompleteness {
            games_found: found,
            games_expected: 2,
            is_complete: found >= 2,
            is_bootstrap: true,
            contributing_game_dates: dates.iter().map(|s| d(s)).collect(),
        };
        let mut b = CompletenessBuilder::with_capacity(4);
        b.append(Some(&value(2, &["2025-01-03", "2025-01-01"])));
        b.append(Some(&value(1, &["2025-01-03"])));
        b.append(None);
        b.append(Some(&value(2, &["2025-01-01", "2025-01-03"])));
        let built = b.finish();
        // The first row again, with a NULL date in its list and NULL flags.
        let days = |s: &str| date_to_days(d(s));
        let dates = ListArray::new(
            Arc::new(arrow::datatypes::Field::new(
                "element",
                DataType::Date32,
                true,
            )),
            OffsetBuffer::from_lengths([3]),
            Arc::new(Date32Array::from(vec![
                Some(days("2025-01-03")),
                None,
                Some(days("2025-01-01")),
            ])),
            None,
        );
        let odd = StructArray::new(
            completeness_fields(),
            vec![
                Arc::new(Int64Array::from(vec![Some(2)])),
                Arc::new(Int64Array::from(vec![Some(2)])),
                Arc::new(BooleanArray::from(vec![Some(true)])),
                Arc::new(BooleanArray::from(vec![Some(true)])),
                Arc::new(dates),
            ],
            None,
        );
        let (a, b) = (
            CompletenessColumn::try_new(&built, "a").unwrap(),
            CompletenessColumn::try_new(&odd, "b").unwrap(),
        );
        assert_eq!(b.get(0), a.get(0));
        assert!(a.same_as(0, &b, 0) && b.same_as(0, &a, 0));
        assert!(!a.same_as(1, &b, 0), "games_found differs");
        assert!(
            !a.same_as(2, &b, 0) && a.same_as(2, &a, 2),
            "NULL equals only NULL"
        );
        assert!(!a.same_as(3, &b, 0), "the dates' order counts");
        let mut copy = CompletenessBuilder::with_capacity(2);
        copy.append_row(&b, 0);
        copy.append_row(&a, 2);
        let copy = copy.finish();
        let copy = CompletenessColumn::try_new(&copy, "copy").unwrap();
        assert_eq!((copy.get(0), copy.get(1)), (a.get(0), None));
    }

    #[test]
    fn rejects_a_struct_of_another_shape() {
        let array = arrow::array::Int64Array::from(vec![1]);
        let err = CompletenessColumn::try_new(&array, "features.parquet")
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("features.parquet: column historical_completeness has type Int64")
        );
    }
}
