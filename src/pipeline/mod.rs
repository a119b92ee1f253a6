//! A run: export → compute → diff → merge ([`backfill`]), each phase an operation of
//! its own, with the checks that guard it ([`tally_check`], [`staleness`]), and what
//! `--extended` adds ([`extended`], from the upstream [`gaps`] the schedule reveals).

pub mod backfill;
pub mod compute;
pub mod diff;
pub mod extended;
pub mod gaps;
pub mod staleness;
pub mod tally_check;

/// Hash maps and sets keyed by player and team names, with aHash's fixed keys: the names
/// are not attacker-chosen floods, and SipHash was a tenth of a scale-10 dry run.
pub(crate) type FastMap<K, V> =
    std::collections::HashMap<K, V, std::hash::BuildHasherDefault<ahash::AHasher>>;
pub(crate) type FastSet<K> =
    std::collections::HashSet<K, std::hash::BuildHasherDefault<ahash::AHasher>>;

/// `f` on a blocking thread (CPU-bound work off the runtime's workers), its panic
/// carried on to the caller.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> crate::error::Result<T> + Send + 'static,
) -> crate::error::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}
