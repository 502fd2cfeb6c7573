//! Every offline file loads with the row counts and label balances that
//! `shared/datasets/README.md` states.

use lmc_data::{Dataset, DatasetFormat, HansFilter, Heuristic, Subset};

use crate::common::dataset;

fn load(format: DatasetFormat, relative: &str) -> Dataset {
    format
        .load(&dataset(relative))
        .unwrap_or_else(|error| panic!("{relative}: {error}"))
}

/// Asserts size, label balance, and that row indices run over the file's rows.
fn check(dataset: &Dataset, rows: usize, label_counts: &[usize]) {
    assert_eq!(dataset.len(), rows, "{}", dataset.name);
    assert_eq!(dataset.label_counts(), label_counts, "{}", dataset.name);
    assert_eq!(dataset.report.rows_in_file, rows, "{}", dataset.name);
    assert_eq!(dataset.report.skipped_without_gold_label, 0);
    let indices: Vec<usize> = dataset
        .examples
        .iter()
        .map(|example| example.index)
        .collect();
    assert_eq!(indices, (0..rows).collect::<Vec<_>>(), "{}", dataset.name);
    assert_eq!(dataset.report.sha256.len(), 64);
}

#[test]
fn mnli_reconstructed_validation_matched() {
    let mnli = load(
        DatasetFormat::Mnli,
        "glue/MNLI/dev_matched.reconstructed.tsv",
    );
    check(&mnli, 9815, &[3479, 3123, 3213]);
    assert_eq!(mnli.label_names, ["entailment", "neutral", "contradiction"]);
    let first = &mnli.examples[0];
    assert_eq!(first.text_a, "The new rights are nice enough");
    assert_eq!(
        first.text_b.as_deref(),
        Some("Everyone really likes the newest benefits")
    );
    assert_eq!(first.label, 1, "neutral");
    assert_eq!(
        mnli.report.sha256,
        "2fd0cdc99f2446a88546b93a87a5aac216f000876af55c97b3a10ed5f89d020d"
    );
}

#[test]
fn mnli_mismatched_sample() {
    let mnli = load(
        DatasetFormat::Mnli,
        "glue/MNLI/dev_mismatched.sample_1k.tsv",
    );
    check(&mnli, 1000, &[346, 319, 335]);
}

#[test]
fn hans_regenerated() {
    let hans = load(
        DatasetFormat::Hans,
        "hans/heuristics_evaluation_set.regenerated.txt",
    );
    check(&hans, 30_000, &[15_000, 15_000]);
    assert_eq!(hans.label_names, ["entailment", "non-entailment"]);
    let first = hans.examples[0].hans.as_ref().expect("HANS metadata");
    assert_eq!(first.heuristic, Heuristic::LexicalOverlap);
    assert_eq!(first.subcase, "ln_subject/object_swap");
    assert_eq!(
        hans.examples[0].text_a,
        "The scientists thanked the president ."
    );

    let hans_lo = hans
        .filter_hans(&HansFilter::lexical_overlap_non_entailment())
        .expect("HANS-LO");
    assert_eq!(hans_lo.len(), 5000);
    assert_eq!(hans_lo.label_counts(), [0, 5000]);
    assert!(hans_lo.report.provenance.contains("lexical_overlap"));

    for heuristic in Heuristic::ALL {
        for label in ["entailment", "non-entailment"] {
            let cell = hans
                .filter_hans(&HansFilter {
                    heuristic: Some(heuristic),
                    subcase: None,
                    label: Some(label.to_owned()),
                })
                .expect("every HANS cell is populated");
            assert_eq!(cell.len(), 5000, "{heuristic} {label}");
        }
    }
    let mut subcases: Vec<&str> = hans
        .examples
        .iter()
        .filter_map(|example| example.hans.as_ref().map(|meta| meta.subcase.as_str()))
        .collect();
    subcases.sort_unstable();
    subcases.dedup();
    assert_eq!(subcases.len(), 30);
    for subcase in subcases {
        let cell = hans
            .filter_hans(&HansFilter {
                subcase: Some(subcase.to_owned()),
                ..HansFilter::default()
            })
            .expect("subcase");
        assert_eq!(cell.len(), 1000, "{subcase}");
    }
}

#[test]
fn hans_filter_that_matches_nothing_is_an_error() {
    let hans = load(
        DatasetFormat::Hans,
        "hans/heuristics_evaluation_set.regenerated.txt",
    );
    let error = hans
        .filter_hans(&HansFilter {
            subcase: Some("ln_no_such_subcase".to_owned()),
            ..HansFilter::default()
        })
        .expect_err("nothing matches");
    assert!(error.to_string().contains("matched no examples"), "{error}");
    let error = hans
        .filter_hans(&HansFilter {
            label: Some("contradiction".to_owned()),
            ..HansFilter::default()
        })
        .expect_err("HANS has no such label");
    assert!(error.to_string().contains("no label"), "{error}");
}

#[test]
fn hans_lo_path_subset_is_seeded_and_stable() {
    let hans_lo = load(
        DatasetFormat::Hans,
        "hans/heuristics_evaluation_set.regenerated.txt",
    )
    .filter_hans(&HansFilter::lexical_overlap_non_entailment())
    .expect("HANS-LO");
    let subset = Subset::ShuffledFirst {
        seed: 42,
        count: 512,
    };
    let first = hans_lo.subset(subset).expect("subset");
    let again = hans_lo.subset(subset).expect("subset");
    assert_eq!(first, again);
    assert_eq!(first.len(), 512);
    let indices: Vec<usize> = first.examples[..3].iter().map(|e| e.index).collect();
    // From an independent Python transcription of the documented shuffle.
    assert_eq!(indices, [3987, 38, 1433]);
    assert!(first.report.provenance.contains("seed 42"));
}

#[test]
fn paws_qqp() {
    let paws = load(DatasetFormat::PawsQqp, "paws_qqp/dev_and_test.tsv");
    check(&paws, 677, &[486, 191]);
    let train = load(DatasetFormat::PawsQqp, "paws_qqp/train.tsv");
    check(&train, 11_988, &[8212, 3776]);
    assert!(
        train.examples.iter().all(|example| !example
            .text_b
            .as_deref()
            .is_some_and(|text| text.ends_with('\r'))),
        "CRLF line ends are stripped"
    );
}

#[test]
fn qqp_subset() {
    let qqp = load(DatasetFormat::Qqp, "glue/QQP/train_subset_23k.tsv");
    check(&qqp, 23_497, &[14_750, 8747]);
}

#[test]
fn cola_all_three_files() {
    let train = load(DatasetFormat::Cola, "glue/CoLA/in_domain_train.tsv");
    check(&train, 8551, &[2528, 6023]);
    assert_eq!(
        train.examples[0].text_a,
        "Our friends won't buy this analysis, let alone the next one we propose."
    );
    assert_eq!(train.examples[0].text_b, None);
    check(
        &load(DatasetFormat::Cola, "glue/CoLA/in_domain_dev.tsv"),
        527,
        &[162, 365],
    );
    check(
        &load(DatasetFormat::Cola, "glue/CoLA/out_of_domain_dev.tsv"),
        516,
        &[162, 354],
    );
}

#[test]
fn rte() {
    check(
        &load(DatasetFormat::Rte, "glue/RTE/train.tsv"),
        2490,
        &[1249, 1241],
    );
    check(
        &load(DatasetFormat::Rte, "glue/RTE/dev.tsv"),
        277,
        &[146, 131],
    );
}

#[test]
fn snli() {
    check(
        &load(DatasetFormat::Snli, "snli/dev.tsv"),
        9842,
        &[3329, 3235, 3278],
    );
    check(
        &load(DatasetFormat::Snli, "snli/test.tsv"),
        9824,
        &[3368, 3219, 3237],
    );
}

#[test]
fn subsets_take_first_or_seeded_and_clip_at_the_size() {
    let rte = load(DatasetFormat::Rte, "glue/RTE/dev.tsv");
    let first = rte.subset(Subset::First(512)).expect("subset");
    assert_eq!(
        first.len(),
        277,
        "a subset larger than the set keeps everything"
    );
    assert_eq!(first.examples, rte.examples);
    let ten = rte.subset(Subset::First(10)).expect("subset");
    assert_eq!(ten.examples, rte.examples[..10]);
    assert!(
        ten.report
            .provenance
            .ends_with("then first 10 of 277 examples")
    );
    let shuffled = rte
        .subset(Subset::ShuffledFirst { seed: 1, count: 10 })
        .expect("subset");
    assert_ne!(shuffled.examples, ten.examples);
    assert!(
        rte.subset(Subset::First(0)).is_err(),
        "an empty subset is refused"
    );
}
