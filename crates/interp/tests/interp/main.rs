//! Integration tests of lmc-interp, in one binary.

mod errors;
mod helpers;
mod merge;
mod merge_config;
mod merge_properties;
mod merge_reference;
mod model_merge;
mod plane;
mod properties;
mod reference;
