//! How the process treats its standard output.

use std::panic::PanicHookInfo;

/// A reader that stops early (`completeness … | head -1`) closes the pipe, the next
/// write to stdout fails, and `println!` panics on it. The reader has what it wanted, so
/// the process then ends quietly with exit 0, as ripgrep does. Every other panic keeps
/// Rust's report.
pub fn end_quietly_on_closed_pipe() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if is_closed_stdout(info) {
            std::process::exit(0);
        }
        report(info);
    }));
}

/// Whether a panic is `println!`'s on a closed pipe.
fn is_closed_stdout(info: &PanicHookInfo) -> bool {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    message.starts_with("failed printing to stdout") && message.contains("Broken pipe")
}
