//! The figures of the study. Each module turns parsed tables into a value implementing
//! [`Plot`](crate::render::Plot); the values hold plain numbers, so tests can build them from small
//! fixed tables and compare the SVG.

pub mod clusters;
pub mod curves;
pub mod dynamics;
pub mod hans;
pub mod heatmap;
pub mod scatter;
pub mod soups;
pub mod surface;

use plotters::chart::{ChartContext, SeriesLabelPosition};
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::{ChartBuilder, DrawingArea, DrawingBackend, IntoFont, Rectangle, Text};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{BLACK, Color, FontTransform, ShapeStyle, WHITE};

use crate::palette::ColourScale;
use crate::render::{DrawResult, FONT_FAMILY, font};

/// The range of `values` widened by `fraction` of its span on each side (by 0.5 when all values
/// are equal); (0, 1) when there is no finite value.
pub(crate) fn padded_range(values: impl Iterator<Item = f64>, fraction: f64) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo { (hi - lo) * fraction } else { 0.5 };
    (lo - pad, hi + pad)
}

/// Fills `root` white and draws `title` in a band at the top; returns the area below it.
pub(crate) fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>, plotters::drawing::DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    root.titled(title, (FONT_FAMILY, 22).into_font())
}

/// Formats a metric value for tick labels and tables.
pub(crate) fn format_value(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.3}")
    }
}

/// Every how many items a label is drawn so that at most `max_labels` appear.
pub(crate) fn label_stride(items: usize, max_labels: usize) -> usize {
    items.div_ceil(max_labels.max(1)).max(1)
}

/// Text of `size` pixels whose anchor point is at `(h, v)` of its box.
pub(crate) fn anchored(size: f64, h: HPos, v: VPos) -> plotters::style::TextStyle<'static> {
    font(size).pos(Pos::new(h, v))
}

/// The same, rotated to run downwards (for labels under a column).
pub(crate) fn downwards(size: f64) -> plotters::style::TextStyle<'static> {
    font(size)
        .transform(FontTransform::Rotate90)
        .pos(Pos::new(HPos::Left, VPos::Center))
}

/// Draws `chart`'s legend at `position`, boxed as in every figure.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> DrawResult<DB> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font(font(13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
}

/// Draws a vertical colour bar for `scale` in `area`, labelled `label`.
pub(crate) fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    scale: &ColourScale,
    label: &str,
) -> DrawResult<DB> {
    let (low, high) = if scale.max > scale.min {
        (scale.min, scale.max)
    } else {
        (scale.min - 0.5, scale.min + 0.5)
    };
    let mut chart = ChartBuilder::on(area)
        .margin_top(30)
        .margin_bottom(60)
        .margin_right(10)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..1.0, low..high)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(label)
        .y_label_style(font(12))
        .axis_desc_style(font(13))
        .y_label_formatter(&|v| format_value(*v))
        .draw()?;
    let steps = 64;
    chart.draw_series((0..steps).map(|s| {
        let a = low + (high - low) * s as f64 / steps as f64;
        let b = low + (high - low) * (s + 1) as f64 / steps as f64;
        Rectangle::new([(0.0, a), (1.0, b)], scale.colour((a + b) / 2.0).filled())
    }))?;
    chart.draw_series(std::iter::once(Rectangle::new(
        [(0.0, low), (1.0, high)],
        ShapeStyle::from(&BLACK).stroke_width(1),
    )))?;
    Ok(())
}

/// Draws `text` at pixel `(x, y)` of `area` in `style`.
pub(crate) fn text_at<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    (x, y): (i32, i32),
    style: &plotters::style::TextStyle<'_>,
) -> DrawResult<DB> {
    area.draw(&Text::new(text.to_owned(), (x, y), style.clone()))
}
