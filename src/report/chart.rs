//! Inline SVG charts for the HTML report.
//!
//! Plain strings, no drawing library: the page must be one self-contained file,
//! and the charts are simple enough that hand-written SVG stays readable.
//! Colours are the ColorBrewer "Dark2" trio, which stays distinguishable for the
//! common forms of colour blindness. The x axis of the share chart is one slot
//! per game date (not calendar time), so an off-season does not waste width.

use std::fmt::Write;

use chrono::{Datelike, NaiveDate};

use super::escape::escape;
use super::terminal::thousands;

/// Fill of COMPLETE records.
pub const COMPLETE: &str = "#1b9e77";
/// Fill of BOOTSTRAP records.
pub const BOOTSTRAP: &str = "#7570b3";
/// Fill of INCOMPLETE records that are data gaps (or whose reason is unknown).
pub const INCOMPLETE: &str = "#d95f02";
/// Fill of INCOMPLETE records that are not data gaps (early season, an absence, …).
pub const EXPLAINED: &str = "#e6ab02";
/// Fill of records with no struct yet.
pub const NO_STRUCT: &str = "#b8c0c8";

const INK: &str = "#1f2933";
const MUTED: &str = "#52606d";
const GRID: &str = "#d9dee4";
const EMPTY: &str = "#eef0f3";

/// Label counts of the records on one game date.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShareRow {
    pub game_date: NaiveDate,
    pub complete: u64,
    pub bootstrap: u64,
    /// INCOMPLETE records, data gaps included.
    pub incomplete: u64,
    /// Of the INCOMPLETE records, the data gaps; None when their reasons are unknown.
    pub data_gaps: Option<u64>,
    /// Records with no struct yet (none in a run's report: it computes them all).
    pub no_struct: u64,
}

/// The parts of a bar, bottom to top: what each counts, its legend and its fill.
const PARTS: [(&str, &str); 6] = [
    ("complete", COMPLETE),
    ("bootstrap, not complete", BOOTSTRAP),
    ("incomplete, not a data gap", EXPLAINED),
    ("data gap", INCOMPLETE),
    ("incomplete, reason unknown", INCOMPLETE),
    ("no struct yet", NO_STRUCT),
];

impl ShareRow {
    /// A date's labels, with the reasons unknown and every record with a struct.
    pub fn new(game_date: NaiveDate, complete: u64, bootstrap: u64, incomplete: u64) -> Self {
        ShareRow {
            game_date,
            complete,
            bootstrap,
            incomplete,
            data_gaps: None,
            no_struct: 0,
        }
    }

    /// Counts in the order of [`PARTS`].
    fn counts(&self) -> [u64; 6] {
        let (explained, gaps, unknown) = match self.data_gaps {
            Some(g) => (self.incomplete.saturating_sub(g), g.min(self.incomplete), 0),
            None => (0, 0, self.incomplete),
        };
        [
            self.complete,
            self.bootstrap,
            explained,
            gaps,
            unknown,
            self.no_struct,
        ]
    }

    fn total(&self) -> u64 {
        self.counts().iter().sum()
    }

    /// INCOMPLETE records that may be data gaps: the gaps, or all when reasons are unknown.
    fn flagged(&self) -> u64 {
        self.data_gaps.unwrap_or(self.incomplete)
    }
}

/// Shares in tenths of a percent that add up to exactly 1000 (largest
/// remainder), so a tooltip never reads 33.3 + 33.3 + 33.3 = 99.9%.
/// All zeros when there is nothing to share.
pub fn permille<const N: usize>(counts: [u64; N]) -> [u64; N] {
    let total: u128 = counts.iter().map(|&c| u128::from(c)).sum();
    if total == 0 {
        return [0; N];
    }
    let scaled = counts.map(|c| u128::from(c) * 1000);
    let mut out = scaled.map(|s| (s / total) as u64);
    let mut order: [usize; N] = std::array::from_fn(|i| i);
    // Stable sort: ties go to the earlier label.
    order.sort_by_key(|&i| std::cmp::Reverse(scaled[i] % total));
    let missing = 1000 - out.iter().sum::<u64>();
    for &i in order.iter().take(missing as usize) {
        out[i] += 1;
    }
    out
}

/// "75.0%" from 750 tenths of a percent.
fn pct(tenths: u64) -> String {
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// Coordinates with two decimals: enough for a 1000-unit-wide view box.
fn n(x: f64) -> String {
    format!("{x:.2}")
}

// ---------------------------------------------------------------------------
// Share chart

// The view box is 1000 units wide and the text 14 units high: at 800 px (a chart
// ~720 px wide) that is 10 px, at 1280 px ~15 px.
const W: f64 = 1000.0;
const H: f64 = 350.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 12.0;
/// Room for two rows of legend and the ticks of dates with data gaps.
const TOP: f64 = 60.0;
const BOTTOM: f64 = 42.0;
/// Text size of the axes (and the legend), in view-box units.
const FONT: f64 = 14.0;
/// Width of one character of `FONT` text, generously, for overlap checks.
const CHAR_W: f64 = 8.4;
/// Height of one row of the legend.
const LEGEND_ROW: f64 = 20.0;
/// Dates further apart than this are drawn with a season-break marker.
const BREAK_DAYS: i64 = 30;
/// Widest bar, for ranges of a few dates.
const MAX_BAR: f64 = 56.0;

const PLOT_W: f64 = W - LEFT - RIGHT;
const PLOT_H: f64 = H - TOP - BOTTOM;

/// Stacked share (0–100%) per game date of COMPLETE / BOOTSTRAP / INCOMPLETE (told
/// apart into data gaps and the rest when the reasons are known) / no struct yet.
pub fn share_chart(rows: &[ShareRow]) -> String {
    let mut rows = rows.to_vec();
    rows.sort_by_key(|r| r.game_date);
    if rows.is_empty() {
        return no_data("No game dates in range.");
    }
    let mut s = open_svg("share", W, H, "Share of records by label, per game date");
    s += &share_legend(&rows);
    s += &percent_axis();
    s += &share_bars(&rows);
    s += &data_gap_rug(&rows);
    s += &season_breaks(&rows);
    s += &date_axis(&rows);
    s += "</svg>";
    s
}

fn open_svg(class: &str, w: f64, h: f64, title: &str) -> String {
    format!(
        "<svg class=\"chart {class}\" viewBox=\"0 0 {w} {h}\" role=\"img\" \
         font-family=\"system-ui, sans-serif\" font-size=\"{FONT}\" fill=\"{INK}\">\
         <title>{}</title>",
        escape(title)
    )
}

fn no_data(message: &str) -> String {
    let mut s = open_svg("share", W, 80.0, message);
    let _ = write!(
        s,
        "<rect x=\"0.5\" y=\"0.5\" width=\"{}\" height=\"79\" rx=\"6\" fill=\"{EMPTY}\" \
         stroke=\"{GRID}\"/><text x=\"{}\" y=\"44\" text-anchor=\"middle\" font-size=\"14\" \
         fill=\"{MUTED}\">{}</text></svg>",
        W - 1.0,
        W / 2.0,
        escape(message)
    );
    s
}

/// Swatches with each label's share over the whole range (the labels with records,
/// COMPLETE always), on as many rows as they need.
fn share_legend(rows: &[ShareRow]) -> String {
    let mut sums = [0u64; 6];
    for r in rows {
        for (sum, c) in sums.iter_mut().zip(r.counts()) {
            *sum += c;
        }
    }
    let shares = permille(sums);
    let mut s = String::from("<g class=\"legend\">");
    let (mut x, mut y) = (LEFT, 4.0);
    for (i, (label, colour)) in PARTS.iter().enumerate() {
        if sums[i] == 0 && i > 0 {
            continue;
        }
        let text = format!(
            "{} {} ({})",
            capitalised(label),
            pct(shares[i]),
            thousands(sums[i])
        );
        let width = 17.0 + text.chars().count() as f64 * CHAR_W;
        if x > LEFT && x + width > W - RIGHT {
            (x, y) = (LEFT, y + LEGEND_ROW);
        }
        let _ = write!(
            s,
            "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" rx=\"2\" fill=\"{colour}\"/>\
             <text x=\"{}\" y=\"{}\">{}</text>",
            n(x),
            n(y + 1.0),
            n(x + 17.0),
            n(y + 12.0),
            escape(&text)
        );
        x += width + 22.0;
    }
    s += "</g>";
    s
}

fn capitalised(label: &str) -> String {
    let mut chars = label.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Horizontal grid lines and labels at every quarter.
fn percent_axis() -> String {
    let mut s = String::from("<g class=\"y-axis\">");
    for p in [0, 25, 50, 75, 100] {
        let y = TOP + PLOT_H * (1.0 - f64::from(p) / 100.0);
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y1}\" y2=\"{y1}\" stroke=\"{GRID}\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{MUTED}\">{p}%</text>",
            W - RIGHT,
            LEFT - 6.0,
            n(y + 4.0),
            y1 = n(y),
        );
    }
    s += "</g>";
    s
}

/// Slot width, bar offset in its slot and bar width per date. Bars keep a gap
/// only while they are wide enough to read as bars, and otherwise touch
/// (overlapping a hair so no seams show); a few dates get slim bars, not slabs.
fn bar_geometry(count: usize) -> (f64, f64, f64) {
    let step = PLOT_W / count as f64;
    if step >= 6.0 {
        let width = (step * 0.82).min(MAX_BAR);
        (step, (step - width) / 2.0, width)
    } else {
        (step, 0.0, step + 0.35)
    }
}

fn share_bars(rows: &[ShareRow]) -> String {
    let (step, offset, width) = bar_geometry(rows.len());
    // Touching bars snap to whole pixels, or anti-aliasing shows seams.
    let crisp = if offset == 0.0 {
        " shape-rendering=\"crispEdges\""
    } else {
        ""
    };
    let mut s = format!("<g class=\"bars\"{crisp}>");
    for (i, row) in rows.iter().enumerate() {
        let x = LEFT + step * i as f64 + offset;
        s += &share_bar(row, x, width);
    }
    s += "</g>";
    s
}

/// One date: its tooltip and its stacked segments, complete at the bottom so the
/// rarer labels sit against the 100% line where they stand out.
fn share_bar(row: &ShareRow, x: f64, width: f64) -> String {
    let mut s = format!("<g><title>{}</title>", escape(&tooltip(row)));
    let total = row.total();
    if total == 0 {
        let _ = write!(
            s,
            "<rect x=\"{}\" y=\"{TOP}\" width=\"{}\" height=\"{PLOT_H}\" fill=\"{EMPTY}\"/>",
            n(x),
            n(width)
        );
    }
    let mut y = TOP + PLOT_H;
    for (count, (_, colour)) in row.counts().into_iter().zip(PARTS) {
        if count == 0 {
            continue;
        }
        let h = PLOT_H * count as f64 / total as f64;
        y -= h;
        let _ = write!(
            s,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{colour}\"/>",
            n(x),
            n(y),
            n(width),
            n(h)
        );
    }
    s += "</g>";
    s
}

/// A tick above the plot for every date with a data gap (or with INCOMPLETE records
/// whose reasons are unknown): a few gap records on a big date are a sliver in the
/// bars, but still need a look.
fn data_gap_rug(rows: &[ShareRow]) -> String {
    let step = PLOT_W / rows.len() as f64;
    let width = step.clamp(2.0, 6.0);
    let mut s = format!("<g class=\"rug\" fill=\"{INCOMPLETE}\">");
    for (i, row) in rows.iter().enumerate() {
        let flagged = row.flagged();
        if flagged == 0 {
            continue;
        }
        let what = match row.data_gaps {
            Some(1) => "data gap",
            Some(_) => "data gaps",
            None => "INCOMPLETE, reason unknown",
        };
        let x = LEFT + step * (i as f64 + 0.5) - width / 2.0;
        let _ = write!(
            s,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"5\"><title>{}: {} {what}</title></rect>",
            n(x),
            TOP - 8.0,
            n(width),
            row.game_date,
            thousands(flagged)
        );
    }
    s += "</g>";
    s
}

/// Hover text: the date, the counts and their shares (the labels with records).
pub fn tooltip(row: &ShareRow) -> String {
    let total = row.total();
    if total == 0 {
        return format!("{}\nno records", row.game_date);
    }
    let counts = row.counts();
    let shares = permille(counts);
    let mut s = format!("{} · {} records", row.game_date, thousands(total));
    for (i, (label, _)) in PARTS.iter().enumerate() {
        if counts[i] > 0 {
            let _ = write!(s, "\n{label} {} ({})", thousands(counts[i]), pct(shares[i]));
        }
    }
    s
}

/// Dashed lines where consecutive dates are far apart (between seasons).
fn season_breaks(rows: &[ShareRow]) -> String {
    let step = PLOT_W / rows.len() as f64;
    let mut s = String::new();
    for (i, pair) in rows.windows(2).enumerate() {
        let days = (pair[1].game_date - pair[0].game_date).num_days();
        if days <= BREAK_DAYS {
            continue;
        }
        let x = n(LEFT + step * (i + 1) as f64);
        let _ = write!(
            s,
            "<line x1=\"{x}\" x2=\"{x}\" y1=\"{}\" y2=\"{}\" stroke=\"{INK}\" \
             stroke-dasharray=\"3 3\"><title>{} days without games</title></line>",
            TOP - 4.0,
            TOP + PLOT_H + 4.0,
            days - 1
        );
    }
    s
}

/// One x-axis label: where it is anchored and what it says.
#[derive(Debug, Clone, PartialEq)]
struct Tick {
    x: f64,
    anchor: &'static str,
    text: String,
}

impl Tick {
    /// The horizontal extent the text covers, padded.
    fn span(&self) -> (f64, f64) {
        let w = self.text.chars().count() as f64 * CHAR_W;
        let (a, b) = match self.anchor {
            "start" => (self.x, self.x + w),
            "end" => (self.x - w, self.x),
            _ => (self.x - w / 2.0, self.x + w / 2.0),
        };
        (a - 6.0, b + 6.0)
    }

    fn overlaps(&self, other: &Tick) -> bool {
        let (a0, a1) = self.span();
        let (b0, b1) = other.span();
        a0 < b1 && b0 < a1
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Candidate labels in priority order: first date, last date, then the first
/// date of every month (with the year when it changes).
fn candidate_ticks(rows: &[ShareRow]) -> Vec<Tick> {
    let step = PLOT_W / rows.len() as f64;
    let first = &rows[0];
    let last = &rows[rows.len() - 1];
    if rows.len() == 1 {
        let x = LEFT + PLOT_W / 2.0;
        return vec![tick(x, "middle", first.game_date.to_string())];
    }
    let mut ticks = vec![
        tick(LEFT, "start", first.game_date.to_string()),
        tick(W - RIGHT, "end", last.game_date.to_string()),
    ];
    for (i, pair) in rows.windows(2).enumerate() {
        let (a, b) = (pair[0].game_date, pair[1].game_date);
        if (a.year(), a.month()) == (b.year(), b.month()) {
            continue;
        }
        let month = MONTHS[b.month0() as usize];
        let text = if a.year() == b.year() {
            month.to_string()
        } else {
            format!("{month} {}", b.year())
        };
        ticks.push(tick(LEFT + step * (i + 1) as f64, "middle", text));
    }
    ticks
}

fn tick(x: f64, anchor: &'static str, text: String) -> Tick {
    Tick { x, anchor, text }
}

/// Greedy: keep each candidate that does not collide with one already kept.
fn place_ticks(candidates: Vec<Tick>) -> Vec<Tick> {
    let mut kept: Vec<Tick> = Vec::new();
    for t in candidates {
        if kept.iter().all(|k| !k.overlaps(&t)) {
            kept.push(t);
        }
    }
    kept.sort_by(|a, b| a.x.total_cmp(&b.x));
    kept
}

fn date_axis(rows: &[ShareRow]) -> String {
    let base = TOP + PLOT_H;
    let mut s = format!(
        "<g class=\"x-axis\"><line x1=\"{LEFT}\" x2=\"{}\" y1=\"{base}\" y2=\"{base}\" \
         stroke=\"{MUTED}\"/>",
        W - RIGHT
    );
    for t in place_ticks(candidate_ticks(rows)) {
        let x = n(t.x);
        let _ = write!(
            s,
            "<line x1=\"{x}\" x2=\"{x}\" y1=\"{base}\" y2=\"{}\" stroke=\"{MUTED}\"/>\
             <text x=\"{x}\" y=\"{}\" text-anchor=\"{}\" fill=\"{MUTED}\">{}</text>",
            base + 5.0,
            base + 21.0,
            t.anchor,
            escape(&t.text)
        );
    }
    s += "</g>";
    s
}

// ---------------------------------------------------------------------------
// Histogram

const HW: f64 = 380.0;
const HH: f64 = 250.0;
const H_LEFT: f64 = 8.0;
const H_RIGHT: f64 = 8.0;
const H_TOP: f64 = 24.0;
const H_BOTTOM: f64 = 42.0;
const H_PLOT_W: f64 = HW - H_LEFT - H_RIGHT;
/// Height of the bar of the largest count.
pub const H_PLOT_H: f64 = HH - H_TOP - H_BOTTOM;
const HIST_FILL: &str = "#4c6a92";
/// Least height of a bar for a non-zero count.
const MIN_BAR: f64 = 1.5;

/// Bar chart of how many records found 0, 1, … 10 games. The largest count
/// fills the plot height; each bar carries its count, so no y axis is needed.
pub fn histogram(counts: &[u64; 11]) -> String {
    let max = counts.iter().copied().max().unwrap_or(0);
    let total: u64 = counts.iter().sum();
    let mut s = open_svg("histogram", HW, HH, "Records by games_found");
    let step = H_PLOT_W / counts.len() as f64;
    let base = H_TOP + H_PLOT_H;
    for (found, &count) in counts.iter().enumerate() {
        s += &histogram_bar(found, count, max, total, H_LEFT + step * found as f64, step);
    }
    let _ = write!(
        s,
        "<line x1=\"{H_LEFT}\" x2=\"{}\" y1=\"{base}\" y2=\"{base}\" stroke=\"{MUTED}\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{MUTED}\" font-size=\"12\">\
         games_found (of the last 10)</text>",
        HW - H_RIGHT,
        HW / 2.0,
        HH - 8.0
    );
    if total == 0 {
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"14\" \
             fill=\"{MUTED}\">No records</text>",
            HW / 2.0,
            H_TOP + H_PLOT_H / 2.0
        );
    }
    s += "</svg>";
    s
}

fn histogram_bar(found: usize, count: u64, max: u64, total: u64, x: f64, step: f64) -> String {
    let base = H_TOP + H_PLOT_H;
    let h = match (count, max) {
        (0, _) | (_, 0) => 0.0,
        // A sliver, so a small non-zero count does not look like none.
        _ => (H_PLOT_H * count as f64 / max as f64).max(MIN_BAR),
    };
    let share = permille([count, total - count])[0];
    let centre = n(x + step / 2.0);
    format!(
        "<g><title>games_found {found}: {} records ({})</title>\
         <rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"2\" \
         fill=\"{HIST_FILL}\"/>\
         <text x=\"{centre}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">{}</text>\
         <text x=\"{centre}\" y=\"{}\" text-anchor=\"middle\" fill=\"{MUTED}\" \
         font-size=\"12\">{found}</text></g>",
        thousands(count),
        pct(share),
        n(x + step * 0.12),
        n(base - h),
        n(step * 0.76),
        n(h),
        n(base - h - 5.0),
        compact(count),
        base + 17.0
    )
}

/// A count short enough to sit above a narrow bar: 9,999 / 12.3k / 4.56M.
fn compact(count: u64) -> String {
    match count {
        0..10_000 => thousands(count),
        10_000..999_950 => format!("{:.1}k", count as f64 / 1e3),
        _ => format!("{:.2}M", count as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("test date")
    }

    fn row(d: NaiveDate, complete: u64, bootstrap: u64, incomplete: u64) -> ShareRow {
        ShareRow::new(d, complete, bootstrap, incomplete)
    }

    /// `attr="value"` of every element that has `needle` in its tag.
    fn attrs(svg: &str, needle: &str, attr: &str) -> Vec<f64> {
        svg.split('<')
            .filter(|tag| tag.contains(needle))
            .filter_map(|tag| {
                let start = tag.find(&format!(" {attr}=\""))? + attr.len() + 3;
                let len = tag[start..].find('"')?;
                tag[start..start + len].parse().ok()
            })
            .collect()
    }

    fn assert_well_formed(svg: &str) {
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.ends_with("</svg>"), "{svg}");
        assert_eq!(svg.matches("<svg").count(), svg.matches("</svg>").count());
        assert_eq!(svg.matches("<g").count(), svg.matches("</g>").count());
        assert_eq!(
            svg.matches("<title>").count(),
            svg.matches("</title>").count()
        );
        for bad in ["http", "xmlns", "<script", "href", "url("] {
            assert!(!svg.contains(bad), "found {bad}");
        }
    }

    #[test]
    fn permille_adds_up_to_exactly_one_hundred_percent() {
        assert_eq!(permille([3, 1, 0]), [750, 250, 0]);
        assert_eq!(permille([1, 1, 1]), [334, 333, 333]);
        assert_eq!(permille([2, 1, 0]), [667, 333, 0]);
        assert_eq!(permille([0, 0, 0]), [0, 0, 0]);
        assert_eq!(permille([u64::MAX, 0, 1]), [1000, 0, 0]);
    }

    #[test]
    fn tooltip_shows_counts_and_shares() {
        let r = row(date("2025-01-05"), 3, 1, 0);
        assert_eq!(
            tooltip(&r),
            "2025-01-05 · 4 records\ncomplete 3 (75.0%)\nbootstrap, not complete 1 (25.0%)"
        );
        let svg = share_chart(&[r]);
        assert!(svg.contains("complete 3 (75.0%)\nbootstrap, not complete 1 (25.0%)"));
    }

    /// Issue 25 items 2 and 3: the INCOMPLETE part of a bar is told apart into data gaps
    /// and the rest, records without a struct are drawn (never as complete), and only
    /// dates with a data gap get a tick.
    #[test]
    fn data_gaps_are_told_from_other_incomplete_records_and_no_struct_is_drawn() {
        let gaps = ShareRow {
            data_gaps: Some(1),
            no_struct: 5,
            ..row(date("2025-11-01"), 4, 0, 10)
        };
        assert_eq!(
            tooltip(&gaps),
            "2025-11-01 · 19 records\ncomplete 4 (21.0%)\nincomplete, not a data gap 9 (47.4%)\n\
             data gap 1 (5.3%)\nno struct yet 5 (26.3%)"
        );
        let explained = ShareRow {
            data_gaps: Some(0),
            ..row(date("2025-11-02"), 4, 0, 10)
        };
        let svg = share_chart(&[gaps, explained]);
        assert_well_formed(&svg);
        assert_eq!(svg.matches("class=\"rug\"").count(), 1);
        assert!(
            svg.contains("<title>2025-11-01: 1 data gap</title>"),
            "{svg}"
        );
        assert!(!svg.contains("<title>2025-11-02:"), "{svg}");
        for colour in [EXPLAINED, NO_STRUCT, INCOMPLETE] {
            assert!(svg.contains(&format!("fill=\"{colour}\"")), "{colour}");
        }
        assert!(svg.contains(">No struct yet "), "{svg}");
        assert!(!svg.contains("reason unknown"), "{svg}");
    }

    #[test]
    fn no_rows_says_so() {
        let svg = share_chart(&[]);
        assert_well_formed(&svg);
        assert!(svg.contains("No game dates in range."));
        assert!(!svg.contains("fill=\"#1b9e77\""));
    }

    #[test]
    fn one_date_fills_the_plot_width_with_one_labelled_bar() {
        let svg = share_chart(&[row(date("2025-03-01"), 9, 0, 1)]);
        assert_well_formed(&svg);
        let widths = attrs(&svg, "fill=\"#1b9e77\"", "width");
        // The legend swatch (12) and the bar.
        assert_eq!(widths, [12.0, MAX_BAR]);
        let xs = attrs(&svg, "fill=\"#1b9e77\"", "x");
        assert_eq!(xs[1], LEFT + (PLOT_W - MAX_BAR) / 2.0, "centred");
        // Complete 90% of the plot height, incomplete 10%.
        let heights = attrs(&svg, "rect ", "height");
        assert!(heights.contains(&n(PLOT_H * 0.9).parse().unwrap_or(f64::NAN)));
        assert!(heights.contains(&n(PLOT_H * 0.1).parse().unwrap_or(f64::NAN)));
        assert_eq!(svg.matches(">2025-03-01</text>").count(), 1);
    }

    fn season(days: usize) -> Vec<ShareRow> {
        let start = date("2024-10-22");
        (0..days)
            .map(|i| {
                let d = start + chrono::Days::new(i as u64);
                row(
                    d,
                    100 + i as u64 % 7,
                    if i < 14 { 50 } else { 0 },
                    i as u64 % 3,
                )
            })
            .collect()
    }

    #[test]
    fn many_dates_get_touching_bars_and_non_overlapping_ticks() {
        let mut rows = season(400);
        rows.reverse(); // Input order must not matter.
        let svg = share_chart(&rows);
        assert_well_formed(&svg);
        // One tooltip per date; season(400) has INCOMPLETE on 2 days in 3.
        assert_eq!(svg.matches("<g><title>").count(), 400);
        assert_eq!(
            svg.matches(" INCOMPLETE, reason unknown</title>").count(),
            266
        );
        let (step, offset, width) = bar_geometry(400);
        assert_eq!(offset, 0.0);
        assert!(width >= step);
        let ticks = place_ticks(candidate_ticks(&season(400)));
        assert_eq!(ticks[0].text, "2024-10-22");
        assert_eq!(ticks[ticks.len() - 1].text, "2025-11-25");
        assert!(ticks.iter().any(|t| t.text == "Jan 2025"));
        for pair in ticks.windows(2) {
            assert!(!pair[0].overlaps(&pair[1]), "{pair:?}");
        }
        // The first date is earliest even though the input was reversed.
        let first_title = svg.split("<g><title>").nth(1).unwrap_or("");
        assert!(first_title.starts_with("2024-10-22"), "{first_title}");
    }

    #[test]
    fn month_ticks_are_dropped_when_they_would_collide() {
        // Month boundaries only days apart in slot terms: 3 slots over 10 months.
        let rows = [
            row(date("2025-01-31"), 1, 0, 0),
            row(date("2025-02-01"), 1, 0, 0),
            row(date("2025-03-01"), 1, 0, 0),
        ];
        let ticks = place_ticks(candidate_ticks(&rows));
        assert!(ticks.len() >= 2);
        for pair in ticks.windows(2) {
            assert!(!pair[0].overlaps(&pair[1]), "{pair:?}");
        }
    }

    #[test]
    fn long_gaps_are_marked_as_season_breaks() {
        let rows = [
            row(date("2025-04-13"), 1, 0, 0),
            row(date("2025-10-21"), 0, 1, 0),
        ];
        let svg = share_chart(&rows);
        assert!(svg.contains("190 days without games"), "{svg}");
    }

    #[test]
    fn dates_with_incomplete_records_get_a_tick_above_the_plot() {
        let rows = [
            row(date("2025-01-01"), 500, 0, 1),
            row(date("2025-01-02"), 500, 0, 0),
            row(date("2025-01-03"), 0, 0, 2),
        ];
        let svg = share_chart(&rows);
        assert_well_formed(&svg);
        assert!(svg.contains("<title>2025-01-01: 1 INCOMPLETE, reason unknown</title>"));
        assert!(svg.contains("<title>2025-01-03: 2 INCOMPLETE, reason unknown</title>"));
        assert_eq!(
            svg.matches(" INCOMPLETE, reason unknown</title>").count(),
            2
        );
    }

    #[test]
    fn a_date_without_records_is_drawn_empty() {
        let svg = share_chart(&[row(date("2025-01-01"), 0, 0, 0)]);
        assert_well_formed(&svg);
        assert!(svg.contains("no records"));
        assert!(svg.contains(&format!("fill=\"{EMPTY}\"")));
    }

    #[test]
    fn histogram_scales_the_largest_count_to_the_plot_height() {
        let mut counts = [0u64; 11];
        counts[10] = 400;
        counts[9] = 100;
        counts[0] = 1;
        let svg = histogram(&counts);
        assert_well_formed(&svg);
        let heights = attrs(&svg, "class=\"bar\"", "height");
        assert_eq!(heights.len(), 11);
        assert_eq!(heights[10], H_PLOT_H);
        assert_eq!(heights[9], H_PLOT_H / 4.0);
        assert_eq!(heights[5], 0.0);
        assert_eq!(heights[0], MIN_BAR, "a count of 1 stays visible");
        assert!(svg.contains("games_found 10: 400 records (79.8%)"));
        assert!(svg.contains(">400</text>"));
    }

    #[test]
    fn histogram_of_nothing_draws_flat_bars() {
        let svg = histogram(&[0; 11]);
        assert_well_formed(&svg);
        assert!(
            attrs(&svg, "class=\"bar\"", "height")
                .iter()
                .all(|&h| h == 0.0)
        );
        assert!(svg.contains("No records"));
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn compact_counts_fit_above_a_bar() {
        assert_eq!(compact(9_999), "9,999");
        assert_eq!(compact(12_345), "12.3k");
        assert_eq!(compact(999_949), "999.9k");
        assert_eq!(compact(999_950), "1.00M");
        assert_eq!(compact(4_560_000), "4.56M");
    }
}
