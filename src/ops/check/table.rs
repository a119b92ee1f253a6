//! Query results for people (a terminal table) and for scripts (JSON rows).

use arrow::array::RecordBatch;
use arrow::datatypes::DataType;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use comfy_table::{CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use crate::error::{Error, Result};
use crate::io::columns::{head, num_rows};
use crate::model::count::thousands;

/// The first `shown` rows as a table, then "… and N more" when rows were left out.
/// A table wider than `width` (the terminal's, or `COLUMNS`) is narrowed as [`fit`]
/// says, leaving out the `droppable` columns (in order) before it gives up on a table.
pub fn render(
    batches: &[RecordBatch],
    shown: usize,
    width: Option<usize>,
    droppable: &[&str],
) -> Result<String> {
    let Some(first) = batches.first() else {
        return Ok("(no rows)\n".to_string());
    };
    let total = num_rows(batches);
    if total == 0 {
        return Ok("(no rows)\n".to_string());
    }
    let headers: Vec<String> = first
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let mut rows = formatted(batches, shown)?;
    for (i, field) in first.schema().fields().iter().enumerate() {
        if matches!(
            field.data_type(),
            DataType::Float16 | DataType::Float32 | DataType::Float64
        ) {
            same_decimals(&mut rows, i);
        }
    }
    let numeric: Vec<bool> = first
        .schema()
        .fields()
        .iter()
        .map(|f| f.data_type().is_numeric())
        .collect();
    let mut text = fit(
        &Columns {
            headers,
            rows,
            numeric,
        },
        width,
        droppable,
    );
    if total > shown {
        text.push_str(&format!(
            "… and {} more (--limit N to see more, --json for all)\n",
            thousands((total - shown) as u64)
        ));
    }
    Ok(text)
}

/// A table's cells as text: its headers, its rows, and which columns are numbers
/// (aligned right).
pub struct Columns {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub numeric: Vec<bool>,
}

impl Columns {
    /// The table without column `i`.
    fn without(&self, i: usize) -> Columns {
        let skip = |cells: &[String]| -> Vec<String> {
            cells
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != i)
                .map(|(_, c)| c.clone())
                .collect()
        };
        let mut numeric = self.numeric.clone();
        numeric.remove(i);
        Columns {
            headers: skip(&self.headers),
            rows: self.rows.iter().map(|r| skip(r)).collect(),
            numeric,
        }
    }

    /// The bordered table, with each header broken at its underscores when `broken`.
    fn draw(&self, broken: bool) -> String {
        let headers = self.headers.iter().map(|h| match broken {
            true => h.replace('_', "\n"),
            false => h.clone(),
        });
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(headers);
        for row in &self.rows {
            table.add_row(row.clone());
        }
        for (i, _) in self.numeric.iter().enumerate().filter(|(_, n)| **n) {
            if let Some(column) = table.column_mut(i) {
                column.set_cell_alignment(CellAlignment::Right);
            }
        }
        format!("{table}\n")
    }
}

/// The table as wide as `width` allows: as it is; else with its headers broken at
/// their underscores (`avg_games_found` on three lines); else without the `droppable`
/// columns, one at a time, saying which are left out; else one record per block. A
/// table wrapped inside its cells cannot be read, nor a command in it copied.
pub fn fit(columns: &Columns, width: Option<usize>, droppable: &[&str]) -> String {
    let plain = columns.draw(false);
    let Some(width) = width else { return plain };
    let fits = |t: &String| t.lines().all(|l| l.chars().count() <= width);
    if fits(&plain) {
        return plain;
    }
    let mut narrowed = columns.draw(true);
    let (mut current, mut dropped) = (None::<Columns>, Vec::new());
    for name in droppable {
        if fits(&narrowed) {
            break;
        }
        let table = current.as_ref().unwrap_or(columns);
        let Some(i) = table.headers.iter().position(|h| h == name) else {
            continue;
        };
        let fewer = table.without(i);
        narrowed = fewer.draw(true);
        dropped.push(*name);
        current = Some(fewer);
    }
    if !fits(&narrowed) {
        return records(&columns.headers, &columns.rows);
    }
    if !dropped.is_empty() {
        narrowed.push_str(&format!(
            "({} left out to fit {width} columns; --json has every column)\n",
            dropped.join(", ")
        ));
    }
    narrowed
}

/// The first `shown` rows, each cell as text (NULL for a null).
fn formatted(batches: &[RecordBatch], shown: usize) -> Result<Vec<Vec<String>>> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in head(batches, shown) {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(Error::arrow("formatting a result table"))?;
        for row in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    Ok(rows)
}

/// Column `i` written with one number of decimals, the most any of its cells has
/// (`10.0` next to `9.94` becomes `10.00`): a column read down must line up.
fn same_decimals(rows: &mut [Vec<String>], i: usize) {
    let decimals = |cell: &str| cell.split_once('.').map_or(0, |(_, d)| d.len());
    let plain = |cell: &str| cell.parse::<f64>().is_ok() && !cell.contains(['e', 'E']);
    let most = rows
        .iter()
        .filter_map(|r| r.get(i))
        .filter(|c| plain(c))
        .map(|c| decimals(c))
        .max()
        .unwrap_or(0);
    for cell in rows.iter_mut().filter_map(|r| r.get_mut(i)) {
        if !plain(cell) {
            continue;
        }
        let have = decimals(cell);
        if have == 0 && most > 0 {
            cell.push('.');
        }
        cell.push_str(&"0".repeat(most - have));
    }
}

/// One `name: value` line per cell, a blank line between records.
fn records(headers: &[String], rows: &[Vec<String>]) -> String {
    let pad = headers.iter().map(|h| h.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        out.push_str(&format!("-[ record {} ]-\n", i + 1));
        for (name, value) in headers.iter().zip(row) {
            out.push_str(&format!("{name:<pad$} | {value}\n"));
        }
    }
    out
}

/// The first `limit` rows as JSON objects (dates as "YYYY-MM-DD", NULL as null).
pub fn json_rows(batches: &[RecordBatch], limit: usize) -> Result<Vec<serde_json::Value>> {
    let mut buf = Vec::new();
    {
        let mut writer = arrow::json::WriterBuilder::new()
            .with_explicit_nulls(true)
            .build::<_, arrow::json::writer::JsonArray>(&mut buf);
        for batch in head(batches, limit) {
            writer
                .write(&batch)
                .map_err(Error::arrow("writing JSON rows"))?;
        }
        writer.finish().map_err(Error::arrow("writing JSON rows"))?;
    }
    if buf.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_slice(&buf).map_err(Error::arrow("reading back JSON rows"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Date32Array, Int64Array};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn batch(n: i64) -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("game_date", DataType::Date32, false),
            Field::new("records", DataType::Int64, true),
        ]);
        let days: Vec<i32> = (0..n as i32).map(|i| 20_000 + i).collect();
        let counts: Vec<Option<i64>> = (0..n).map(|i| (i % 2 == 0).then_some(i)).collect();
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Date32Array::from(days)),
                Arc::new(Int64Array::from(counts)),
            ],
        )
        .unwrap()
    }

    #[test]
    fn render_shows_the_first_rows_and_counts_the_rest() {
        let text = render(&[batch(25)], 20, None, &[]).unwrap();
        assert!(text.contains("game_date"), "{text}");
        assert!(text.contains("2024-10-06"), "{text}"); // day 20_000 + 2
        assert!(text.contains("NULL"), "{text}");
        assert!(text.contains("… and 5 more"), "{text}");
        assert!(!render(&[batch(3)], 20, None, &[]).unwrap().contains("more"));
        assert_eq!(render(&[], 20, None, &[]).unwrap(), "(no rows)\n");
    }

    /// Too wide for the terminal: one record per line, every cell whole; wide enough
    /// (or not a terminal): the table.
    #[test]
    fn a_table_wider_than_the_terminal_becomes_records() {
        let table = render(&[batch(2)], 20, Some(200), &[]).unwrap();
        assert!(table.contains("┆") || table.contains("│"), "{table}");
        let narrow = render(&[batch(2)], 20, Some(10), &[]).unwrap();
        assert!(narrow.starts_with("-[ record 1 ]-\n"), "{narrow}");
        assert!(narrow.contains("game_date | 2024-10-04\n"), "{narrow}");
        assert!(narrow.contains("records   | NULL\n"), "{narrow}");
        assert!(narrow.contains("-[ record 2 ]-"), "{narrow}");
        assert!(!narrow.contains('│'), "{narrow}");
    }

    /// Issue 25 item 22: one precision per column (10.00 next to 9.94, not 10.0).
    #[test]
    fn a_float_column_has_one_precision() {
        let schema = Schema::new(vec![Field::new("avg", DataType::Float64, true)]);
        let values =
            arrow::array::Float64Array::from(vec![Some(10.0), Some(9.94), None, Some(7.5)]);
        let batch = RecordBatch::try_new(Arc::new(schema), vec![Arc::new(values)]).unwrap();
        let text = render(&[batch], 20, None, &[]).unwrap();
        for cell in ["10.00", "9.94", "7.50", "NULL"] {
            assert!(text.contains(cell), "{cell}: {text}");
        }
        assert!(!text.contains("10.0 "), "{text}");
    }

    #[test]
    fn json_rows_are_objects_with_dates_and_nulls() {
        let rows = json_rows(&[batch(3)], 2).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["game_date"], "2024-10-04");
        assert_eq!(rows[0]["records"], 0);
        assert!(rows[1]["records"].is_null());
    }
}
