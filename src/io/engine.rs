//! The DataFusion session and Parquet I/O.
//!
//! Inputs are checked before DataFusion sees them so that errors name the file: every
//! Parquet footer is opened (cheap: metadata only) and the requested columns must exist.
//! Outputs are written to a temporary name and renamed, so a crash never leaves a
//! half-written file under the final name.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext, col};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::ColumnPath;

use crate::error::{Error, Result};
use crate::io::row_groups;
use crate::io::storage::Location;

/// A DataFusion session using every core.
pub fn session() -> SessionContext {
    session_of(SessionConfig::new())
}

/// A [`session`] whose plans split into `n` partitions (not one per core).
pub fn session_with_partitions(n: usize) -> SessionContext {
    session_of(SessionConfig::new().with_target_partitions(n))
}

fn session_of(config: SessionConfig) -> SessionContext {
    let mut config = config.with_information_schema(false);
    // Plain Utf8 strings: the kernel needs them, and casting views copied every string.
    config
        .options_mut()
        .execution
        .parquet
        .schema_force_view_types = false;
    SessionContext::new_with_config(config)
}

/// The Parquet files behind `path`: the file itself, or every `*.parquet` below a directory.
pub fn parquet_files(path: &Path, what: &str) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::input(format!("{what} {}: cannot read it: {e}", path.display())))?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    collect_parquet(path, &mut files)?;
    files.sort();
    if files.is_empty() {
        return Err(Error::input(format!(
            "{what} {}: the directory holds no .parquet files",
            path.display()
        )));
    }
    Ok(files)
}

fn collect_parquet(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(Error::io("listing directory", dir))?;
    for entry in entries {
        let path = entry.map_err(Error::io("listing directory", dir))?.path();
        if path.is_dir() {
            collect_parquet(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "parquet") {
            out.push(path);
        }
    }
    Ok(())
}

/// Open each file's footer; a truncated or corrupt file is an input error naming it.
pub fn check_footers(files: &[PathBuf]) -> Result<u64> {
    let mut rows = 0u64;
    for path in files {
        let corrupt = |reason: String| Error::CorruptParquet {
            path: path.display().to_string(),
            reason,
        };
        let file = File::open(path).map_err(|e| corrupt(e.to_string()))?;
        let reader = SerializedFileReader::new(file).map_err(|e| corrupt(e.to_string()))?;
        rows += reader.metadata().file_metadata().num_rows() as u64;
    }
    Ok(rows)
}

/// Read `columns` of the Parquet file or directory at `path` with DataFusion.
///
/// `what` ("features input", "games input") names the input in error messages.
pub async fn read_parquet(
    ctx: &SessionContext,
    path: &Path,
    columns: &[&str],
    what: &str,
) -> Result<Vec<RecordBatch>> {
    read_parquet_at(ctx, &Location::from(path), columns, what).await
}

/// [`read_parquet`] for any [`Location`]: a local path or an object-store prefix.
pub async fn read_parquet_at(
    ctx: &SessionContext,
    location: &Location,
    columns: &[&str],
    what: &str,
) -> Result<Vec<RecordBatch>> {
    let described = format!("{what} {location}");
    let df = open_parquet(ctx, location, what).await?;
    require_columns(df.schema().as_arrow(), columns, &described)?;
    let df = df
        .select(
            columns
                .iter()
                .map(|c| col(format!("\"{c}\"")))
                .collect::<Vec<_>>(),
        )
        .map_err(Error::datafusion(format!(
            "selecting columns of {described}"
        )))?;
    df.collect().await.map_err(unreadable(location))
}

/// Whether the Parquet at `location` has a column `name`.
pub async fn has_column(ctx: &SessionContext, location: &Location, name: &str) -> Result<bool> {
    let df = open_parquet(ctx, location, "parquet").await?;
    Ok(df.schema().as_arrow().field_with_name(name).is_ok())
}

/// The Parquet at `location` as a DataFrame, every footer checked first.
async fn open_parquet(
    ctx: &SessionContext,
    location: &Location,
    what: &str,
) -> Result<datafusion::prelude::DataFrame> {
    let name = match location {
        Location::Local(path) => {
            check_footers(&parquet_files(path, what)?)?;
            let mut name = path.to_string_lossy().to_string();
            if path.is_dir() && !name.ends_with('/') {
                name.push('/');
            }
            name
        }
        Location::Remote(remote) => {
            let url = crate::io::remote_parquet::checked_listing_url(remote, what).await?;
            ctx.register_object_store(&remote.base, Arc::clone(&remote.store));
            url
        }
    };
    ctx.read_parquet(name.as_str(), ParquetReadOptions::default())
        .await
        .map_err(unreadable(location))
}

fn unreadable(location: &Location) -> impl Fn(datafusion::error::DataFusionError) -> Error + '_ {
    move |e| Error::CorruptParquet {
        path: location.to_string(),
        reason: e.to_string(),
    }
}

/// Fail with a message listing the present columns when one of `columns` is missing.
pub fn require_columns(
    schema: &arrow::datatypes::Schema,
    columns: &[&str],
    location: &str,
) -> Result<()> {
    for c in columns {
        if schema.field_with_name(c).is_err() {
            let names: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(Error::input(format!(
                "{location}: missing column `{c}` (columns present: {})",
                names.join(", ")
            )));
        }
    }
    Ok(())
}

/// Writer settings for everything the tool writes: zstd, statistics on.
pub fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build()
}

/// Writer settings for the files a MERGE rewrites in the feature table: Snappy, the
/// codec Delta writers default to. A merge rewrites every partition it touches (one
/// file per game date, ~150 columns each), and setting up a zstd context per column
/// chunk was a tenth of a whole backfill's time on the sample (perf).
pub fn table_writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build()
}

/// Writer settings for computed results: dictionary encoding only for `player_lookup`.
///
/// Dates and small counts gain little from dictionaries, and building them was most of
/// the cost of writing a large result; after that, zstd was (callgrind, 1.4M records).
/// LZ4 compresses several times faster for a somewhat larger file. No statistics: the
/// file is read whole by the diff, never pruned, and computing min/max over 14M dates
/// was ~20 ms of a scale-30 write.
pub fn results_writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::LZ4_RAW)
        .set_statistics_enabled(parquet::file::properties::EnabledStatistics::None)
        .set_dictionary_enabled(false)
        .set_column_dictionary_enabled(ColumnPath::from(crate::model::PLAYER_LOOKUP), true)
        .build()
}

/// Write `batches` to `path` atomically (temporary file, then rename). Returns rows written.
pub fn write_parquet(path: &Path, schema: SchemaRef, batches: &[RecordBatch]) -> Result<usize> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(Error::io("creating directory", parent))?;
    }
    let tmp = crate::io::durable::tmp_of(path);
    let file = File::create(&tmp).map_err(Error::io("creating file", &tmp))?;
    let context = format!("writing {}", path.display());
    // A run's own files are read whole, once: the fast settings of computed results.
    let mut writer = ArrowWriter::try_new(file, schema, Some(results_writer_properties()))
        .map_err(Error::arrow(context.clone()))?;
    let mut rows = 0;
    for batch in batches {
        writer.write(batch).map_err(Error::arrow(context.clone()))?;
        rows += batch.num_rows();
    }
    let file = writer.into_inner().map_err(Error::arrow(context))?;
    crate::io::durable::publish(file, &tmp, path, &path.display().to_string())?;
    Ok(rows)
}

/// Rows per row group of the files a run writes and reads back whole (exports, results,
/// changes): small enough that one wave of groups (one per core) stays a small part of
/// the memory (at 131,072 the peak of `compute` at scale 30 was 2.0x the decoded inputs,
/// at 65,536 1.6x, in the same time), large enough to compress well.
pub const ROWS_PER_GROUP: usize = 65_536;

/// [`write_parquet`] in row groups of about [`ROWS_PER_GROUP`] rows, encoded on all
/// cores ([`write_row_groups`]); its readers decode the groups on all cores too (one
/// group, as a single `write_parquet` makes, is read on one). String views in `batches`
/// are written as the plain strings `schema` declares ([`plain_schema`]), uncopied.
pub fn write_parquet_grouped(
    path: &Path,
    schema: SchemaRef,
    batches: &[RecordBatch],
) -> Result<usize> {
    let rows = batches.iter().map(RecordBatch::num_rows).sum();
    let groups = match rows {
        0 => Vec::new(),
        _ => row_groups::slices(rows, row_groups::count(rows, ROWS_PER_GROUP)),
    };
    write_row_groups(
        path,
        schema,
        groups.len(),
        |i| Ok(row_groups::pieces(batches, groups[i].clone())),
        results_writer_properties(),
    )
}

/// `schema` with every string or binary view as its plain type. A table scan gives
/// views; a file declaring them makes every reader decode views, and cast them back (a
/// copy of each string) where it needs plain ones. The Parquet column is the same.
pub fn plain_schema(schema: &SchemaRef) -> SchemaRef {
    use arrow::datatypes::{DataType, Field, Schema};
    let plain = |f: &Field| match f.data_type() {
        DataType::Utf8View => f.clone().with_data_type(DataType::Utf8),
        DataType::BinaryView => f.clone().with_data_type(DataType::Binary),
        _ => f.clone(),
    };
    let fields: Vec<Field> = schema.fields().iter().map(|f| plain(f)).collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// Write `groups` row groups to `path`, row group `i` being the batches `make(i)`. Batches
/// are built and encoded on all cores, one wave of as many row groups as cores at a time,
/// and dropped once written: memory holds one wave, not the whole output (single-threaded
/// encoding was half of `compute`'s time). Atomic like [`write_parquet`].
pub fn write_row_groups(
    path: &Path,
    schema: SchemaRef,
    groups: usize,
    make: impl Fn(usize) -> Result<Vec<RecordBatch>> + Sync,
    mut properties: WriterProperties,
) -> Result<usize> {
    use parquet::arrow::arrow_writer::ArrowRowGroupWriterFactory;
    use parquet::file::writer::SerializedFileWriter;
    use rayon::prelude::*;

    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(Error::io("creating directory", parent))?;
    }
    let tmp = path.with_extension("parquet.tmp");
    let context = format!("writing {}", path.display());
    parquet::arrow::add_encoded_arrow_schema_to_metadata(&schema, &mut properties);
    let properties = Arc::new(properties);
    let parquet_schema = parquet::arrow::ArrowSchemaConverter::new()
        .with_coerce_types(properties.coerce_types())
        .convert(&schema)
        .map_err(Error::arrow(context.clone()))?;
    let file = File::create(&tmp).map_err(Error::io("creating file", &tmp))?;
    let mut writer = SerializedFileWriter::new(
        file,
        parquet_schema.root_schema_ptr(),
        Arc::clone(&properties),
    )
    .map_err(Error::arrow(context.clone()))?;
    let factory = ArrowRowGroupWriterFactory::new(&writer, Arc::clone(&schema));
    let wave = rayon::current_num_threads().max(1);
    let mut rows = 0;
    for first in (0..groups).step_by(wave) {
        let encoded = (first..(first + wave).min(groups))
            .map(|i| factory.create_column_writers(i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(Error::arrow(context.clone()))?
            .into_par_iter()
            .enumerate()
            .map(|(k, writers)| {
                let batches = make(first + k)?;
                let chunks =
                    encode(&schema, &batches, writers).map_err(Error::arrow(context.clone()))?;
                Ok((
                    batches.iter().map(RecordBatch::num_rows).sum::<usize>(),
                    chunks,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        for (n, chunks) in encoded {
            let mut group = writer
                .next_row_group()
                .map_err(Error::arrow(context.clone()))?;
            for chunk in chunks {
                chunk
                    .append_to_row_group(&mut group)
                    .map_err(Error::arrow(context.clone()))?;
            }
            group.close().map_err(Error::arrow(context.clone()))?;
            rows += n;
        }
    }
    let file = writer.into_inner().map_err(Error::arrow(context))?;
    crate::io::durable::publish(file, &tmp, path, &path.display().to_string())?;
    Ok(rows)
}

/// Batches through a row group's column writers, in order: its encoded column chunks.
fn encode(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    mut writers: Vec<parquet::arrow::arrow_writer::ArrowColumnWriter>,
) -> parquet::errors::Result<Vec<parquet::arrow::arrow_writer::ArrowColumnChunk>> {
    for batch in batches {
        let mut next = writers.iter_mut();
        for (field, array) in schema.fields().iter().zip(batch.columns()) {
            for leaf in parquet::arrow::arrow_writer::compute_leaves(field, array)? {
                next.next()
                    .expect("a writer per leaf column")
                    .write(&leaf)?;
            }
        }
    }
    writers.into_iter().map(|w| w.close()).collect()
}

/// An empty batch list with `schema`, for writers that need at least the schema.
pub fn empty(schema: &SchemaRef) -> Vec<RecordBatch> {
    vec![RecordBatch::new_empty(Arc::clone(schema))]
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, AsArray, Int64Array, StringViewArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn views(first: i64, rows: i64) -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("s", DataType::Utf8View, true),
        ]);
        let n: Vec<i64> = (first..first + rows).collect();
        let s = n
            .iter()
            .map(|i| (i % 3 != 0).then(|| format!("player-{i}")));
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from(n.clone())),
                Arc::new(s.collect::<StringViewArray>()),
            ],
        )
        .unwrap()
    }

    /// Views written under the plain schema read back as plain strings, every row once,
    /// in order, nulls kept, across batch and row-group boundaries.
    #[test]
    fn grouped_views_read_back_as_the_plain_rows_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.parquet");
        let batches = [views(0, 7), views(7, 0), views(7, 12), views(19, 1)];
        let schema = plain_schema(&batches[0].schema());
        assert_eq!(write_parquet_grouped(&path, schema, &batches).unwrap(), 20);
        let back = crate::io::local_parquet::read_columns(&path, &["n", "s"], "out").unwrap();
        let mut rows = Vec::new();
        for b in &back {
            assert_eq!(b.schema().field(1).data_type(), &DataType::Utf8);
            let s = b.column(1).as_string::<i32>();
            let n = b.column(0).as_primitive::<arrow::datatypes::Int64Type>();
            rows.extend(
                (0..b.num_rows())
                    .map(|i| (n.value(i), s.is_valid(i).then(|| s.value(i).to_string()))),
            );
        }
        let expected: Vec<(i64, Option<String>)> = (0..20)
            .map(|i| (i, (i % 3 != 0).then(|| format!("player-{i}"))))
            .collect();
        assert_eq!(rows, expected);
    }

    #[test]
    fn no_rows_make_a_readable_file_of_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.parquet");
        let batches = [views(0, 0)];
        let schema = plain_schema(&batches[0].schema());
        assert_eq!(write_parquet_grouped(&path, schema, &batches).unwrap(), 0);
        let back = crate::io::local_parquet::read_columns(&path, &["n", "s"], "out").unwrap();
        assert_eq!(back.iter().map(RecordBatch::num_rows).sum::<usize>(), 0);
    }
}
