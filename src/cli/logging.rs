//! Diagnostics on stderr through `tracing`: `-v` shows debug events (the warehouse, run
//! directory and config in use, phases, queries and jobs with their timings), `-vv`
//! this crate's trace events and the dependencies' info events, `-q` errors only; the
//! default shows warnings. Under `--json` they are JSON lines, so stderr stays
//! machine-readable too. `RUST_LOG`, when set, overrides the level (e.g.
//! `RUST_LOG=completeness=trace,deltalake=debug`; a bare `RUST_LOG=debug` lets every
//! dependency speak).

use tracing_subscriber::EnvFilter;

/// The filter for the flags: this crate's events (`-v` debug, `-vv` trace, with the
/// dependencies' info events: table snapshots, scans), unless `RUST_LOG` says otherwise.
pub fn filter(verbose: u8, quiet: bool) -> EnvFilter {
    if let Ok(spec) = std::env::var("RUST_LOG")
        && let Ok(filter) = EnvFilter::try_new(spec)
    {
        return filter;
    }
    EnvFilter::new(match (quiet, verbose) {
        (true, _) => "completeness=error",
        (false, 0) => "completeness=warn",
        (false, 1) => "completeness=debug",
        (false, _) => "info,completeness=trace",
    })
}

/// Install the subscriber for this process (once; later calls are ignored): events
/// timestamped, coloured only on a terminal.
pub fn init(verbose: u8, quiet: bool, json: bool) {
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(verbose, quiet))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(verbose > 1);
    let _ = match json {
        true => builder.json().try_init(),
        false => builder.try_init(),
    };
}
