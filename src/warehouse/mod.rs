//! Where the tables live. The embedded default is a local Delta Lake warehouse: one
//! root holding the three tables at their `dataset/table` paths (see [`crate::model`]).

pub mod local;

pub use local::LocalWarehouse;
