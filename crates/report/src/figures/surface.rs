//! Figure 2: 2-D surfaces on planes through three models (anchor and two bases), drawn with
//! isometric axes, one panel per plane, every panel on one colour scale, the three models marked.

use plotters::coord::Shift;
use plotters::prelude::{ChartBuilder, Circle, DrawingArea, DrawingBackend, Rectangle};
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::{BLACK, Color, ShapeStyle, WHITE};

use crate::figures::{anchored, colour_bar, format_value, text_at, titled};
use crate::palette::ColourScale;
use crate::render::{DrawResult, Plot, font};
use crate::stored::{SurfacePlane, SurfacePoint};

/// What a surface shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurfaceValue {
    /// Mean cross-entropy.
    Loss,
    /// Accuracy.
    Accuracy,
    /// Expected calibration error.
    CalibrationError,
}

impl SurfaceValue {
    /// The three values, in figure order.
    pub const ALL: [SurfaceValue; 3] = [
        SurfaceValue::Loss,
        SurfaceValue::Accuracy,
        SurfaceValue::CalibrationError,
    ];

    /// Colour-bar label with units.
    pub fn label(self) -> &'static str {
        match self {
            SurfaceValue::Loss => "cross-entropy loss (nats)",
            SurfaceValue::Accuracy => "accuracy (fraction correct)",
            SurfaceValue::CalibrationError => "expected calibration error (10 bins)",
        }
    }

    /// File-name word.
    pub fn name(self) -> &'static str {
        match self {
            SurfaceValue::Loss => "loss",
            SurfaceValue::Accuracy => "accuracy",
            SurfaceValue::CalibrationError => "ece",
        }
    }

    fn of(self, p: &SurfacePoint) -> f64 {
        match self {
            SurfaceValue::Loss => p.loss,
            SurfaceValue::Accuracy => p.accuracy,
            SurfaceValue::CalibrationError => p.ece,
        }
    }
}

/// Figure 2 for one value.
#[derive(Debug, Clone, PartialEq)]
pub struct SurfaceFigure {
    /// Figure title.
    pub title: String,
    /// The value drawn.
    pub value: SurfaceValue,
    /// The planes (those with at least one grid point).
    pub planes: Vec<SurfacePlane>,
    /// The colour scale shared by every plane.
    pub scale: ColourScale,
}

/// Builds figure 2 for `value`; `set_label` names the evaluation set. `None` without grid points.
pub fn loss_surfaces(
    planes: &[SurfacePlane],
    value: SurfaceValue,
    set_label: &str,
) -> Option<SurfaceFigure> {
    let planes: Vec<SurfacePlane> = planes
        .iter()
        .filter(|p| !p.points.is_empty())
        .cloned()
        .collect();
    if planes.is_empty() {
        return None;
    }
    let scale = ColourScale::spanning(
        planes
            .iter()
            .flat_map(|p| p.points.iter().map(|q| value.of(q))),
    );
    Some(SurfaceFigure {
        title: format!(
            "{} surfaces on planes through three models ({set_label})",
            value.name()
        ),
        value,
        planes,
        scale,
    })
}

/// The grid spacing along one coordinate: the smallest positive gap between sorted distinct values.
fn spacing(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.dedup();
    values
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 0.0)
        .fold(f64::INFINITY, f64::min)
        .min(1.0)
}

const PANEL_WIDTH: u32 = 420;
const PANEL_HEIGHT: u32 = 460;
const COLOUR_BAR_WIDTH: u32 = 130;

impl Plot for SurfaceFigure {
    fn size(&self) -> (u32, u32) {
        (
            PANEL_WIDTH * self.planes.len() as u32 + COLOUR_BAR_WIDTH,
            PANEL_HEIGHT + 40,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = titled(root, &self.title)?;
        let (panels, bar) = body.split_horizontally(PANEL_WIDTH * self.planes.len() as u32);
        for (plane, area) in self
            .planes
            .iter()
            .zip(panels.split_evenly((1, self.planes.len())))
        {
            self.draw_plane(&area, plane)?;
        }
        colour_bar(&bar, &self.scale, self.value.label())
    }
}

impl SurfaceFigure {
    fn draw_plane<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        plane: &SurfacePlane,
    ) -> DrawResult<DB> {
        let dx = spacing(plane.points.iter().map(|p| p.x).collect());
        let dy = spacing(plane.points.iter().map(|p| p.y).collect());
        let xs = plane
            .points
            .iter()
            .map(|p| p.x)
            .chain(plane.models.iter().map(|m| m.x));
        let ys = plane
            .points
            .iter()
            .map(|p| p.y)
            .chain(plane.models.iter().map(|m| m.y));
        let fold = |v: &mut dyn Iterator<Item = f64>| {
            v.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                (lo.min(x), hi.max(x))
            })
        };
        let (x0, x1) = fold(&mut xs.into_iter());
        let (y0, y1) = fold(&mut ys.into_iter());
        let (x0, x1, y0, y1) = (x0 - dx / 2.0, x1 + dx / 2.0, y0 - dy / 2.0, y1 + dy / 2.0);
        // Isometric axes: one data unit is as many pixels on both axes.
        let (label_x, label_y, caption) = (40_i32, 55_i32, 30_i32);
        let (w, h) = area.dim_in_pixel();
        let (avail_w, avail_h) = (w as i32 - label_y - 20, h as i32 - label_x - caption - 20);
        let unit = (avail_w as f64 / (x1 - x0)).min(avail_h as f64 / (y1 - y0));
        let (plot_w, plot_h) = (((x1 - x0) * unit) as i32, ((y1 - y0) * unit) as i32);
        let pad_x = (avail_w - plot_w) / 2;
        let pad_y = (avail_h - plot_h) / 2;
        text_at(
            area,
            &plane.name,
            (w as i32 / 2, 8),
            &anchored(15.0, HPos::Center, VPos::Top),
        )?;
        let inner = area.margin(caption + pad_y, 10 + pad_y, 10 + pad_x, 10 + pad_x);
        let mut chart = ChartBuilder::on(&inner)
            .x_label_area_size(label_x)
            .y_label_area_size(label_y)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("c₁ (along θ_b1 − θ_a)")
            .y_desc("c₂ (orthogonal)")
            .axis_desc_style(font(12))
            .label_style(font(10))
            .x_labels(5)
            .y_labels(5)
            .x_label_formatter(&|v| format_value(*v))
            .y_label_formatter(&|v| format_value(*v))
            .draw()?;
        chart.draw_series(plane.points.iter().map(|p| {
            Rectangle::new(
                [
                    (p.x - dx / 2.0, p.y - dy / 2.0),
                    (p.x + dx / 2.0, p.y + dy / 2.0),
                ],
                self.scale.colour(self.value.of(p)).filled(),
            )
        }))?;
        chart.draw_series(
            plane
                .models
                .iter()
                .map(|m| Circle::new((m.x, m.y), 6, ShapeStyle::from(&WHITE).filled())),
        )?;
        chart.draw_series(
            plane
                .models
                .iter()
                .map(|m| Circle::new((m.x, m.y), 6, ShapeStyle::from(&BLACK).stroke_width(2))),
        )?;
        let base = area.get_base_pixel();
        for m in &plane.models {
            let (x, y) = chart.backend_coord(&(m.x, m.y));
            text_at(
                area,
                &m.name,
                (x - base.0 + 9, y - base.1 - 9),
                &anchored(12.0, HPos::Left, VPos::Bottom).color(&BLACK),
            )?;
        }
        Ok(())
    }
}
