//! Reading and writing: the DataFusion session and Parquet files ([`engine`]), local
//! and remote Parquet readers, object stores ([`storage`]), durable writes ([`durable`]), row groups ([`row_groups`])
//! and typed column access ([`columns`]).

pub mod columns;
pub mod durable;
pub mod engine;
pub mod local_parquet;
pub mod remote_parquet;
pub mod row_groups;
pub mod storage;
