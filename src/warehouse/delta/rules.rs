//! The rules a Delta table sets for every row written to it, evaluated on the rows a
//! rewrite would write before anything is written.
//!
//! Delta leaves enforcement to writers: CHECK constraints (`delta.constraints.*` in the
//! table's configuration), column invariants (`delta.invariants` in the schema) and
//! generated columns (`delta.generationExpression`) hold only if every writer checks
//! them. delta-rs's own writer does; a rewrite that splices files does not pass through
//! it, so it evaluates them itself, with DataFusion (which delta-rs uses too), with the
//! same meaning: a row breaks a rule when its expression is not TRUE (NULL breaks it),
//! and a generated column must equal its expression. A NOT NULL column the rewrite
//! writes is a rule as well.
//!
//! A generated column computed from a column the rewrite writes would go stale with
//! every write; such a table is refused before any run ([`Rules::stale_generated`]).

use std::sync::Arc;

use arrow::array::RecordBatch;
use chrono::NaiveDate;
use datafusion::prelude::SessionContext;
use deltalake::DeltaTable;
use deltalake::StructTypeExt;
use deltalake::table::config::TablePropertiesExt;

use crate::error::{Error, Result};
use crate::io::columns::{dates, strings};
use crate::model::{GAME_DATE, PLAYER_LOOKUP};

/// One rule: what it is called in the table, and the SQL of a row that breaks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// e.g. "CHECK constraint `positive` (games_expected >= 1)".
    pub name: String,
    broken_when: String,
}

/// A row that breaks a rule, and how many do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: String,
    pub player: String,
    pub date: NaiveDate,
    pub rows: usize,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let more = match self.rows {
            1 => String::new(),
            n => format!(
                " (and {} more rows)",
                crate::model::count::thousands(n as u64 - 1)
            ),
        };
        write!(
            f,
            "{} is broken by {} on {}{more}",
            self.rule, self.player, self.date
        )
    }
}

/// The rules of one table.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
    /// Generated columns: name and expression.
    generated: Vec<(String, String)>,
}

impl Rules {
    /// The rules of `table` at its loaded version; `written` are the columns a rewrite
    /// writes (their NOT NULL is a rule).
    pub fn of(table: &DeltaTable, written: &[&str]) -> Result<Rules> {
        let context = format!("reading the rules of {}", table.table_url());
        let state = table.snapshot().map_err(Error::delta(context.clone()))?;
        let snapshot = state.snapshot();
        let schema = snapshot.schema();
        let bad_schema = |e: deltalake::kernel::Error| Error::input(format!("{context}: {e}"));
        let mut rules = Vec::new();
        for c in snapshot.table_properties().get_constraints() {
            rules.push(Rule {
                name: format!("CHECK constraint `{}` ({})", c.name, c.expr),
                broken_when: format!("({}) IS NOT TRUE", c.expr),
            });
        }
        for i in schema.get_invariants().map_err(bad_schema)? {
            rules.push(Rule {
                name: format!("invariant on `{}` ({})", i.field_name, i.invariant_sql),
                broken_when: format!("({}) IS NOT TRUE", i.invariant_sql),
            });
        }
        let mut generated = Vec::new();
        for g in schema.get_generated_columns().map_err(bad_schema)? {
            rules.push(Rule {
                name: format!(
                    "generated column `{}` (GENERATED ALWAYS AS {})",
                    g.name, g.generation_expr
                ),
                broken_when: format!("\"{}\" IS DISTINCT FROM ({})", g.name, g.generation_expr),
            });
            generated.push((g.name.clone(), g.generation_expr.clone()));
        }
        for field in schema.fields() {
            if !field.is_nullable() && written.contains(&field.name().as_str()) {
                rules.push(Rule {
                    name: format!("NOT NULL column `{}`", field.name()),
                    broken_when: format!("\"{}\" IS NULL", field.name()),
                });
            }
        }
        Ok(Rules { rules, generated })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Generated columns whose expression reads one of `written`, named with it.
    pub fn stale_generated(&self, written: &[&str]) -> Vec<String> {
        self.generated
            .iter()
            .filter(|(_, expr)| {
                identifiers(expr).any(|id| written.iter().any(|w| id.eq_ignore_ascii_case(w)))
            })
            .map(|(name, expr)| format!("`{name}` (GENERATED ALWAYS AS {expr})"))
            .collect()
    }

    /// The first rule `rows` break (rows in the table's columns, `player_lookup` and
    /// `game_date` among them), with the first such row by date and player.
    pub async fn first_violation(&self, rows: RecordBatch) -> Result<Option<Violation>> {
        if self.rules.is_empty() || rows.num_rows() == 0 {
            return Ok(None);
        }
        let ctx = SessionContext::new();
        ctx.register_batch("t", rows)
            .map_err(Error::datafusion("checking the table's rules"))?;
        for rule in &self.rules {
            let sql = format!(
                "SELECT {PLAYER_LOOKUP}, {GAME_DATE} FROM t WHERE {} ORDER BY {GAME_DATE}, {PLAYER_LOOKUP}",
                rule.broken_when
            );
            let cannot = |e: datafusion::error::DataFusionError| {
                Error::input(format!(
                    "{} cannot be evaluated ({e}); a write that cannot check it is refused; \
                     nothing was written",
                    rule.name
                ))
            };
            let broken = ctx.sql(&sql).await.map_err(cannot)?;
            let broken = broken.collect().await.map_err(cannot)?;
            let total: usize = broken.iter().map(|b| b.num_rows()).sum();
            if total == 0 {
                continue;
            }
            let first = broken.iter().find(|b| b.num_rows() > 0).expect("a row");
            return Ok(Some(Violation {
                rule: rule.name.clone(),
                player: strings(std::slice::from_ref(first), PLAYER_LOOKUP)?[0]
                    .clone()
                    .unwrap_or_default(),
                date: dates(std::slice::from_ref(first), GAME_DATE)?[0].unwrap_or_default(),
                rows: total,
            }));
        }
        Ok(None)
    }
}

/// The identifiers of an SQL expression, each part of a dotted name on its own
/// (conservative: a name inside a string literal counts too).
fn identifiers(sql: &str) -> impl Iterator<Item = &str> {
    sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|s| !s.is_empty())
}

/// `rows` with every column nullable, so a row breaking a NOT NULL rule can be held
/// (and reported) instead of failing to build.
pub fn nullable(rows: &RecordBatch) -> Result<RecordBatch> {
    let fields: Vec<_> = rows
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    RecordBatch::try_new(
        Arc::new(arrow::datatypes::Schema::new(fields)),
        rows.columns().to_vec(),
    )
    .map_err(Error::arrow("checking the table's rules"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Date32Array, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    fn rules(list: &[(&str, &str)]) -> Rules {
        Rules {
            rules: list
                .iter()
                .map(|(name, broken_when)| Rule {
                    name: name.to_string(),
                    broken_when: broken_when.to_string(),
                })
                .collect(),
            generated: Vec::new(),
        }
    }

    fn rows() -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new(PLAYER_LOOKUP, DataType::Utf8, true),
            Field::new(GAME_DATE, DataType::Date32, true),
            Field::new("n", DataType::Int64, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(vec!["b", "a", "c"])),
                Arc::new(Date32Array::from(vec![20_000, 20_000, 20_001])),
                Arc::new(Int64Array::from(vec![Some(0), Some(5), None])),
            ],
        )
        .unwrap()
    }

    #[tokio::test]
    async fn a_rule_is_broken_by_false_and_by_null() {
        let r = rules(&[("n >= 1", "(n >= 1) IS NOT TRUE")]);
        let v = r.first_violation(rows()).await.unwrap().unwrap();
        assert_eq!(v.player, "b");
        assert_eq!(v.rows, 2, "0 and NULL break it");
        assert!(
            v.to_string().starts_with("n >= 1 is broken by b on "),
            "{v}"
        );
        let holds = rules(&[("n >= 0 or null", "(n >= 0 OR n IS NULL) IS NOT TRUE")]);
        assert_eq!(holds.first_violation(rows()).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_rule_that_cannot_be_evaluated_refuses_the_write() {
        let r = rules(&[("odd", "no_such_function(n) IS NOT TRUE")]);
        let err = r.first_violation(rows()).await.unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("odd cannot be evaluated"), "{err}");
    }

    #[test]
    fn generated_columns_reading_a_written_column_are_stale() {
        let r = Rules {
            rules: Vec::new(),
            generated: vec![
                ("updated_date".into(), "CAST(updated_at AS DATE)".into()),
                ("game_year".into(), "YEAR(game_date)".into()),
                ("found".into(), "historical_completeness.games_found".into()),
                ("stamp2".into(), "last_updated_at_x".into()),
            ],
        };
        let stale = r.stale_generated(&["historical_completeness", "updated_at"]);
        assert_eq!(
            stale,
            [
                "`updated_date` (GENERATED ALWAYS AS CAST(updated_at AS DATE))",
                "`found` (GENERATED ALWAYS AS historical_completeness.games_found)"
            ]
        );
    }
}
