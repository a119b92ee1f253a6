//! The window kernel: per player, one forward sweep over sorted dates.
//!
//! For a feature record on day D the windows are `[D-60, D)` and `[D-365, D)`. With a
//! player's game dates sorted ascending, three indices locate them: `lo365` and `lo60`
//! (first game on or after each lower bound) and `hi` (first game on or after D).
//! Then `c60 = hi - lo60`, `c365 = hi - lo365`, and the contributing dates are the
//! `min(c60, 10)` games just before `hi`, newest first. With `c60 = 0` the expected count
//! is 0 too (semantics.md step 5: the processor only looks `c365` up for players with a
//! row in the 60-day window). Feature dates are visited in
//! ascending order, so all three indices only move forward: O(games + records) per
//! player. Players are independent, so rayon spreads them over the cores.

use rayon::prelude::*;

use crate::model::{LOOKBACK_DAYS, WINDOW_DAYS, WINDOW_GAMES};

/// One feature record's window, before it is turned into Arrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub player: u32,
    pub date: i32,
    /// `min(c60, 10)`.
    pub found: u8,
    /// `min(c365, 10)`, or 0 when `found` is 0.
    pub expected: u8,
    /// Index into [`Windows::game_dates`] just past the newest contributing game.
    pub end: u32,
}

/// Every record's window plus the grouped game dates the windows point into.
pub struct Windows {
    /// Sorted by `(date, player name)` once [`sort_for_output`] ran.
    pub records: Vec<Window>,
    /// Game dates grouped by player, ascending within a player.
    pub game_dates: Vec<i32>,
}

impl Windows {
    /// Contributing dates of `w`, newest first.
    pub fn contributing(&self, w: &Window) -> impl Iterator<Item = i32> + '_ {
        let end = w.end as usize;
        self.game_dates[end - w.found as usize..end]
            .iter()
            .rev()
            .copied()
    }
}

/// Compute the windows of all distinct feature keys.
pub fn compute_windows(
    features: Vec<(u32, i32)>,
    games: Vec<(u32, i32)>,
    players: usize,
) -> Windows {
    // The pairs are dropped once grouped: they are the largest inputs of the kernel.
    let (game_offsets, game_dates) = group_sorted(&games, players);
    drop(games);
    let (feature_offsets, feature_dates) = group_sorted(&features, players);
    drop(features);
    let records = (0..players)
        .into_par_iter()
        .flat_map_iter(|p| {
            let feats = &feature_dates[feature_offsets[p]..feature_offsets[p + 1]];
            let base = game_offsets[p];
            let games = &game_dates[base..game_offsets[p + 1]];
            sweep(p as u32, feats, games, base)
        })
        .collect();
    Windows {
        records,
        game_dates,
    }
}

/// The sweep for one player: `features` and `games` sorted ascending.
fn sweep(player: u32, features: &[i32], games: &[i32], base: usize) -> Vec<Window> {
    let (mut lo365, mut lo60, mut hi) = (0usize, 0usize, 0usize);
    let mut out = Vec::with_capacity(features.len());
    let mut previous = None;
    for &d in features {
        if previous == Some(d) {
            continue; // one output row per distinct key
        }
        previous = Some(d);
        while hi < games.len() && games[hi] < d {
            hi += 1;
        }
        // Saturating: a date near the Date32 minimum must not wrap.
        while lo60 < hi && games[lo60] < d.saturating_sub(WINDOW_DAYS) {
            lo60 += 1;
        }
        while lo365 < hi && games[lo365] < d.saturating_sub(LOOKBACK_DAYS) {
            lo365 += 1;
        }
        let (c60, c365) = (hi - lo60, hi - lo365);
        out.push(Window {
            player,
            date: d,
            found: c60.min(WINDOW_GAMES) as u8,
            expected: if c60 == 0 {
                0
            } else {
                c365.min(WINDOW_GAMES) as u8
            },
            end: (base + hi) as u32,
        });
    }
    out
}

/// Group `(player, date)` pairs by player (counting sort), dates ascending within a player.
/// Returns `players + 1` offsets and the dates.
fn group_sorted(pairs: &[(u32, i32)], players: usize) -> (Vec<usize>, Vec<i32>) {
    let mut offsets = vec![0usize; players + 1];
    for &(p, _) in pairs {
        offsets[p as usize + 1] += 1;
    }
    for i in 0..players {
        offsets[i + 1] += offsets[i];
    }
    let mut cursor = offsets.clone();
    let mut dates = vec![0i32; pairs.len()];
    for &(p, d) in pairs {
        dates[cursor[p as usize]] = d;
        cursor[p as usize] += 1;
    }
    let mut segments = Vec::with_capacity(players);
    let mut rest = dates.as_mut_slice();
    for p in 0..players {
        let (head, tail) = rest.split_at_mut(offsets[p + 1] - offsets[p]);
        segments.push(head);
        rest = tail;
    }
    segments.into_par_iter().for_each(|s| s.sort_unstable());
    (offsets, dates)
}

/// Order records by `(game_date, player_lookup)`, the output order of the CLI contract.
///
/// The sweep leaves records grouped by player, dates ascending. Visiting players in name
/// order and scattering by date (a stable counting sort) gives the output order in O(n);
/// a comparison sort of 1.4M records cost more than the sweep itself. Date spans too wide
/// for a bucket array fall back to sorting.
pub fn sort_for_output(records: &mut Vec<Window>, names: &[impl AsRef<str> + Sync]) {
    let mut by_name: Vec<u32> = (0..names.len() as u32).collect();
    by_name.par_sort_unstable_by_key(|&p| names[p as usize].as_ref());
    let (Some(lo), Some(hi)) = (
        records.iter().map(|w| w.date).min(),
        records.iter().map(|w| w.date).max(),
    ) else {
        return;
    };
    let span = (hi as i64 - lo as i64 + 1) as usize;
    if span > 1 << 20 {
        let mut rank = vec![0u32; names.len()];
        for (r, &p) in by_name.iter().enumerate() {
            rank[p as usize] = r as u32;
        }
        records
            .par_sort_unstable_by_key(|w| ((w.date as i64) << 32) | rank[w.player as usize] as i64);
        return;
    }
    // Each player's records, in the order the sweep wrote them.
    let mut start = vec![0usize; names.len() + 1];
    for w in records.iter() {
        start[w.player as usize + 1] += 1;
    }
    for p in 0..names.len() {
        start[p + 1] += start[p];
    }
    let mut slot = vec![0usize; span + 1];
    for w in records.iter() {
        slot[(w.date - lo) as usize + 1] += 1;
    }
    for d in 0..span {
        slot[d + 1] += slot[d];
    }
    let mut out = vec![records[0]; records.len()];
    for &p in &by_name {
        for w in &records[start[p as usize]..start[p as usize + 1]] {
            let s = &mut slot[(w.date - lo) as usize];
            out[*s] = *w;
            *s += 1;
        }
    }
    *records = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_counts_both_windows_and_keeps_the_newest_ten() {
        // games 1..=20 days before D=1000, plus one 61 and one 366 days before.
        let mut games: Vec<(u32, i32)> = (1..=20).map(|k| (0, 1000 - k)).collect();
        games.push((0, 1000 - 61));
        games.push((0, 1000 - 366));
        let w = compute_windows(vec![(0, 1000)], games, 1);
        let r = w.records[0];
        assert_eq!((r.found, r.expected), (10, 10));
        let dates: Vec<i32> = w.contributing(&r).collect();
        assert_eq!(dates, (1..=10).map(|k| 1000 - k).collect::<Vec<_>>());
    }

    #[test]
    fn window_bounds_are_inclusive_below_and_exclusive_at_d() {
        let games = [
            (0, 1000),
            (0, 1000 - 60),
            (0, 1000 - 61),
            (0, 1000 - 365),
            (0, 1000 - 366),
        ];
        let w = compute_windows(vec![(0, 1000)], games.to_vec(), 1);
        let r = w.records[0];
        // D itself and anything older than 365 days are out; D-60 is in the 60-day window.
        assert_eq!((r.found, r.expected), (1, 3));
        assert_eq!(w.contributing(&r).collect::<Vec<_>>(), vec![940]);
    }

    #[test]
    fn no_game_in_60_days_expects_none() {
        let games = [(0, 1000 - 61), (0, 1000 - 100), (0, 1000 - 365)];
        let w = compute_windows(vec![(0, 1000)], games.to_vec(), 1);
        assert_eq!((w.records[0].found, w.records[0].expected), (0, 0));
    }

    #[test]
    fn output_order_is_date_then_player_name() {
        let names = ["zed", "amy", "bob"];
        let features = [(0, 3), (0, 1), (1, 2), (1, 1), (2, 1), (2, 3)];
        let mut w = compute_windows(features.to_vec(), vec![], 3).records;
        sort_for_output(&mut w, &names);
        let order: Vec<(i32, &str)> = w
            .iter()
            .map(|r| (r.date, names[r.player as usize]))
            .collect();
        assert_eq!(
            order,
            [
                (1, "amy"),
                (1, "bob"),
                (1, "zed"),
                (2, "amy"),
                (3, "bob"),
                (3, "zed")
            ]
        );
    }

    #[test]
    fn duplicate_feature_keys_give_one_record() {
        let w = compute_windows(vec![(0, 5), (0, 5)], vec![], 1);
        assert_eq!(w.records.len(), 1);
        assert_eq!((w.records[0].found, w.records[0].expected), (0, 0));
    }
}
