//! A figure of the report: drawn into SVG (and PNG) files, or skipped with the reason.

use std::path::Path;

use crate::error::Result;
use crate::render::{Plot, render_svg, write_atomically, write_png};

/// What happened to a figure.
#[derive(Debug, Clone, PartialEq)]
pub enum FigureOutcome {
    /// Drawn; file names are relative to the figures' directory's parent (the report's directory).
    Drawn {
        /// The SVG document.
        svg: String,
        /// `figures/<stem>.svg`.
        svg_file: String,
        /// `figures/<stem>.png`, when PNGs are written.
        png_file: Option<String>,
    },
    /// Not drawn because an optional input is missing.
    Skipped {
        /// Why, e.g. "no surface.parquet in the results directory".
        reason: String,
    },
}

/// One figure of the study.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The figure's number: 1–7 reproduce the paper's figures, 8 (soups) goes beyond it.
    pub number: u8,
    /// File stem, e.g. `fig3_barrier_heatmap`.
    pub stem: String,
    /// Short title.
    pub title: String,
    /// Caption: what is shown and how to read it.
    pub caption: String,
    /// Drawn or skipped.
    pub outcome: FigureOutcome,
}

/// The name of the figures' folder inside a report directory.
pub const FIGURES_DIR: &str = "figures";

impl Figure {
    /// A figure skipped for `reason`.
    pub fn skipped(number: u8, stem: &str, title: &str, reason: String) -> Self {
        Self {
            number,
            stem: stem.to_owned(),
            title: title.to_owned(),
            caption: String::new(),
            outcome: FigureOutcome::Skipped { reason },
        }
    }

    /// Renders `plot` into `<figures_dir>/<stem>.svg` (and `.png` when `png`), atomically.
    ///
    /// # Errors
    /// Drawing and I/O errors naming the figure or file.
    pub fn draw<P: Plot>(
        plot: &P,
        number: u8,
        stem: &str,
        title: &str,
        caption: String,
        figures_dir: &Path,
        png: bool,
    ) -> Result<Self> {
        let svg = render_svg(plot, stem)?;
        write_atomically(&figures_dir.join(format!("{stem}.svg")), svg.as_bytes())?;
        let png_file = if png {
            write_png(plot, &figures_dir.join(format!("{stem}.png")), stem)?;
            Some(format!("{FIGURES_DIR}/{stem}.png"))
        } else {
            None
        };
        Ok(Self {
            number,
            stem: stem.to_owned(),
            title: title.to_owned(),
            caption,
            outcome: FigureOutcome::Drawn {
                svg,
                svg_file: format!("{FIGURES_DIR}/{stem}.svg"),
                png_file,
            },
        })
    }
}
