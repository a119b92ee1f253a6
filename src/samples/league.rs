//! One league's people over time: players, who is on which roster when (stints), and
//! injuries.
//!
//! Per season: 1. the offseason (ageing, retirements, free-agent moves, rookies filling
//! the rosters); 2. a stint per roster player for the whole season; 3. mid-season
//! events that cut stints: trades (a player swap between two teams), waivers, two-way
//! call-ups (no rows before the call-up); 4. injuries: short ones (inactive rows) and a
//! few long ones during which the player is off the roster feed entirely.

use std::collections::HashSet;
use std::rc::Rc;

use chrono::{Duration, NaiveDate};
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use super::names::{FIRST_NAMES, LAST_NAMES, league_suffix};
use super::schedule::{NUM_TEAMS, Schedule, Season, ymd};
use super::{normal, rng_for};

#[derive(Debug, Clone)]
pub struct Player {
    pub lookup: Rc<str>,
    pub universal_id: Rc<str>,
    /// 0..1; sets the rotation order and minutes.
    pub quality: f64,
    /// Points per minute on the floor.
    pub scoring: f64,
    pub age: u32,
}

/// A player on a team's roster for `from <= date < to`.
#[derive(Debug, Clone)]
pub struct Stint {
    pub player: usize,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Stint {
    fn covers(&self, d: NaiveDate) -> bool {
        self.from <= d && d < self.to
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjuryKind {
    /// Listed as out: the player keeps inactive rows.
    Short,
    /// Off the roster feed: no rows and no feature records.
    Long,
}

#[derive(Debug, Clone)]
pub struct Injury {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub kind: InjuryKind,
}

#[derive(Debug, Clone, Default)]
pub struct League {
    pub players: Vec<Player>,
    /// Per team, every stint ever.
    pub stints: Vec<Vec<Stint>>,
    /// Per player.
    pub injuries: Vec<Vec<Injury>>,
}

impl League {
    /// Players in the roster feed of `team` on `date` (long-injured players excluded),
    /// in stint order.
    pub fn roster(&self, team: usize, date: NaiveDate) -> Vec<usize> {
        self.stints[team]
            .iter()
            .filter(|s| s.covers(date))
            .map(|s| s.player)
            .filter(|p| self.injury(*p, date) != Some(InjuryKind::Long))
            .collect()
    }

    /// The injury on `date`, a long one taking precedence.
    pub fn injury(&self, player: usize, date: NaiveDate) -> Option<InjuryKind> {
        let mut found = None;
        for i in &self.injuries[player] {
            if i.from <= date && date < i.to {
                if i.kind == InjuryKind::Long {
                    return Some(InjuryKind::Long);
                }
                found = Some(InjuryKind::Short);
            }
        }
        found
    }
}

/// Players per team at the start of a season (some teams carry one more).
const ROSTER: usize = 12;

#[derive(Clone, Copy)]
enum Arrival {
    Veteran,
    Rookie,
    TwoWay,
}

struct Builder {
    rng: ChaCha8Rng,
    suffix: String,
    used: HashSet<String>,
    league: League,
}

/// Builds league `number` over every season of the schedule.
pub fn build(seed: u64, number: u32, sched: &Schedule) -> League {
    let mut b = Builder {
        rng: rng_for(seed, "league", number),
        suffix: league_suffix(number),
        used: HashSet::new(),
        league: League {
            stints: vec![Vec::new(); NUM_TEAMS],
            ..League::default()
        },
    };
    let mut rosters: Vec<Vec<usize>> = vec![Vec::new(); NUM_TEAMS];
    for (k, season) in sched.seasons.iter().enumerate() {
        if k > 0 {
            b.offseason(&mut rosters);
        }
        b.fill(&mut rosters, k == 0);
        b.open_stints(&rosters, season);
        b.trades(season);
        b.waivers(season);
        b.call_ups(season);
        b.injuries(season);
        rosters = b.rosters_at(season.roster_close() - Duration::days(1));
    }
    b.league
}

impl Builder {
    fn new_player(&mut self, arrival: Arrival) -> usize {
        let lookup = self.fresh_name();
        let r = &mut self.rng;
        let (quality, age) = match arrival {
            Arrival::Veteran => (r.random::<f64>().powf(1.4), r.random_range(21..=35)),
            Arrival::Rookie => (r.random_range(0.1..0.6), r.random_range(19..=22)),
            Arrival::TwoWay => (r.random_range(0.03..0.25), r.random_range(20..=25)),
        };
        let scoring = (0.28 + 0.5 * quality + 0.04 * normal(r)).clamp(0.15, 0.95);
        let universal_id = format!("{lookup}_001");
        self.league.players.push(Player {
            lookup: lookup.into(),
            universal_id: universal_id.into(),
            quality,
            scoring,
            age,
        });
        self.league.injuries.push(Vec::new());
        self.league.players.len() - 1
    }

    /// A first+last name not used before in this league, with the league suffix.
    fn fresh_name(&mut self) -> String {
        loop {
            let first = FIRST_NAMES.choose(&mut self.rng).expect("names");
            let last = LAST_NAMES.choose(&mut self.rng).expect("names");
            let name = format!("{first}{last}{}", self.suffix);
            if self.used.insert(name.clone()) {
                return name;
            }
        }
    }

    /// Ageing, retirements and departures, then a free-agent shuffle.
    fn offseason(&mut self, rosters: &mut [Vec<usize>]) {
        for roster in rosters.iter_mut() {
            roster.retain(|p| !self.leaves(*p));
        }
        let mut movers = Vec::new();
        for (team, roster) in rosters.iter_mut().enumerate() {
            if !roster.is_empty() && self.rng.random_bool(0.6) {
                let k = self.rng.random_range(0..roster.len());
                movers.push((team, roster.remove(k)));
            }
        }
        for (from, p) in movers {
            let to = (from + self.rng.random_range(1..NUM_TEAMS)) % NUM_TEAMS;
            rosters[to].push(p);
        }
    }

    /// Ages the player a year and decides whether he retires or leaves the league.
    fn leaves(&mut self, p: usize) -> bool {
        let drift = 0.03 * normal(&mut self.rng);
        let pl = &mut self.league.players[p];
        pl.age += 1;
        let trend = if pl.age < 25 {
            0.04
        } else if pl.age > 31 {
            -0.04
        } else {
            0.0
        };
        pl.quality = (pl.quality + trend + drift).clamp(0.02, 1.0);
        let p_leave = match pl.age {
            35.. => 0.7,
            32..=34 => 0.25,
            _ if pl.quality < 0.12 => 0.3,
            _ => 0.06,
        };
        self.rng.random_bool(p_leave)
    }

    /// Trims rosters to size (the weakest leave) and fills them with new players.
    fn fill(&mut self, rosters: &mut [Vec<usize>], first_season: bool) {
        for roster in rosters.iter_mut() {
            let size = if self.rng.random_bool(0.4) {
                ROSTER + 1
            } else {
                ROSTER
            };
            let players = &self.league.players;
            roster.sort_by(|a, b| players[*b].quality.total_cmp(&players[*a].quality));
            roster.truncate(size);
            while roster.len() < size {
                let arrival = if first_season || self.rng.random_bool(0.4) {
                    Arrival::Veteran
                } else {
                    Arrival::Rookie
                };
                roster.push(self.new_player(arrival));
            }
        }
    }

    fn open_stints(&mut self, rosters: &[Vec<usize>], season: &Season) {
        for (team, roster) in rosters.iter().enumerate() {
            for &player in roster {
                self.league.stints[team].push(Stint {
                    player,
                    from: season.roster_open(),
                    to: season.roster_close(),
                });
            }
        }
    }

    fn random_date(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        from + Duration::days(self.rng.random_range(0..=(to - from).num_days()))
    }

    /// Index into `stints[team]` of a player still on the team through the season's end.
    fn open_stint_at(&mut self, team: usize, date: NaiveDate, close: NaiveDate) -> Option<usize> {
        let open: Vec<usize> = (0..self.league.stints[team].len())
            .filter(|&i| {
                let s = &self.league.stints[team][i];
                s.covers(date) && s.to == close && s.from < date
            })
            .collect();
        open.choose(&mut self.rng).copied()
    }

    /// A handful of one-for-one swaps between the middle of December and the deadline.
    fn trades(&mut self, season: &Season) {
        let close = season.roster_close();
        for _ in 0..self.rng.random_range(4..=6) {
            let date = self.random_date(ymd(season.year, 12, 15), ymd(season.year + 1, 2, 6));
            let a = self.rng.random_range(0..NUM_TEAMS);
            let b = (a + self.rng.random_range(1..NUM_TEAMS)) % NUM_TEAMS;
            let (Some(i), Some(j)) = (
                self.open_stint_at(a, date, close),
                self.open_stint_at(b, date, close),
            ) else {
                continue;
            };
            let (pa, pb) = (self.move_out(a, i, date), self.move_out(b, j, date));
            self.league.stints[b].push(Stint {
                player: pa,
                from: date,
                to: close,
            });
            self.league.stints[a].push(Stint {
                player: pb,
                from: date,
                to: close,
            });
        }
    }

    /// Ends stint `i` of `team` on `date`, returning its player.
    fn move_out(&mut self, team: usize, i: usize, date: NaiveDate) -> usize {
        let s = &mut self.league.stints[team][i];
        s.to = date;
        s.player
    }

    /// A few end-of-bench players released in January/February: gone for good.
    fn waivers(&mut self, season: &Season) {
        let close = season.roster_close();
        for _ in 0..self.rng.random_range(3..=5) {
            let date = self.random_date(ymd(season.year + 1, 1, 7), ymd(season.year + 1, 3, 1));
            let team = self.rng.random_range(0..NUM_TEAMS);
            let weakest = (0..self.league.stints[team].len())
                .filter(|&i| {
                    let s = &self.league.stints[team][i];
                    s.covers(date) && s.to == close
                })
                .min_by(|&x, &y| {
                    let q =
                        |i: usize| self.league.players[self.league.stints[team][i].player].quality;
                    q(x).total_cmp(&q(y))
                });
            if let Some(i) = weakest {
                self.move_out(team, i, date);
            }
        }
    }

    /// Two-way players and rookies called up mid-season; they stay through June.
    fn call_ups(&mut self, season: &Season) {
        for _ in 0..self.rng.random_range(6..=10) {
            let date = self.random_date(ymd(season.year, 11, 20), ymd(season.year + 1, 3, 15));
            let team = self.rng.random_range(0..NUM_TEAMS);
            let player = self.new_player(Arrival::TwoWay);
            self.league.stints[team].push(Stint {
                player,
                from: date,
                to: season.roster_close(),
            });
        }
    }

    /// Short injuries for everyone on a roster this season, and 14–20 long ones.
    fn injuries(&mut self, season: &Season) {
        let players = self.season_players(season);
        for &p in &players {
            let n = match self.rng.random::<f64>() {
                x if x < 0.35 => 0,
                x if x < 0.7 => 1,
                x if x < 0.9 => 2,
                _ => 3,
            };
            for _ in 0..n {
                let from = self.random_date(season.start, season.regular_end);
                let days = self.rng.random_range(2..=14);
                self.injure(p, from, days, InjuryKind::Short);
            }
        }
        for _ in 0..self.rng.random_range(14..=20) {
            let p = *players.choose(&mut self.rng).expect("rosters are filled");
            let from = self.random_date(ymd(season.year, 11, 10), ymd(season.year + 1, 3, 10));
            let days = self.rng.random_range(21..=70);
            self.injure(p, from, days, InjuryKind::Long);
        }
    }

    fn injure(&mut self, p: usize, from: NaiveDate, days: i64, kind: InjuryKind) {
        let to = from + Duration::days(days);
        self.league.injuries[p].push(Injury { from, to, kind });
    }

    /// Every player with a stint in the season, ascending.
    fn season_players(&self, season: &Season) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .league
            .stints
            .iter()
            .flatten()
            .filter(|s| s.from >= season.roster_open() && s.from < season.roster_close())
            .map(|s| s.player)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Rosters (ignoring injuries) on `date`.
    fn rosters_at(&self, date: NaiveDate) -> Vec<Vec<usize>> {
        self.league
            .stints
            .iter()
            .map(|team| {
                team.iter()
                    .filter(|s| s.covers(date))
                    .map(|s| s.player)
                    .collect()
            })
            .collect()
    }
}
