//! Test-only crash points: `COMPLETENESS_FAILPOINT=<name>` stops the run at `<name>`.
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

const VAR: &str = "COMPLETENESS_FAILPOINT";
const RELEASE_VAR: &str = "COMPLETENESS_FAILPOINT_RELEASE";

/// Park here when the failpoint `name` is armed: forever, or until the release file exists.
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

/// Test-only faults that make the tool misbehave, to prove its own checks catch it.
pub const INJECTIONS: [&str; 1] = ["merge:touch-data-hash"];

const INJECT_VAR: &str = "COMPLETENESS_INJECT";

/// Whether the fault `name` is injected in this process.
pub fn injected(name: &str) -> bool {
    debug_assert!(INJECTIONS.contains(&name), "unknown injection {name}");
    std::env::var(INJECT_VAR).is_ok_and(|armed| armed == name)
}
