//! Examples, datasets, their load reports, and deterministic selections of them.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::formats::DatasetFormat;
use crate::rng::shuffled_indices;

/// One labelled example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    /// 0-based index of the example's row in its source file, counting data rows only (the header
    /// is not a row). Rows skipped while loading (a `-` gold label) keep their numbers, so this is
    /// always "the row's index in the file", whatever was skipped, split off or filtered.
    pub index: usize,
    /// The first (or only) sentence.
    pub text_a: String,
    /// The second sentence of a pair; `None` for single-sentence tasks (CoLA).
    pub text_b: Option<String>,
    /// Label id: the position of the example's label in the dataset's label names.
    pub label: usize,
    /// HANS metadata, present only for HANS rows.
    pub hans: Option<HansMetadata>,
}

/// The HANS columns that describe how an example was generated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HansMetadata {
    /// The heuristic the example targets.
    pub heuristic: Heuristic,
    /// The subcase, e.g. `ln_subject/object_swap`.
    pub subcase: String,
    /// The generating template, e.g. `temp1`.
    pub template: String,
    /// The `pairID` column, e.g. `ex0`.
    pub pair_id: String,
}

/// The three syntactic heuristics HANS tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Heuristic {
    /// Premise contains every word of the hypothesis.
    LexicalOverlap,
    /// Hypothesis is a contiguous subsequence of the premise.
    Subsequence,
    /// Hypothesis is a complete subtree of the premise's parse.
    Constituent,
}

impl Heuristic {
    /// All heuristics, in HANS order.
    pub const ALL: [Heuristic; 3] = [
        Heuristic::LexicalOverlap,
        Heuristic::Subsequence,
        Heuristic::Constituent,
    ];

    /// The name used in the HANS `heuristic` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Heuristic::LexicalOverlap => "lexical_overlap",
            Heuristic::Subsequence => "subsequence",
            Heuristic::Constituent => "constituent",
        }
    }
}

impl fmt::Display for Heuristic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Heuristic {
    type Err = DataError;

    fn from_str(value: &str) -> Result<Self> {
        Heuristic::ALL
            .into_iter()
            .find(|heuristic| heuristic.as_str() == value)
            .ok_or_else(|| {
                DataError::InvalidInput(format!(
                    "unknown HANS heuristic `{value}` (expected lexical_overlap, subsequence or constituent)"
                ))
            })
    }
}

/// How a dataset was read, and how it was derived from the file since.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    /// The file read.
    pub path: PathBuf,
    /// The format it was read as.
    pub format: DatasetFormat,
    /// sha256 of the file's bytes, lower-case hex.
    pub sha256: String,
    /// Data rows in the file (after the header), skipped ones included.
    pub rows_in_file: usize,
    /// Rows skipped because their gold label was `-` (annotators did not agree; MNLI and SNLI).
    pub skipped_without_gold_label: usize,
    /// Where the examples come from and every selection applied since loading, in order; for the
    /// offline fallbacks this says so explicitly (e.g. "offline MNLI split: …").
    pub provenance: String,
}

/// A labelled dataset: examples, their label names and how they were obtained.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Short name, e.g. `mnli/validation_matched` or `hans`.
    pub name: String,
    /// Label names; an example's `label` indexes this list.
    pub label_names: Vec<String>,
    /// The examples, in file order unless a selection reordered them.
    pub examples: Vec<Example>,
    /// How the examples were read and selected.
    pub report: LoadReport,
}

impl Dataset {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.examples.len()
    }

    /// Whether there are no examples (loaders never return such a dataset).
    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    /// Number of examples with each label, indexed like `label_names`.
    pub fn label_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.label_names.len()];
        for example in &self.examples {
            counts[example.label] += 1;
        }
        counts
    }

    /// The labels of the examples, in order.
    pub fn labels(&self) -> Vec<usize> {
        self.examples.iter().map(|example| example.label).collect()
    }

    /// The examples at `positions` (indices into `examples`), in that order, as a new dataset whose
    /// provenance gains `description`. Errors if no position is given or one is out of range.
    pub fn select(&self, positions: &[usize], description: &str) -> Result<Dataset> {
        if positions.is_empty() {
            return Err(DataError::EmptySelection {
                dataset: self.name.clone(),
                selection: description.to_owned(),
            });
        }
        let examples = positions
            .iter()
            .map(|&position| {
                self.examples.get(position).cloned().ok_or_else(|| {
                    DataError::InvalidInput(format!(
                        "{}: position {position} is out of range ({} examples)",
                        self.name,
                        self.len()
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut report = self.report.clone();
        report.provenance = format!("{}; then {description}", report.provenance);
        Ok(Dataset {
            name: self.name.clone(),
            label_names: self.label_names.clone(),
            examples,
            report,
        })
    }

    /// A deterministic subset (see [`Subset`]).
    pub fn subset(&self, subset: Subset) -> Result<Dataset> {
        match subset {
            Subset::All => Ok(self.clone()),
            _ => {
                let positions = subset.positions(self.len());
                self.select(&positions, &subset.describe(self.len()))
            }
        }
    }

    /// The HANS examples matching `filter`, in file order. Errors if nothing matches (a misspelt
    /// subcase must not produce an empty evaluation set) or if the dataset is not HANS.
    pub fn filter_hans(&self, filter: &HansFilter) -> Result<Dataset> {
        let label = match &filter.label {
            Some(name) => Some(
                self.label_names
                    .iter()
                    .position(|known| known == name)
                    .ok_or_else(|| {
                        DataError::InvalidInput(format!(
                            "{}: no label `{name}` (labels: {})",
                            self.name,
                            self.label_names.join(", ")
                        ))
                    })?,
            ),
            None => None,
        };
        let mut positions = Vec::new();
        for (position, example) in self.examples.iter().enumerate() {
            let meta = example.hans.as_ref().ok_or_else(|| {
                DataError::InvalidInput(format!(
                    "{}: a HANS filter needs HANS examples (row {} has no HANS metadata)",
                    self.name, example.index
                ))
            })?;
            let keep = filter
                .heuristic
                .is_none_or(|wanted| meta.heuristic == wanted)
                && filter
                    .subcase
                    .as_ref()
                    .is_none_or(|wanted| &meta.subcase == wanted)
                && label.is_none_or(|wanted| example.label == wanted);
            if keep {
                positions.push(position);
            }
        }
        self.select(&positions, &format!("HANS filter {filter}"))
    }
}

/// A deterministic choice of examples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subset {
    /// Every example, in order.
    All,
    /// The first `n` examples (all of them when there are fewer).
    First(usize),
    /// Shuffle the positions with the crate's seeded Fisher–Yates shuffle (see [`crate::rng`]),
    /// then take the first `count` (all of them when there are fewer), in shuffled order.
    ShuffledFirst {
        /// Seed of the shuffle.
        seed: u64,
        /// Examples to keep.
        count: usize,
    },
    /// Positions `start` to `end − 1` (clipped to the dataset), in order: the examples after a
    /// [`Subset::First`] of `start`, so that two ranges are disjoint sets of one file.
    Range {
        /// First position kept.
        start: usize,
        /// One past the last position kept.
        end: usize,
    },
    /// Positions `start` to `end − 1` of the [`Subset::ShuffledFirst`] order of `seed`: the
    /// examples after a `ShuffledFirst` of `start`.
    ShuffledRange {
        /// Seed of the shuffle.
        seed: u64,
        /// First position of the shuffled order kept.
        start: usize,
        /// One past the last position kept.
        end: usize,
    },
}

impl Subset {
    /// The positions this subset selects from a dataset of `len` examples.
    pub fn positions(self, len: usize) -> Vec<usize> {
        match self {
            Subset::All => (0..len).collect(),
            Subset::First(n) => (0..n.min(len)).collect(),
            Subset::ShuffledFirst { seed, count } => {
                let mut order = shuffled_indices(len, seed);
                order.truncate(count.min(len));
                order
            }
            Subset::Range { start, end } => (start.min(len)..end.min(len)).collect(),
            Subset::ShuffledRange { seed, start, end } => {
                shuffled_indices(len, seed)[start.min(len)..end.min(len)].to_vec()
            }
        }
    }

    fn describe(self, len: usize) -> String {
        match self {
            Subset::All => format!("all {len} examples"),
            Subset::First(n) => format!("first {} of {len} examples", n.min(len)),
            Subset::ShuffledFirst { seed, count } => format!(
                "seeded shuffle (SplitMix64 + Fisher–Yates, seed {seed}) of {len} examples, first {}",
                count.min(len)
            ),
            Subset::Range { start, end } => {
                format!("examples {} to {} of {len}", start.min(len), end.min(len))
            }
            Subset::ShuffledRange { seed, start, end } => format!(
                "seeded shuffle (SplitMix64 + Fisher–Yates, seed {seed}) of {len} examples, positions {} to {}",
                start.min(len),
                end.min(len)
            ),
        }
    }
}

/// A selection of HANS examples by heuristic, subcase and label; `None` fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HansFilter {
    /// Keep only this heuristic.
    pub heuristic: Option<Heuristic>,
    /// Keep only this subcase (exact match, e.g. `ln_passive`).
    pub subcase: Option<String>,
    /// Keep only this label name (`entailment` or `non-entailment`).
    pub label: Option<String>,
}

impl HansFilter {
    /// HANS-LO, the paper's main diagnostic: lexical overlap, non-entailment (5,000 rows).
    pub fn lexical_overlap_non_entailment() -> Self {
        HansFilter {
            heuristic: Some(Heuristic::LexicalOverlap),
            subcase: None,
            label: Some("non-entailment".to_owned()),
        }
    }
}

impl fmt::Display for HansFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let heuristic = self.heuristic.map_or("any", Heuristic::as_str);
        let subcase = self.subcase.as_deref().unwrap_or("any");
        let label = self.label.as_deref().unwrap_or("any");
        write!(f, "heuristic={heuristic} subcase={subcase} label={label}")
    }
}
