//! Figure 1: interpolation curves by group. Models are ranked by the diagnostic metric; the best
//! `g` are "generalising" (G), the worst `g` "heuristic" (H). For every ordered pair inside G–G,
//! from G to H, and inside H–H, the curve's mean and 95 % confidence interval (mean ± 1.96 standard
//! errors) at each α, one panel per group pair and one row per evaluation set.

use lmc_analysis::{Curve, PairsTable, Quantity};
use plotters::coord::Shift;
use plotters::prelude::{ChartBuilder, DrawingArea, DrawingBackend, LineSeries, Polygon};
use plotters::style::{Color, WHITE};

use crate::error::{ReportError, Result};
use crate::figures::{format_value, titled};
use crate::palette::GROUP_PAIR_COLOURS;
use crate::render::{DrawResult, Plot, font};
use crate::stored::ModelRow;

/// What the curves show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurveValue {
    /// Mean cross-entropy.
    Loss,
    /// Accuracy.
    Accuracy,
}

impl CurveValue {
    /// Axis label with units.
    pub fn axis_label(self) -> &'static str {
        match self {
            CurveValue::Loss => "cross-entropy loss (nats)",
            CurveValue::Accuracy => "accuracy (fraction correct)",
        }
    }

    /// File-name word.
    pub fn name(self) -> &'static str {
        match self {
            CurveValue::Loss => "loss",
            CurveValue::Accuracy => "accuracy",
        }
    }
}

/// The three group pairs, in panel order.
pub const GROUP_PAIRS: [&str; 3] = ["G–G", "G–H", "H–H"];

/// One panel: a group pair on one set.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePanel {
    /// Index into [`GROUP_PAIRS`].
    pub group_pair: usize,
    /// α grid.
    pub alphas: Vec<f64>,
    /// Mean value at each α.
    pub mean: Vec<f64>,
    /// Half-width of the 95 % interval at each α.
    pub half_width: Vec<f64>,
    /// Number of curves averaged.
    pub n: usize,
}

/// One row of panels: an evaluation set.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveRow {
    /// Row label, e.g. "in-domain (`id`)".
    pub label: String,
    /// Set name in the pairs table.
    pub set: String,
    /// The three panels (a panel without curves has `n == 0`).
    pub panels: Vec<CurvePanel>,
}

/// Figure 1 (one of its loss / accuracy versions).
#[derive(Debug, Clone, PartialEq)]
pub struct InterpolationCurves {
    /// Figure title.
    pub title: String,
    /// Loss or accuracy.
    pub value: CurveValue,
    /// The generalising models, best first.
    pub generalising: Vec<String>,
    /// The heuristic models, worst first.
    pub heuristic: Vec<String>,
    /// One row per set.
    pub rows: Vec<CurveRow>,
}

/// The `(best, worst)` `group_size` models by diagnostic metric (capped at half the models); ties
/// broken by name.
pub fn groups(models: &[ModelRow], group_size: usize) -> (Vec<String>, Vec<String>) {
    let mut ranked: Vec<&ModelRow> = models.iter().collect();
    ranked.sort_by(|a, b| {
        b.diagnostic_metric
            .total_cmp(&a.diagnostic_metric)
            .then(a.name.cmp(&b.name))
    });
    let g = group_size.min(models.len() / 2);
    let best = ranked[..g].iter().map(|m| m.name.clone()).collect();
    let worst = ranked[ranked.len() - g..]
        .iter()
        .rev()
        .map(|m| m.name.clone())
        .collect();
    (best, worst)
}

/// Builds one version of figure 1 from the pairs table. `sets` are `(set, row label)` rows; sets
/// absent from the table are left out. `None` when there are fewer than 2 models or no rows.
///
/// # Errors
/// Curve errors of the pairs table; [`ReportError::Inconsistent`] when the curves of one panel
/// have different α grids.
pub fn interpolation_curves(
    pairs: &PairsTable,
    models: &[ModelRow],
    sets: &[(String, String)],
    value: CurveValue,
    group_size: usize,
) -> Result<Option<InterpolationCurves>> {
    let (generalising, heuristic) = groups(models, group_size);
    if generalising.is_empty() {
        return Ok(None);
    }
    let members = [
        (&generalising, &generalising),
        (&generalising, &heuristic),
        (&heuristic, &heuristic),
    ];
    let mut rows = Vec::new();
    for (set, label) in sets {
        if !pairs.sets().contains(set) {
            continue;
        }
        let mut panels = Vec::new();
        for (group_pair, (from, to)) in members.iter().enumerate() {
            let mut curves = Vec::new();
            for a in from.iter() {
                for b in to.iter().filter(|b| *b != a) {
                    if let Some(curve) = pairs.curve(set, a, b, quantity(value))? {
                        curves.push(curve);
                    }
                }
            }
            panels.push(panel(group_pair, &curves, value, set)?);
        }
        rows.push(CurveRow {
            label: label.clone(),
            set: set.clone(),
            panels,
        });
    }
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(InterpolationCurves {
        title: format!(
            "Interpolation {} by group (G: best {}, H: worst {} by the diagnostic metric; mean ± 95 % CI)",
            value.name(),
            generalising.len(),
            heuristic.len()
        ),
        value,
        generalising,
        heuristic,
        rows,
    }))
}

fn quantity(value: CurveValue) -> Quantity {
    match value {
        CurveValue::Loss => Quantity::Loss,
        CurveValue::Accuracy => Quantity::Error,
    }
}

/// Largest difference between two α values taken as the same grid point.
const ALPHA_TOLERANCE: f64 = 1e-9;

fn panel(group_pair: usize, curves: &[Curve], value: CurveValue, set: &str) -> Result<CurvePanel> {
    let Some(first) = curves.first() else {
        return Ok(CurvePanel {
            group_pair,
            alphas: Vec::new(),
            mean: Vec::new(),
            half_width: Vec::new(),
            n: 0,
        });
    };
    let alphas = first.alphas().to_vec();
    // A pair stored the other way round comes back reversed (α ↦ 1 − α), which is exact only
    // for grids like quarters: 1 − 0.8 is 0.19999999999999996, not 0.2.
    let same_grid = |other: &[f64]| {
        other.len() == alphas.len()
            && other
                .iter()
                .zip(&alphas)
                .all(|(x, y)| (x - y).abs() <= ALPHA_TOLERANCE)
    };
    if curves.iter().any(|c| !same_grid(c.alphas())) {
        return Err(ReportError::Inconsistent {
            origin: "pairs table".to_owned(),
            message: format!(
                "the {} curves on set `{set}` do not share one α grid",
                GROUP_PAIRS[group_pair]
            ),
        });
    }
    let shown = |v: f64| match value {
        CurveValue::Loss => v,
        CurveValue::Accuracy => 1.0 - v,
    };
    let n = curves.len();
    let mut mean = Vec::with_capacity(alphas.len());
    let mut half_width = Vec::with_capacity(alphas.len());
    for k in 0..alphas.len() {
        let values: Vec<f64> = curves.iter().map(|c| shown(c.values()[k])).collect();
        let m = values.iter().sum::<f64>() / n as f64;
        let var = if n > 1 {
            values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        mean.push(m);
        half_width.push(1.96 * (var / n as f64).sqrt());
    }
    Ok(CurvePanel {
        group_pair,
        alphas,
        mean,
        half_width,
        n,
    })
}

impl InterpolationCurves {
    /// The mean curve of `group_pair` (index into [`GROUP_PAIRS`]) on `set`, if drawn.
    pub fn mean_curve(&self, set: &str, group_pair: usize) -> Option<Curve> {
        let row = self.rows.iter().find(|r| r.set == set)?;
        let panel = row.panels.get(group_pair).filter(|p| p.n > 0)?;
        Curve::new(panel.alphas.clone(), panel.mean.clone()).ok()
    }
}

impl Plot for InterpolationCurves {
    fn size(&self) -> (u32, u32) {
        (1300, 60 + 360 * self.rows.len() as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = titled(root, &self.title)?;
        let areas = body.split_evenly((self.rows.len(), GROUP_PAIRS.len()));
        for (r, row) in self.rows.iter().enumerate() {
            let (lo, hi) = row_range(row);
            for (panel, area) in row.panels.iter().zip(&areas[r * 3..r * 3 + 3]) {
                draw_panel(area, row, panel, (lo, hi), self.value)?;
            }
        }
        Ok(())
    }
}

/// The y range shared by a row's panels (bands included), padded by 5 %.
fn row_range(row: &CurveRow) -> (f64, f64) {
    let (lo, hi) = row
        .panels
        .iter()
        .flat_map(|p| p.mean.iter().zip(&p.half_width))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (m, h)| {
            (lo.min(m - h), hi.max(m + h))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo { (hi - lo) * 0.05 } else { 0.5 };
    (lo - pad, hi + pad)
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    row: &CurveRow,
    panel: &CurvePanel,
    (lo, hi): (f64, f64),
    value: CurveValue,
) -> DrawResult<DB> {
    let (a0, a1) = match (panel.alphas.first(), panel.alphas.last()) {
        (Some(&a0), Some(&a1)) if a1 > a0 => (a0, a1),
        _ => (0.0, 1.0),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!(
                "{} on {} (N = {} pairs)",
                GROUP_PAIRS[panel.group_pair], row.label, panel.n
            ),
            font(15),
        )
        .margin(10)
        .x_label_area_size(45)
        .y_label_area_size(65)
        .build_cartesian_2d(a0..a1, lo..hi)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE.mix(0.0))
        .x_desc("interpolation coefficient α")
        .y_desc(value.axis_label())
        .axis_desc_style(font(13))
        .label_style(font(11))
        .y_label_formatter(&|v| format_value(*v))
        .draw()?;
    if panel.n == 0 {
        return Ok(());
    }
    let colour = GROUP_PAIR_COLOURS[panel.group_pair];
    let upper = panel
        .alphas
        .iter()
        .zip(panel.mean.iter().zip(&panel.half_width))
        .map(|(&a, (m, h))| (a, m + h));
    let lower = panel
        .alphas
        .iter()
        .zip(panel.mean.iter().zip(&panel.half_width))
        .rev()
        .map(|(&a, (m, h))| (a, m - h));
    chart.draw_series(std::iter::once(Polygon::new(
        upper.chain(lower).collect::<Vec<_>>(),
        colour.mix(0.25).filled(),
    )))?;
    chart.draw_series(LineSeries::new(
        panel.alphas.iter().copied().zip(panel.mean.iter().copied()),
        colour.stroke_width(2),
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use lmc_analysis::Curve;

    use super::{CurveValue, panel};

    #[test]
    fn a_reversed_curve_on_a_fifths_grid_shares_the_grid() {
        let alphas = vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0];
        let forward = Curve::new(alphas.clone(), vec![1.0, 1.2, 1.4, 1.3, 1.1, 1.0]).unwrap();
        let backward = Curve::new(alphas.clone(), vec![2.0, 1.5, 1.4, 1.3, 1.2, 1.0])
            .unwrap()
            .reversed();
        assert_ne!(
            backward.alphas(),
            alphas.as_slice(),
            "1 − 0.8 is not 0.2 in floats"
        );
        let drawn = panel(0, &[forward, backward], CurveValue::Loss, "id").expect("one grid");
        assert_eq!(drawn.n, 2);
        assert_eq!(drawn.mean[0], 1.0);
        assert_eq!(drawn.mean[5], 1.5);

        let coarse = Curve::new(vec![0.0, 0.5, 1.0], vec![1.0, 1.0, 1.0]).unwrap();
        let fine = Curve::new(alphas, vec![1.0; 6]).unwrap();
        assert!(panel(0, &[fine, coarse], CurveValue::Loss, "id").is_err());
    }
}
