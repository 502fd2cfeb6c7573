//! Rendering a figure to SVG (a string, deterministic) and PNG (a file), with the embedded font,
//! and atomic file writes.

use std::io::Write;
use std::path::{Path, PathBuf};
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
    let temporary = temporary_path(path);
    let outcome = (|| {
        {
            let root = BitMapBackend::new(&temporary, plot.size()).into_drawing_area();
            plot.draw(&root).map_err(|e| draw_error(figure, e))?;
            root.present().map_err(|e| draw_error(figure, e))?;
        }
        std::fs::rename(&temporary, path).map_err(|source| ReportError::Io {
            path: path.to_owned(),
            source,
        })
    })();
    if outcome.is_err() {
        // Best effort: the error being returned matters more than a leftover temporary file.
        let _ = std::fs::remove_file(&temporary);
    }
    outcome
}

/// The hidden temporary sibling of `path`, keeping its extension (the PNG encoder reads it).
fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".tmp-{}-{name}", std::process::id()))
}

/// Writes `bytes` to `path` through a temporary file and a rename, so that readers never see a
/// half-written file.
///
/// # Errors
/// [`ReportError::Io`] naming the file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let temporary = temporary_path(path);
    let io = |p: &Path| {
        let p = p.to_owned();
        move |source| ReportError::Io { path: p, source }
    };
    let outcome = (|| {
        let mut file = std::fs::File::create(&temporary).map_err(io(&temporary))?;
        file.write_all(bytes).map_err(io(&temporary))?;
        file.sync_all().map_err(io(&temporary))?;
        std::fs::rename(&temporary, path).map_err(io(path))
    })();
    if outcome.is_err() {
        // Best effort, as in `write_png`.
        let _ = std::fs::remove_file(&temporary);
    }
    outcome
}
