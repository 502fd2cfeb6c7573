//! Figure 7: per-cluster distributions of accuracy on the six HANS cells (3 heuristics ×
//! entailed / non-entailed) and of the in-domain metric: every model is a dot, each cluster's mean
//! a bar. Bag-of-words models fail the non-entailed lexical-overlap cell; syntax-aware ones do not.

use lmc_analysis::analysis_files;
use plotters::coord::Shift;
use plotters::prelude::{
    ChartBuilder, Circle, DrawingArea, DrawingBackend, PathElement, SeriesLabelPosition,
};
use plotters::style::{BLACK, Color, WHITE};

use crate::error::{ReportError, Result};
use crate::figures::{draw_legend, titled};
use crate::palette::cluster_colour;
use crate::render::{DrawResult, Plot, font};
use crate::stored::ModelRow;

/// Figure 7.
#[derive(Debug, Clone, PartialEq)]
pub struct HansBreakdown {
    /// Figure title.
    pub title: String,
    /// Category names (the six cells, then the in-domain metric).
    pub categories: Vec<String>,
    /// `(cluster, values per category)` per model.
    pub models: Vec<(usize, Vec<f64>)>,
    /// Number of clusters.
    pub k: usize,
}

/// Builds figure 7 from HANS cell names, per-model cell accuracies (in `models` order) and the
/// per-model rows.
///
/// # Errors
/// [`ReportError::Inconsistent`] when the HANS values do not cover every model and cell.
pub fn hans_breakdown(
    cell_names: &[String],
    cell_values: &[Vec<f64>],
    models: &[ModelRow],
    k: usize,
    in_domain_name: &str,
) -> Result<HansBreakdown> {
    if cell_values.len() != models.len() || cell_values.iter().any(|v| v.len() != cell_names.len())
    {
        return Err(ReportError::Inconsistent {
            origin: format!("{} `hans`", analysis_files::ANALYSIS_FILE),
            message: format!(
                "expected {} cells for each of {} models",
                cell_names.len(),
                models.len()
            ),
        });
    }
    let mut categories: Vec<String> = cell_names.iter().map(|c| c.replace('_', " ")).collect();
    categories.push(in_domain_name.to_owned());
    Ok(HansBreakdown {
        title: "HANS accuracy by cell and cluster".to_owned(),
        categories,
        models: models
            .iter()
            .zip(cell_values)
            .map(|(m, cells)| {
                let mut values = cells.clone();
                values.push(m.in_domain_metric);
                (m.cluster, values)
            })
            .collect(),
        k,
    })
}

/// A deterministic horizontal offset in [−0.5, 0.5) for the `i`-th dot (golden-ratio sequence).
fn jitter(i: usize) -> f64 {
    (i as f64 * 0.618_033_988_75).fract() - 0.5
}

impl Plot for HansBreakdown {
    fn size(&self) -> (u32, u32) {
        (1300, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = titled(root, &self.title)?;
        let columns = self.categories.len();
        let categories = self.categories.clone();
        let mut chart = ChartBuilder::on(&body)
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5..columns as f64 - 0.5, 0.0..1.05)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE.mix(0.0))
            .x_labels(columns)
            .x_label_formatter(&|v| {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 {
                    categories.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_desc("accuracy (fraction correct)")
            .x_desc("HANS heuristic / gold label, and the in-domain metric")
            .axis_desc_style(font(14))
            .label_style(font(12))
            .draw()?;
        let slot = 0.8 / self.k.max(1) as f64;
        for cluster in 0..self.k {
            let colour = cluster_colour(cluster);
            let centre = |c: usize| c as f64 - 0.4 + slot * (cluster as f64 + 0.5);
            let members: Vec<&Vec<f64>> = self
                .models
                .iter()
                .filter(|(l, _)| *l == cluster)
                .map(|(_, v)| v)
                .collect();
            chart
                .draw_series(members.iter().enumerate().flat_map(|(i, values)| {
                    values.iter().enumerate().map(move |(c, &v)| {
                        Circle::new(
                            (centre(c) + jitter(i) * slot * 0.6, v),
                            3,
                            colour.mix(0.7).filled(),
                        )
                    })
                }))?
                .label(format!("cluster {cluster} (n = {})", members.len()))
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, colour.filled()));
            if members.is_empty() {
                continue;
            }
            chart.draw_series((0..columns).map(|c| {
                let mean = members.iter().map(|v| v[c]).sum::<f64>() / members.len() as f64;
                PathElement::new(
                    vec![
                        (centre(c) - slot * 0.45, mean),
                        (centre(c) + slot * 0.45, mean),
                    ],
                    BLACK.stroke_width(3),
                )
            }))?;
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerLeft)?;
        Ok(())
    }
}
