//! Data file paths as the Delta protocol writes them, and as a rewrite must honour them.
//!
//! A log names each data file by a URI: relative to the table root (what delta-rs and
//! Spark write) or absolute (`file:///…`, what a shallow clone writes, possibly outside
//! the table's own directory), percent-encoded. delta-rs hands the rewrite the decoded
//! path; readers replay the log by the raw string. So:
//!
//! - a file is read where its decoded path resolves ([`resolve`]): an absolute `file:`
//!   URI as it says, anything without a scheme below the root, any other scheme refused;
//! - a new file is always written below the root under a plain relative name
//!   ([`new_file`]), whatever the file it replaces was called;
//! - a remove only takes a file out of the table if the path it writes is byte for byte
//!   the path the add wrote. delta-rs writes a remove's path encoded its own way, which
//!   differs from another writer's encoding of some names (`%3D`, raw non-ASCII), so
//!   every remove is checked against the raw paths of the log ([`RawPaths`]) before the
//!   commit; a mismatch is refused instead of leaving the old file in the table.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, StructArray};
use chrono::NaiveDate;
use deltalake::kernel::Action;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::{Error, Result};
use crate::model::GAME_DATE;

/// Where the data file a log names as `path` (decoded) is, for a table at `root`.
pub fn resolve(root: &Path, path: &str) -> Result<PathBuf> {
    match url::Url::parse(path) {
        // A one-letter scheme is a Windows drive, not a URI.
        Ok(url) if url.scheme().len() > 1 => match url.scheme() {
            "file" => url.to_file_path().map_err(|()| {
                Error::input(format!(
                    "the log names a data file at `{path}`, not a file path"
                ))
            }),
            scheme => Err(Error::input(format!(
                "the log names a data file at `{path}` ({scheme}:), outside the local file \
                 system; this tool rewrites only data files on local disk"
            ))),
        },
        _ => Ok(root.join(path)),
    }
}

/// The path, relative to the table root, of a new data file of the `date` partition.
pub fn new_file(date: NaiveDate) -> String {
    format!(
        "{GAME_DATE}={date}/part-00000-{}-c000.snappy.parquet",
        uuid_like(rand::random::<u128>())
    )
}

/// `8-4-4-4-12` hex digits, the shape of the file names Delta writers use.
fn uuid_like(n: u128) -> String {
    let h = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The path an add or remove action is written with in the log (delta-rs encodes it
/// when it serialises the action).
pub fn logged_path(action: &Action) -> Option<String> {
    let value = serde_json::to_value(action).ok()?;
    let (_, inner) = value.as_object()?.iter().next()?;
    Some(inner.get("path")?.as_str()?.to_string())
}

/// A path as the log writes it, decoded as readers decode it.
pub fn decode(logged: &str) -> String {
    percent_encoding::percent_decode_str(logged)
        .decode_utf8_lossy()
        .into_owned()
}

/// What tells one data file from another cheaply: its size and a digest of its footer
/// (Parquet metadata, written last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMark {
    size: u64,
    footer: u64,
}

impl FileMark {
    pub fn of(path: &Path) -> Result<FileMark> {
        use std::hash::{Hash, Hasher};
        use std::io::{Read, Seek, SeekFrom};
        let context = "reading a data file's footer";
        let mut file = std::fs::File::open(path).map_err(Error::io(context, path))?;
        let size = file.metadata().map_err(Error::io(context, path))?.len();
        // The footer length is the 4 bytes before the closing magic; a file too short
        // for one is digested whole.
        let mut tail = [0u8; 8];
        let footer = match size >= 8 {
            true => {
                file.seek(SeekFrom::End(-8))
                    .map_err(Error::io(context, path))?;
                file.read_exact(&mut tail)
                    .map_err(Error::io(context, path))?;
                u64::from(u32::from_le_bytes(tail[..4].try_into().expect("4 bytes"))) + 8
            }
            false => size,
        };
        let mut bytes = vec![0u8; footer.min(size) as usize];
        file.seek(SeekFrom::End(-(bytes.len() as i64)))
            .map_err(Error::io(context, path))?;
        file.read_exact(&mut bytes)
            .map_err(Error::io(context, path))?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut hasher);
        Ok(FileMark {
            size,
            footer: hasher.finish(),
        })
    }
}

/// Every path an `add` action of the log holds, raw, as readers match them: from the
/// commit files and the checkpoints (classic, multi-part, v2 and their sidecars) the
/// log still holds. A superset of the active files' paths, which is all a remove
/// needs to be checked against.
#[derive(Debug, Default)]
pub struct RawPaths(HashSet<String>);

impl RawPaths {
    pub fn read(log_dir: &Path) -> Result<RawPaths> {
        let mut paths = HashSet::new();
        for file in log_files(log_dir)? {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            match name.as_deref() {
                Some(n) if n.ends_with(".json") => json_adds(&file, &mut paths)?,
                Some(n) if n.ends_with(".parquet") => parquet_adds(&file, &mut paths)?,
                _ => {}
            }
        }
        Ok(RawPaths(paths))
    }

    pub fn contains(&self, path: &str) -> bool {
        self.0.contains(path)
    }
}

/// The log's commit and checkpoint files, and the v2 checkpoints' sidecars.
fn log_files(log_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for dir in [log_dir.to_path_buf(), log_dir.join("_sidecars")] {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io("listing the Delta log", &dir)(e)),
        };
        files.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
    }
    Ok(files)
}

fn json_adds(file: &Path, paths: &mut HashSet<String>) -> Result<()> {
    let text = std::fs::read_to_string(file).map_err(Error::io("reading the Delta log", file))?;
    for line in text.lines().filter(|l| l.contains("\"add\"")) {
        let action: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| Error::input(format!("{}: not a Delta log file ({e})", file.display())))?;
        if let Some(path) = action.pointer("/add/path").and_then(|p| p.as_str()) {
            paths.insert(path.to_string());
        }
    }
    Ok(())
}

fn parquet_adds(file: &Path, paths: &mut HashSet<String>) -> Result<()> {
    let bad = |e: &dyn std::fmt::Display| Error::CorruptParquet {
        path: file.display().to_string(),
        reason: e.to_string(),
    };
    let f = std::fs::File::open(file).map_err(Error::io("reading a Delta checkpoint", file))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| bad(&e))?;
    let Ok(add) = builder.schema().index_of("add") else {
        return Ok(());
    };
    let mask = ProjectionMask::roots(builder.parquet_schema(), [add]);
    for batch in builder.with_projection(mask).build().map_err(|e| bad(&e))? {
        let batch = batch.map_err(|e| bad(&e))?;
        let adds: &StructArray = batch.column(0).as_struct();
        let Some(path) = adds.column_by_name("path") else {
            continue;
        };
        let path = path.as_string::<i32>();
        for i in (0..adds.len()).filter(|&i| adds.is_valid(i) && path.is_valid(i)) {
            paths.insert(path.value(i).to_string());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_below_the_root_and_file_uris_where_they_say() {
        let root = Path::new("/w/features");
        assert_eq!(
            resolve(root, "game_date=2026-01-20/part 0.parquet").unwrap(),
            root.join("game_date=2026-01-20/part 0.parquet")
        );
        assert_eq!(
            resolve(root, "file:///elsewhere/game_date=2026-01-20/a.parquet").unwrap(),
            Path::new("/elsewhere/game_date=2026-01-20/a.parquet")
        );
        // A decoded space in an absolute URI is still the file's name.
        assert_eq!(
            resolve(root, "file:///my data/a.parquet").unwrap(),
            Path::new("/my data/a.parquet")
        );
        let err = resolve(root, "s3://bucket/features/a.parquet").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().contains("outside the local file system"),
            "{err}"
        );
    }

    #[test]
    fn new_files_are_relative_in_their_partition_directory() {
        let date = NaiveDate::from_ymd_opt(2026, 1, 20).unwrap();
        let (first, second) = (new_file(date), new_file(date));
        assert!(
            first.starts_with("game_date=2026-01-20/part-00000-"),
            "{first}"
        );
        assert!(first.ends_with("-c000.snappy.parquet"));
        assert_ne!(first, second);
        assert!(url::Url::parse(&first).is_err(), "no scheme: {first}");
    }

    #[test]
    fn the_logged_path_is_the_encoded_one() {
        let add = deltalake::kernel::Add {
            path: "game_date=2026-01-20/part 0.parquet".into(),
            ..Default::default()
        };
        assert_eq!(
            logged_path(&Action::Add(add)).as_deref(),
            Some("game_date=2026-01-20/part%200.parquet")
        );
    }
}
