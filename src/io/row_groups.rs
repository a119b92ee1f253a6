//! How the files a run writes and reads back whole are cut into row groups: a multiple
//! of the cores, so that they are encoded, and decoded again, one group per core.

use std::ops::Range;

use arrow::array::RecordBatch;

/// Row groups for `rows` rows of about `rows_per_group` each: a multiple of the cores,
/// so that every wave of a writer keeps all cores busy.
pub fn count(rows: usize, rows_per_group: usize) -> usize {
    let cores = rayon::current_num_threads().max(1);
    rows.div_ceil(rows_per_group.max(1)).div_ceil(cores).max(1) * cores
}

/// `0..len` cut into `parts` consecutive ranges of about equal size (at least one).
pub fn slices(len: usize, parts: usize) -> Vec<Range<usize>> {
    let step = len.div_ceil(parts.max(1)).max(1);
    let mut out: Vec<Range<usize>> = (0..len)
        .step_by(step)
        .map(|s| s..(s + step).min(len))
        .collect();
    if out.is_empty() {
        out.push(0..0);
    }
    out
}

/// The rows `range` of `batches`, counted across the batches in order: slices of them,
/// nothing copied.
pub fn pieces(batches: &[RecordBatch], range: Range<usize>) -> Vec<RecordBatch> {
    let mut pieces = Vec::new();
    let mut first = 0;
    for batch in batches {
        let rows = first..first + batch.num_rows();
        let (from, to) = (range.start.max(rows.start), range.end.min(rows.end));
        if from < to {
            pieces.push(batch.slice(from - first, to - from));
        }
        first = rows.end;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, Int64Array};
    use arrow::datatypes::{DataType, Field, Schema};
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn slices_cover_every_row_once_in_order() {
        for (len, parts) in [(0, 2), (1, 2), (5, 2), (10, 3), (7, 7), (3, 8)] {
            let s = slices(len, parts);
            let flat: Vec<usize> = s.iter().flat_map(|r| r.clone()).collect();
            assert_eq!(flat, (0..len).collect::<Vec<_>>(), "{len} in {parts}");
            assert!(s.len() <= parts.max(1), "{len} in {parts}: {s:?}");
        }
    }

    fn values(batch: &RecordBatch) -> Vec<i64> {
        let column = batch.column(0).as_any().downcast_ref::<Int64Array>();
        column.expect("an Int64 column").values().to_vec()
    }

    proptest! {
        /// The pieces of the groups over any batching of the rows are the rows, once, in order.
        #[test]
        fn the_pieces_of_the_groups_are_the_rows_once_in_order(
            sizes in prop::collection::vec(0usize..7, 0..6),
            parts in 1usize..5,
        ) {
            let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
            let mut next = 0i64;
            let batches: Vec<RecordBatch> = sizes
                .iter()
                .map(|&n| {
                    let v: Vec<i64> = (next..next + n as i64).collect();
                    next += n as i64;
                    RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(v))])
                        .unwrap()
                })
                .collect();
            let rows: usize = sizes.iter().sum();
            let mut seen = Vec::new();
            for range in slices(rows, parts) {
                let group = pieces(&batches, range.clone());
                let n: usize = group.iter().map(RecordBatch::num_rows).sum();
                prop_assert_eq!(n, range.len());
                prop_assert!(group.iter().all(|b| b.num_rows() > 0 && b.column(0).null_count() == 0));
                seen.extend(group.iter().flat_map(values));
            }
            prop_assert_eq!(seen, (0..next).collect::<Vec<_>>());
        }
    }
}
