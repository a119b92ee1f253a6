//! What the operator sees while a run works: one line per finished phase on stderr,
//! and, on a terminal only, a spinner with the elapsed time while a phase runs (an
//! export or a MERGE job on BigQuery can take minutes). Piped, `--json` or `-q`, no
//! spinner is drawn: logs and scripts get plain lines or nothing.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::pipeline::backfill::{Progress, Step};
use crate::run::manifest::Phase;

/// The progress callback for a run: silent under `-q`; spinners only when `spinners`
/// (stderr is a terminal and the output is not JSON).
pub fn reporter(quiet: bool, spinners: bool) -> Progress {
    let current: Mutex<Option<ProgressBar>> = Mutex::new(None);
    Arc::new(move |step: Step| {
        if quiet {
            return;
        }
        let mut current = current.lock().expect("progress lock");
        if let Some(bar) = current.take() {
            bar.finish_and_clear();
        }
        match step {
            Step::Started(phase) if spinners => *current = Some(spinner(phase)),
            Step::Started(_) => {}
            Step::Done(_, line) | Step::Note(_, line) => eprintln!("{line}"),
        }
    })
}

/// Whether stderr can show a spinner for this output.
pub fn spinners_wanted(json: bool) -> bool {
    !json && std::io::stderr().is_terminal()
}

fn spinner(phase: Phase) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("a valid template"),
    );
    bar.set_message(format!("{}…", what(phase)));
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn what(phase: Phase) -> &'static str {
    match phase {
        Phase::Export => "exporting",
        Phase::Compute => "computing",
        Phase::Diff => "comparing",
        Phase::Merge => "merging",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without a terminal nothing is drawn, and `-q` hears nothing at all: the callback
    /// must not panic or hold its lock across steps.
    #[test]
    fn steps_without_spinners_are_plain() {
        for quiet in [false, true] {
            let progress = reporter(quiet, false);
            progress(Step::Started(Phase::Export));
            progress(Step::Done(Phase::Export, "export: 3 rows (1 ms)"));
            progress(Step::Note(Phase::Merge, "warning: x"));
        }
        let progress = reporter(false, true);
        progress(Step::Started(Phase::Compute));
        progress(Step::Done(Phase::Compute, "compute: done (1 ms)"));
    }
}
