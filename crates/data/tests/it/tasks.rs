//! The task registry: sets, metrics, offline splits and the official layout.

use std::collections::BTreeSet;

use lmc_data::{
    DataDirSearch, DataMode, LabelMapping, NliLabelOrder, Subset, TaskMetric, TaskName, TaskSpec,
};

use crate::common::{datasets_dir, temp_dir, write_file};

fn offline(task: TaskName) -> lmc_data::TaskFiles {
    TaskSpec::builtin(task)
        .locate(&DataDirSearch::only(datasets_dir()))
        .unwrap_or_else(|error| panic!("{task}: {error}"))
}

#[test]
fn registry_names_sets_metrics_and_mappings() {
    let mnli = TaskSpec::builtin(TaskName::Mnli);
    assert_eq!(mnli.num_labels(), 3);
    assert_eq!(
        mnli.labels.names,
        ["entailment", "neutral", "contradiction"]
    );
    assert_eq!(mnli.ranking_set, "hans_lo");
    let hans_lo = mnli.eval_set("hans_lo").expect("HANS-LO");
    assert_eq!(
        hans_lo.label_mapping,
        LabelMapping::CollapseNliToHans(NliLabelOrder::GLUE)
    );
    assert_eq!(hans_lo.metric, TaskMetric::Accuracy);
    assert!(matches!(
        hans_lo.path_subset,
        Subset::ShuffledFirst { count: 512, .. }
    ));
    assert_eq!(mnli.in_domain.path_subset, Subset::First(512));

    let qqp = TaskSpec::builtin(TaskName::Qqp);
    assert_eq!(qqp.in_domain.metric, TaskMetric::Accuracy);
    assert_eq!(
        qqp.eval_set("paws_qqp").expect("PAWS").metric,
        TaskMetric::F1 { positive_class: 1 }
    );

    let cola = TaskSpec::builtin(TaskName::Cola);
    assert_eq!(cola.in_domain.metric, TaskMetric::MatthewsCorrelation);
    assert_eq!(
        cola.eval_set("out_of_domain_dev").expect("OOD").metric,
        TaskMetric::MatthewsCorrelation
    );
    assert!(cola.eval_set("hans").is_err());

    let rte = TaskSpec::builtin(TaskName::Rte);
    assert!(rte.diagnostics.is_empty());
    assert_eq!(rte.ranking_set, rte.in_domain.name);
    assert_eq!(TaskSpec::all().len(), 4);
}

#[test]
fn mnli_label_order_is_configurable() {
    let feather = TaskSpec::builtin(TaskName::Mnli)
        .with_label_order(&["contradiction", "entailment", "neutral"])
        .expect("a permutation");
    assert_eq!(
        feather.labels.names,
        ["contradiction", "entailment", "neutral"]
    );
    assert_eq!(
        feather.eval_set("hans").expect("HANS").label_mapping,
        LabelMapping::CollapseNliToHans(NliLabelOrder {
            entailment: 1,
            neutral: 2,
            contradiction: 0
        })
    );
    let files = feather
        .locate(&DataDirSearch::only(datasets_dir()))
        .expect("locate");
    let in_domain = files.load_in_domain().expect("load");
    let plain = offline(TaskName::Mnli).load_in_domain().expect("load");
    for (reordered, original) in in_domain.examples.iter().zip(&plain.examples) {
        let name = &plain.label_names[original.label];
        assert_eq!(&in_domain.label_names[reordered.label], name);
    }
    assert!(
        TaskSpec::builtin(TaskName::Mnli)
            .with_label_order(&["entailment", "neutral", "other"])
            .is_err()
    );
    assert!(
        TaskSpec::builtin(TaskName::Qqp)
            .with_label_order(&["duplicate", "not_duplicate"])
            .is_err(),
        "integer-coded labels cannot be reordered"
    );
}

fn indices(dataset: &lmc_data::Dataset) -> Vec<usize> {
    dataset
        .examples
        .iter()
        .map(|example| example.index)
        .collect()
}

#[test]
fn offline_mnli_split_is_fixed_disjoint_and_says_so() {
    let files = offline(TaskName::Mnli);
    assert_eq!(files.mode, DataMode::OfflineSplit);
    let train = files.load_train().expect("train");
    let in_domain = files.load_in_domain().expect("in-domain");
    assert_eq!(train.len(), 8815);
    assert_eq!(in_domain.len(), 1000);
    assert_eq!(train.name, "mnli/train");
    assert_eq!(in_domain.name, "mnli/validation_matched");
    assert!(
        train
            .report
            .provenance
            .contains("offline MNLI split: train = 8,815 rows of reconstructed validation_matched"),
        "{}",
        train.report.provenance
    );
    assert!(in_domain.report.provenance.contains("offline MNLI split"));
    let train_rows: BTreeSet<usize> = indices(&train).into_iter().collect();
    let held_rows: BTreeSet<usize> = indices(&in_domain).into_iter().collect();
    assert!(train_rows.is_disjoint(&held_rows));
    assert_eq!(train_rows.len() + held_rows.len(), 9815);
    assert!(indices(&train).is_sorted() && indices(&in_domain).is_sorted());
    // Pinned with an independent Python transcription of the documented split.
    assert_eq!(indices(&in_domain)[..5], [30, 56, 58, 60, 62]);
    assert_eq!(in_domain.label_counts(), [346, 327, 327]);
    assert_eq!(files.load_in_domain().expect("again"), in_domain);

    let path_subset = files
        .load_path_subset("validation_matched")
        .expect("subset");
    assert_eq!(path_subset.examples, in_domain.examples[..512]);
}

#[test]
fn offline_qqp_split() {
    let files = offline(TaskName::Qqp);
    assert_eq!(files.mode, DataMode::OfflineSplit);
    let train = files.load_train().expect("train");
    let in_domain = files.load_in_domain().expect("in-domain");
    assert_eq!((train.len(), in_domain.len()), (21_497, 2000));
    assert_eq!(indices(&in_domain)[..5], [13, 14, 19, 25, 29]);
    assert!(
        train
            .report
            .provenance
            .contains("offline QQP split: train = 21,497 rows")
    );
    let paws = files.load_eval_set("paws_qqp").expect("PAWS");
    assert_eq!(paws.len(), 677);
    assert_eq!(files.load_path_subset("paws_qqp").expect("PAWS").len(), 512);
}

#[test]
fn mnli_diagnostics_are_hans_and_hans_lo() {
    let files = offline(TaskName::Mnli);
    assert_eq!(
        files.diagnostics[0].relative,
        "hans/heuristics_evaluation_set.regenerated.txt"
    );
    let hans = files.load_eval_set("hans").expect("HANS");
    assert_eq!(hans.len(), 30_000);
    let hans_lo = files.load_eval_set("hans_lo").expect("HANS-LO");
    assert_eq!(hans_lo.len(), 5000);
    assert_eq!(hans_lo.name, "mnli/hans_lo");
    let subset = files.load_path_subset("hans_lo").expect("subset");
    assert_eq!(subset.len(), 512);
    assert_eq!(indices(&subset)[..3], [3987, 38, 1433]);
    assert!(files.load_eval_set("paws_qqp").is_err());
}

#[test]
fn cola_and_rte_use_their_files() {
    let cola = offline(TaskName::Cola);
    assert_eq!(cola.mode, DataMode::Official);
    assert_eq!(cola.load_train().expect("train").len(), 8551);
    assert_eq!(cola.load_in_domain().expect("dev").len(), 527);
    assert_eq!(
        cola.load_eval_set("out_of_domain_dev").expect("OOD").len(),
        516
    );
    let rte = offline(TaskName::Rte);
    assert_eq!(rte.load_train().expect("train").len(), 2490);
    assert_eq!(rte.load_in_domain().expect("dev").len(), 277);
}

#[test]
fn official_files_win_when_present() {
    let dir = temp_dir();
    let header = "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t\
                  sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n";
    let row = |index: usize, label: &str| {
        format!(
            "{index}\t1\t1e\tfiction\tx\ty\tx\ty\tPremise {index}.\tHypothesis.\t{label}\t{label}\n"
        )
    };
    let train = format!("{header}{}{}", row(0, "entailment"), row(1, "-"));
    write_file(dir.path(), "glue/MNLI/train.tsv", train.as_bytes());
    let dev = format!("{header}{}", row(0, "contradiction"));
    write_file(dir.path(), "glue/MNLI/dev_matched.tsv", dev.as_bytes());
    // The offline stand-in in the same directory must be ignored.
    std::fs::copy(
        datasets_dir().join("glue/MNLI/dev_matched.reconstructed.tsv"),
        dir.path().join("glue/MNLI/dev_matched.reconstructed.tsv"),
    )
    .expect("copy");
    std::fs::create_dir_all(dir.path().join("hans")).expect("mkdir");
    std::fs::copy(
        datasets_dir().join("hans/heuristics_evaluation_set.regenerated.txt"),
        dir.path()
            .join("hans/heuristics_evaluation_set.regenerated.txt"),
    )
    .expect("copy");

    let files = TaskSpec::builtin(TaskName::Mnli)
        .locate(&DataDirSearch::only(dir.path()))
        .expect("locate");
    assert_eq!(files.mode, DataMode::Official);
    let train = files.load_train().expect("train");
    assert_eq!(train.len(), 1);
    assert_eq!(train.report.skipped_without_gold_label, 1);
    assert!(!train.report.provenance.contains("offline"));
    assert_eq!(files.load_in_domain().expect("dev").examples[0].label, 2);
}

#[test]
fn official_train_without_its_dev_file_is_an_error() {
    let dir = temp_dir();
    write_file(
        dir.path(),
        "glue/QQP/train.tsv",
        b"id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n0\t1\t2\tA?\tB?\t0\n",
    );
    let error = TaskSpec::builtin(TaskName::Qqp)
        .locate(&DataDirSearch::only(dir.path()))
        .expect_err("glue/QQP/dev.tsv is missing");
    assert!(error.to_string().contains("glue/QQP/dev.tsv"), "{error}");
}
