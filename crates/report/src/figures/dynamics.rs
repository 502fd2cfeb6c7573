//! Figure 6: training dynamics. The clustering is recomputed at every stored training checkpoint
//! ([`lmc_analysis::training_dynamics`]); each model is a dot per checkpoint at (centroid distance,
//! diagnostic metric), coloured by its cluster there, with arrows from one checkpoint to the next.
//! Models that switch cluster get thick arrows and their name.

use lmc_analysis::{
    Checkpoint, ClusterOptions, CurveMetric, MatrixSpec, Quantity, training_dynamics,
};
use plotters::coord::Shift;
use plotters::prelude::{
    ChartBuilder, Circle, DrawingArea, DrawingBackend, PathElement, Polygon, SeriesLabelPosition,
};
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::{BLACK, Color, WHITE};

use crate::error::Result;
use crate::figures::{anchored, draw_legend, format_value, padded_range, text_at, titled};
use crate::palette::cluster_colour;
use crate::render::{DrawResult, Plot, font};
use crate::stored::CheckpointResults;

/// Figure 6.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingDynamicsFigure {
    /// Figure title.
    pub title: String,
    /// Name of the diagnostic metric (y axis).
    pub metric_name: String,
    /// Checkpoint labels, in training order.
    pub checkpoints: Vec<String>,
    /// Model names.
    pub names: Vec<String>,
    /// `positions[t][i]`: model `i` at checkpoint `t` as (centroid distance, diagnostic metric).
    pub positions: Vec<Vec<(f64, f64)>>,
    /// `labels[t][i]`: model `i`'s cluster at checkpoint `t` (aligned across checkpoints).
    pub labels: Vec<Vec<usize>>,
    /// Number of clusters.
    pub k: usize,
}

/// Builds figure 6 from the per-checkpoint results: the convexity gap of the loss on `in_domain_set`
/// is clustered with `options` at each checkpoint; the y axis is the `metric` on `diagnostic_set`.
/// `None` with fewer than two checkpoints.
///
/// # Errors
/// Table, matrix and clustering errors of lmc-analysis (naming the checkpoint's files).
pub fn training_dynamics_figure(
    checkpoints: &[CheckpointResults],
    in_domain_set: &str,
    diagnostic_set: &str,
    options: &ClusterOptions,
    metric_name: &str,
) -> Result<Option<TrainingDynamicsFigure>> {
    if checkpoints.len() < 2 {
        return Ok(None);
    }
    let stored = checkpoints
        .iter()
        .map(|c| {
            let barriers = c.pairs.matrix(&MatrixSpec {
                set: in_domain_set.to_owned(),
                quantity: Quantity::Loss,
                metric: CurveMetric::ConvexityGap,
                models: Some(c.endpoints.models(in_domain_set)),
            })?;
            Ok(Checkpoint {
                label: format!("step {}", c.step),
                barriers,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let dynamics = training_dynamics(&stored, options)?;
    let mut positions = Vec::with_capacity(checkpoints.len());
    for (t, c) in checkpoints.iter().enumerate() {
        let row = dynamics
            .names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let metric = c.endpoints.get(name, diagnostic_set)?.metric;
                Ok((dynamics.positions[t][i], metric))
            })
            .collect::<Result<Vec<_>>>()?;
        positions.push(row);
    }
    Ok(Some(TrainingDynamicsFigure {
        title: format!(
            "Training dynamics: clusters across {} checkpoints ({} cluster switches)",
            checkpoints.len(),
            dynamics.switches.len()
        ),
        metric_name: metric_name.to_owned(),
        checkpoints: dynamics.checkpoints,
        names: dynamics.names,
        positions,
        labels: dynamics.labels,
        k: dynamics.k,
    }))
}

impl TrainingDynamicsFigure {
    /// Whether model `i` changes cluster at any step.
    fn switches(&self, i: usize) -> bool {
        self.labels.windows(2).any(|w| w[0][i] != w[1][i])
    }
}

impl Plot for TrainingDynamicsFigure {
    fn size(&self) -> (u32, u32) {
        (1100, 700)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = titled(root, &self.title)?;
        let (x0, x1) = padded_range(self.positions.iter().flatten().map(|p| p.0), 0.08);
        let (y0, y1) = padded_range(self.positions.iter().flatten().map(|p| p.1), 0.08);
        // Headroom for the legend above the highest model.
        let y1 = y1 + (y1 - y0) * 0.25;
        let mut chart = ChartBuilder::on(&body)
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE.mix(0.0))
            .x_desc("centroid distance at the checkpoint (spectral embedding units)")
            .y_desc(self.metric_name.as_str())
            .axis_desc_style(font(14))
            .label_style(font(12))
            .x_label_formatter(&|v| format_value(*v))
            .y_label_formatter(&|v| format_value(*v))
            .draw()?;
        let base = body.get_base_pixel();
        let pixels: Vec<Vec<(i32, i32)>> = self
            .positions
            .iter()
            .map(|row| {
                row.iter()
                    .map(|p| {
                        let (x, y) = chart.backend_coord(p);
                        (x - base.0, y - base.1)
                    })
                    .collect()
            })
            .collect();
        let last = self.checkpoints.len() - 1;
        for t in 0..last {
            for i in 0..self.names.len() {
                let (from, to) = (pixels[t][i], pixels[t + 1][i]);
                let width = if self.switches(i) { 3 } else { 1 };
                let colour = cluster_colour(self.labels[t + 1][i]).mix(0.8);
                body.draw(&PathElement::new(
                    vec![from, to],
                    colour.stroke_width(width),
                ))?;
                let (dx, dy) = ((to.0 - from.0) as f64, (to.1 - from.1) as f64);
                let length = dx.hypot(dy);
                if length > 8.0 {
                    let (ux, uy) = (dx / length, dy / length);
                    let point = |along: f64, across: f64| {
                        (
                            to.0 - (ux * along - uy * across).round() as i32,
                            to.1 - (uy * along + ux * across).round() as i32,
                        )
                    };
                    body.draw(&Polygon::new(
                        vec![to, point(9.0, 4.0), point(9.0, -4.0)],
                        colour.filled(),
                    ))?;
                }
            }
        }
        for (t, (points, labels)) in self.positions.iter().zip(&self.labels).enumerate() {
            let opacity = 0.35 + 0.65 * t as f64 / last as f64;
            chart.draw_series(
                points
                    .iter()
                    .zip(labels)
                    .map(|(&p, &l)| Circle::new(p, 4, cluster_colour(l).mix(opacity).filled())),
            )?;
        }
        for i in (0..self.names.len()).filter(|&i| self.switches(i)) {
            let (x, y) = pixels[last][i];
            text_at(
                &body,
                &self.names[i],
                (x + 6, y - 6),
                &anchored(11.0, HPos::Left, VPos::Bottom),
            )?;
        }
        for cluster in 0..self.k {
            let colour = cluster_colour(cluster);
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
                .label(format!("cluster {cluster}"))
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, colour.filled()));
        }
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label(format!(
                "{} → {} (faint → solid; thick: switched)",
                self.checkpoints[0], self.checkpoints[last]
            ))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(3)));
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    }
}
