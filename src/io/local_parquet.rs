//! A few columns of local Parquet files, read straight with the parquet crate: one task
//! per row group on all cores, no query planning. `compute` reads its two key columns
//! this way (DataFusion took ~55 ms at scale 30 for what this does in less); inputs in
//! object storage still go through DataFusion ([`crate::io::engine::read_parquet_at`]).

use std::fs::File;
use std::path::Path;

use arrow::array::RecordBatch;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rayon::prelude::*;

use crate::error::{Error, Result};

const BATCH_ROWS: usize = 65_536;

/// `columns` of the Parquet file or directory at `path` (any order of batches).
pub fn read_columns(path: &Path, columns: &[&str], what: &str) -> Result<Vec<RecordBatch>> {
    let batches = map_row_groups(path, columns, what, |b, _| Ok(b))?;
    Ok(batches.concat())
}

/// [`read_columns`] of `columns` and of those of `optional` the files have.
pub fn read_columns_with_optional(
    path: &Path,
    columns: &[&str],
    optional: &[&str],
    what: &str,
) -> Result<Vec<RecordBatch>> {
    let wanted = [columns, optional].concat();
    let batches = map_row_groups_of(path, columns, &wanted, what, |b, _| Ok(b))?;
    Ok(batches.concat())
}

/// `columns` of every row group at `path`, each batch turned into a `T` by `f` (with the
/// position of its first row in its file) as soon as it is decoded, on all cores, so
/// that only the row groups in flight are ever decoded at once: what `compute` does to
/// keep its peak memory near the size of its result.
pub fn map_row_groups<T: Send>(
    path: &Path,
    columns: &[&str],
    what: &str,
    f: impl Fn(RecordBatch, usize) -> Result<T> + Sync,
) -> Result<Vec<Vec<T>>> {
    map_row_groups_of(path, columns, columns, what, f)
}

/// [`map_row_groups`] of those of `wanted` the files have, which must include `required`.
fn map_row_groups_of<T: Send>(
    path: &Path,
    required: &[&str],
    wanted: &[&str],
    what: &str,
    f: impl Fn(RecordBatch, usize) -> Result<T> + Sync,
) -> Result<Vec<Vec<T>>> {
    let files = crate::io::engine::parquet_files(path, what)?;
    let mut units = Vec::new();
    for file in &files {
        let builder = open(file)?;
        let described = format!("{what} {}", file.display());
        crate::io::engine::require_columns(builder.schema(), required, &described)?;
        let mut first_row = 0usize;
        for (rg, meta) in builder.metadata().row_groups().iter().enumerate() {
            units.push((file.clone(), rg, first_row));
            first_row += meta.num_rows() as usize;
        }
    }
    units
        .par_iter()
        .map(|(file, rg, first_row)| {
            let mut row = *first_row;
            read_file(file, Some(*rg), wanted)?
                .map(|b| {
                    let b = b?;
                    let at = row;
                    row += b.num_rows();
                    f(b, at)
                })
                .collect()
        })
        .collect()
}

fn open(file: &Path) -> Result<ParquetRecordBatchReaderBuilder<File>> {
    let corrupt = |reason: String| Error::CorruptParquet {
        path: file.display().to_string(),
        reason,
    };
    let f = File::open(file).map_err(|e| corrupt(e.to_string()))?;
    ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| corrupt(e.to_string()))
}

/// The batches of one file (or one of its row groups), with those of `columns` the file
/// has; the caller decides what a missing column means.
pub fn read_file<'a>(
    file: &'a Path,
    row_group: Option<usize>,
    columns: &[&str],
) -> Result<impl Iterator<Item = Result<RecordBatch>> + 'a> {
    let builder = open(file)?;
    let roots: Vec<usize> = columns
        .iter()
        .filter_map(|c| builder.schema().index_of(c).ok())
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let corrupt = move |reason: String| Error::CorruptParquet {
        path: file.display().to_string(),
        reason,
    };
    let builder = builder.with_projection(mask).with_batch_size(BATCH_ROWS);
    let builder = match row_group {
        Some(rg) => builder.with_row_groups(vec![rg]),
        None => builder,
    };
    let reader = builder.build().map_err(|e| corrupt(e.to_string()))?;
    Ok(reader.map(move |b| b.map_err(|e| corrupt(e.to_string()))))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;

    use super::*;

    /// A file of `rows` rows in row groups of 2, columns a (int), b (text), c (int).
    fn write(path: &Path, first: i64, rows: i64) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, false),
            Field::new("b", DataType::Utf8, false),
            Field::new("c", DataType::Int64, false),
        ]));
        let a: Vec<i64> = (first..first + rows).collect();
        let b: Vec<String> = a.iter().map(|x| format!("p{x}")).collect();
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(a.clone())),
                Arc::new(StringArray::from(b)),
                Arc::new(Int64Array::from(a)),
            ],
        )
        .unwrap();
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(2))
            .build();
        let mut w = ArrowWriter::try_new(File::create(path).unwrap(), schema, Some(props)).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }

    #[test]
    fn every_row_group_of_every_file_and_only_the_columns_asked() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("one.parquet"), 0, 5);
        write(&dir.path().join("two.parquet"), 100, 3);
        let batches = read_columns(dir.path(), &["b", "a"], "input").unwrap();
        assert!(batches.len() >= 5, "one batch per row group at least");
        let mut seen: Vec<i64> = Vec::new();
        for b in &batches {
            let schema = b.schema();
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            assert_eq!(names, ["a", "b"]);
            seen.extend(
                b.column(0)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .unwrap()
                    .values(),
            );
        }
        seen.sort_unstable();
        assert_eq!(seen, [0, 1, 2, 3, 4, 100, 101, 102]);
    }

    #[test]
    fn optional_columns_are_read_when_present_and_required_ones_must_be() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("one.parquet"), 0, 3);
        let batches =
            read_columns_with_optional(dir.path(), &["c"], &["zz", "a"], "input").unwrap();
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert_eq!(rows, 3);
        for b in &batches {
            let schema = b.schema();
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            assert_eq!(names, ["a", "c"]);
        }
        let err =
            read_columns_with_optional(dir.path(), &["zz"], &["a"], "games input").unwrap_err();
        assert!(err.to_string().contains("zz"), "{err}");
    }

    #[test]
    fn a_missing_column_or_a_broken_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.parquet");
        write(&good, 0, 2);
        let err = read_columns(&good, &["a", "game_date"], "games input").unwrap_err();
        assert!(
            err.to_string().contains("game_date") && err.to_string().contains("good.parquet"),
            "{err}"
        );
        let bad = dir.path().join("bad.parquet");
        std::fs::write(&bad, b"not parquet at all").unwrap();
        let err = read_columns(&bad, &["a"], "games input").unwrap_err();
        assert!(matches!(err, Error::CorruptParquet { .. }), "{err}");
        assert!(err.to_string().contains("bad.parquet"), "{err}");
    }
}
