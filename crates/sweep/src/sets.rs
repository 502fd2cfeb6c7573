//! Evaluation sets: parsing `id:512`-style requests, loading, tokenizing and batching them once.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use lmc_data::{
    BatchOrder, BatchPlan, DataDirSearch, DataError, Dataset, DatasetFormat, EvalSetSpec,
    LabelMapping, PairTokenizer, Subset, TaskFiles, TaskMetric, TaskSpec, TokenizedDataset,
};
use serde::{Deserialize, Serialize};

use crate::error::{Result, SweepError};

/// How many examples of a set to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetSize {
    /// The set's own path subset (lmc-data's `EvalSetSpec::path_subset`: the first 512 examples,
    /// or for HANS sets the first 512 of a seeded shuffle, seed 42).
    Default,
    /// Every example.
    All,
    /// `n` examples, chosen as the default subset chooses them (the first `n`, or for HANS the
    /// first `n` of the same seeded shuffle).
    Count(usize),
    /// Examples `start` to `end − 1` in the order `Count` takes them (`id:512..1024`): the ones
    /// after `Count(start)`, so that a selection set and a report set do not share an example.
    Range {
        /// First example kept.
        start: usize,
        /// One past the last example kept.
        end: usize,
    },
}

/// Where a set's examples come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetSource {
    /// A set of the task: `id` (the in-domain set), `ood` (the ranking diagnostic: HANS-LO for
    /// MNLI, PAWS-QQP for QQP, CoLA out-of-domain dev), or a set name of lmc-data's `TaskSpec`
    /// (`validation_matched`, `hans_lo`, `hans`, `paws_qqp`, …).
    Named(String),
    /// A data file in a format the task has a set for (its labels, metric and logit mapping are
    /// that set's; no HANS filter is applied).
    File(PathBuf),
}

/// One requested evaluation set, as written on the command line: `NAME[:N|:A..B|:all]` or
/// `PATH[:N|:A..B|:all]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetRequest {
    /// The name in result tables: `id`, `ood`, the task's set name, or the file's stem.
    pub label: String,
    /// Where the examples come from.
    pub source: SetSource,
    /// How many of them.
    pub size: SetSize,
}

impl SetRequest {
    /// A named set of the task with its default subset.
    pub fn named(name: &str, size: SetSize) -> SetRequest {
        SetRequest {
            label: name.to_owned(),
            source: SetSource::Named(name.to_owned()),
            size,
        }
    }

    /// Parses a comma-separated list (`id:512,ood:512`).
    ///
    /// # Errors
    /// [`SweepError::Invalid`] on an empty list, an empty item, a bad count or a repeated label.
    pub fn parse_list(text: &str) -> Result<Vec<SetRequest>> {
        let requests = text
            .split(',')
            .map(str::parse)
            .collect::<Result<Vec<SetRequest>>>()?;
        if requests.is_empty() {
            return Err(SweepError::Invalid("no evaluation sets given".into()));
        }
        for (i, request) in requests.iter().enumerate() {
            if requests[..i].iter().any(|r| r.label == request.label) {
                return Err(SweepError::Invalid(format!(
                    "evaluation set `{}` is named twice",
                    request.label
                )));
            }
        }
        Ok(requests)
    }

    /// The task set this request names, resolving `id` and `ood`.
    ///
    /// # Errors
    /// [`SweepError::Invalid`] if the task has no such set or no set of the file's format.
    pub fn resolve<'a>(&self, task: &'a TaskSpec) -> Result<&'a EvalSetSpec> {
        match &self.source {
            SetSource::Named(name) => {
                let set_name = match name.as_str() {
                    "id" => task.in_domain.name.as_str(),
                    "ood" => task.ranking_set.as_str(),
                    other => other,
                };
                task.eval_set(set_name).map_err(|_| {
                    SweepError::Invalid(format!(
                        "task {} has no evaluation set `{name}` (known: id, ood, {})",
                        task.name,
                        task.eval_sets()
                            .map(|s| s.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
            }
            SetSource::File(path) => {
                let format = detect_format(path)?;
                task.eval_sets()
                    .find(|set| set.format == format)
                    .ok_or_else(|| {
                        SweepError::Invalid(format!(
                            "{}: a {format} file, but task {} has no set of that format",
                            path.display(),
                            task.name
                        ))
                    })
            }
        }
    }
}

impl FromStr for SetRequest {
    type Err = SweepError;

    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        let (body, size) = match text.rsplit_once(':') {
            Some((body, "all")) => (body, SetSize::All),
            Some((body, range)) if range.contains("..") => {
                let bounds = range
                    .split_once("..")
                    .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)));
                match bounds {
                    Some((start, end)) if start < end => (body, SetSize::Range { start, end }),
                    _ => {
                        return Err(SweepError::Invalid(format!(
                            "evaluation set `{text}`: a range is `A..B` with A < B (examples A to B − 1)"
                        )));
                    }
                }
            }
            Some((body, count))
                if !count.is_empty() && count.bytes().all(|b| b.is_ascii_digit()) =>
            {
                let n: usize = count.parse().map_err(|_| {
                    SweepError::Invalid(format!("evaluation set `{text}`: bad count `{count}`"))
                })?;
                if n == 0 {
                    return Err(SweepError::Invalid(format!(
                        "evaluation set `{text}`: a count must be at least 1"
                    )));
                }
                (body, SetSize::Count(n))
            }
            _ => (text, SetSize::Default),
        };
        if body.is_empty() {
            return Err(SweepError::Invalid(format!(
                "evaluation set `{text}`: no name"
            )));
        }
        let is_path = body.contains(std::path::MAIN_SEPARATOR)
            || body.contains('/')
            || Path::new(body).extension().is_some();
        if is_path {
            let path = PathBuf::from(body);
            let label = path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_else(|| body.to_owned());
            Ok(SetRequest {
                label,
                source: SetSource::File(path),
                size,
            })
        } else {
            Ok(SetRequest {
                label: body.to_owned(),
                source: SetSource::Named(body.to_owned()),
                size,
            })
        }
    }
}

impl fmt::Display for SetRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            SetSource::Named(name) => f.write_str(name)?,
            SetSource::File(path) => write!(f, "{}", path.display())?,
        }
        match self.size {
            SetSize::Default => Ok(()),
            SetSize::All => f.write_str(":all"),
            SetSize::Count(n) => write!(f, ":{n}"),
            SetSize::Range { start, end } => write!(f, ":{start}..{end}"),
        }
    }
}

/// The format of a data file, from its header (HANS, QQP, MNLI/SNLI, PAWS/RTE) or, for CoLA's
/// header-less 4-column rows, from the column count.
///
/// Only the first two lines are read as text here, so an empty file and a line that is not
/// UTF-8 are reported as the loaders report them (naming the file, and the line).
fn detect_format(path: &Path) -> Result<DatasetFormat> {
    let bytes = std::fs::read(path).map_err(SweepError::io(path))?;
    let context = || "detecting the data format".to_owned();
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(SweepError::Data {
            context: context(),
            source: DataError::EmptyFile {
                path: path.to_path_buf(),
            },
        });
    }
    let mut lines = Vec::new();
    for (index, raw) in body.split(|&b| b == b'\n').take(2).enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = std::str::from_utf8(raw).map_err(|error| SweepError::Data {
            context: context(),
            source: DataError::InvalidUtf8 {
                path: path.to_path_buf(),
                line: index + 1,
                byte_offset: error.valid_up_to(),
            },
        })?;
        lines.push(line);
    }
    let text = lines.join("\n");
    let header: Vec<&str> = text.lines().next().unwrap_or("").split('\t').collect();
    let has = |column: &str| header.contains(&column);
    let format = if has("heuristic") && has("gold_label") {
        DatasetFormat::Hans
    } else if has("question1") && has("is_duplicate") {
        DatasetFormat::Qqp
    } else if has("gold_label") && has("sentence1") {
        if has("index") || (has("pairID") && has("genre")) {
            DatasetFormat::Mnli
        } else {
            DatasetFormat::Snli
        }
    } else if has("sentence1") && has("label") {
        let second = text.lines().nth(1).unwrap_or("");
        let label = second.rsplit('\t').next().unwrap_or("");
        if label.bytes().all(|b| b.is_ascii_digit()) {
            DatasetFormat::PawsQqp
        } else {
            DatasetFormat::Rte
        }
    } else if header.len() == 4 {
        DatasetFormat::Cola
    } else {
        return Err(SweepError::Invalid(format!(
            "{}: cannot tell the data format from its first line",
            path.display()
        )));
    };
    Ok(format)
}

/// The subset `size` selects, chosen the way `spec`'s default path subset chooses.
fn subset_for(spec: &EvalSetSpec, size: SetSize) -> Subset {
    match (size, spec.path_subset) {
        (SetSize::Default, default) => default,
        (SetSize::All, _) => Subset::All,
        (SetSize::Count(n), Subset::ShuffledFirst { seed, .. }) => {
            Subset::ShuffledFirst { seed, count: n }
        }
        (SetSize::Count(n), _) => Subset::First(n),
        (SetSize::Range { start, end }, Subset::ShuffledFirst { seed, .. }) => {
            Subset::ShuffledRange { seed, start, end }
        }
        (SetSize::Range { start, end }, _) => Subset::Range { start, end },
    }
}

/// Loads the examples of `request` for `task`: named sets from `files` (located on first need
/// through `search`), files directly.
///
/// # Errors
/// Locating or loading errors naming the set or file.
pub fn load_set(
    request: &SetRequest,
    task: &TaskSpec,
    search: &DataDirSearch,
    files: &mut Option<TaskFiles>,
) -> Result<Dataset> {
    let spec = request.resolve(task)?;
    let subset = subset_for(spec, request.size);
    let context = format!("evaluation set `{request}`");
    let full = match &request.source {
        SetSource::Named(_) => {
            if files.is_none() {
                *files = Some(task.locate(search).map_err(SweepError::data(format!(
                    "data files of task {}",
                    task.name
                )))?);
            }
            let located = files.as_ref().expect("located just above");
            located
                .load_eval_set(&spec.name)
                .map_err(SweepError::data(&context))?
        }
        SetSource::File(path) => spec
            .format
            .load_with_labels(path, &spec.labels)
            .map_err(SweepError::data(&context))?,
    };
    full.subset(subset).map_err(SweepError::data(context))
}

/// A set ready to evaluate: examples, tokens and the length-bucketed batch plan, computed once and
/// reused by every evaluation.
#[derive(Debug, Clone)]
pub struct EvalSet {
    /// Name in result tables (`id`, `ood`, …).
    pub label: String,
    /// The examples (their file row indices, labels and HANS metadata).
    pub dataset: Dataset,
    /// The tokenized examples.
    pub tokenized: TokenizedDataset,
    /// Batches by length.
    pub plan: BatchPlan,
    /// How the model's logits map onto the set's labels (the MNLI → HANS collapse).
    pub mapping: LabelMapping,
    /// The metric reported on the set.
    pub metric: TaskMetric,
    /// Labels, in dataset order.
    pub labels: Vec<usize>,
}

impl EvalSet {
    /// Tokenizes `dataset` and plans its batches (by length, `batch_size` examples each).
    ///
    /// # Errors
    /// Tokenizer and batching errors, naming the set; an empty set.
    pub fn prepare(
        label: &str,
        dataset: Dataset,
        spec: &EvalSetSpec,
        tokenizer: &PairTokenizer,
        batch_size: usize,
    ) -> Result<EvalSet> {
        let context = format!("evaluation set `{label}` ({})", dataset.name);
        if dataset.is_empty() {
            return Err(SweepError::Invalid(format!("{context}: no examples")));
        }
        let tokenized = tokenizer
            .encode_dataset(&dataset)
            .map_err(SweepError::data(&context))?;
        let plan = BatchPlan::new(&tokenized, batch_size, BatchOrder::ByLength)
            .map_err(SweepError::data(&context))?;
        Ok(EvalSet {
            label: label.to_owned(),
            labels: dataset.labels(),
            dataset,
            tokenized,
            plan,
            mapping: spec.label_mapping,
            metric: spec.metric,
        })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the set is empty (never, for a prepared set).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of classes after the logit mapping.
    pub fn num_classes(&self) -> usize {
        self.dataset.label_names.len()
    }
}

/// Loads and prepares every request, tokenizing each set once.
///
/// # Errors
/// Those of [`load_set`] and [`EvalSet::prepare`].
pub fn prepare_sets(
    requests: &[SetRequest],
    task: &TaskSpec,
    search: &DataDirSearch,
    tokenizer: &PairTokenizer,
    batch_size: usize,
) -> Result<Vec<EvalSet>> {
    let mut files = None;
    requests
        .iter()
        .map(|request| {
            let dataset = load_set(request, task, search, &mut files)?;
            EvalSet::prepare(
                &request.label,
                dataset,
                request.resolve(task)?,
                tokenizer,
                batch_size,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_names_counts_and_paths() {
        let sets = SetRequest::parse_list("id:512,ood,hans:all").unwrap();
        assert_eq!(sets[0], SetRequest::named("id", SetSize::Count(512)));
        assert_eq!(sets[1], SetRequest::named("ood", SetSize::Default));
        assert_eq!(sets[2], SetRequest::named("hans", SetSize::All));
        let file: SetRequest = "data/paws/dev.tsv:100".parse().unwrap();
        assert_eq!(file.label, "dev");
        assert_eq!(file.source, SetSource::File("data/paws/dev.tsv".into()));
        assert_eq!(file.size, SetSize::Count(100));
        assert_eq!(file.to_string(), "data/paws/dev.tsv:100");
        assert!(SetRequest::parse_list("id,id:5").is_err());
        assert!("id:0".parse::<SetRequest>().is_err());
        assert!(":5".parse::<SetRequest>().is_err());
        let range: SetRequest = "id:512..1024".parse().unwrap();
        assert_eq!(
            range,
            SetRequest::named(
                "id",
                SetSize::Range {
                    start: 512,
                    end: 1024
                }
            )
        );
        assert_eq!(range.to_string(), "id:512..1024");
        for bad in ["id:5..5", "id:9..3", "id:..5", "id:a..5"] {
            assert!(bad.parse::<SetRequest>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_range_takes_the_examples_after_the_count_of_its_start() {
        let mnli = TaskSpec::builtin(lmc_data::TaskName::Mnli);
        for name in ["id", "ood"] {
            let spec = SetRequest::named(name, SetSize::Default)
                .resolve(&mnli)
                .unwrap();
            let first = subset_for(spec, SetSize::Count(300)).positions(1000);
            let range = subset_for(
                spec,
                SetSize::Range {
                    start: 100,
                    end: 300,
                },
            )
            .positions(1000);
            assert_eq!(range, first[100..], "{name}");
            let clipped = subset_for(
                spec,
                SetSize::Range {
                    start: 900,
                    end: 2000,
                },
            )
            .positions(1000);
            assert_eq!(clipped.len(), 100, "{name}: clipped to the set");
        }
    }

    #[test]
    fn id_and_ood_resolve_to_the_in_domain_and_ranking_sets() {
        let mnli = TaskSpec::builtin(lmc_data::TaskName::Mnli);
        let id = SetRequest::named("id", SetSize::Default);
        let ood = SetRequest::named("ood", SetSize::Default);
        assert_eq!(id.resolve(&mnli).unwrap().name, "validation_matched");
        assert_eq!(ood.resolve(&mnli).unwrap().name, "hans_lo");
        let hans_lo = ood.resolve(&mnli).unwrap();
        assert_eq!(
            subset_for(hans_lo, SetSize::Count(64)),
            Subset::ShuffledFirst {
                seed: lmc_data::task::HANS_SUBSET_SEED,
                count: 64
            }
        );
        assert!(
            SetRequest::named("sst2", SetSize::Default)
                .resolve(&mnli)
                .is_err()
        );
    }
}
