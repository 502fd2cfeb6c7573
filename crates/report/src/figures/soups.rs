//! Figure 8 (beyond the paper): `lmc soup`'s soups beside the population, in-domain metric against
//! diagnostic metric. Members are dots coloured by cluster; each soup is a labelled diamond in its
//! basin's colour (black when it spans basins), so a soup inside a basin that keeps its members'
//! strategy sits among them, and one across basins shows what the barrier costs.

use plotters::coord::Shift;
use plotters::prelude::{
    ChartBuilder, Circle, DrawingArea, DrawingBackend, EmptyElement, Polygon, SeriesLabelPosition,
    Text,
};
use plotters::style::{BLACK, Color, RGBColor, WHITE};

use crate::figures::{draw_legend, format_value, padded_range, titled};
use crate::palette::cluster_colour;
use crate::render::{DrawResult, Plot, font};
use crate::stored::SoupRow;

/// One member or soup on the plane of the two metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct SoupPoint {
    /// Model or soup name.
    pub name: String,
    /// In-domain metric.
    pub in_domain: f64,
    /// Diagnostic metric.
    pub diagnostic: f64,
    /// Cluster; `None` for a soup spanning clusters.
    pub cluster: Option<usize>,
}

/// Figure 8.
#[derive(Debug, Clone, PartialEq)]
pub struct SoupScatter {
    /// Figure title.
    pub title: String,
    /// Name of the in-domain metric (x axis).
    pub in_domain_name: String,
    /// Name of the diagnostic metric (y axis).
    pub diagnostic_name: String,
    /// The population's models.
    pub members: Vec<SoupPoint>,
    /// The soups.
    pub soups: Vec<SoupPoint>,
}

/// Builds figure 8 from the rows of the two sets; `None` when a model lacks a row on either set
/// (the soups were evaluated on other sets than the analysis uses), or there is no soup.
pub fn soup_scatter(
    rows: &[SoupRow],
    (in_domain_set, in_domain_name): (&str, &str),
    (diagnostic_set, diagnostic_name): (&str, &str),
) -> Option<SoupScatter> {
    let mut members = Vec::new();
    let mut soups = Vec::new();
    for row in rows.iter().filter(|r| r.set == in_domain_set) {
        let diagnostic = rows
            .iter()
            .find(|r| r.model == row.model && r.set == diagnostic_set)?;
        let point = SoupPoint {
            name: row.model.clone(),
            in_domain: row.metric,
            diagnostic: diagnostic.metric,
            cluster: row.cluster,
        };
        if row.is_soup() {
            soups.push(point);
        } else {
            members.push(point);
        }
    }
    if soups.is_empty() {
        return None;
    }
    Some(SoupScatter {
        title: format!(
            "Soups: {in_domain_name} vs {diagnostic_name} ({} models, {} soups)",
            members.len(),
            soups.len()
        ),
        in_domain_name: in_domain_name.to_owned(),
        diagnostic_name: diagnostic_name.to_owned(),
        members,
        soups,
    })
}

/// The colour of a point: its cluster's, black across clusters.
fn colour(cluster: Option<usize>) -> RGBColor {
    cluster.map_or(RGBColor(0, 0, 0), cluster_colour)
}

impl Plot for SoupScatter {
    fn size(&self) -> (u32, u32) {
        (900, 640)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = titled(root, &self.title)?;
        let all = || self.members.iter().chain(&self.soups);
        let (x0, x1) = padded_range(all().map(|p| p.in_domain), 0.08);
        let (y0, y1) = padded_range(all().map(|p| p.diagnostic), 0.08);
        // Headroom for the legend above the highest point.
        let y1 = y1 + (y1 - y0) * 0.25;
        let mut chart = ChartBuilder::on(&body)
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE.mix(0.0))
            .x_desc(self.in_domain_name.as_str())
            .y_desc(self.diagnostic_name.as_str())
            .axis_desc_style(font(14))
            .label_style(font(12))
            .x_label_formatter(&|v| format_value(*v))
            .y_label_formatter(&|v| format_value(*v))
            .draw()?;
        let mut clusters: Vec<usize> = self.members.iter().filter_map(|p| p.cluster).collect();
        clusters.sort_unstable();
        clusters.dedup();
        for cluster in clusters {
            let members: Vec<&SoupPoint> = self
                .members
                .iter()
                .filter(|p| p.cluster == Some(cluster))
                .collect();
            let c = cluster_colour(cluster);
            chart
                .draw_series(
                    members
                        .iter()
                        .map(|p| Circle::new((p.in_domain, p.diagnostic), 5, c.mix(0.7).filled())),
                )?
                .label(format!("cluster {cluster} members (n = {})", members.len()))
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, c.filled()));
        }
        let diamond = |(x, y): (i32, i32), c: RGBColor| {
            Polygon::new(
                vec![(x, y - 9), (x + 9, y), (x, y + 9), (x - 9, y)],
                c.filled(),
            )
        };
        chart
            .draw_series(self.soups.iter().map(|p| {
                EmptyElement::at((p.in_domain, p.diagnostic))
                    + diamond((0, 0), colour(p.cluster))
                    + Text::new(p.name.clone(), (11, -8), font(13))
            }))?
            .label("soups (black: across clusters)")
            .legend(move |(x, y)| diamond((x + 10, y), BLACK));
        draw_legend(&mut chart, SeriesLabelPosition::UpperMiddle)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(model: &str, kind: &str, cluster: Option<usize>, set: &str, metric: f64) -> SoupRow {
        SoupRow {
            model: model.to_owned(),
            kind: kind.to_owned(),
            cluster,
            set: set.to_owned(),
            metric,
            loss: 0.0,
        }
    }

    #[test]
    fn pairs_each_model_with_its_two_sets_and_separates_soups() {
        let rows = vec![
            row("a", "member", Some(0), "id", 0.8),
            row("a", "member", Some(0), "ood", 0.3),
            row("b", "member", Some(1), "id", 0.7),
            row("b", "member", Some(1), "ood", 0.6),
            row("all", "all", None, "id", 0.5),
            row("all", "all", None, "ood", 0.4),
        ];
        let plot = soup_scatter(&rows, ("id", "acc"), ("ood", "hans")).unwrap();
        assert_eq!(plot.members.len(), 2);
        assert_eq!(plot.members[1].diagnostic, 0.6);
        assert_eq!(
            plot.soups,
            vec![SoupPoint {
                name: "all".into(),
                in_domain: 0.5,
                diagnostic: 0.4,
                cluster: None
            }]
        );
        // Sets the soups were not evaluated on, or no soup: nothing to draw.
        assert!(soup_scatter(&rows, ("id", "acc"), ("hans", "hans")).is_none());
        assert!(soup_scatter(&rows[..4], ("id", "acc"), ("ood", "hans")).is_none());
        let svg = crate::render::render_svg(&plot, "fig8").unwrap();
        assert!(svg.contains(">\nall\n</text>"), "the soup is labelled");
        assert_eq!(
            svg.matches("<polygon").count(),
            2,
            "one diamond for the soup, one in the legend"
        );
    }
}
