//! Rendering a figure to SVG (a string, deterministic) and PNG (a file), with the embedded font,
//! and atomic file writes.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::{
    BitMapBackend, DrawingArea, DrawingAreaErrorKind, DrawingBackend, IntoDrawingArea, SVGBackend,
};
use plotters::style::{FontStyle, IntoFont, TextStyle};

use crate::error::{ReportError, Result};

/// DejaVu Sans (Bitstream Vera licence, `assets/DejaVu-LICENSE.txt`): text layout in SVG and the
/// glyphs of PNGs, the same on every machine.
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The font family every figure uses; SVG viewers substitute their own sans-serif face.
pub const FONT_FAMILY: &str = "sans-serif";

/// The outcome of a drawing routine on backend `DB`.
pub type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A figure that can draw itself on any plotters backend.
pub trait Plot {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the whole figure on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// The text style of `size` pixels in the figures' font.
pub fn font(size: impl Into<f64>) -> TextStyle<'static> {
    (FONT_FAMILY, size.into()).into_font().into()
}

fn register_font(figure: &str) -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(ReportError::Draw {
            figure: figure.to_owned(),
            message: "the embedded DejaVu Sans font could not be parsed".to_owned(),
        })
    }
}

fn draw_error(figure: &str, error: impl std::fmt::Display) -> ReportError {
    ReportError::Draw {
        figure: figure.to_owned(),
        message: error.to_string(),
    }
}

/// Renders `plot` as an SVG document; `figure` names it in errors.
///
/// # Errors
/// [`ReportError::Draw`] when plotters fails.
pub fn render_svg<P: Plot>(plot: &P, figure: &str) -> Result<String> {
    register_font(figure)?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, plot.size()).into_drawing_area();
        plot.draw(&root).map_err(|e| draw_error(figure, e))?;
        root.present().map_err(|e| draw_error(figure, e))?;
    }
    Ok(svg)
}

/// Renders `plot` as a PNG at `path`, atomically.
///
/// # Errors
/// [`ReportError::Draw`] when plotters fails (including encoding); [`ReportError::Io`] when the
/// file cannot be moved into place.
pub fn write_png<P: Plot>(plot: &P, path: &Path, figure: &str) -> Result<()> {
    register_font(figure)?;
    lmc_atomic::write_with_path(
        path,
        |temporary| {
            let root = BitMapBackend::new(temporary, plot.size()).into_drawing_area();
            plot.draw(&root).map_err(|e| draw_error(figure, e))?;
            root.present().map_err(|e| draw_error(figure, e))
        },
        |source| ReportError::Io {
            path: path.to_owned(),
            source,
        },
    )
}

/// Writes `bytes` to `path` atomically ([`lmc_atomic::write`]), so that readers never see a
/// half-written file.
///
/// # Errors
/// [`ReportError::Io`] naming the file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    lmc_atomic::write(path, bytes).map_err(|source| ReportError::Io {
        path: path.to_owned(),
        source,
    })
}
