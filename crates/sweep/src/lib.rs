//! Evaluation of BERT classifiers and of the straight paths between them.
//!
//! Work in progress: filled by the sweep issue (evaluator, `lmc eval`, `lmc sweep`, `lmc surface`).
