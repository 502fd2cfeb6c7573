//! Integration tests of lmc-interp, in one binary.

mod errors;
mod helpers;
mod merge;
mod plane;
mod properties;
mod reference;
