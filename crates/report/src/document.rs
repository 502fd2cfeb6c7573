//! A small document model rendered twice: as self-contained HTML (figures as inline SVG) and as
//! Markdown (figures linked as files).

use std::fmt::Write;

use crate::figure::{Figure, FigureOutcome};

/// One block of the report.
#[derive(Debug, Clone)]
pub enum Block<'a> {
    /// A heading of level 1–3.
    Heading(u8, String),
    /// A paragraph of plain text.
    Paragraph(String),
    /// A bulleted list of plain-text items.
    List(Vec<String>),
    /// A table; `swatches` optionally gives a CSS colour shown before each row's first cell.
    Table {
        /// Column headings.
        header: Vec<String>,
        /// Rows of cells.
        rows: Vec<Vec<String>>,
        /// Per-row colour swatch.
        swatches: Option<Vec<String>>,
    },
    /// A figure (drawn or skipped).
    Figure(&'a Figure),
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn escape_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:1400px;\
margin:2em auto;padding:0 1.5em;color:#222;line-height:1.45}\
h1{border-bottom:2px solid #333;padding-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:1em 0;font-size:.92em}\
th,td{border:1px solid #bbb;padding:.3em .7em;text-align:right}\
th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}\
tr:nth-child(even) td{background:#fafafa}\
.swatch{display:inline-block;width:.9em;height:.9em;margin-right:.4em;vertical-align:-.1em;border:1px solid #555}\
figure{margin:1.5em 0;padding:.5em;border:1px solid #ddd}figure svg{max-width:100%;height:auto;display:block}\
figcaption{font-size:.92em;color:#444;margin-top:.4em}.skipped{color:#8a4b00;font-style:italic}";

/// Renders `blocks` as a self-contained HTML page titled `title`.
pub fn to_html(title: &str, blocks: &[Block<'_>]) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{0}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{0}</h1>\n",
        escape_html(title)
    );
    for block in blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(html, "<h{level}>{}</h{level}>", escape_html(text));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(html, "<p>{}</p>", escape_html(text));
            }
            Block::List(items) => {
                html.push_str("<ul>\n");
                for item in items {
                    let _ = writeln!(html, "<li>{}</li>", escape_html(item));
                }
                html.push_str("</ul>\n");
            }
            Block::Table {
                header,
                rows,
                swatches,
            } => {
                html.push_str("<table>\n<thead><tr>");
                for h in header {
                    let _ = write!(html, "<th>{}</th>", escape_html(h));
                }
                html.push_str("</tr></thead>\n<tbody>\n");
                for (r, row) in rows.iter().enumerate() {
                    html.push_str("<tr>");
                    for (c, cell) in row.iter().enumerate() {
                        let swatch = match swatches {
                            Some(colours) if c == 0 => format!(
                                "<span class=\"swatch\" style=\"background:{}\"></span>",
                                colours[r]
                            ),
                            _ => String::new(),
                        };
                        let _ = write!(html, "<td>{swatch}{}</td>", escape_html(cell));
                    }
                    html.push_str("</tr>\n");
                }
                html.push_str("</tbody>\n</table>\n");
            }
            Block::Figure(figure) => match &figure.outcome {
                FigureOutcome::Drawn { svg, .. } => {
                    let _ = writeln!(
                        html,
                        "<figure id=\"{}\">\n{}\n<figcaption><strong>Figure {}.</strong> {}</figcaption>\n</figure>",
                        figure.stem,
                        inline_svg(svg),
                        figure.number,
                        escape_html(&figure.caption)
                    );
                }
                FigureOutcome::Skipped { reason } => {
                    let _ = writeln!(
                        html,
                        "<p class=\"skipped\">Figure {} ({}) not drawn: {}</p>",
                        figure.number,
                        escape_html(&figure.title),
                        escape_html(reason)
                    );
                }
            },
        }
    }
    html.push_str("</body>\n</html>\n");
    html
}

/// The SVG document without an XML declaration, ready to inline.
fn inline_svg(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(start) => &svg[start..],
        None => svg,
    }
}

/// Renders `blocks` as Markdown; figures link to their SVG files relative to the report.
pub fn to_markdown(title: &str, blocks: &[Block<'_>]) -> String {
    let mut md = format!("# {title}\n\n");
    for block in blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(md, "{} {text}\n", "#".repeat(*level as usize));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(md, "{text}\n");
            }
            Block::List(items) => {
                for item in items {
                    let _ = writeln!(md, "- {item}");
                }
                md.push('\n');
            }
            Block::Table { header, rows, .. } => {
                let cells = |row: &[String]| {
                    row.iter()
                        .map(|c| escape_cell(c))
                        .collect::<Vec<_>>()
                        .join(" | ")
                };
                let _ = writeln!(md, "| {} |", cells(header));
                let _ = writeln!(md, "|{}", "---|".repeat(header.len()));
                for row in rows {
                    let _ = writeln!(md, "| {} |", cells(row));
                }
                md.push('\n');
            }
            Block::Figure(figure) => match &figure.outcome {
                FigureOutcome::Drawn {
                    svg_file, png_file, ..
                } => {
                    let _ = write!(
                        md,
                        "![Figure {}: {}]({})\n\n**Figure {}.** {}",
                        figure.number, figure.title, svg_file, figure.number, figure.caption
                    );
                    if let Some(png) = png_file {
                        let _ = write!(md, " ([PNG]({png}))");
                    }
                    md.push_str("\n\n");
                }
                FigureOutcome::Skipped { reason } => {
                    let _ = writeln!(
                        md,
                        "*Figure {} ({}) not drawn: {reason}*\n",
                        figure.number, figure.title
                    );
                }
            },
        }
    }
    md
}
