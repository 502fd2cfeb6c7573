//! The plane through three models, for 2-D loss surfaces.

use crate::error::InterpError;
use crate::ops::{affine, affine_into, difference};
use crate::param_set::{ParamSet, check_same_layout};

/// Below this ratio ‖v2⊥‖² / ‖v2‖² the three models are treated as collinear: the orthogonal part
/// is then a rounding residue (about 1e-6 in angle) and its direction meaningless.
const COLLINEAR_RATIO: f64 = 1e-12;

/// The plane through an anchor model and two base models, with the basis the paper draws loss
/// surfaces in.
///
/// With d1 = θ_base1 − θ_anchor and d2 = θ_base2 − θ_anchor, the basis is
/// v1 = d1 and v2⊥ = d2 − k·d1 with k = ⟨d2, d1⟩ / ‖d1‖² (one Gram–Schmidt step, **not
/// normalised**), unless the projection of d2 on the direction of d1 is at least as long as d1
/// itself — ⟨d2, d1⟩ / ‖d1‖ ≥ ‖d1‖, i.e. base2 lies at or beyond base1 along that line — in which
/// case the roles swap: v1 = d2 and v2⊥ = d1 − k·d2 with k = ⟨d1, d2⟩ / ‖d2‖².
///
/// That is how `docs/paper-method.md` ("swap so the longer projection is v1") reads against the
/// authors' code (`get_sd_basis`: swap when the component of v2 along v1 is ≥ ‖v1‖). Its effect is
/// that the model on the v1 axis sits at (1, 0) and the third model at (k, 1) with k ≤ 1, so the
/// three models fit in the unit square's width. Only float tensors enter the basis; integer
/// buffers are carried from the anchor, as the paper's code leaves buffers out of the basis.
///
/// Points of the plane are θ_anchor + c1·v1 + c2·v2⊥ ([`point_into`](Self::point_into)). For a
/// plot with isometric axes, scale c1 by ‖v1‖ and c2 by ‖v2⊥‖ ([`v1_norm`](Self::v1_norm),
/// [`v2_norm`](Self::v2_norm)).
#[derive(Debug, Clone)]
pub struct Plane {
    anchor: ParamSet,
    v1: ParamSet,
    v2: ParamSet,
    swapped: bool,
    projection: f32,
    v1_norm: f64,
    v2_norm: f64,
}

/// Plane coordinates (c1, c2) of the three models that define a [`Plane`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaneCoordinates {
    /// Always (0, 0).
    pub anchor: [f64; 2],
    /// (1, 0), or (k, 1) when the basis is swapped.
    pub base1: [f64; 2],
    /// (k, 1), or (1, 0) when the basis is swapped.
    pub base2: [f64; 2],
}

impl Plane {
    /// Computes the basis of the plane through `anchor`, `base1` and `base2`.
    ///
    /// Takes the anchor by value because every point of the plane starts from it; clone it if you
    /// still need it. Holds three sets (anchor, v1, v2⊥) and needs one more transiently. Fails if
    /// the sets do not share a layout, or if they do not span a plane (a base equal to the anchor,
    /// or all three collinear).
    pub fn through(
        anchor: ParamSet,
        base1: &ParamSet,
        base2: &ParamSet,
    ) -> Result<Plane, InterpError> {
        check_same_layout(&anchor, base1, ("anchor", "base1"))?;
        check_same_layout(&anchor, base2, ("anchor", "base2"))?;
        let d1 = difference(base1, &anchor)?;
        let d2 = difference(base2, &anchor)?;
        let d1_squared = crate::dot(&d1, &d1)?;
        let cross = crate::dot(&d1, &d2)?;
        // ⟨d2, d1⟩ / ‖d1‖ ≥ ‖d1‖, multiplied through by ‖d1‖ ≥ 0.
        let swapped = cross >= d1_squared;
        let (v1, other) = if swapped { (d2, d1) } else { (d1, d2) };
        let v1_squared = crate::dot(&v1, &v1)?;
        if !(v1_squared > 0.0 && v1_squared.is_finite()) {
            return Err(InterpError::DegeneratePlane {
                reason: "a base model coincides with the anchor (or the sets hold non-finite values)",
            });
        }
        // Rounded once, and that rounded value reported as the coordinate, so that the coordinates
        // describe exactly the combination `point_into` forms.
        let projection = (cross / v1_squared) as f32;
        let v2 = affine(&[&other, &v1], &[1.0, -projection])?;
        let v2_squared = crate::dot(&v2, &v2)?;
        let other_squared = crate::dot(&other, &other)?;
        let spans_plane = v2_squared > COLLINEAR_RATIO * other_squared;
        if !spans_plane {
            return Err(InterpError::DegeneratePlane {
                reason: "the anchor and both bases are collinear (or a base coincides with the anchor)",
            });
        }
        Ok(Plane {
            anchor,
            v1,
            v2,
            swapped,
            projection,
            v1_norm: v1_squared.sqrt(),
            v2_norm: v2_squared.sqrt(),
        })
    }

    /// θ_anchor + c1·v1 + c2·v2⊥ into `dst`, reusing its buffers (see [`crate::lerp_into`]).
    /// Carried tensors come from the anchor.
    pub fn point_into(&self, dst: &mut ParamSet, c1: f32, c2: f32) -> Result<(), InterpError> {
        affine_into(dst, &[&self.anchor, &self.v1, &self.v2], &[1.0, c1, c2])
    }

    /// θ_anchor + c1·v1 + c2·v2⊥ as a new set.
    pub fn point(&self, c1: f32, c2: f32) -> Result<ParamSet, InterpError> {
        affine(&[&self.anchor, &self.v1, &self.v2], &[1.0, c1, c2])
    }

    /// Where the three models lie in plane coordinates.
    pub fn coordinates(&self) -> PlaneCoordinates {
        let on_axis = [1.0, 0.0];
        let off_axis = [f64::from(self.projection), 1.0];
        let (base1, base2) = if self.swapped {
            (off_axis, on_axis)
        } else {
            (on_axis, off_axis)
        };
        PlaneCoordinates {
            anchor: [0.0, 0.0],
            base1,
            base2,
        }
    }

    /// Whether v1 is θ_base2 − θ_anchor (rather than θ_base1 − θ_anchor).
    pub fn swapped(&self) -> bool {
        self.swapped
    }

    /// The anchor model, origin of the plane.
    pub fn anchor(&self) -> &ParamSet {
        &self.anchor
    }

    /// The first basis vector, a difference of two models.
    pub fn v1(&self) -> &ParamSet {
        &self.v1
    }

    /// The second basis vector, orthogonal to [`v1`](Self::v1) and not normalised.
    pub fn v2(&self) -> &ParamSet {
        &self.v2
    }

    /// ‖v1‖, in `f64`.
    pub fn v1_norm(&self) -> f64 {
        self.v1_norm
    }

    /// ‖v2⊥‖, in `f64`.
    pub fn v2_norm(&self) -> f64 {
        self.v2_norm
    }
}
