//! The loss-surface plane through three models.

use lmc_interp::{InterpError, ParamSet, Plane, distance, dot};

use crate::helpers::{LARGE_SHAPES, carried, mixed_set, random_set};

fn vector(values: &[f32]) -> ParamSet {
    ParamSet::from_f32_tensors([("w", vec![values.len()], values.to_vec())]).unwrap()
}

#[test]
fn basis_is_orthogonal_and_coordinates_reproduce_the_models() {
    let anchor = random_set(LARGE_SHAPES, 1);
    let base1 = random_set(LARGE_SHAPES, 2);
    let base2 = random_set(LARGE_SHAPES, 3);
    let plane = Plane::through(anchor.clone(), &base1, &base2).unwrap();

    let (v1, v2) = (plane.v1(), plane.v2());
    let cosine = dot(v1, v2).unwrap() / (v1.norm() * v2.norm());
    assert!(cosine.abs() < 1e-6, "cos(v1, v2) = {cosine}");
    assert!((plane.v1_norm() - v1.norm()).abs() <= 1e-12 * v1.norm());
    assert!((plane.v2_norm() - v2.norm()).abs() <= 1e-12 * v2.norm());

    let coordinates = plane.coordinates();
    assert_eq!(coordinates.anchor, [0.0, 0.0]);
    for (model, [c1, c2]) in [
        (&anchor, coordinates.anchor),
        (&base1, coordinates.base1),
        (&base2, coordinates.base2),
    ] {
        let point = plane.point(c1 as f32, c2 as f32).unwrap();
        let error = distance(&point, model).unwrap() / model.norm();
        assert!(
            error < 1e-6,
            "model at ({c1}, {c2}) is off by {error} relative"
        );
    }
}

#[test]
fn unswapped_basis_puts_base1_on_the_first_axis() {
    // d1 = (2, 0), d2 = (1, 1): the projection of d2 on d1 (length 1) is shorter than d1.
    let plane = Plane::through(
        vector(&[0.0, 0.0]),
        &vector(&[2.0, 0.0]),
        &vector(&[1.0, 1.0]),
    )
    .unwrap();
    assert!(!plane.swapped());
    assert_eq!(plane.v1().float_values(), &[2.0, 0.0]);
    assert_eq!(plane.v2().float_values(), &[0.0, 1.0]);
    let coordinates = plane.coordinates();
    assert_eq!(coordinates.base1, [1.0, 0.0]);
    assert_eq!(coordinates.base2, [0.5, 1.0]);
    assert_eq!((plane.v1_norm(), plane.v2_norm()), (2.0, 1.0));
}

#[test]
fn basis_swaps_when_base2_projects_beyond_base1() {
    // d1 = (1, 0), d2 = (2, 1): d2 reaches 2 along d1, beyond |d1| = 1, so v1 = d2.
    let plane = Plane::through(
        vector(&[1.0, 1.0]),
        &vector(&[2.0, 1.0]),
        &vector(&[3.0, 2.0]),
    )
    .unwrap();
    assert!(plane.swapped());
    assert_eq!(plane.v1().float_values(), &[2.0, 1.0]);
    let coordinates = plane.coordinates();
    assert_eq!(coordinates.base2, [1.0, 0.0]);
    let [k, c2] = coordinates.base1;
    assert!((k - 0.4).abs() < 1e-7 && c2 == 1.0, "{k}");
    // d1 − 0.4·d2 = (0.2, −0.4), orthogonal to (2, 1).
    let v2 = plane.v2().float_values();
    assert!(
        (v2[0] - 0.2).abs() < 1e-6 && (v2[1] + 0.4).abs() < 1e-6,
        "{v2:?}"
    );
}

#[test]
fn equal_projection_swaps_as_the_paper_code_does() {
    // ⟨d2, d1⟩ = ‖d1‖² exactly: the paper's test is `>=`.
    let plane = Plane::through(
        vector(&[0.0, 0.0]),
        &vector(&[1.0, 0.0]),
        &vector(&[1.0, 1.0]),
    )
    .unwrap();
    assert!(plane.swapped());
}

#[test]
fn degenerate_triples_are_rejected() {
    let anchor = vector(&[1.0, 2.0, 3.0]);
    let same = anchor.clone();
    let other = vector(&[0.0, 2.0, 5.0]);
    let error = Plane::through(anchor.clone(), &same, &other).unwrap_err();
    assert!(
        matches!(error, InterpError::DegeneratePlane { .. }),
        "{error}"
    );
    let collinear = vector(&[-1.0, 2.0, 7.0]);
    let error = Plane::through(anchor.clone(), &other, &collinear).unwrap_err();
    assert!(
        matches!(error, InterpError::DegeneratePlane { .. }),
        "{error}"
    );
    let mismatched = vector(&[1.0, 2.0]);
    assert!(matches!(
        Plane::through(anchor, &other, &mismatched),
        Err(InterpError::Mismatch(_))
    ));
}

#[test]
fn grid_points_carry_the_anchor_buffers_and_reuse_the_destination() {
    let (anchor, base1, base2) = (mixed_set(1), mixed_set(2), mixed_set(3));
    let plane = Plane::through(anchor.clone(), &base1, &base2).unwrap();
    let mut dst = ParamSet::default();
    for (c1, c2) in [(-0.5f32, -0.5f32), (0.25, 1.5), (1.0, 0.0)] {
        plane.point_into(&mut dst, c1, c2).unwrap();
        assert_eq!(carried(&dst), carried(&anchor));
        let expected = plane.point(c1, c2).unwrap();
        assert_eq!(dst.float_values(), expected.float_values());
    }
}
