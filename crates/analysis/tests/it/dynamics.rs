//! Cluster membership across checkpoints.

use lmc_analysis::{Checkpoint, ClusterOptions, training_dynamics};

use crate::planted;

#[test]
fn a_model_that_changes_basin_is_reported_once() {
    let early = planted(&[0, 0, 0, 0, 1, 1, 1], 0.02, 2.5);
    // At the late checkpoint, m3 has joined m4–m6; the rows are also given in another order.
    let late = planted(&[0, 0, 0, 1, 1, 1, 1], 0.02, 2.5).permuted(&[6, 5, 4, 3, 2, 1, 0]);
    let checkpoints = vec![
        Checkpoint {
            label: "15k".into(),
            barriers: early,
        },
        Checkpoint {
            label: "34k".into(),
            barriers: late,
        },
    ];
    let dynamics = training_dynamics(&checkpoints, &ClusterOptions::default()).expect("dynamics");
    assert_eq!(dynamics.names[0], "m0");
    assert_eq!(dynamics.labels[0], vec![0, 0, 0, 0, 1, 1, 1]);
    assert_eq!(dynamics.labels[1], vec![0, 0, 0, 1, 1, 1, 1]);
    assert_eq!(dynamics.switches.len(), 1);
    let switch = &dynamics.switches[0];
    assert_eq!(
        (
            switch.model.as_str(),
            switch.from_cluster,
            switch.to_cluster
        ),
        ("m3", 0, 1)
    );
    assert_eq!(
        (
            switch.from_checkpoint.as_str(),
            switch.to_checkpoint.as_str()
        ),
        ("15k", "34k")
    );
    // Axis signs are aligned: m0 stays on the same side.
    assert_eq!(
        dynamics.positions[0][0].signum(),
        dynamics.positions[1][0].signum()
    );
}

#[test]
fn checkpoints_must_share_their_models() {
    let a = planted(&[0, 0, 1, 1], 0.02, 2.5);
    let mut b = a.clone();
    b.names[3] = "other".into();
    let checkpoints = vec![
        Checkpoint {
            label: "1".into(),
            barriers: a,
        },
        Checkpoint {
            label: "2".into(),
            barriers: b,
        },
    ];
    let error = training_dynamics(&checkpoints, &ClusterOptions::default()).expect_err("mismatch");
    assert!(
        error
            .to_string()
            .contains("model `m3` of checkpoint `1` is missing"),
        "{error}"
    );
}
