//! The output of `compute`: the windows, in output order, turned into Arrow a slice at a
//! time, so that the writer can encode and drop each slice before building the next.

use std::ops::Range;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Int64Array, ListArray, RecordBatch, StringBuilder,
    StructArray,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::DataType;
use rayon::prelude::*;

use super::kernel::{self, Window, Windows};
use super::keys::Interner;
use super::results_schema;
use crate::error::{Error, Result};
use crate::model::{WINDOW_GAMES, completeness_fields};

/// Every record's window in output order, with the player names the windows refer to.
pub struct Computed {
    names: Vec<Box<str>>,
    windows: Windows,
}

impl Computed {
    /// Run the kernel over the interned keys and put the records in output order.
    pub fn new(interner: Interner, features: Vec<(u32, i32)>, games: Vec<(u32, i32)>) -> Self {
        let names = interner.into_names();
        let mut windows = kernel::compute_windows(features, games, names.len());
        kernel::sort_for_output(&mut windows.records, &names);
        Computed { names, windows }
    }

    /// Number of output records.
    pub fn len(&self) -> usize {
        self.windows.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The output records `rows` as one batch.
    pub fn batch(&self, rows: Range<usize>) -> Result<RecordBatch> {
        let records = &self.windows.records[rows];
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.players(records)),
            Arc::new(Date32Array::from_iter_values(
                records.iter().map(|w| w.date),
            )),
            Arc::new(struct_column(records, &self.windows)),
        ];
        RecordBatch::try_new(results_schema(), columns).map_err(Error::arrow("building results"))
    }

    /// All records as `parts` batches of about equal size, built on all cores.
    pub fn batches(&self, parts: usize) -> Result<Vec<RecordBatch>> {
        crate::io::row_groups::slices(self.len(), parts)
            .into_par_iter()
            .map(|rows| self.batch(rows))
            .collect()
    }

    fn players(&self, records: &[Window]) -> arrow::array::StringArray {
        let name = |w: &Window| &*self.names[w.player as usize];
        let bytes = records.iter().map(|w| name(w).len()).sum();
        let mut players = StringBuilder::with_capacity(records.len(), bytes);
        for w in records {
            players.append_value(name(w));
        }
        players.finish()
    }
}

/// The struct column straight from the windows: every child array sized exactly and
/// filled in one pass, without per-value builder calls (the largest part of building
/// the output at scale 30). No NULLs: every key gets a struct.
fn struct_column(records: &[Window], windows: &Windows) -> StructArray {
    let total: usize = records.iter().map(|w| w.found as usize).sum();
    let mut offsets = Vec::with_capacity(records.len() + 1);
    let mut dates = Vec::with_capacity(total);
    offsets.push(0i32);
    for w in records {
        dates.extend(windows.contributing(w));
        offsets.push(dates.len() as i32);
    }
    let fields = completeness_fields();
    let item = match fields[4].data_type() {
        DataType::List(item) => item.clone(),
        _ => unreachable!("contributing_game_dates is a list"),
    };
    let list = ListArray::new(
        item,
        OffsetBuffer::new(offsets.into()),
        Arc::new(Date32Array::from(dates)),
        None,
    );
    let int = |f: fn(&Window) -> u8| {
        Int64Array::from_iter_values(records.iter().map(|w| i64::from(f(w))))
    };
    let flag =
        |f: fn(&Window) -> bool| BooleanArray::from(records.iter().map(f).collect::<Vec<_>>());
    let columns: Vec<ArrayRef> = vec![
        Arc::new(int(|w| w.found)),
        Arc::new(int(|w| w.expected)),
        Arc::new(flag(|w| w.found >= w.expected)),
        Arc::new(flag(|w| usize::from(w.expected) < WINDOW_GAMES)),
        Arc::new(list),
    ];
    StructArray::new(fields, columns, None)
}
