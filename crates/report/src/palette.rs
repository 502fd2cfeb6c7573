//! Colours shared by every figure: one colour per cluster, and a sequential scale for heatmaps.

use plotters::style::RGBColor;

/// Cluster colours (Okabe–Ito, distinguishable with colour-vision deficiencies), by cluster label.
const CLUSTER_COLOURS: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

/// The colour of cluster `label` in every figure (cycling after 8 clusters).
pub fn cluster_colour(label: usize) -> RGBColor {
    CLUSTER_COLOURS[label % CLUSTER_COLOURS.len()]
}

/// Colours of the group pairs of the interpolation-curve figure: generalising–generalising,
/// generalising–heuristic, heuristic–heuristic (groups are not clusters, so they get their own).
pub const GROUP_PAIR_COLOURS: [RGBColor; 3] = [
    RGBColor(27, 120, 55),
    RGBColor(118, 42, 131),
    RGBColor(178, 24, 43),
];

/// The CSS hex form of a colour, for the HTML tables.
pub fn css_hex(colour: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", colour.0, colour.1, colour.2)
}

/// Anchors of the viridis colour map at 0, 0.25, 0.5, 0.75 and 1.
const VIRIDIS: [(u8, u8, u8); 5] = [
    (68, 1, 84),
    (59, 82, 139),
    (33, 145, 140),
    (94, 201, 98),
    (253, 231, 37),
];

/// Viridis at `t` in [0, 1] (clamped; NaN maps to 0), linearly interpolated between anchors.
pub fn sequential_colour(t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let scaled = t * (VIRIDIS.len() - 1) as f64;
    let low = (scaled.floor() as usize).min(VIRIDIS.len() - 2);
    let f = scaled - low as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (VIRIDIS[low], VIRIDIS[low + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// A value range mapped onto [`sequential_colour`]; a degenerate range maps everything to 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColourScale {
    /// Value drawn with the lowest colour.
    pub min: f64,
    /// Value drawn with the highest colour.
    pub max: f64,
}

impl ColourScale {
    /// The scale spanning `values` (0..1 when there are none).
    pub fn spanning(values: impl IntoIterator<Item = f64>) -> Self {
        let (min, max) = values
            .into_iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        if min.is_finite() {
            Self { min, max }
        } else {
            Self { min: 0.0, max: 1.0 }
        }
    }

    /// The colour of `value`.
    pub fn colour(&self, value: f64) -> RGBColor {
        let span = self.max - self.min;
        sequential_colour(if span > 0.0 {
            (value - self.min) / span
        } else {
            0.0
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_reaches_both_ends_of_viridis() {
        let scale = ColourScale::spanning([2.0, 4.0, 3.0]);
        assert_eq!(scale.colour(2.0), RGBColor(68, 1, 84));
        assert_eq!(scale.colour(4.0), RGBColor(253, 231, 37));
        assert_eq!(scale.colour(3.0), RGBColor(33, 145, 140));
    }
}
