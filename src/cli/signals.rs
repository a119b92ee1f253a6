//! SIGINT and SIGTERM: stop a run cleanly and say how to continue it.

/// Resolves with the signal's name and the conventional exit code (128 + signal number).
pub async fn interrupted() -> (&'static str, u8) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        // Without handlers the default action (terminate) applies: never resolve here.
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => ("SIGINT", 130),
        _ = term.recv() => ("SIGTERM", 143),
    }
}

/// What to tell the operator after stopping.
pub fn stopped_message(signal: &str, run_id: Option<&str>) -> String {
    match run_id {
        Some(id) => format!(
            "{signal}: stopped run {id}. Nothing is half-written: the feature table has the run's \
             one commit or none of it. Continue with `{} backfill --resume {id}`.",
            crate::hint::COMPLETENESS
        ),
        None => format!("{signal}: stopped before the run started; nothing was written."),
    }
}
