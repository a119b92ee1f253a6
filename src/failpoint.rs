//! Test-only crash points: `COMPLETENESS_FAILPOINT=<name>` stops the run at `<name>`.
//!
//! Compiled in only with the `test-hooks` feature (the test command's); without it every
//! failpoint and injection is a no-op the compiler removes, so an operator's build
//! cannot be steered by these variables.
//!
//! The process prints `failpoint <name> reached` on stderr and then waits (without
//! blocking the runtime) so a test can kill it there with SIGKILL, or send SIGTERM or
//! SIGINT to exercise the clean stop. With `COMPLETENESS_FAILPOINT_RELEASE=<file>` it
//! waits only until that file exists, so a test can interleave two writers exactly.
//! Unset, a failpoint costs one environment lookup.
//! The names are listed in [`NAMES`]; TESTING.md describes the crash matrix.

/// Every failpoint, in the order a run reaches them.
pub const NAMES: [&str; 12] = [
    "export:started",
    "export:written",
    "export:done",
    "compute:started",
    "compute:done",
    "diff:started",
    "diff:written",
    "diff:done",
    "merge:started",
    "merge:files-written",
    "merge:verified",
    "merge:after-commit",
];

#[cfg(feature = "test-hooks")]
const VAR: &str = "COMPLETENESS_FAILPOINT";
#[cfg(feature = "test-hooks")]
const RELEASE_VAR: &str = "COMPLETENESS_FAILPOINT_RELEASE";

/// Park here when the failpoint `name` is armed: forever, or until the release file exists.
#[cfg(feature = "test-hooks")]
pub async fn hit(name: &str) {
    debug_assert!(NAMES.contains(&name), "unknown failpoint {name}");
    if !std::env::var(VAR).is_ok_and(|armed| armed == name) {
        return;
    }
    eprintln!("failpoint {name} reached");
    let Some(release) = std::env::var_os(RELEASE_VAR) else {
        return std::future::pending().await;
    };
    while !std::path::Path::new(&release).exists() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    eprintln!("failpoint {name} released");
}

/// Without `test-hooks`: nothing.
#[cfg(not(feature = "test-hooks"))]
pub async fn hit(name: &str) {
    debug_assert!(NAMES.contains(&name), "unknown failpoint {name}");
}

/// Test-only faults that make the tool misbehave, to prove its own checks catch it.
pub const INJECTIONS: [&str; 2] = ["merge:touch-data-hash", "report:fail-after-commit"];

#[cfg(feature = "test-hooks")]
const INJECT_VAR: &str = "COMPLETENESS_INJECT";

/// Whether the fault `name` is injected in this process (never without `test-hooks`).
#[cfg(not(feature = "test-hooks"))]
pub fn injected(name: &str) -> bool {
    debug_assert!(INJECTIONS.contains(&name), "unknown injection {name}");
    false
}

/// Whether the fault `name` is injected in this process.
#[cfg(feature = "test-hooks")]
pub fn injected(name: &str) -> bool {
    debug_assert!(INJECTIONS.contains(&name), "unknown injection {name}");
    std::env::var(INJECT_VAR).is_ok_and(|armed| armed == name)
}
