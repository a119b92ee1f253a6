//! Shell completions and the man page, generated from the clap definitions, so they
//! never drift from `--help`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use super::Cli;
use crate::error::{Error, Result};

/// The completion script for `shell`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut Cli::command(), "completeness", out);
}

/// The man page, in roff.
pub fn man(out: &mut dyn Write) -> Result<()> {
    clap_mangen::Man::new(Cli::command())
        .render(out)
        .map_err(Error::io("writing the man page", "stdout"))
}

/// Every man page, the main one and one per command (what the main page refers to as
/// `completeness-backfill(1)`, …), written into `dir`; the files written.
pub fn man_pages(dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(Error::io("creating the man page directory", dir))?;
    clap_mangen::generate_to(Cli::command(), dir).map_err(Error::io("writing man pages", dir))?;
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(Error::io("listing man pages", dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "1"))
        .collect();
    pages.sort();
    Ok(pages)
}
