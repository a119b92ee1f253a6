//! A Delta Lake warehouse on the local file system.
//!
//! Opening never writes: a missing table is an input error, not an invitation to create
//! one (only [`LocalWarehouse::create_table`] creates).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;
use deltalake::DeltaTable;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::SaveMode;
use url::Url;

use crate::error::{Error, Result};

/// A warehouse root on local disk.
#[derive(Debug, Clone)]
pub struct LocalWarehouse {
    root: PathBuf,
    /// Tables opened before, by path: opening the latest version again reads only the
    /// commits since (a run opens the feature table four times; replaying its whole log
    /// each time was a tenth of a backfill).
    opened: Arc<Mutex<HashMap<PathBuf, DeltaTable>>>,
}

impl LocalWarehouse {
    /// A warehouse at `location`: a path or a `file://` URL. The root must exist.
    pub fn open(location: &str) -> Result<LocalWarehouse> {
        let root = local_path(location)?;
        if !root.is_dir() {
            return Err(Error::input(format!(
                "warehouse {location}: no such directory (pass --warehouse with the root that holds nba_predictions/ml_feature_store_v2)"
            )));
        }
        Ok(LocalWarehouse::at(root))
    }

    /// A warehouse root that may not exist yet (for `samples generate`).
    pub fn create(location: &str) -> Result<LocalWarehouse> {
        let root = local_path(location)?;
        std::fs::create_dir_all(&root).map_err(Error::io("creating warehouse root", &root))?;
        Ok(LocalWarehouse::at(root))
    }

    fn at(root: PathBuf) -> LocalWarehouse {
        LocalWarehouse {
            root,
            opened: Arc::default(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Directory of a table, e.g. `<root>/nba_predictions/ml_feature_store_v2`.
    pub fn table_path(&self, table: &str) -> PathBuf {
        self.root.join(table)
    }

    fn table_url(&self, table: &str) -> Result<Url> {
        let path = self.table_path(table);
        Url::from_directory_path(&path)
            .map_err(|_| Error::input(format!("table path {} is not absolute", path.display())))
    }

    /// Open the latest version of `table`.
    pub async fn open_table(&self, table: &str) -> Result<DeltaTable> {
        self.open_table_at(table, None).await
    }

    /// Open `table` at `version` (the latest when `None`).
    pub async fn open_table_at(&self, table: &str, version: Option<u64>) -> Result<DeltaTable> {
        let path = self.table_path(table);
        if !path.join("_delta_log").is_dir() {
            return Err(Error::input(format!(
                "no Delta table at {} (expected a _delta_log directory there)",
                path.display()
            )));
        }
        let url = self.table_url(table)?;
        let context = format!("opening Delta table {}", path.display());
        if version.is_none()
            && let Some(latest) = self.reopen(&path).await
        {
            return Ok(latest);
        }
        let opened = match version {
            Some(v) => deltalake::open_table_with_version(url, v).await,
            None => deltalake::open_table(url).await,
        }
        .map_err(Error::delta(context))?;
        readable(&opened, &path)?;
        if version.is_none() {
            self.remember(&path, &opened);
        }
        Ok(opened)
    }

    /// The latest version of a table opened before, brought up to date; `None` when it
    /// was not opened or cannot be updated (then it is opened afresh).
    async fn reopen(&self, path: &Path) -> Option<DeltaTable> {
        let mut table = self.opened.lock().ok()?.get(path)?.clone();
        table.update_incremental(None).await.ok()?;
        self.remember(path, &table);
        Some(table)
    }

    fn remember(&self, path: &Path, table: &DeltaTable) {
        if let Ok(mut opened) = self.opened.lock() {
            opened.insert(path.to_path_buf(), table.clone());
        }
    }

    /// Register `table` (latest version, or `version`) in `ctx` under `name`.
    pub async fn register(
        &self,
        ctx: &SessionContext,
        name: &str,
        table: &DeltaTable,
    ) -> Result<()> {
        let context = format!("reading Delta table {}", table.table_url());
        table
            .update_datafusion_session(&ctx.state())
            .map_err(Error::delta(context.clone()))?;
        let provider = table
            .table_provider()
            .await
            .map_err(Error::datafusion(context.clone()))?;
        ctx.register_table(name, provider)
            .map_err(Error::datafusion(context))?;
        Ok(())
    }

    /// Create `table` from `batches` (fails if it already exists).
    pub async fn create_table(
        &self,
        table: &str,
        batches: Vec<RecordBatch>,
        partition_by: &[&str],
    ) -> Result<DeltaTable> {
        let path = self.table_path(table);
        std::fs::create_dir_all(&path).map_err(Error::io("creating table directory", &path))?;
        let context = format!("creating Delta table {}", path.display());
        let handle = DeltaTable::try_from_url(self.table_url(table)?)
            .await
            .map_err(Error::delta(context.clone()))?;
        handle
            .write(batches)
            .with_save_mode(SaveMode::ErrorIfExists)
            .with_partition_columns(partition_by.iter().map(|c| c.to_string()))
            .with_writer_properties(crate::io::engine::writer_properties())
            .with_commit_properties(CommitProperties::default().with_create_checkpoint(false))
            .await
            .map_err(Error::delta(context))
    }
}

/// A table whose protocol delta-rs cannot read is refused by name when it is opened,
/// not at the first scan with a reader error.
fn readable(table: &DeltaTable, path: &Path) -> Result<()> {
    let state = table.snapshot().map_err(Error::delta(format!(
        "opening Delta table {}",
        path.display()
    )))?;
    deltalake::kernel::transaction::PROTOCOL
        .can_read_from(state)
        .map_err(|e| {
            Error::input(format!(
                "{}: {}, so nothing can be read from it and a merge into this table would be \
                 refused; nothing was written",
                path.display(),
                super::writable::protocol_reason(&e, "read")
            ))
        })
}

fn local_path(location: &str) -> Result<PathBuf> {
    let path = if let Some(rest) = location.strip_prefix("file://") {
        PathBuf::from(rest)
    } else if location.contains("://") {
        return Err(Error::input(format!(
            "warehouse {location}: only local paths and file:// URLs are supported for a Delta warehouse"
        )));
    } else {
        PathBuf::from(location)
    };
    std::path::absolute(&path).map_err(Error::io("resolving warehouse path", &path))
}
