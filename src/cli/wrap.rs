//! Prose that fits the terminal: lines wider than it are wrapped at spaces, and a
//! `backticked command` is never broken, so it can still be copied whole (one wider than
//! the terminal gets a line of its own). Tables and short lines are left as they are;
//! piped output (no terminal, no `COLUMNS`) is not wrapped at all.

/// Which stream a text goes to: each may be a terminal or not.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// The width text must fit on `stream`: `COLUMNS` when set, else the terminal's when
/// the stream is one.
pub fn width(stream: Stream) -> Option<usize> {
    let columns = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok());
    columns.filter(|c| *c > 0).or_else(|| {
        let term = match stream {
            Stream::Stdout => console::Term::stdout(),
            Stream::Stderr => console::Term::stderr(),
        };
        term.size_checked().map(|(_, columns)| columns as usize)
    })
}

/// `text` with every line wider than `width` wrapped (see the module).
pub fn fit(text: &str, width: Option<usize>) -> String {
    let Some(width) = width else {
        return text.to_string();
    };
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        match body.chars().count() <= width || is_table(body) {
            true => out.push_str(body),
            false => out.push_str(&wrap_line(body, width)),
        }
        out.push_str(end);
    }
    out
}

/// A line of a drawn table (its borders or cells), which wrapping would break apart.
fn is_table(line: &str) -> bool {
    line.trim_start()
        .starts_with(['┌', '│', '├', '╞', '└', '╭', '╰', '|'])
}

/// One long line as lines of at most `width` (but for a single word wider than that);
/// continuation lines are indented two spaces more than the first.
fn wrap_line(line: &str, width: usize) -> String {
    let indent = line.len() - line.trim_start().len();
    let more = " ".repeat(indent + 2);
    let mut lines: Vec<String> = vec![line[..indent].to_string()];
    for word in words(line.trim_start()) {
        let current = lines.last_mut().expect("one line at least");
        let empty = current.trim().is_empty();
        let fits = current.chars().count() + usize::from(!empty) + word.chars().count() <= width;
        if empty || fits {
            if !empty {
                current.push(' ');
            }
            current.push_str(word);
        } else {
            lines.push(format!("{more}{word}"));
        }
    }
    lines.join("\n")
}

/// The words of `text`, split at spaces outside backticks: a backticked span, with
/// whatever is glued to it (`(`, `.`, `,`), is one word.
fn words(text: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let (mut start, mut quoted) = (None, false);
    for (i, c) in text.char_indices() {
        match c {
            '`' => {
                quoted = !quoted;
                start.get_or_insert(i);
            }
            ' ' if !quoted => {
                if let Some(s) = start.take() {
                    words.push(&text[s..i]);
                }
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    if let Some(s) = start {
        words.push(&text[s..]);
    }
    words
}

/// `println!` for prose: wrapped to the width of stdout (see [`fit`]).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::wrap::print(&format!("{}\n", format_args!($($arg)*)), $crate::cli::wrap::Stream::Stdout)
    };
}

/// `print!` for prose that brings its own line ends.
#[macro_export]
macro_rules! say_text {
    ($($arg:tt)*) => {
        $crate::cli::wrap::print(&format!($($arg)*), $crate::cli::wrap::Stream::Stdout)
    };
}

/// `eprintln!` for prose: wrapped to the width of stderr.
#[macro_export]
macro_rules! tell {
    ($($arg:tt)*) => {
        $crate::cli::wrap::print(&format!("{}\n", format_args!($($arg)*)), $crate::cli::wrap::Stream::Stderr)
    };
}

/// `eprint!` for prose that brings its own line ends.
#[macro_export]
macro_rules! tell_text {
    ($($arg:tt)*) => {
        $crate::cli::wrap::print(&format!($($arg)*), $crate::cli::wrap::Stream::Stderr)
    };
}

/// Print `text` on `stream`, fitted to its width.
pub fn print(text: &str, stream: Stream) {
    let text = fit(text, width(stream));
    match stream {
        Stream::Stdout => print!("{text}"),
        Stream::Stderr => eprint!("{text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMAND: &str =
        "`completeness --warehouse /data/wh backfill --start 2025-01-02 --end 2025-03-02`";

    #[test]
    fn long_lines_wrap_at_spaces_and_commands_stay_whole() {
        let line = format!("  warning: 2025-01-01 has no rows; recompute with {COMMAND} after it.");
        let text = fit(&format!("short\n{line}\n"), Some(40));
        assert!(text.starts_with("short\n  warning:"), "{text}");
        assert!(text.lines().any(|l| l.trim() == COMMAND), "{text}");
        for l in text.lines().filter(|l| !l.contains('`')) {
            assert!(l.chars().count() <= 40, "{l}");
        }
        assert!(
            text.lines().skip(2).all(|l| l.starts_with("    ")),
            "continuations indented: {text}"
        );
        let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(words(&text), words(&format!("short\n{line}\n")));
    }

    #[test]
    fn tables_short_lines_and_piped_output_are_left_alone() {
        let table = format!("│ {} │\n", "x".repeat(60));
        assert_eq!(fit(&table, Some(20)), table);
        assert_eq!(fit("a b c\n", Some(20)), "a b c\n");
        let long = format!("{} {COMMAND}\n", "word ".repeat(30));
        assert_eq!(fit(&long, None), long);
    }

    #[test]
    fn a_backticked_span_with_spaces_is_one_word() {
        assert_eq!(
            words("run `a b c`, then `d`."),
            ["run", "`a b c`,", "then", "`d`."]
        );
    }
}
