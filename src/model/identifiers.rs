//! BigQuery identifiers the tool writes into SQL text (view DDL, table references).
//!
//! Values go into queries as parameters; identifiers cannot, so they are checked
//! against BigQuery's own rules and rejected, naming the offender, before any SQL is
//! built. Nothing is quoted or escaped "to make it safe": a hostile name never gets in.

use crate::error::{Error, Result};

/// A `[project.]dataset.table` (or `[project.]dataset`) reference, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRef {
    pub project: Option<String>,
    pub parts: Vec<String>,
}

impl TableRef {
    /// Parse `text` with `parts` dataset/table components after an optional project.
    pub fn parse(text: &str, parts: usize, what: &str) -> Result<TableRef> {
        let pieces: Vec<&str> = text.split('.').collect();
        let (project, rest) = match pieces.len() {
            n if n == parts => (None, &pieces[..]),
            n if n == parts + 1 => (Some(pieces[0]), &pieces[1..]),
            _ => {
                return Err(Error::input(format!(
                    "{what} `{text}`: expected {} (dot-separated)",
                    if parts == 1 {
                        "[project.]dataset"
                    } else {
                        "[project.]dataset.table"
                    }
                )));
            }
        };
        if let Some(p) = project {
            check_project(p, what, text)?;
        }
        for name in rest {
            check_name(name, what, text)?;
        }
        Ok(TableRef {
            project: project.map(str::to_string),
            parts: rest.iter().map(|s| s.to_string()).collect(),
        })
    }
}

impl std::fmt::Display for TableRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(p) = &self.project {
            write!(f, "{p}.")?;
        }
        write!(f, "{}", self.parts.join("."))
    }
}

/// Project ids: 6–30 lowercase letters, digits and hyphens, starting with a letter.
fn check_project(p: &str, what: &str, text: &str) -> Result<()> {
    let ok = (6..=30).contains(&p.len())
        && p.starts_with(|c: char| c.is_ascii_lowercase())
        && !p.ends_with('-')
        && p.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        return Ok(());
    }
    Err(Error::input(format!(
        "{what} `{text}`: project `{p}` is not a valid project id (6-30 lowercase letters, digits, hyphens)"
    )))
}

/// Dataset and table names: letters, digits and underscores, at most 1024.
fn check_name(name: &str, what: &str, text: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 1024
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        return Ok(());
    }
    Err(Error::input(format!(
        "{what} `{text}`: `{name}` is not a valid dataset or table name (letters, digits, underscores only)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_references() {
        let t = TableRef::parse("nba_predictions.ml_feature_store_v2", 2, "table").unwrap();
        assert_eq!(t.to_string(), "nba_predictions.ml_feature_store_v2");
        let t = TableRef::parse("my-project-1.nba_predictions.t", 2, "table").unwrap();
        assert_eq!(t.project.as_deref(), Some("my-project-1"));
    }

    #[test]
    fn rejects_hostile_and_malformed_names_naming_them() {
        for bad in [
            "nba.t`; DROP TABLE x; --",
            "nba.t WHERE 1=1",
            "a.b.c.d",
            "nba.",
            "Bad_Project.nba.t",
            "nba.t\n",
        ] {
            let err = TableRef::parse(bad, 2, "features table").unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(err.to_string().starts_with("features table `"), "{err}");
        }
    }
}
