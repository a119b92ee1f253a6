//! Test-only crash points: `COMPLETENESS_FAILPOINT=<name>` stops the run at `<name>`.
//!
//! The process prints `failpoint <name> reached` on stderr and then waits (without
//! blocking the runtime) so a test can kill it there with SIGKILL, or send SIGTERM or
//! SIGINT to exercise the clean stop. Unset, a failpoint costs one environment lookup.
//! The names are listed in [`NAMES`]; TESTING.md describes the crash matrix.

/// Every failpoint, in the order a run reaches them.
pub const NAMES: [&str; 11] = [
    "export:started",
    "export:written",
    "export:done",
    "compute:started",
    "compute:done",
    "diff:started",
    "diff:written",
    "diff:done",
    "merge:started",
    "merge:before-commit",
    "merge:after-commit",
];

const VAR: &str = "COMPLETENESS_FAILPOINT";

/// Stop here forever when the failpoint `name` is armed.
pub async fn hit(name: &str) {
    debug_assert!(NAMES.contains(&name), "unknown failpoint {name}");
    if std::env::var(VAR).is_ok_and(|armed| armed == name) {
        eprintln!("failpoint {name} reached");
        std::future::pending::<()>().await;
    }
}
