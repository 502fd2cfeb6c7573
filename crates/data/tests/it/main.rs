//! Integration tests of lmc-data, in one binary.

mod bad_input;
mod batching;
mod cache;
mod common;
mod datadir;
mod datasets;
mod fetch;
mod metrics;
mod tasks;
mod tokenizer;
