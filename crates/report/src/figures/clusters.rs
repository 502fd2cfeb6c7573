//! Figure 5: the cluster table (size and mean / std / min / max of the diagnostic and in-domain
//! metrics per cluster), drawn as an image for slides; the report also has it as a table.

use lmc_analysis::{ClusterStats, Summary};
use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend, PathElement, Rectangle};
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::{BLACK, Color};

use crate::figures::{anchored, format_value, text_at, titled};
use crate::palette::cluster_colour;
use crate::render::{DrawResult, Plot};

/// Figure 5.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterTable {
    /// Figure title.
    pub title: String,
    /// Column headings.
    pub header: Vec<String>,
    /// `(cluster, cells)` per row.
    pub rows: Vec<(usize, Vec<String>)>,
}

/// Formats an optional statistic, `—` when absent.
pub fn format_optional(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), format_value)
}

fn summary_cells(summary: &Summary) -> [String; 4] {
    [summary.mean, summary.std, summary.min, summary.max].map(format_optional)
}

/// The table's heading and rows, shared by the figure and the report's tables.
pub fn cluster_table(
    stats: &[ClusterStats],
    metric_name: &str,
    in_domain_name: &str,
) -> ClusterTable {
    let mut header = vec!["cluster".to_owned(), "size".to_owned()];
    for name in [metric_name, in_domain_name] {
        for stat in ["mean", "std", "min", "max"] {
            header.push(format!("{name} {stat}"));
        }
    }
    let rows = stats
        .iter()
        .map(|s| {
            let mut cells = vec![s.cluster.to_string(), s.size.to_string()];
            cells.extend(summary_cells(&s.diagnostic));
            cells.extend(summary_cells(&s.in_domain));
            (s.cluster, cells)
        })
        .collect();
    ClusterTable {
        title: "Clusters: size and metrics".to_owned(),
        header,
        rows,
    }
}

const ROW_HEIGHT: i32 = 34;
const FIRST_COLUMN: i32 = 120;
const COLUMN_WIDTH: i32 = 140;

impl Plot for ClusterTable {
    fn size(&self) -> (u32, u32) {
        let width = FIRST_COLUMN + COLUMN_WIDTH * (self.header.len() as i32 - 1) + 40;
        let height = 40 + ROW_HEIGHT * (self.rows.len() as i32 + 2) + 20;
        (width as u32, height as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = titled(root, &self.title)?;
        let x_of = |column: usize| {
            if column == 0 {
                20
            } else {
                FIRST_COLUMN + COLUMN_WIDTH * (column as i32 - 1) + COLUMN_WIDTH - 10
            }
        };
        let header_height = ROW_HEIGHT * 3 / 2;
        for (column, heading) in self.header.iter().enumerate() {
            let (h, words) = if column == 0 {
                (HPos::Left, vec![heading.as_str()])
            } else {
                (HPos::Right, heading.rsplitn(2, ' ').collect::<Vec<_>>())
            };
            for (line, word) in words.iter().rev().enumerate() {
                let y = 8 + line as i32 * 18;
                text_at(
                    &body,
                    word,
                    (x_of(column), y),
                    &anchored(13.0, h, VPos::Top),
                )?;
            }
        }
        let right = x_of(self.header.len() - 1) + 10;
        body.draw(&PathElement::new(
            vec![(10, header_height), (right, header_height)],
            BLACK.stroke_width(1),
        ))?;
        for (r, (cluster, cells)) in self.rows.iter().enumerate() {
            let y = header_height + ROW_HEIGHT * r as i32 + ROW_HEIGHT / 2;
            body.draw(&Rectangle::new(
                [(20, y - 8), (36, y + 8)],
                cluster_colour(*cluster).filled(),
            ))?;
            for (column, cell) in cells.iter().enumerate() {
                let (x, h) = if column == 0 {
                    (x_of(0) + 24, HPos::Left)
                } else {
                    (x_of(column), HPos::Right)
                };
                text_at(&body, cell, (x, y), &anchored(14.0, h, VPos::Center))?;
            }
        }
        Ok(())
    }
}
