//! Settings: command-line flags, then `COMPLETENESS_*` environment variables (both via
//! clap), then `completeness.toml`, then defaults. This is the only place that looks at
//! the file system to decide where things are.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::io::storage::{GcsOptions, S3Options, Stores};
use crate::warehouse::bigquery::BigQueryConfig;

/// Default config file, read from the working directory when present.
pub const DEFAULT_CONFIG: &str = "completeness.toml";
/// The embedded default warehouse, used when nothing else names one.
pub const DEFAULT_WAREHOUSE: &str = "data-samples/warehouse";

/// The contents of `completeness.toml`.
#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `local` (a Delta warehouse root, the default) or `bigquery`.
    pub kind: Option<Kind>,
    /// Warehouse root (path or file:// URL).
    pub warehouse: Option<String>,
    /// Root of run directories.
    pub run_dir: Option<PathBuf>,
    /// The BigQuery warehouse, used with `kind = "bigquery"`.
    pub bigquery: Option<BigQueryConfig>,
    /// How to reach `gs://` (staging, exports, compute inputs).
    #[serde(default)]
    pub gcs: GcsOptions,
    /// How to reach `s3://`.
    #[serde(default)]
    pub s3: S3Options,
    /// The file this was read from (`None`: no file).
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

/// Which warehouse a run works on.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    #[default]
    Local,
    Bigquery,
}

impl Kind {
    /// How logs name it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Local => "local",
            Kind::Bigquery => "BigQuery",
        }
    }
}

impl FileConfig {
    /// Read `path`; with no explicit path, `./completeness.toml` if it exists.
    pub fn load(path: Option<&Path>) -> Result<FileConfig> {
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from(DEFAULT_CONFIG), false),
        };
        if !required && !path.exists() {
            return Ok(FileConfig::default());
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::input(format!("config {}: cannot read it: {e}", path.display())))?;
        let mut file: FileConfig = toml::from_str(&text)
            .map_err(|e| Error::input(format!("config {}: {e}", path.display())))?;
        file.path = Some(std::path::absolute(&path).unwrap_or(path));
        Ok(file)
    }
}

/// Where the run reads and writes, once every source has been consulted.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The config file in use (printed by `doctor` and with `-v`): a file picked up from
    /// the working directory must never act unseen.
    pub config_file: Option<PathBuf>,
    pub kind: Kind,
    pub warehouse: Option<String>,
    pub run_dir: PathBuf,
    pub bigquery: Option<BigQueryConfig>,
    pub stores: Stores,
}

/// A setting from the environment (`COMPLETENESS_*`); an empty variable is unset.
pub fn from_env<T: From<String>>(name: &str) -> Option<T> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(T::from)
}

impl Settings {
    /// Combine flags/env (already merged by clap) with the config file and defaults.
    pub fn resolve(
        warehouse: Option<String>,
        run_dir: Option<PathBuf>,
        file: FileConfig,
    ) -> Settings {
        let warehouse = warehouse
            .or_else(|| from_env("COMPLETENESS_WAREHOUSE"))
            .or(file.warehouse)
            .or_else(|| {
                Path::new(DEFAULT_WAREHOUSE)
                    .is_dir()
                    .then(|| DEFAULT_WAREHOUSE.to_string())
            });
        let run_dir = run_dir
            .or_else(|| from_env("COMPLETENESS_RUN_DIR"))
            .or(file.run_dir)
            .unwrap_or_else(|| PathBuf::from(crate::run::dir::DEFAULT_ROOT));
        let kind = match std::env::var("COMPLETENESS_KIND").as_deref() {
            Ok("bigquery") => Kind::Bigquery,
            Ok("local") => Kind::Local,
            _ => file.kind.unwrap_or_default(),
        };
        Settings {
            config_file: file.path,
            kind,
            warehouse,
            run_dir,
            bigquery: file.bigquery,
            stores: Stores {
                gcs: file.gcs,
                s3: file.s3,
            },
        }
    }

    /// The BigQuery configuration, or an error saying what is missing.
    pub fn require_bigquery(&self) -> Result<&BigQueryConfig> {
        self.bigquery.as_ref().ok_or_else(|| {
            Error::input(format!(
                "kind = \"bigquery\" needs a [bigquery] section in {DEFAULT_CONFIG} (project, staging_uri; see README, Production setup)"
            ))
        })
    }

    /// The warehouse, or an error saying how to name one.
    pub fn require_warehouse(&self) -> Result<&str> {
        self.warehouse.as_deref().ok_or_else(|| {
            Error::input(format!(
                "no warehouse: pass --warehouse DIR, set COMPLETENESS_WAREHOUSE, or put `warehouse = \"...\"` in {DEFAULT_CONFIG} (the default {DEFAULT_WAREHOUSE} does not exist here)"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file() {
        let file = FileConfig {
            warehouse: Some("from-file".into()),
            run_dir: Some("runs-file".into()),
            ..Default::default()
        };
        let s = Settings::resolve(Some("flag".into()), None, file.clone());
        assert_eq!(s.warehouse.as_deref(), Some("flag"));
        assert_eq!(s.run_dir, PathBuf::from("runs-file"));
        let s = Settings::resolve(None, Some("r".into()), file);
        assert_eq!(s.warehouse.as_deref(), Some("from-file"));
        assert_eq!(s.run_dir, PathBuf::from("r"));
    }

    /// A file picked up from the working directory is recorded, so it is reported.
    #[test]
    fn the_file_in_use_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "warehouse = \"x\"\n").unwrap();
        let s = Settings::resolve(None, None, FileConfig::load(Some(&path)).unwrap());
        assert_eq!(s.config_file.as_deref(), Some(path.as_path()));
        let none = Settings::resolve(None, None, FileConfig::default());
        assert_eq!(none.config_file, None);
    }

    #[test]
    fn unknown_keys_in_the_file_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "warehous = \"x\"\n").unwrap();
        let err = FileConfig::load(Some(&path)).unwrap_err();
        assert!(
            err.to_string().contains("unknown field `warehous`"),
            "{err}"
        );
        assert_eq!(err.exit_code(), 2);
    }
}
