//! Fine-tuning of BERT sequence classifiers with the recipe of Juneja et al. (2023).
//!
//! Not implemented yet: this crate reserves its place in the workspace's dependency graph
//! (lmc-bert and lmc-data below it, the `lmc` binary above it). The fine-tuning issue fills it
//! with the training loop (AdamW, warm-up and linear decay, separate head and data seeds,
//! resumable runs in configuration-hashed directories) and `lmc finetune` / `lmc eval`.
