//! The program name in every command the tool prints for an operator to paste:
//! `completeness` and the location flags they typed (`--warehouse`, `--run-dir`,
//! `--config`), so a hint run as printed reaches the same warehouse, runs and config.
//! Flags that came from the environment stay out: the pasting shell has them too.

use std::fmt;
use std::sync::OnceLock;

static FLAGS: OnceLock<String> = OnceLock::new();

/// Remember the location flags of this invocation, as (flag, value) pairs; the CLI
/// calls it once, before any command runs.
pub fn set_flags<'a>(flags: impl IntoIterator<Item = (&'a str, &'a str)>) {
    let words: Vec<String> = flags
        .into_iter()
        .map(|(flag, value)| format!("{flag} {}", quote(value)))
        .collect();
    let _ = FLAGS.set(words.join(" "));
}

/// Write `{COMPLETENESS} merge --run {id}` in a hint's format string.
pub const COMPLETENESS: Program = Program;

/// `completeness` with the remembered flags (see [`set_flags`]).
#[derive(Debug, Clone, Copy)]
pub struct Program;

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match FLAGS.get().filter(|s| !s.is_empty()) {
            Some(flags) => write!(f, "completeness {flags}"),
            None => f.write_str("completeness"),
        }
    }
}

/// A value as a POSIX shell reads it back: unchanged when it is plain, else in single
/// quotes.
fn quote(value: &str) -> String {
    shlex::try_quote(value)
        .map(|q| q.into_owned())
        .unwrap_or_else(|_| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn plain_values_stay_and_others_are_quoted() {
        assert_eq!(quote("/tmp/wh"), "/tmp/wh");
        assert_eq!(quote("gs://bucket/wh"), "gs://bucket/wh");
        assert_eq!(quote("my runs"), "'my runs'");
        assert_eq!(quote("it's"), "\"it's\"");
    }
}
