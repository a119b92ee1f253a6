//! Where the tables live. The embedded default is a local Delta Lake warehouse: one
//! root holding the three tables at their `dataset/table` paths (see [`crate::model`]).
//! In production they are BigQuery tables, staged through a GCS bucket.

pub mod bigquery;
pub mod delta;
pub mod local;

pub use bigquery::BigQueryWarehouse;
pub use local::LocalWarehouse;

/// A local Delta warehouse or BigQuery.
#[derive(Debug, Clone)]
pub enum Warehouse {
    Local(LocalWarehouse),
    BigQuery(Box<BigQueryWarehouse>),
}

impl Warehouse {
    /// What manifests record and runs are matched against: a root path or
    /// `bigquery://project/dataset.table`.
    pub fn describe(&self) -> String {
        match self {
            Warehouse::Local(w) => w.root().display().to_string(),
            Warehouse::BigQuery(w) => w.describe(),
        }
    }
}

impl From<LocalWarehouse> for Warehouse {
    fn from(w: LocalWarehouse) -> Self {
        Warehouse::Local(w)
    }
}

impl From<BigQueryWarehouse> for Warehouse {
    fn from(w: BigQueryWarehouse) -> Self {
        Warehouse::BigQuery(Box::new(w))
    }
}
