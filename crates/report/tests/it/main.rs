//! Tests of lmc-report: snapshot tests of every figure's SVG on small fixed tables, and whole
//! reports built from synthetic results and analysis directories.
//!
//! Snapshots live in `crates/report/tests/snapshots/`. After an intended change to a figure,
//! regenerate them with `LMC_UPDATE_SNAPSHOTS=1 cargo test -p lmc-report`, look at the new SVGs, and
//! commit them with the change. `LMC_REPORT_TEST_OUT=DIR` keeps the full synthetic study (results,
//! analysis and report) of `report::a_full_report_…` in `DIR` to inspect.

mod report;
mod snapshots;
mod synthetic;
