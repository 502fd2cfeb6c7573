//! Figures and reports drawn from lmc's stored result tables.
//!
//! Work in progress: filled by the figures-and-report issue.
