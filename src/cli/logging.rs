//! Diagnostics on stderr through `tracing`: `-v` shows debug events (phases, jobs,
//! timings), `-vv` trace events, `-q` errors only; the default shows warnings. Under
//! `--json` they are JSON lines, so stderr stays machine-readable too. `RUST_LOG`, when
//! set, overrides the level (e.g. `RUST_LOG=completeness=trace,deltalake=debug`).

use tracing_subscriber::EnvFilter;

/// The filter for the flags: only this crate's events unless `RUST_LOG` says otherwise.
pub fn filter(verbose: u8, quiet: bool) -> EnvFilter {
    if let Ok(spec) = std::env::var("RUST_LOG")
        && let Ok(filter) = EnvFilter::try_new(spec)
    {
        return filter;
    }
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    EnvFilter::new(format!("completeness={level}"))
}

/// Install the subscriber for this process (once; later calls are ignored).
pub fn init(verbose: u8, quiet: bool, json: bool) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(verbose, quiet))
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match json {
        true => builder.json().try_init(),
        false => builder.without_time().try_init(),
    };
}
