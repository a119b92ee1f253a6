//! The rows of rewritten data files compared with those of the files they replace,
//! straight from the files: an oracle for the verified rewrite
//! ([`crate::warehouse::delta::rewrite`]), independent of its own byte-level check
//! (the tests compare every commit of a full backfill with it), and the data-file
//! helpers the rewrite shares.
//!
//! Data files are immutable, so a commit changes no row outside the files it removes.
//! The rows of the files it adds must then be exactly the rows of the files it removed,
//! partition by partition, once the columns the merge may write are left out. Comparing
//! those files alone, as Arrow's row format (exact and order-free once sorted), costs a
//! fraction of scanning both table versions and running `EXCEPT ALL` in SQL.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use arrow::array::{ArrayRef, RecordBatch, new_null_array};
use arrow::datatypes::{Field, SchemaRef};
use arrow::row::{RowConverter, Rows, SortField};
use deltalake::DeltaTable;
use rayon::prelude::*;

use crate::error::{Error, Result};

/// A data file of the table, with the partition it belongs to.
#[derive(Debug, Clone)]
pub struct DataFile {
    pub path: PathBuf,
    /// `column=value` pairs, sorted: files of one partition share it.
    pub partition: String,
    pub deletion_vector: bool,
}

/// The sorted `column=value` text of a file's partition values.
pub fn partition_key(values: impl IntoIterator<Item = (String, Option<String>)>) -> String {
    let mut partition: Vec<String> = values
        .into_iter()
        .map(|(k, v)| format!("{k}={}", v.unwrap_or_else(|| "NULL".into())))
        .collect();
    partition.sort();
    partition.join("/")
}

/// How the rows a commit removed and added compare.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    pub rows_removed: usize,
    pub rows_added: usize,
    /// Added rows that match no removed row in the compared columns.
    pub rows_changed: usize,
    /// Files removed or added that carry a deletion vector (their rows can't be read raw).
    pub deletion_vectors: usize,
}

/// Compare the rows of the files `after` added since `before` with those of the files it
/// removed, over every column but the partition columns and `ignored`.
pub fn compare(before: &DeltaTable, after: &DeltaTable, ignored: &[&str]) -> Result<Comparison> {
    let old = files(before)?;
    let new = files(after)?;
    let old_paths: HashSet<&Path> = old.iter().map(|f| f.path.as_path()).collect();
    let new_paths: HashSet<&Path> = new.iter().map(|f| f.path.as_path()).collect();
    let removed: Vec<&DataFile> = old
        .iter()
        .filter(|f| !new_paths.contains(&*f.path))
        .collect();
    let added: Vec<&DataFile> = new
        .iter()
        .filter(|f| !old_paths.contains(&*f.path))
        .collect();
    let columns = compared_columns(after, ignored)?;
    compare_files(&removed, &added, &columns)
}

/// Compare the rows of the `added` files with those of the `removed` ones, partition by
/// partition, over `columns`.
pub fn compare_files(
    removed: &[&DataFile],
    added: &[&DataFile],
    columns: &[Field],
) -> Result<Comparison> {
    let deletion_vectors = removed
        .iter()
        .chain(added)
        .filter(|f| f.deletion_vector)
        .count();
    let mut partitions: BTreeMap<&str, (Vec<&DataFile>, Vec<&DataFile>)> = BTreeMap::new();
    for f in removed {
        partitions.entry(&f.partition).or_default().0.push(f);
    }
    for f in added {
        partitions.entry(&f.partition).or_default().1.push(f);
    }
    let per_partition = partitions
        .into_par_iter()
        .map(|(_, (removed, added))| compare_partition(&removed, &added, columns))
        .collect::<Result<Vec<_>>>()?;
    let mut total = Comparison {
        deletion_vectors,
        ..Default::default()
    };
    for c in per_partition {
        total.rows_removed += c.rows_removed;
        total.rows_added += c.rows_added;
        total.rows_changed += c.rows_changed;
    }
    Ok(total)
}

/// Every data file of `table` at its loaded version.
fn files(table: &DeltaTable) -> Result<Vec<DataFile>> {
    let context = format!("listing the files of {}", table.table_url());
    let root = table
        .table_url()
        .to_file_path()
        .map_err(|()| Error::input(format!("{context}: not a local table")))?;
    let snapshot = table.snapshot().map_err(Error::delta(context.clone()))?;
    snapshot
        .log_data()
        .iter()
        .map(|f| {
            Ok(DataFile {
                path: crate::warehouse::delta::paths::resolve(&root, &f.path())?,
                partition: partition_key(f.partition_values_map()),
                deletion_vector: f.deletion_vector_descriptor().is_some(),
            })
        })
        .collect()
}

/// The table's columns (at `after`), without the partition columns and `ignored`.
fn compared_columns(after: &DeltaTable, ignored: &[&str]) -> Result<Vec<Field>> {
    let context = format!("reading the schema of {}", after.table_url());
    let snapshot = after.snapshot().map_err(Error::delta(context))?;
    let partitions = snapshot.metadata().partition_columns();
    Ok(data_columns(
        &snapshot.snapshot().arrow_schema(),
        partitions,
        ignored,
    ))
}

/// The columns of `schema` stored in data files (not `partitions`), without `ignored`.
pub fn data_columns(schema: &SchemaRef, partitions: &[String], ignored: &[&str]) -> Vec<Field> {
    schema
        .fields()
        .iter()
        .filter(|f| !partitions.contains(f.name()) && !ignored.contains(&f.name().as_str()))
        .map(|f| f.as_ref().clone())
        .collect()
}

/// A converter of `columns` into Arrow's row format (exact, comparable rows).
pub fn row_converter(columns: &[Field]) -> Result<RowConverter> {
    RowConverter::new(
        columns
            .iter()
            .map(|f| SortField::new(f.data_type().clone()))
            .collect(),
    )
    .map_err(Error::arrow("comparing rows"))
}

/// One partition: the removed and added rows, sorted, compared as multisets.
fn compare_partition(
    removed: &[&DataFile],
    added: &[&DataFile],
    columns: &[Field],
) -> Result<Comparison> {
    let converter = row_converter(columns)?;
    let old = rows_of(removed, columns, &converter)?;
    let new = rows_of(added, columns, &converter)?;
    let mut old_sorted: Vec<_> = old.iter().collect();
    let mut new_sorted: Vec<_> = new.iter().collect();
    old_sorted.sort_unstable();
    new_sorted.sort_unstable();
    // Added rows left over after pairing equal rows off (both lists are sorted).
    let (mut i, mut changed) = (0, 0);
    for row in &new_sorted {
        while i < old_sorted.len() && old_sorted[i] < *row {
            i += 1;
        }
        if i < old_sorted.len() && old_sorted[i] == *row {
            i += 1;
        } else {
            changed += 1;
        }
    }
    Ok(Comparison {
        rows_removed: old.num_rows(),
        rows_added: new.num_rows(),
        rows_changed: changed,
        deletion_vectors: 0,
    })
}

/// The rows of `files` over `columns`, in Arrow's row format.
fn rows_of(files: &[&DataFile], columns: &[Field], converter: &RowConverter) -> Result<Rows> {
    let mut rows = converter.empty_rows(0, 0);
    for file in files {
        for batch in read(&file.path, columns)? {
            converter
                .append(&mut rows, &batch)
                .map_err(Error::arrow(format!("comparing {}", file.path.display())))?;
        }
    }
    Ok(rows)
}

/// `columns` of one file, each cast to the table's type (files written by different
/// writers store strings and lists differently); a column the file lacks reads as NULL,
/// as it does in Delta after a column was added.
fn read(path: &Path, columns: &[Field]) -> Result<Vec<Vec<ArrayRef>>> {
    let names: Vec<&str> = columns.iter().map(|c| c.name().as_str()).collect();
    crate::io::local_parquet::read_file(path, None, &names)?
        .map(|batch| {
            let batch = batch?;
            columns.iter().map(|c| column(&batch, c, path)).collect()
        })
        .collect()
}

/// `field` of a batch read from `path`, cast to its type; NULL where the file lacks it.
pub fn column(batch: &RecordBatch, field: &Field, path: &Path) -> Result<ArrayRef> {
    match batch.column_by_name(field.name()) {
        None => Ok(new_null_array(field.data_type(), batch.num_rows())),
        Some(a) if a.data_type() == field.data_type() => Ok(a.clone()),
        Some(a) => arrow::compute::cast(a, field.data_type()).map_err(Error::arrow(format!(
            "reading column {} of {}",
            field.name(),
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, ListBuilder, StringArray, StringBuilder};
    use arrow::datatypes::{DataType, Schema};
    use deltalake::protocol::SaveMode;

    use super::*;
    use crate::warehouse::LocalWarehouse;

    /// Rows `(key, day, note)`, a stamp and a list of tags; `day` is the partition.
    fn batch(rows: &[(&str, &str, &str)]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("key", DataType::Utf8, true),
            Field::new("day", DataType::Utf8, true),
            Field::new("note", DataType::Utf8, true),
            Field::new("stamp", DataType::Int64, true),
            Field::new(
                "tags",
                DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
                true,
            ),
        ]));
        let col = |i: usize| -> ArrayRef {
            Arc::new(StringArray::from(
                rows.iter().map(|r| [r.0, r.1, r.2][i]).collect::<Vec<_>>(),
            ))
        };
        let mut tags = ListBuilder::new(StringBuilder::new());
        for r in rows {
            tags.values().append_value(r.0);
            tags.values().append_value("x");
            tags.append(true);
        }
        let columns = vec![
            col(0),
            col(1),
            col(2),
            Arc::new(Int64Array::from(vec![1; rows.len()])) as ArrayRef,
            Arc::new(tags.finish()),
        ];
        RecordBatch::try_new(schema, columns).unwrap()
    }

    const ROWS: [(&str, &str, &str); 5] = [
        ("a", "d1", "n"),
        ("b", "d1", "n"),
        ("a", "d2", "n"),
        ("c", "d2", "n"),
        ("b", "d3", "n"),
    ];

    async fn table(dir: &Path) -> DeltaTable {
        let wh = LocalWarehouse::create(dir.to_str().unwrap()).unwrap();
        wh.create_table("t", vec![batch(&ROWS)], &["day"])
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn rewriting_only_an_ignored_column_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let before = table(dir.path()).await;
        let (after, _) = before
            .clone()
            .update()
            .with_predicate("key = 'a'")
            .with_update("stamp", "99")
            .await
            .unwrap();
        let c = compare(&before, &after, &["stamp"]).unwrap();
        // Both partitions holding an `a` were rewritten; every row is found again.
        assert_eq!((c.rows_removed, c.rows_added, c.rows_changed), (4, 4, 0));
        // Without ignoring it, the two rewritten stamps are changes.
        assert_eq!(compare(&before, &after, &[]).unwrap().rows_changed, 2);
    }

    #[tokio::test]
    async fn another_column_rewritten_counts_each_changed_row() {
        let dir = tempfile::tempdir().unwrap();
        let before = table(dir.path()).await;
        let (after, _) = before
            .clone()
            .update()
            .with_predicate("key = 'b'")
            .with_update("note", "'changed'")
            .await
            .unwrap();
        let c = compare(&before, &after, &["stamp"]).unwrap();
        assert_eq!((c.rows_removed, c.rows_added, c.rows_changed), (3, 3, 2));
        // A deletion is a different row count.
        let (deleted, _) = after
            .clone()
            .delete()
            .with_predicate("key = 'c'")
            .await
            .unwrap();
        let c = compare(&after, &deleted, &[]).unwrap();
        assert_eq!((c.rows_removed, c.rows_added), (2, 1));
    }

    #[tokio::test]
    async fn a_row_moved_to_another_partition_is_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let before = table(dir.path()).await;
        let mut moved = ROWS;
        moved[4].1 = "d2";
        let after = before
            .clone()
            .write(vec![batch(&moved)])
            .with_save_mode(SaveMode::Overwrite)
            .await
            .unwrap();
        let c = compare(&before, &after, &[]).unwrap();
        assert_eq!((c.rows_removed, c.rows_added, c.rows_changed), (5, 5, 1));
    }
}
