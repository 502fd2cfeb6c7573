//! The task registry: what each of the paper's tasks trains on, where it measures barriers, which
//! diagnostic sets rank its models, with which metric, and how the task's logits map onto a
//! diagnostic set's labels.
//!
//! | task | train | in-domain | diagnostics (ranking set first) | metric |
//! |---|---|---|---|---|
//! | `mnli` | `glue/MNLI/train.tsv` | `glue/MNLI/dev_matched.tsv` | HANS-LO, HANS (collapsed logits) | accuracy |
//! | `qqp` | `glue/QQP/train.tsv` | `glue/QQP/dev.tsv` | PAWS-QQP `dev_and_test` | accuracy in-domain, F1 of class 1 on PAWS |
//! | `cola` | `glue/CoLA/in_domain_train.tsv` | `glue/CoLA/in_domain_dev.tsv` | `out_of_domain_dev` | Matthews correlation |
//! | `rte` | `glue/RTE/train.tsv` | `glue/RTE/dev.tsv` | — | accuracy |
//!
//! **Offline fallbacks.** MNLI train and QQP train/dev are not available offline. When a data
//! directory lacks the official train file but holds the offline stand-in, the task splits the
//! stand-in instead, always the same way: the file's examples are shuffled with
//! [`OFFLINE_SPLIT_SEED`] (the crate's SplitMix64 + Fisher–Yates, see [`crate::rng`]); the first
//! `held_out` shuffled examples form the in-domain set and the rest the train set, each kept in
//! file order. MNLI: `glue/MNLI/dev_matched.reconstructed.tsv` → 8,815 train / 1,000 in-domain.
//! QQP: `glue/QQP/train_subset_23k.tsv` → 21,497 train / 2,000 in-domain. Every dataset built this
//! way says so in its provenance. With the official files present, they are used as the paper did.

use std::fmt;
use std::str::FromStr;

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};

use crate::datadir::{DataDirSearch, LocatedFile};
use crate::dataset::{Dataset, HansFilter, Subset};
use crate::error::{DataError, Result};
use crate::formats::{
    COLA_LABELS, DatasetFormat, HANS_LABELS, LabelEncoding, LabelScheme, MNLI_LABELS,
    PARAPHRASE_LABELS, RTE_LABELS,
};
use crate::metrics::{Logits, TaskMetric};
use crate::rng::shuffled_indices;

/// Seed of the offline train/in-domain splits (see the module documentation).
pub const OFFLINE_SPLIT_SEED: u64 = 2023;
/// Seed of the shuffle that picks the HANS and HANS-LO examples evaluated along interpolation
/// paths.
pub const HANS_SUBSET_SEED: u64 = 42;
/// Examples evaluated per set at each interpolation point, as in the paper.
pub const PATH_EVAL_EXAMPLES: usize = 512;

/// The tasks of the paper, plus RTE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskName {
    /// MultiNLI, 3-way entailment.
    Mnli,
    /// Quora Question Pairs, paraphrase detection.
    Qqp,
    /// Corpus of Linguistic Acceptability.
    Cola,
    /// Recognising Textual Entailment (not in the paper's experiments).
    Rte,
}

impl TaskName {
    /// Every task.
    pub const ALL: [TaskName; 4] = [TaskName::Mnli, TaskName::Qqp, TaskName::Cola, TaskName::Rte];

    /// Lower-case name: `mnli`, `qqp`, `cola`, `rte`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskName::Mnli => "mnli",
            TaskName::Qqp => "qqp",
            TaskName::Cola => "cola",
            TaskName::Rte => "rte",
        }
    }
}

impl fmt::Display for TaskName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskName {
    type Err = DataError;

    fn from_str(value: &str) -> Result<Self> {
        TaskName::ALL
            .into_iter()
            .find(|task| task.as_str().eq_ignore_ascii_case(value))
            .ok_or_else(|| {
                DataError::InvalidInput(format!(
                    "unknown task `{value}` (expected mnli, qqp, cola or rte)"
                ))
            })
    }
}

/// Where the entailment, neutral and contradiction logits of a 3-way NLI model are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NliLabelOrder {
    /// Column of the entailment logit.
    pub entailment: usize,
    /// Column of the neutral logit.
    pub neutral: usize,
    /// Column of the contradiction logit.
    pub contradiction: usize,
}

impl NliLabelOrder {
    /// The Hugging Face GLUE order: entailment 0, neutral 1, contradiction 2.
    pub const GLUE: NliLabelOrder = NliLabelOrder {
        entailment: 0,
        neutral: 1,
        contradiction: 2,
    };

    /// The order given by label names (which must be exactly entailment, neutral, contradiction,
    /// in any order).
    pub fn from_label_names<S: AsRef<str>>(names: &[S]) -> Result<Self> {
        let find = |wanted: &str| {
            names
                .iter()
                .position(|name| name.as_ref() == wanted)
                .ok_or_else(|| DataError::InvalidInput(format!("NLI label names lack `{wanted}`")))
        };
        if names.len() != 3 {
            return Err(DataError::InvalidInput(format!(
                "an NLI label order needs 3 names, got {}",
                names.len()
            )));
        }
        Ok(NliLabelOrder {
            entailment: find("entailment")?,
            neutral: find("neutral")?,
            contradiction: find("contradiction")?,
        })
    }
}

/// Collapses 3-way NLI logits `[n, 3]` onto HANS's two labels `[n, 2]`:
/// `[entailment, max(neutral, contradiction)]`, as the paper scores MNLI models on HANS.
pub fn collapse_nli_logits_to_hans(logits: &Logits, order: NliLabelOrder) -> Result<Logits> {
    if logits.num_classes() != 3 {
        return Err(DataError::InvalidInput(format!(
            "collapsing NLI logits onto HANS needs 3 classes, got {}",
            logits.num_classes()
        )));
    }
    let values = logits
        .rows()
        .flat_map(|row| {
            [
                row[order.entailment],
                row[order.neutral].max(row[order.contradiction]),
            ]
        })
        .collect();
    Logits::new(values, 2)
}

/// Tensor form of [`collapse_nli_logits_to_hans`], for losses computed on the device: `[n, 3]`
/// → `[n, 2]`. Errors unless the tensor has 3 columns.
pub fn collapse_nli_logits_to_hans_tensor<B: Backend>(
    logits: Tensor<B, 2>,
    order: NliLabelOrder,
) -> Result<Tensor<B, 2>> {
    let [_, classes] = logits.dims();
    if classes != 3 {
        return Err(DataError::InvalidInput(format!(
            "collapsing NLI logits onto HANS needs 3 classes, got {classes}"
        )));
    }
    let column = |index: usize| logits.clone().narrow(1, index, 1);
    let entailment = column(order.entailment);
    let non_entailment = column(order.neutral).max_pair(column(order.contradiction));
    Ok(Tensor::cat(vec![entailment, non_entailment], 1))
}

/// How a task model's logits become logits over an evaluation set's labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelMapping {
    /// The set has the task's labels.
    Identity,
    /// 3-way NLI onto HANS (see [`collapse_nli_logits_to_hans`]).
    CollapseNliToHans(NliLabelOrder),
}

impl LabelMapping {
    /// Applies the mapping to host logits.
    pub fn apply(self, logits: &Logits) -> Result<Logits> {
        match self {
            LabelMapping::Identity => Ok(logits.clone()),
            LabelMapping::CollapseNliToHans(order) => collapse_nli_logits_to_hans(logits, order),
        }
    }

    /// Applies the mapping to a `[n, classes]` tensor.
    pub fn apply_tensor<B: Backend>(self, logits: Tensor<B, 2>) -> Result<Tensor<B, 2>> {
        match self {
            LabelMapping::Identity => Ok(logits),
            LabelMapping::CollapseNliToHans(order) => {
                collapse_nli_logits_to_hans_tensor(logits, order)
            }
        }
    }
}

/// An evaluation set of a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalSetSpec {
    /// Name, e.g. `validation_matched`, `hans_lo`, `paws_qqp`.
    pub name: String,
    /// The file format.
    pub format: DatasetFormat,
    /// Candidate files relative to a data directory, preferred first (official before offline).
    pub files: Vec<String>,
    /// The set's labels.
    pub labels: LabelScheme,
    /// For HANS sets: which examples belong to the set.
    pub hans_filter: Option<HansFilter>,
    /// How the task's logits map onto `labels`.
    pub label_mapping: LabelMapping,
    /// The metric reported on this set.
    pub metric: TaskMetric,
    /// The examples evaluated at each point of an interpolation path.
    pub path_subset: Subset,
}

/// The offline stand-in for a task's missing official train/in-domain files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineSplit {
    /// The stand-in file, relative to a data directory.
    pub file: String,
    /// Its format.
    pub format: DatasetFormat,
    /// What the file is, for provenance notes (e.g. "reconstructed validation_matched").
    pub description: String,
    /// Examples held out as the in-domain set.
    pub held_out: usize,
    /// Shuffle seed deciding which examples are held out.
    pub seed: u64,
}

/// Everything the toolkit needs to know about a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSpec {
    /// The task.
    pub name: TaskName,
    /// The task's labels, in the model's logit order.
    pub labels: LabelScheme,
    /// Format of the train and in-domain files.
    pub format: DatasetFormat,
    /// The official train file, relative to a data directory.
    pub train_file: String,
    /// The in-domain evaluation set (barriers are measured here).
    pub in_domain: EvalSetSpec,
    /// The offline stand-in used when `train_file` is absent.
    pub offline_split: Option<OfflineSplit>,
    /// Diagnostic sets, the ranking set first.
    pub diagnostics: Vec<EvalSetSpec>,
    /// Name of the set models are ranked on (a diagnostic, or the in-domain set).
    pub ranking_set: String,
}

fn hans_set(name: &str, filter: Option<HansFilter>, task_labels: &[String]) -> Result<EvalSetSpec> {
    Ok(EvalSetSpec {
        name: name.to_owned(),
        format: DatasetFormat::Hans,
        files: vec![
            "hans/heuristics_evaluation_set.txt".to_owned(),
            "hans/heuristics_evaluation_set.regenerated.txt".to_owned(),
        ],
        labels: LabelScheme::named(&HANS_LABELS),
        hans_filter: filter,
        label_mapping: LabelMapping::CollapseNliToHans(NliLabelOrder::from_label_names(
            task_labels,
        )?),
        metric: TaskMetric::Accuracy,
        path_subset: Subset::ShuffledFirst {
            seed: HANS_SUBSET_SEED,
            count: PATH_EVAL_EXAMPLES,
        },
    })
}

impl TaskSpec {
    /// The built-in definition of `name` (label orders: see [`crate::formats`]).
    pub fn builtin(name: TaskName) -> TaskSpec {
        let first = Subset::First(PATH_EVAL_EXAMPLES);
        let in_domain =
            |name: &str, format, file: &str, labels: &LabelScheme, metric| EvalSetSpec {
                name: name.to_owned(),
                format,
                files: vec![file.to_owned()],
                labels: labels.clone(),
                hans_filter: None,
                label_mapping: LabelMapping::Identity,
                metric,
                path_subset: first,
            };
        match name {
            TaskName::Mnli => {
                let labels = LabelScheme::named(&MNLI_LABELS);
                let diagnostics = TaskSpec::mnli_diagnostics(&labels.names)
                    .expect("the built-in MNLI labels are entailment, neutral, contradiction");
                TaskSpec {
                    name,
                    format: DatasetFormat::Mnli,
                    train_file: "glue/MNLI/train.tsv".to_owned(),
                    in_domain: in_domain(
                        "validation_matched",
                        DatasetFormat::Mnli,
                        "glue/MNLI/dev_matched.tsv",
                        &labels,
                        TaskMetric::Accuracy,
                    ),
                    offline_split: Some(OfflineSplit {
                        file: "glue/MNLI/dev_matched.reconstructed.tsv".to_owned(),
                        format: DatasetFormat::Mnli,
                        description: "reconstructed validation_matched".to_owned(),
                        held_out: 1000,
                        seed: OFFLINE_SPLIT_SEED,
                    }),
                    diagnostics,
                    ranking_set: "hans_lo".to_owned(),
                    labels,
                }
            }
            TaskName::Qqp => {
                let labels = LabelScheme::integers(&PARAPHRASE_LABELS);
                TaskSpec {
                    name,
                    format: DatasetFormat::Qqp,
                    train_file: "glue/QQP/train.tsv".to_owned(),
                    in_domain: in_domain(
                        "validation",
                        DatasetFormat::Qqp,
                        "glue/QQP/dev.tsv",
                        &labels,
                        TaskMetric::Accuracy,
                    ),
                    offline_split: Some(OfflineSplit {
                        file: "glue/QQP/train_subset_23k.tsv".to_owned(),
                        format: DatasetFormat::Qqp,
                        description: "the 23k subset of QQP train".to_owned(),
                        held_out: 2000,
                        seed: OFFLINE_SPLIT_SEED,
                    }),
                    diagnostics: vec![EvalSetSpec {
                        name: "paws_qqp".to_owned(),
                        format: DatasetFormat::PawsQqp,
                        files: vec!["paws_qqp/dev_and_test.tsv".to_owned()],
                        labels: labels.clone(),
                        hans_filter: None,
                        label_mapping: LabelMapping::Identity,
                        metric: TaskMetric::F1 { positive_class: 1 },
                        path_subset: first,
                    }],
                    ranking_set: "paws_qqp".to_owned(),
                    labels,
                }
            }
            TaskName::Cola => {
                let labels = LabelScheme::integers(&COLA_LABELS);
                let mcc = TaskMetric::MatthewsCorrelation;
                TaskSpec {
                    name,
                    format: DatasetFormat::Cola,
                    train_file: "glue/CoLA/in_domain_train.tsv".to_owned(),
                    in_domain: in_domain(
                        "in_domain_dev",
                        DatasetFormat::Cola,
                        "glue/CoLA/in_domain_dev.tsv",
                        &labels,
                        mcc,
                    ),
                    offline_split: None,
                    diagnostics: vec![in_domain(
                        "out_of_domain_dev",
                        DatasetFormat::Cola,
                        "glue/CoLA/out_of_domain_dev.tsv",
                        &labels,
                        mcc,
                    )],
                    ranking_set: "out_of_domain_dev".to_owned(),
                    labels,
                }
            }
            TaskName::Rte => {
                let labels = LabelScheme::named(&RTE_LABELS);
                TaskSpec {
                    name,
                    format: DatasetFormat::Rte,
                    train_file: "glue/RTE/train.tsv".to_owned(),
                    in_domain: in_domain(
                        "validation",
                        DatasetFormat::Rte,
                        "glue/RTE/dev.tsv",
                        &labels,
                        TaskMetric::Accuracy,
                    ),
                    offline_split: None,
                    diagnostics: Vec::new(),
                    ranking_set: "validation".to_owned(),
                    labels,
                }
            }
        }
    }

    /// Every built-in task.
    pub fn all() -> Vec<TaskSpec> {
        TaskName::ALL.into_iter().map(TaskSpec::builtin).collect()
    }

    fn mnli_diagnostics(labels: &[String]) -> Result<Vec<EvalSetSpec>> {
        Ok(vec![
            hans_set(
                "hans_lo",
                Some(HansFilter::lexical_overlap_non_entailment()),
                labels,
            )?,
            hans_set("hans", None, labels)?,
        ])
    }

    /// Number of labels (classifier outputs).
    pub fn num_labels(&self) -> usize {
        self.labels.names.len()
    }

    /// The same task with its labels in another id order (e.g. a checkpoint trained with
    /// contradiction = 0). `names` must be a permutation of the current label names, which must
    /// be written by name in the files; dependent mappings (MNLI → HANS) follow the new order.
    pub fn with_label_order(mut self, names: &[&str]) -> Result<TaskSpec> {
        if self.labels.encoding != LabelEncoding::Names {
            return Err(DataError::InvalidInput(format!(
                "{}: its files write labels as integers, so their order is fixed",
                self.name
            )));
        }
        let mut sorted_new: Vec<&str> = names.to_vec();
        let mut sorted_old: Vec<&str> = self.labels.names.iter().map(String::as_str).collect();
        sorted_new.sort_unstable();
        sorted_old.sort_unstable();
        if sorted_new != sorted_old {
            return Err(DataError::InvalidInput(format!(
                "{}: label order {names:?} is not a permutation of {:?}",
                self.name, self.labels.names
            )));
        }
        self.labels = LabelScheme::named(names);
        self.in_domain.labels = self.labels.clone();
        for set in &mut self.diagnostics {
            if let LabelMapping::CollapseNliToHans(_) = set.label_mapping {
                set.label_mapping =
                    LabelMapping::CollapseNliToHans(NliLabelOrder::from_label_names(names)?);
            }
        }
        Ok(self)
    }

    /// Evaluation sets: the in-domain set, then the diagnostics.
    pub fn eval_sets(&self) -> impl Iterator<Item = &EvalSetSpec> {
        std::iter::once(&self.in_domain).chain(&self.diagnostics)
    }

    /// The evaluation set called `name`.
    pub fn eval_set(&self, name: &str) -> Result<&EvalSetSpec> {
        self.eval_sets()
            .find(|set| set.name == name)
            .ok_or_else(|| self.unknown_set(name))
    }

    fn unknown_set(&self, name: &str) -> DataError {
        DataError::InvalidInput(format!(
            "{} has no evaluation set `{name}` (it has: {})",
            self.name,
            self.eval_sets()
                .map(|set| set.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }

    /// Finds the task's files: the official train and in-domain files from the first data
    /// directory that has the train file, or, failing that, the offline stand-in from the first
    /// one that has it; then each diagnostic file (official before offline in each directory).
    pub fn locate(&self, search: &DataDirSearch) -> Result<TaskFiles> {
        let in_domain_file = &self.in_domain.files[0];
        let (mode, train, in_domain) = match &self.offline_split {
            Some(split) => {
                let found = search.locate_first(&[&self.train_file, &split.file])?;
                if found.relative == self.train_file {
                    let in_domain =
                        DataDirSearch::only(found.data_dir.root.clone()).locate(in_domain_file)?;
                    (DataMode::Official, found, in_domain)
                } else {
                    (DataMode::OfflineSplit, found.clone(), found)
                }
            }
            None => (
                DataMode::Official,
                search.locate(&self.train_file)?,
                search.locate(in_domain_file)?,
            ),
        };
        let diagnostics = self
            .diagnostics
            .iter()
            .map(|set| {
                let files: Vec<&str> = set.files.iter().map(String::as_str).collect();
                search.locate_first(&files)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(TaskFiles {
            spec: self.clone(),
            mode,
            train,
            in_domain,
            diagnostics,
        })
    }
}

/// Whether a task uses its official files or an offline split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataMode {
    /// The official train and in-domain files, as in the paper.
    Official,
    /// The offline split of the task's stand-in file (see the module documentation).
    OfflineSplit,
}

/// A task's files, located, ready to load.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskFiles {
    /// The task.
    pub spec: TaskSpec,
    /// Official files or offline split.
    pub mode: DataMode,
    /// The train file (the stand-in in offline mode).
    pub train: LocatedFile,
    /// The in-domain file (the stand-in in offline mode).
    pub in_domain: LocatedFile,
    /// The diagnostic files, parallel to `spec.diagnostics`.
    pub diagnostics: Vec<LocatedFile>,
}

fn thousands(value: usize) -> String {
    let digits = value.to_string();
    let mut grouped = String::new();
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

impl TaskFiles {
    /// The train set.
    pub fn load_train(&self) -> Result<Dataset> {
        match self.mode {
            DataMode::Official => {
                let mut dataset = self
                    .spec
                    .format
                    .load_with_labels(&self.train.path, &self.spec.labels)?;
                dataset.name = format!("{}/train", self.spec.name);
                Ok(dataset)
            }
            DataMode::OfflineSplit => self.offline_part(true),
        }
    }

    /// The full in-domain evaluation set.
    pub fn load_in_domain(&self) -> Result<Dataset> {
        match self.mode {
            DataMode::Official => {
                let mut dataset = self
                    .spec
                    .in_domain
                    .format
                    .load_with_labels(&self.in_domain.path, &self.spec.in_domain.labels)?;
                dataset.name = format!("{}/{}", self.spec.name, self.spec.in_domain.name);
                Ok(dataset)
            }
            DataMode::OfflineSplit => self.offline_part(false),
        }
    }

    /// The full evaluation set `name` (the in-domain set or a diagnostic), filtered for HANS
    /// sets but not subset.
    pub fn load_eval_set(&self, name: &str) -> Result<Dataset> {
        if name == self.spec.in_domain.name {
            return self.load_in_domain();
        }
        let position = self
            .spec
            .diagnostics
            .iter()
            .position(|set| set.name == name)
            .ok_or_else(|| self.spec.unknown_set(name))?;
        let set = &self.spec.diagnostics[position];
        let mut dataset = set
            .format
            .load_with_labels(&self.diagnostics[position].path, &set.labels)?;
        if let Some(filter) = &set.hans_filter {
            dataset = dataset.filter_hans(filter)?;
        }
        dataset.name = format!("{}/{}", self.spec.name, set.name);
        Ok(dataset)
    }

    /// The examples of set `name` evaluated along interpolation paths (its `path_subset`).
    pub fn load_path_subset(&self, name: &str) -> Result<Dataset> {
        let subset = self.spec.eval_set(name)?.path_subset;
        self.load_eval_set(name)?.subset(subset)
    }

    fn offline_part(&self, train: bool) -> Result<Dataset> {
        let split = self.spec.offline_split.as_ref().ok_or_else(|| {
            DataError::InvalidInput(format!("{} has no offline split", self.spec.name))
        })?;
        let full = split
            .format
            .load_with_labels(&self.train.path, &self.spec.labels)?;
        if full.len() <= split.held_out {
            return Err(DataError::InvalidInput(format!(
                "{}: {} examples cannot give {} held-out examples and a train set",
                full.report.path.display(),
                full.len(),
                split.held_out
            )));
        }
        let order = shuffled_indices(full.len(), split.seed);
        let (held_out, rest) = order.split_at(split.held_out);
        let mut positions = if train {
            rest.to_vec()
        } else {
            held_out.to_vec()
        };
        positions.sort_unstable();
        let part = if train {
            "train"
        } else {
            "held-out in-domain set"
        };
        let description = format!(
            "offline {} split: {part} = {} rows of {} ({}); the held-out {} are the first of a \
             SplitMix64/Fisher–Yates shuffle with seed {}, each part in file order",
            self.spec.name.as_str().to_uppercase(),
            thousands(positions.len()),
            split.description,
            self.train.relative,
            thousands(split.held_out),
            split.seed
        );
        let mut dataset = full.select(&positions, &description)?;
        dataset.name = if train {
            format!("{}/train", self.spec.name)
        } else {
            format!("{}/{}", self.spec.name, self.spec.in_domain.name)
        };
        Ok(dataset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(8815), "8,815");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn task_names_round_trip() {
        for task in TaskName::ALL {
            assert_eq!(task.as_str().parse::<TaskName>().ok(), Some(task));
        }
        assert!("sst2".parse::<TaskName>().is_err());
    }
}
