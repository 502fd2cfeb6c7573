//! Figure 4: each model's position on the centroid-distance axis against its diagnostic metric,
//! with the least-squares line and Pearson's r, coloured by cluster; beside it, per-cluster
//! histograms of the metric.

use lmc_analysis::Correlation;
use plotters::coord::Shift;
use plotters::prelude::{
    ChartBuilder, Circle, DrawingArea, DrawingBackend, LineSeries, PathElement, Rectangle,
    SeriesLabelPosition,
};
use plotters::style::{BLACK, Color, WHITE};

use crate::figures::{draw_legend, format_value, padded_range, titled};
use crate::palette::cluster_colour;
use crate::render::{DrawResult, Plot, font};
use crate::stored::ModelRow;

/// Bins of the histograms.
const BINS: usize = 10;

/// Figure 4.
#[derive(Debug, Clone, PartialEq)]
pub struct CentroidScatter {
    /// Figure title.
    pub title: String,
    /// Name of the diagnostic metric (y axis of the scatter, x axis of the histograms).
    pub metric_name: String,
    /// `(centroid distance, metric, cluster)` per model.
    pub points: Vec<(f64, f64, usize)>,
    /// Number of clusters.
    pub k: usize,
    /// The stored correlation (fit line and r).
    pub correlation: Correlation,
}

/// Builds figure 4 from the per-model rows and the stored correlation.
pub fn centroid_scatter(
    models: &[ModelRow],
    k: usize,
    correlation: &Correlation,
    metric_name: &str,
) -> CentroidScatter {
    let r = correlation
        .pearson
        .map_or_else(|| "undefined".to_owned(), |r| format!("{r:.3}"));
    CentroidScatter {
        title: format!(
            "Centroid distance vs {metric_name} (Pearson r = {r}, n = {})",
            models.len()
        ),
        metric_name: metric_name.to_owned(),
        points: models
            .iter()
            .map(|m| (m.centroid_distance, m.diagnostic_metric, m.cluster))
            .collect(),
        k,
        correlation: *correlation,
    }
}

impl Plot for CentroidScatter {
    fn size(&self) -> (u32, u32) {
        (1300, 580)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = titled(root, &self.title)?;
        let (left, right) = body.split_horizontally(700);
        self.draw_scatter(&left)?;
        self.draw_histograms(&right)
    }
}

impl CentroidScatter {
    fn draw_scatter<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (x0, x1) = padded_range(self.points.iter().map(|p| p.0), 0.05);
        let (y0, y1) = padded_range(self.points.iter().map(|p| p.1), 0.05);
        // Headroom for the legend above the highest model.
        let y1 = y1 + (y1 - y0) * 0.3;
        let mut chart = ChartBuilder::on(area)
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE.mix(0.0))
            .x_desc("centroid distance ‖e − c₀‖ − ‖e − c₁‖ (spectral embedding units)")
            .y_desc(self.metric_name.as_str())
            .axis_desc_style(font(14))
            .label_style(font(12))
            .x_label_formatter(&|v| format_value(*v))
            .y_label_formatter(&|v| format_value(*v))
            .draw()?;
        for cluster in 0..self.k {
            let members: Vec<(f64, f64)> = self
                .points
                .iter()
                .filter(|p| p.2 == cluster)
                .map(|p| (p.0, p.1))
                .collect();
            let colour = cluster_colour(cluster);
            chart
                .draw_series(
                    members
                        .iter()
                        .map(|&p| Circle::new(p, 5, colour.mix(0.8).filled())),
                )?
                .label(format!("cluster {cluster} (n = {})", members.len()))
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, colour.filled()));
        }
        if let Some(fit) = self.correlation.fit {
            let r = self.correlation.pearson.unwrap_or(f64::NAN);
            chart
                .draw_series(LineSeries::new(
                    [x0, x1].map(|x| (x, fit.slope * x + fit.intercept)),
                    BLACK.stroke_width(2),
                ))?
                .label(format!("least squares (r = {r:.3})"))
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2))
                });
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperMiddle)?;
        Ok(())
    }

    fn draw_histograms<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (lo, hi) = padded_range(self.points.iter().map(|p| p.1), 0.05);
        let width = (hi - lo) / BINS as f64;
        let mut counts = vec![vec![0_usize; BINS]; self.k];
        for &(_, metric, cluster) in &self.points {
            let bin = (((metric - lo) / width) as usize).min(BINS - 1);
            if let Some(row) = counts.get_mut(cluster) {
                row[bin] += 1;
            }
        }
        let tallest = counts.iter().flatten().copied().max().unwrap_or(0).max(1);
        let mut chart = ChartBuilder::on(area)
            .caption("per-cluster histograms", font(16))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(50)
            .build_cartesian_2d(lo..hi, 0.0..tallest as f64 * 1.1)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE.mix(0.0))
            .x_desc(self.metric_name.as_str())
            .y_desc("models")
            .axis_desc_style(font(14))
            .label_style(font(12))
            .x_label_formatter(&|v| format_value(*v))
            .y_labels(tallest + 2)
            .y_label_formatter(&|v| {
                if (v - v.round()).abs() < 1e-9 {
                    format!("{v:.0}")
                } else {
                    String::new()
                }
            })
            .draw()?;
        let bar = width / self.k.max(1) as f64;
        for (cluster, row) in counts.iter().enumerate() {
            let colour = cluster_colour(cluster);
            chart
                .draw_series(row.iter().enumerate().filter(|(_, c)| **c > 0).map(
                    |(bin, &count)| {
                        let left = lo + bin as f64 * width + cluster as f64 * bar;
                        Rectangle::new(
                            [(left, 0.0), (left + bar * 0.9, count as f64)],
                            colour.filled(),
                        )
                    },
                ))?
                .label(format!("cluster {cluster}"))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled())
                });
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    }
}
