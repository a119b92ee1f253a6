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
    reporter_with(quiet, spinners, |line| crate::tell!("{line}"))
}

/// [`reporter`], printing each line with `print`.
fn reporter_with(
    quiet: bool,
    spinners: bool,
    print: impl Fn(&str) + Send + Sync + 'static,
) -> Progress {
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
            Step::Done(_, line) | Step::Note(_, line) => print(line),
        }
    })
}

/// Whether stderr can show a spinner for this output.
pub fn spinners_wanted(json: bool) -> bool {
    !json && std::io::stderr().is_terminal()
}

fn spinner(phase: Phase) -> ProgressBar {
    labelled(what(phase))
}

/// A spinner saying `label…` with the elapsed time.
fn labelled(label: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("a valid template"),
    );
    bar.set_message(format!("{label}…"));
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A wait outside a run's phases (`samples generate`, `rollback`): a spinner with the
/// elapsed time while the guard lives, on a terminal only.
pub struct Working(Option<ProgressBar>);

impl Working {
    pub fn start(label: &str, spinners: bool) -> Working {
        Working(spinners.then(|| labelled(label)))
    }
}

impl Drop for Working {
    fn drop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
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

    /// Each finished phase and note is one line, a start prints nothing, and `-q`
    /// prints nothing at all; with spinners the lines are the same.
    #[test]
    fn steps_become_lines_and_quiet_silences_them() {
        for (quiet, spinners) in [(false, false), (true, false), (false, true)] {
            let lines = Arc::new(Mutex::new(Vec::<String>::new()));
            let sink = Arc::clone(&lines);
            let progress = reporter_with(quiet, spinners, move |l| {
                sink.lock().unwrap().push(l.to_string())
            });
            progress(Step::Started(Phase::Export));
            progress(Step::Done(Phase::Export, "export: 3 rows (1 ms)"));
            progress(Step::Started(Phase::Merge));
            progress(Step::Note(Phase::Merge, "warning: x"));
            let want: Vec<String> = match quiet {
                true => Vec::new(),
                false => vec!["export: 3 rows (1 ms)".into(), "warning: x".into()],
            };
            assert_eq!(
                *lines.lock().unwrap(),
                want,
                "quiet {quiet}, spinners {spinners}"
            );
        }
    }
}
