//! Metrics against hand-computed values and degenerate cases; the MNLI → HANS logit collapse.

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use lmc_data::metrics::{
    accuracy, cross_entropy_per_example, f1_score, matthews_correlation, mean_cross_entropy,
};
use lmc_data::{
    LabelMapping, Logits, NliLabelOrder, TaskMetric, collapse_nli_logits_to_hans,
    collapse_nli_logits_to_hans_tensor, evaluate,
};

fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-9,
        "{actual} is not {expected}"
    );
}

#[test]
fn accuracy_counts_matches() {
    close(
        accuracy(&[0, 1, 2, 1], &[0, 1, 1, 1]).expect("accuracy"),
        0.75,
    );
    assert!(accuracy(&[], &[]).is_err(), "zero examples");
    assert!(accuracy(&[0], &[0, 1]).is_err(), "length mismatch");
}

#[test]
fn f1_of_the_positive_class() {
    // TP = 2, FP = 1, FN = 1: F1 = 4 / 6.
    close(
        f1_score(&[1, 1, 0, 1, 0], &[1, 0, 0, 1, 1], 1).expect("f1"),
        2.0 / 3.0,
    );
    // Class 0 of the same predictions: TP = 1, FP = 1, FN = 1.
    close(
        f1_score(&[1, 1, 0, 1, 0], &[1, 0, 0, 1, 1], 0).expect("f1"),
        0.5,
    );
    close(f1_score(&[0, 0, 0], &[0, 0, 0], 1).expect("f1"), 0.0);
    close(f1_score(&[1, 1, 0], &[0, 0, 0], 1).expect("f1"), 0.0);
    close(f1_score(&[0, 0, 0], &[1, 0, 1], 1).expect("f1"), 0.0);
    close(f1_score(&[1, 0, 1], &[1, 0, 1], 1).expect("f1"), 1.0);
}

#[test]
fn matthews_correlation_by_hand() {
    // scikit-learn's documentation example: y_true [+1, +1, +1, -1], y_pred [+1, -1, +1, +1].
    close(
        matthews_correlation(&[1, 0, 1, 1], &[1, 1, 1, 0]).expect("mcc"),
        -1.0 / 3.0,
    );
    close(
        matthews_correlation(&[0, 1, 0, 1], &[0, 1, 0, 1]).expect("mcc"),
        1.0,
    );
    close(
        matthews_correlation(&[1, 0, 1, 0], &[0, 1, 0, 1]).expect("mcc"),
        -1.0,
    );
    // Three classes: c = 5, s = 6, t = [2, 2, 2], p = [2, 3, 1]:
    // (5·6 − 12) / sqrt((36 − 14)(36 − 12)) = 18 / sqrt(528).
    close(
        matthews_correlation(&[0, 1, 1, 0, 1, 2], &[0, 1, 2, 0, 1, 2]).expect("mcc"),
        18.0 / 528_f64.sqrt(),
    );
}

#[test]
fn matthews_correlation_is_zero_when_one_class_only() {
    close(
        matthews_correlation(&[1, 0, 1], &[1, 1, 1]).expect("mcc"),
        0.0,
    );
    close(
        matthews_correlation(&[1, 1, 1], &[1, 0, 1]).expect("mcc"),
        0.0,
    );
    close(matthews_correlation(&[0, 0], &[0, 0]).expect("mcc"), 0.0);
}

#[test]
fn cross_entropy_is_stable() {
    let logits = Logits::from_rows(&[
        vec![0.0_f32, 0.0],
        vec![1000.0, 0.0],
        vec![-1000.0, 0.0],
        vec![1000.0, 1000.0],
    ])
    .expect("logits");
    let losses = cross_entropy_per_example(&logits, &[0, 1, 0, 1]).expect("losses");
    close(losses[0], std::f64::consts::LN_2);
    close(losses[1], 1000.0);
    close(losses[2], 1000.0);
    close(losses[3], std::f64::consts::LN_2);
    let three = Logits::from_rows(&[[1.0_f32, 2.0, 3.0]]).expect("logits");
    close(
        mean_cross_entropy(&three, &[2]).expect("loss"),
        0.407_605_964_444_380_1,
    );
    assert!(
        cross_entropy_per_example(&three, &[3]).is_err(),
        "label out of range"
    );
    assert!(Logits::new(vec![1.0, 2.0, 3.0], 2).is_err(), "ragged");
}

#[test]
fn predictions_take_the_first_maximum() {
    let logits = Logits::from_rows(&[[1.0_f32, 1.0, 0.0], [0.0, 2.0, 2.0], [-1.0, -3.0, -0.5]])
        .expect("logits");
    assert_eq!(logits.predictions(), [0, 1, 2]);
}

#[test]
fn evaluate_reports_per_example_and_aggregates() {
    let logits =
        Logits::from_rows(&[[2.0_f32, 0.0], [0.0, 1.0], [3.0, 0.0], [0.0, 0.0]]).expect("logits");
    let labels = [0, 1, 1, 0];
    let result = evaluate(&logits, &labels, TaskMetric::F1 { positive_class: 1 }).expect("eval");
    assert_eq!(result.predictions, [0, 1, 0, 0]);
    close(result.accuracy, 0.75);
    // TP = 1, FP = 0, FN = 1.
    close(result.metric_value, 2.0 / 3.0);
    assert_eq!(result.losses.len(), 4);
    close(result.mean_loss, result.losses.iter().sum::<f64>() / 4.0);
    close(result.losses[3], std::f64::consts::LN_2);
    assert_eq!(TaskMetric::MatthewsCorrelation.name(), "mcc");
}

#[test]
fn nli_logits_collapse_onto_hans() {
    let mnli = Logits::from_rows(&[[2.0_f32, 0.5, 1.0], [0.1, 3.0, -1.0], [0.0, -2.0, 4.0]])
        .expect("logits");
    let hans = collapse_nli_logits_to_hans(&mnli, NliLabelOrder::GLUE).expect("collapse");
    assert_eq!(hans.num_classes(), 2);
    assert_eq!(hans.values(), [2.0, 1.0, 0.1, 3.0, 0.0, 4.0]);
    assert_eq!(hans.predictions(), [0, 1, 1]);

    // A checkpoint with contradiction = 0, entailment = 1, neutral = 2.
    let feather = NliLabelOrder::from_label_names(&["contradiction", "entailment", "neutral"])
        .expect("order");
    let collapsed = collapse_nli_logits_to_hans(&mnli, feather).expect("collapse");
    assert_eq!(collapsed.row(0), [0.5, 2.0]);

    let two = Logits::from_rows(&[[1.0_f32, 2.0]]).expect("logits");
    assert!(collapse_nli_logits_to_hans(&two, NliLabelOrder::GLUE).is_err());
    assert_eq!(LabelMapping::Identity.apply(&mnli).expect("identity"), mnli);
}

#[test]
fn tensor_collapse_equals_host_collapse() {
    let values = vec![
        2.0_f32, 0.5, 1.0, 0.1, 3.0, -1.0, 0.0, -2.0, 4.0, -1.0, -1.0, -1.0,
    ];
    let device = Default::default();
    let tensor = Tensor::<Flex, 2>::from_data(TensorData::new(values.clone(), [4, 3]), &device);
    let host = Logits::new(values, 3).expect("logits");
    for order in [
        NliLabelOrder::GLUE,
        NliLabelOrder {
            entailment: 1,
            neutral: 2,
            contradiction: 0,
        },
    ] {
        let on_device = collapse_nli_logits_to_hans_tensor(tensor.clone(), order).expect("tensor");
        assert_eq!(on_device.dims(), [4, 2]);
        let expected = collapse_nli_logits_to_hans(&host, order).expect("host");
        assert_eq!(Logits::from_tensor(on_device).expect("read back"), expected);
        let mapped = LabelMapping::CollapseNliToHans(order)
            .apply_tensor(tensor.clone())
            .expect("mapping");
        assert_eq!(Logits::from_tensor(mapped).expect("read back"), expected);
    }
    let wrong = Tensor::<Flex, 2>::zeros([2, 2], &device);
    assert!(collapse_nli_logits_to_hans_tensor(wrong, NliLabelOrder::GLUE).is_err());
}
