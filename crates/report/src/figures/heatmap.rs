//! Figure 3: the barrier matrix as a heatmap, rows and columns sorted by the diagnostic metric
//! (tick labels show the metric) and by cluster (a strip shows each model's cluster colour).

use lmc_analysis::BarrierMatrix;
use plotters::coord::Shift;
use plotters::prelude::{ChartBuilder, DrawingArea, DrawingBackend, PathElement, Rectangle};
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::{BLACK, Color, WHITE};

use crate::error::{ReportError, Result};
use crate::figures::{
    anchored, colour_bar, downwards, format_value, label_stride, text_at, titled,
};
use crate::palette::{ColourScale, cluster_colour};
use crate::render::{DrawResult, Plot, font};
use crate::stored::ModelRow;

/// Most tick labels per axis; with more models every n-th is labelled.
const MAX_TICK_LABELS: usize = 30;

/// One sorted view of the matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatmapPanel {
    /// Panel heading.
    pub title: String,
    /// `values[r][c]`: the barrier between the r-th and c-th model of this order.
    pub values: Vec<Vec<f64>>,
    /// Tick label of each position (the model's diagnostic metric).
    pub labels: Vec<String>,
    /// Cluster of each position.
    pub clusters: Vec<usize>,
}

/// Figure 3.
#[derive(Debug, Clone, PartialEq)]
pub struct BarrierHeatmap {
    /// Figure title.
    pub title: String,
    /// What the matrix holds (colour-bar label).
    pub quantity: String,
    /// Sorted by metric, then sorted by cluster.
    pub panels: Vec<HeatmapPanel>,
    /// The colour scale shared by both panels.
    pub scale: ColourScale,
}

/// Builds figure 3 from the barrier matrix and the per-model rows; `metric_name` names the
/// diagnostic metric on the axes.
///
/// # Errors
/// [`ReportError::Inconsistent`] when a model of `models` is not in the matrix.
pub fn barrier_heatmap(
    matrix: &BarrierMatrix,
    models: &[ModelRow],
    metric_name: &str,
) -> Result<BarrierHeatmap> {
    let index = models
        .iter()
        .map(|m| {
            matrix
                .index_of(&m.name)
                .ok_or_else(|| ReportError::Inconsistent {
                    origin: "barrier matrix".to_owned(),
                    message: format!("model `{}` of the analysis is missing", m.name),
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let by_metric = |a: &usize, b: &usize| {
        models[*a]
            .diagnostic_metric
            .total_cmp(&models[*b].diagnostic_metric)
            .then(models[*a].name.cmp(&models[*b].name))
    };
    let mut metric_order: Vec<usize> = (0..models.len()).collect();
    metric_order.sort_by(by_metric);
    let mut cluster_order = metric_order.clone();
    cluster_order.sort_by_key(|&i| models[i].cluster);
    let panel = |title: String, order: &[usize]| HeatmapPanel {
        title,
        values: order
            .iter()
            .map(|&r| {
                order
                    .iter()
                    .map(|&c| matrix.get(index[r], index[c]))
                    .collect()
            })
            .collect(),
        labels: order
            .iter()
            .map(|&i| format_value(models[i].diagnostic_metric))
            .collect(),
        clusters: order.iter().map(|&i| models[i].cluster).collect(),
    };
    let panels = vec![
        panel(format!("sorted by {metric_name}"), &metric_order),
        panel(
            format!("sorted by cluster, then {metric_name}"),
            &cluster_order,
        ),
    ];
    let scale = ColourScale::spanning(panels[0].values.iter().flatten().copied());
    Ok(BarrierHeatmap {
        title: format!("Barrier matrix ({} models)", models.len()),
        quantity: "convexity gap of in-domain loss (nats)".to_owned(),
        panels,
        scale,
    })
}

impl Plot for BarrierHeatmap {
    fn size(&self) -> (u32, u32) {
        (1400, 760)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = titled(root, &self.title)?;
        let (panels, bar) = body.split_horizontally(1260);
        for (panel, area) in self.panels.iter().zip(panels.split_evenly((1, 2))) {
            draw_panel(&area, panel, &self.scale)?;
        }
        colour_bar(&bar, &self.scale, &self.quantity)
    }
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &HeatmapPanel,
    scale: &ColourScale,
) -> DrawResult<DB> {
    let n = panel.values.len();
    let nf = n as f64;
    let strip = (nf * 0.03).max(0.2);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, font(16))
        .margin(10)
        .margin_left(20)
        .x_label_area_size(70)
        .y_label_area_size(60)
        .build_cartesian_2d(-strip..nf, 0.0..nf + strip)?;
    // Row r is drawn from the top.
    let top = |r: usize| nf - r as f64;
    chart.draw_series(panel.values.iter().enumerate().flat_map(|(r, row)| {
        row.iter().enumerate().map(move |(c, &v)| {
            Rectangle::new(
                [(c as f64, top(r) - 1.0), (c as f64 + 1.0, top(r))],
                scale.colour(v).filled(),
            )
        })
    }))?;
    chart.draw_series(panel.clusters.iter().enumerate().flat_map(|(i, &cluster)| {
        let colour = cluster_colour(cluster).filled();
        [
            Rectangle::new([(-strip, top(i) - 1.0), (0.0, top(i))], colour),
            Rectangle::new([(i as f64, nf), (i as f64 + 1.0, nf + strip)], colour),
        ]
    }))?;
    let boundaries: Vec<usize> = (1..n)
        .filter(|&i| panel.clusters[i] != panel.clusters[i - 1])
        .collect();
    chart.draw_series(boundaries.iter().flat_map(|&i| {
        let at = i as f64;
        [
            PathElement::new(vec![(at, 0.0), (at, nf)], WHITE.stroke_width(2)),
            PathElement::new(vec![(0.0, top(i)), (nf, top(i))], WHITE.stroke_width(2)),
        ]
    }))?;
    chart.draw_series(std::iter::once(Rectangle::new(
        [(0.0, 0.0), (nf, nf)],
        BLACK.stroke_width(1),
    )))?;
    let base = area.get_base_pixel();
    let pixel = |x: f64, y: f64| {
        let (px, py) = chart.backend_coord(&(x, y));
        (px - base.0, py - base.1)
    };
    let stride = label_stride(n, MAX_TICK_LABELS);
    for i in (0..n).step_by(stride) {
        let (x, y) = pixel(i as f64 + 0.5, 0.0);
        text_at(area, &panel.labels[i], (x, y + 4), &downwards(10.0))?;
        let (x, y) = pixel(-strip, top(i) - 0.5);
        let style = anchored(10.0, HPos::Right, VPos::Center);
        text_at(area, &panel.labels[i], (x - 4, y), &style)?;
    }
    let (x_mid, bottom) = pixel(nf / 2.0, 0.0);
    let centred = anchored(12.0, HPos::Center, VPos::Top);
    text_at(
        area,
        "model (tick: diagnostic metric; strip: cluster)",
        (x_mid, bottom + 50),
        &centred,
    )?;
    Ok(())
}
