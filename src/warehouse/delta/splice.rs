//! One Parquet data file rewritten with some columns replaced: every other column chunk
//! is copied byte for byte, only the replaced columns are decoded and encoded again.
//!
//! A rewrite of the feature table replaces two or three of its ~70 columns (the struct,
//! `updated_at`, the extended struct). Decoding and encoding the rest would cost most of
//! the time and prove nothing; copying their chunks keeps them exactly as they were, and
//! [`verify`] proves it by comparing the bytes. The row groups of the new file are the
//! old file's, row for row.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{Field, Schema, SchemaRef};
use bytes::Bytes;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::arrow_writer::compute_leaves;
use parquet::column::writer::ColumnCloseResult;
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaData, RowGroupMetaData};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterPropertiesPtr};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{SchemaDescriptor, Type, TypePtr};

use crate::error::{Error, Result};

/// A data file read whole into memory, its footer (page indexes included) parsed once:
/// its chunks are read many times (per column, per check), and a file of the feature
/// table is small (one game date).
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub bytes: Bytes,
    metadata: ArrowReaderMetadata,
}

impl Source {
    pub fn read(path: &Path) -> Result<Source> {
        let bytes =
            Bytes::from(std::fs::read(path).map_err(Error::io("reading a data file", path))?);
        let options = ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Optional);
        let metadata = ArrowReaderMetadata::load(&bytes, options).map_err(corrupt(path))?;
        Ok(Source {
            path: path.to_path_buf(),
            bytes,
            metadata,
        })
    }

    fn reader(&self) -> ParquetRecordBatchReaderBuilder<Bytes> {
        ParquetRecordBatchReaderBuilder::new_with_metadata(
            self.bytes.clone(),
            self.metadata.clone(),
        )
    }

    fn parquet(&self) -> &ParquetMetaData {
        self.metadata.metadata()
    }

    /// The raw bytes of column chunk `i` of a row group.
    fn chunk(&self, group: &RowGroupMetaData, i: usize) -> Result<Bytes> {
        let (start, len) = group.column(i).byte_range();
        let range = start as usize..(start + len) as usize;
        if range.end > self.bytes.len() {
            return Err(Error::CorruptParquet {
                path: self.path.display().to_string(),
                reason: format!("column chunk {i} ends past the end of the file"),
            });
        }
        Ok(self.bytes.slice(range))
    }
}

/// `fields` of every row group of the file at `path`, each cast to its field's type (a
/// column the file lacks reads as NULL): one `Vec` per row group, one array per field.
pub fn read_columns(source: &Source, fields: &[Field]) -> Result<Vec<Vec<ArrayRef>>> {
    let path = source.path.as_path();
    let builder = source.reader();
    let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
    let roots: Vec<usize> = names
        .iter()
        .filter_map(|n| builder.schema().index_of(n).ok())
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let groups = builder.metadata().row_groups().to_vec();
    let mut out = Vec::with_capacity(groups.len());
    for (rg, meta) in groups.iter().enumerate() {
        let reader = source
            .reader()
            .with_projection(mask.clone())
            .with_row_groups(vec![rg])
            .with_batch_size(meta.num_rows().max(1) as usize)
            .build()
            .map_err(corrupt(path))?;
        let batches = reader
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::CorruptParquet {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        let rows = meta.num_rows() as usize;
        let batch = match batches.as_slice() {
            [one] => one.clone(),
            [] => RecordBatch::new_empty(Arc::new(Schema::empty())),
            many => arrow::compute::concat_batches(&many[0].schema(), many)
                .map_err(Error::arrow(format!("reading {}", path.display())))?,
        };
        let columns = fields
            .iter()
            .map(|f| match batch.column_by_name(f.name()) {
                Some(_) => crate::warehouse::delta::commit_rows::column(&batch, f, path),
                None => Ok(arrow::array::new_null_array(f.data_type(), rows)),
            })
            .collect::<Result<Vec<_>>>()?;
        out.push(columns);
    }
    Ok(out)
}

/// Write `to`: the file `from` with the top-level columns `replaced` (in the table's
/// types) taking `values` (per row group, one array per replaced field, as many rows as
/// that row group). A replaced column the old file lacks is added at the end. Returns
/// the new file's size.
pub fn splice(
    from: &Source,
    to: &Path,
    replaced: &[Field],
    values: &[Vec<ArrayRef>],
    properties: WriterProperties,
) -> Result<u64> {
    let context = || format!("rewriting {} into {}", from.path.display(), to.display());
    let metadata = from.parquet();
    let old_arrow = from.metadata.schema().clone();
    let layout = Layout::new(metadata, &old_arrow, replaced)?;
    // Parquet writes a file's offset index for every chunk or for none: copied chunks
    // keep the old file's, so the encoded ones get one only when the old file had them.
    let mut properties = match metadata.offset_index() {
        Some(_) => properties,
        None => without_page_index(properties),
    };
    parquet::arrow::add_encoded_arrow_schema_to_metadata(&layout.arrow, &mut properties);
    let properties: WriterPropertiesPtr = Arc::new(properties);
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)
            .map_err(Error::io("creating a staging directory", parent))?;
    }
    let target = File::create(to).map_err(Error::io("writing a rewritten file", to))?;
    let mut writer = SerializedFileWriter::new(target, layout.root.clone(), properties.clone())
        .map_err(|e| Error::arrow(context())(e))?;
    if values.len() != metadata.num_row_groups() {
        return Err(Error::Invariant(format!(
            "{}: {} row groups of new values for {} row groups",
            context(),
            values.len(),
            metadata.num_row_groups()
        )));
    }
    for (rg, group_values) in values.iter().enumerate() {
        let mut out = writer
            .next_row_group()
            .map_err(|e| Error::arrow(context())(e))?;
        for part in &layout.parts {
            match part {
                Part::Copy(leaves) => {
                    for &leaf in leaves {
                        out.append_column(&from.bytes, close_result(metadata, rg, leaf))
                            .map_err(|e| Error::arrow(context())(e))?;
                    }
                }
                Part::Encode(k) => {
                    let field = &replaced[*k];
                    let chunks = encode(field, &group_values[*k], &properties)
                        .map_err(|e| Error::arrow(context())(e))?;
                    for chunk in chunks {
                        chunk
                            .append_to_row_group(&mut out)
                            .map_err(|e| Error::arrow(context())(e))?;
                    }
                }
            }
        }
        out.close().map_err(|e| Error::arrow(context())(e))?;
    }
    // Flushed to disk with the whole rewrite, once it is in the table.
    let file = writer
        .into_inner()
        .map_err(|e| Error::arrow(context())(e))?;
    Ok(file
        .metadata()
        .map_err(Error::io("reading a rewritten file's size", to))?
        .len())
}

/// Check `to` against `from`: the same row groups of the same rows, every column chunk
/// but those of `replaced` identical byte for byte (and none lost). Returns the
/// `replaced` columns of `to`, read back, per row group.
pub fn verify(from: &Source, to: &Path, replaced: &[Field]) -> Result<Vec<Vec<ArrayRef>>> {
    let invariant = |what: String| {
        Error::Invariant(format!(
            "write invariant violated before the commit: {} against {}: {what}; nothing was committed",
            to.display(),
            from.path.display()
        ))
    };
    let to = Source::read(to)?;
    let (old_meta, new_meta) = (from.parquet(), to.parquet());
    let rows =
        |m: &ParquetMetaData| -> Vec<i64> { m.row_groups().iter().map(|g| g.num_rows()).collect() };
    if rows(old_meta) != rows(new_meta) {
        return Err(invariant(format!(
            "row groups of {:?} rows became {:?}",
            rows(old_meta),
            rows(new_meta)
        )));
    }
    let replaced_names: Vec<&str> = replaced.iter().map(|f| f.name().as_str()).collect();
    for (rg, (a, b)) in old_meta
        .row_groups()
        .iter()
        .zip(new_meta.row_groups())
        .enumerate()
    {
        let leaves = |g: &RowGroupMetaData| -> Vec<(String, usize)> {
            (0..g.num_columns())
                .map(|i| (g.column(i).column_path().string(), i))
                .filter(|(path, _)| !replaced_names.contains(&path.split('.').next().unwrap_or("")))
                .collect()
        };
        let (kept_old, kept_new) = (leaves(a), leaves(b));
        if kept_old
            .iter()
            .map(|l| &l.0)
            .ne(kept_new.iter().map(|l| &l.0))
        {
            return Err(invariant(format!(
                "row group {rg}: its other columns differ in number or order"
            )));
        }
        for ((path, i), (_, j)) in kept_old.iter().zip(&kept_new) {
            if from.chunk(a, *i)? != to.chunk(b, *j)? {
                return Err(invariant(format!(
                    "changed in columns other than {}: column {path} of row group {rg}",
                    replaced_names.join(", ")
                )));
            }
        }
    }
    read_columns(&to, replaced)
}

/// How the new file is made of the old one: its schema, and per top-level column,
/// the old leaves to copy or the replaced field to encode.
struct Layout {
    root: TypePtr,
    arrow: SchemaRef,
    parts: Vec<Part>,
}

enum Part {
    /// Leaf indices of the old file, copied in order.
    Copy(Vec<usize>),
    /// The replaced field with this index, encoded.
    Encode(usize),
}

impl Layout {
    fn new(
        metadata: &ParquetMetaData,
        old_arrow: &SchemaRef,
        replaced: &[Field],
    ) -> Result<Layout> {
        let descr = metadata.file_metadata().schema_descr();
        let old_root = descr.root_schema();
        let mut fields: Vec<TypePtr> = Vec::new();
        let mut arrow_fields: Vec<Field> = Vec::new();
        let mut parts = Vec::new();
        let mut encoded = vec![false; replaced.len()];
        for (top, ty) in old_root.get_fields().iter().enumerate() {
            let name = ty.name();
            let arrow_field = old_arrow
                .field_with_name(name)
                .cloned()
                .map_err(|e| Error::input(format!("a data file's column {name}: {e}")))?;
            match replaced.iter().position(|f| f.name() == name) {
                Some(k) => {
                    fields.push(parquet_type(&replaced[k])?);
                    arrow_fields.push(replaced[k].clone());
                    parts.push(Part::Encode(k));
                    encoded[k] = true;
                }
                None => {
                    let leaves = (0..descr.num_columns())
                        .filter(|&i| descr.get_column_root_idx(i) == top)
                        .collect();
                    fields.push(ty.clone());
                    arrow_fields.push(arrow_field);
                    parts.push(Part::Copy(leaves));
                }
            }
        }
        for (k, field) in replaced.iter().enumerate().filter(|(k, _)| !encoded[*k]) {
            fields.push(parquet_type(field)?);
            arrow_fields.push(field.clone());
            parts.push(Part::Encode(k));
        }
        let root = Type::group_type_builder(old_root.name())
            .with_fields(fields)
            .build()
            .map_err(Error::arrow("building a data file's schema"))?;
        Ok(Layout {
            root: Arc::new(root),
            arrow: Arc::new(Schema::new(arrow_fields).with_metadata(old_arrow.metadata().clone())),
            parts,
        })
    }
}

/// The Parquet type of one Arrow field, as the Arrow writer lays it out.
fn parquet_type(field: &Field) -> Result<TypePtr> {
    let descr = descriptor(field)?;
    Ok(descr.root_schema().get_fields()[0].clone())
}

fn descriptor(field: &Field) -> Result<SchemaDescriptor> {
    parquet::arrow::ArrowSchemaConverter::new()
        .convert(&Schema::new(vec![field.clone()]))
        .map_err(Error::arrow(format!(
            "the Parquet type of {}",
            field.name()
        )))
}

/// Encode one field's values into its leaf column chunks.
#[allow(deprecated)] // the row-group factory builds writers for a whole file's schema only
fn encode(
    field: &Field,
    values: &ArrayRef,
    properties: &WriterPropertiesPtr,
) -> parquet::errors::Result<Vec<parquet::arrow::arrow_writer::ArrowColumnChunk>> {
    let descr =
        descriptor(field).map_err(|e| parquet::errors::ParquetError::General(e.to_string()))?;
    let schema = Arc::new(Schema::new(vec![field.clone()]));
    let mut writers =
        parquet::arrow::arrow_writer::get_column_writers(&descr, properties, &schema)?;
    for (writer, leaf) in writers.iter_mut().zip(compute_leaves(field, values)?) {
        writer.write(&leaf)?;
    }
    writers.into_iter().map(|w| w.close()).collect()
}

/// Chunk `leaf` of row group `rg` as written, with its page indexes, for copying it
/// whole (the writer moves the page offsets to where the chunk lands).
fn close_result(metadata: &ParquetMetaData, rg: usize, leaf: usize) -> ColumnCloseResult {
    let group = metadata.row_group(rg);
    let column = group.column(leaf);
    ColumnCloseResult {
        bytes_written: column.compressed_size() as u64,
        rows_written: group.num_rows() as u64,
        metadata: column.clone(),
        bloom_filter: None,
        column_index: metadata.column_index().map(|c| c[rg][leaf].clone()),
        offset_index: metadata.offset_index().map(|o| o[rg][leaf].clone()),
    }
}

/// Properties that write no page index: chunk statistics only, no offset index.
fn without_page_index(properties: WriterProperties) -> WriterProperties {
    properties
        .into_builder()
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_offset_index_disabled(true)
        .build()
}

fn corrupt(path: &Path) -> impl Fn(parquet::errors::ParquetError) -> Error + '_ {
    move |e| Error::CorruptParquet {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{AsArray, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Int64Type};
    use parquet::arrow::ArrowWriter;

    fn fields() -> Vec<Field> {
        vec![
            Field::new("a", DataType::Int64, false),
            Field::new("b", DataType::Utf8, true),
            Field::new("c", DataType::Int64, true),
        ]
    }

    /// Two row groups of three rows each.
    fn write_file(path: &Path, properties: WriterProperties) {
        let schema = Arc::new(Schema::new(fields()));
        let mut writer = ArrowWriter::try_new(
            File::create(path).unwrap(),
            schema.clone(),
            Some(properties),
        )
        .unwrap();
        for start in [0i64, 3] {
            let batch = RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int64Array::from_iter_values(start..start + 3)),
                    Arc::new(StringArray::from(vec![Some("x"), None, Some("z")])),
                    Arc::new(Int64Array::from_iter_values(
                        (start..start + 3).map(|v| v * 10),
                    )),
                ],
            )
            .unwrap();
            writer.write(&batch).unwrap();
            writer.flush().unwrap();
        }
        writer.close().unwrap();
    }

    fn new_b(rg: usize) -> Vec<ArrayRef> {
        vec![Arc::new(StringArray::from(vec![
            format!("new{rg}0"),
            format!("new{rg}1"),
            format!("new{rg}2"),
        ]))]
    }

    fn spliced(properties: WriterProperties) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (
            dir.path().join("old.parquet"),
            dir.path().join("new.parquet"),
        );
        write_file(&from, properties.clone());
        let replaced = [fields()[1].clone()];
        let from = Source::read(&from).unwrap();
        splice(&from, &to, &replaced, &[new_b(0), new_b(1)], properties).unwrap();
        verify(&from, &to, &replaced).unwrap();
        (dir, to)
    }

    /// A temporary directory, an old file written there with the default settings, and
    /// the path of the new one.
    fn old_and_new() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (
            dir.path().join("old.parquet"),
            dir.path().join("new.parquet"),
        );
        write_file(&from, WriterProperties::default());
        (dir, from, to)
    }

    fn source(path: &Path) -> Source {
        Source::read(path).unwrap()
    }

    fn read_all(path: &Path) -> RecordBatch {
        let batches: Vec<RecordBatch> = Source::read(path)
            .unwrap()
            .reader()
            .build()
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap();
        arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap()
    }

    fn check_contents(path: &Path) {
        let all = read_all(path);
        let a: Vec<i64> = all.column(0).as_primitive::<Int64Type>().values().to_vec();
        assert_eq!(a, vec![0, 1, 2, 3, 4, 5]);
        let b: Vec<&str> = all.column(1).as_string::<i32>().iter().flatten().collect();
        assert_eq!(
            b,
            vec!["new00", "new01", "new02", "new10", "new11", "new12"]
        );
        let c: Vec<i64> = all.column(2).as_primitive::<Int64Type>().values().to_vec();
        assert_eq!(c, vec![0, 10, 20, 30, 40, 50]);
    }

    #[test]
    fn a_file_with_page_indexes_keeps_them_and_its_other_columns() {
        let (_dir, to) = spliced(WriterProperties::default());
        check_contents(&to);
        let meta = source(&to).parquet().clone();
        let offsets = meta.offset_index().expect("offset index kept");
        assert_eq!(offsets.len(), 2);
        assert!(offsets.iter().all(|rg| rg.len() == 3));
    }

    #[test]
    fn a_file_without_page_indexes_is_written_without_them() {
        let (_dir, to) = spliced(without_page_index(WriterProperties::default()));
        check_contents(&to);
        let meta = source(&to).parquet().clone();
        assert!(meta.offset_index().is_none());
    }

    #[test]
    fn a_replaced_column_the_file_lacks_is_added_at_the_end() {
        let (_dir, from, to) = old_and_new();
        let replaced = [Field::new("d", DataType::Utf8, true)];
        splice(
            &source(&from),
            &to,
            &replaced,
            &[new_b(0), new_b(1)],
            WriterProperties::default(),
        )
        .unwrap();
        let all = read_all(&to);
        let names: Vec<&str> = all
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(names, vec!["a", "b", "c", "d"]);
        assert_eq!(
            read_columns(&source(&to), &replaced).unwrap(),
            vec![new_b(0), new_b(1)]
        );
    }

    #[test]
    fn verify_refuses_a_change_outside_the_replaced_columns() {
        let (_dir, from, to) = old_and_new();
        let (b, c) = (fields()[1].clone(), fields()[2].clone());
        let c_values = |rg: i64| -> ArrayRef { Arc::new(Int64Array::from(vec![rg, rg, -1])) };
        let values = [
            vec![new_b(0)[0].clone(), c_values(0)],
            vec![new_b(1)[0].clone(), c_values(1)],
        ];
        splice(
            &source(&from),
            &to,
            &[b.clone(), c],
            &values,
            WriterProperties::default(),
        )
        .unwrap();
        let err = verify(&source(&from), &to, &[b]).unwrap_err().to_string();
        assert!(
            err.contains("changed in columns other than b: column c"),
            "{err}"
        );
    }

    #[test]
    fn verify_refuses_different_row_groups() {
        let (_dir, from, to) = old_and_new();
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(6))
            .build();
        let schema = Arc::new(Schema::new(fields()));
        let mut writer =
            ArrowWriter::try_new(File::create(&to).unwrap(), schema, Some(props)).unwrap();
        writer.write(&read_all(&from)).unwrap();
        writer.close().unwrap();
        let err = verify(&source(&from), &to, &[fields()[1].clone()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("row groups of [3, 3] rows became [6]"),
            "{err}"
        );
    }
}
