//! Build script: the commit the binary is built from, for `--version`.

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|hash| format!("commit {}", hash.trim()))
        .unwrap_or_else(|| "commit unknown".to_string());
    println!("cargo:rustc-env=COMPLETENESS_COMMIT={commit}");
    // A new commit moves HEAD or the branch it points to.
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
}
