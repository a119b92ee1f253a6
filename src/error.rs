//! The crate's error type and how each kind maps to an exit code.
//!
//! Exit codes are part of the CLI contract: 2 means the input or the invocation was bad
//! and nothing was written; 3 means an external system (file system, object store, the
//! Delta log) failed and nothing was committed. Exit 1 (the command ran and found
//! failures) is not an error: commands report it through their metrics.

use std::path::PathBuf;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input or usage: a missing column, a wrong type, a NULL key, a reversed range.
    #[error("{0}")]
    Input(String),

    /// A file that should be Parquet could not be read as Parquet.
    #[error("{path}: not a readable Parquet file: {reason}")]
    CorruptParquet { path: String, reason: String },

    /// A check of the tool's own output failed (a bug), before anything was committed.
    #[error("{0}")]
    Invariant(String),

    /// A local file or directory could not be read or written.
    #[error("{context} ({path}): {source}")]
    Io {
        context: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A Delta Lake operation failed.
    #[error("{context}: {source}")]
    Delta {
        context: String,
        #[source]
        source: deltalake::DeltaTableError,
    },

    /// A DataFusion query failed.
    #[error("{context}: {source}")]
    DataFusion {
        context: String,
        #[source]
        source: datafusion::error::DataFusionError,
    },

    /// A remote service (BigQuery, an object store) failed or refused a request.
    #[error("{context}: {message}")]
    Remote { context: String, message: String },

    /// A step after the merge committed failed: the data is written, the run's record
    /// of it is not. Exit 3, saying so; `--resume` finishes the run.
    #[error("{source} (the merge itself was committed{committed}; `{resume}` finishes the run)")]
    AfterCommit {
        run_id: String,
        /// The command that finishes the run (`completeness backfill --resume …`).
        resume: String,
        /// `: version 7`, `: BigQuery job …`, or empty.
        committed: String,
        source: Box<Error>,
    },

    /// A BigQuery job ran and failed; `reason` is BigQuery's (`invalidQuery`, …).
    #[error("BigQuery job {job} ({what}) failed: {reason}: {message}")]
    JobFailed {
        job: String,
        what: String,
        reason: String,
        message: String,
    },

    /// Writing Parquet or Arrow data failed.
    #[error("{context}: {source}")]
    Arrow {
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Error {
    /// Shorthand for [`Error::Input`].
    pub fn input(message: impl Into<String>) -> Error {
        Error::Input(message.into())
    }

    /// The process exit code this error maps to.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Input(_) | Error::CorruptParquet { .. } => 2,
            _ => 3,
        }
    }

    /// A stable name for the kind of error, for scripts (`--json`'s `error.kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Input(_) => "input",
            Error::CorruptParquet { .. } => "corrupt_parquet",
            Error::Invariant(_) => "invariant",
            Error::Io { .. } => "io",
            Error::Delta { .. } => "delta",
            Error::DataFusion { .. } => "datafusion",
            Error::Remote { .. } => "remote",
            Error::AfterCommit { .. } => "after_commit",
            Error::JobFailed { .. } => "job_failed",
            Error::Arrow { .. } => "arrow",
        }
    }

    /// The error as `--json` prints it: `{"error": {"kind", "message", "exit_code"}}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "error": {
                "kind": self.kind(),
                "message": self.to_string(),
                "exit_code": self.exit_code(),
            }
        })
    }

    /// Wrap an I/O error with what was being done and where.
    pub fn io(
        context: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let (context, path) = (context.into(), path.into());
        move |source| Error::Io {
            context,
            path,
            source,
        }
    }

    /// Wrap a Delta error with what was being done.
    pub fn delta(context: impl Into<String>) -> impl FnOnce(deltalake::DeltaTableError) -> Error {
        let context = context.into();
        move |source| Error::Delta { context, source }
    }

    /// Wrap a DataFusion error with what was being done.
    pub fn datafusion(
        context: impl Into<String>,
    ) -> impl FnOnce(datafusion::error::DataFusionError) -> Error {
        let context = context.into();
        move |source| Error::DataFusion { context, source }
    }

    /// Wrap an Arrow or Parquet error with what was being done.
    pub fn arrow<E>(context: impl Into<String>) -> impl FnOnce(E) -> Error
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        let context = context.into();
        move |source| Error::Arrow {
            context,
            source: Box::new(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_errors_exit_2_and_external_errors_exit_3() {
        assert_eq!(Error::input("bad").exit_code(), 2);
        let corrupt = Error::CorruptParquet {
            path: "x.parquet".into(),
            reason: "EOF".into(),
        };
        assert_eq!(corrupt.exit_code(), 2);
        let io = Error::io("reading", "/x")(std::io::Error::other("boom"));
        assert_eq!(io.exit_code(), 3);
        assert_eq!(io.to_string(), "reading (/x): boom");
    }
}
