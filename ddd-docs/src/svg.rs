//! A laid-out graph as SVG: edges first, then their labels on white, then the nodes, so that
//! text always reads over lines. Self-contained (no fonts or styles from outside), escaped,
//! and deterministic: coordinates are printed with one decimal.

use std::fmt::Write as _;

use crate::html::escape;
use crate::layout::{Arrow, Graph, Layout, Line, METRICS, Rect, Weight, layout};

const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif";

/// Lays `graph` out and draws it. `id` prefixes the ids inside (arrowheads), so that several
/// pictures can share a page; `title` is what screen readers and tooltips say.
pub fn render(graph: &Graph, id: &str, title: &str) -> String {
    draw(graph, &layout(graph), id, title)
}

/// Draws an already laid-out graph.
pub fn draw(graph: &Graph, layout: &Layout, id: &str, title: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"diagram\" viewBox=\"0 0 {w:.1} {h:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" role=\"img\" aria-labelledby=\"{id}-title\" font-family=\"{FONT}\" font-size=\"{}\">",
        METRICS.font_size,
        w = layout.width,
        h = layout.height,
    );
    let _ = write!(out, "<title id=\"{id}-title\">{}</title>", escape(title));
    let colors = arrow_colors(graph);
    markers(&mut out, id, &colors);
    out.push_str("<g class=\"edges\" fill=\"none\">");
    for (edge, points) in graph.edges.iter().zip(&layout.paths) {
        let marker = |at: &str| {
            let n = colors
                .iter()
                .position(|&c| c == edge.style.color)
                .unwrap_or(0);
            format!(" marker-{at}=\"url(#{id}-arrow-{n})\"")
        };
        let mut attributes = String::new();
        if matches!(edge.style.arrow, Arrow::Head | Arrow::Both) {
            attributes.push_str(&marker("end"));
        }
        if edge.style.arrow == Arrow::Both {
            attributes.push_str(&marker("start"));
        }
        if edge.style.dashed {
            attributes.push_str(" stroke-dasharray=\"6 4\"");
        }
        let _ = write!(
            out,
            "<path d=\"{}\" stroke=\"{}\" stroke-width=\"1.4\"{attributes}/>",
            path(points),
            edge.style.color
        );
    }
    out.push_str("</g><g class=\"labels\">");
    for (edge, rect) in graph.edges.iter().zip(&layout.labels) {
        if let Some(rect) = rect {
            let _ = write!(
                out,
                "<g class=\"label\"><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.92\" stroke=\"{}\" stroke-opacity=\"0.35\"/>",
                rect.x, rect.y, rect.width, rect.height, edge.style.color
            );
            text(&mut out, &edge.label, rect, "#333333");
            out.push_str("</g>");
        }
    }
    out.push_str("</g><g class=\"nodes\">");
    for (node, rect) in graph.nodes.iter().zip(&layout.nodes) {
        if let Some(link) = &node.link {
            let _ = write!(out, "<a href=\"{}\">", escape(link));
        }
        let radius = node.style.radius.min(rect.height / 2.0);
        let _ = write!(
            out,
            "<g class=\"node\"><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"{radius:.1}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"/>",
            rect.x,
            rect.y,
            rect.width,
            rect.height,
            node.style.fill,
            node.style.stroke,
            node.style.stroke_width
        );
        text(&mut out, &node.lines, rect, "#111111");
        out.push_str("</g>");
        if node.link.is_some() {
            out.push_str("</a>");
        }
    }
    out.push_str("</g></svg>");
    out
}

/// The colours of the edges with arrowheads, each once, in the order met.
fn arrow_colors(graph: &Graph) -> Vec<&'static str> {
    let mut colors = Vec::new();
    for edge in &graph.edges {
        if edge.style.arrow != Arrow::None && !colors.contains(&edge.style.color) {
            colors.push(edge.style.color);
        }
    }
    colors
}

/// One arrowhead per colour: markers take no colour from the line they end.
fn markers(out: &mut String, id: &str, colors: &[&str]) {
    if colors.is_empty() {
        return;
    }
    out.push_str("<defs>");
    for (n, color) in colors.iter().enumerate() {
        let _ = write!(
            out,
            "<marker id=\"{id}-arrow-{n}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{color}\"/></marker>"
        );
    }
    out.push_str("</defs>");
}

/// A smooth curve through the points, leaving and entering each horizontally.
fn path(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    let Some(&(x, y)) = points.first() else {
        return d;
    };
    let _ = write!(d, "M{x:.1},{y:.1}");
    for pair in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
        let dx = (x1 - x0) / 2.0;
        let _ = write!(
            d,
            " C{:.1},{y0:.1} {:.1},{y1:.1} {x1:.1},{y1:.1}",
            x0 + dx,
            x1 - dx
        );
    }
    d
}

/// The lines centred in `rect`.
fn text(out: &mut String, lines: &[Line], rect: &Rect, color: &str) {
    let block = lines.len() as f64 * METRICS.line_height;
    let top = rect.y + (rect.height - block) / 2.0;
    let centre = rect.x + rect.width / 2.0;
    for (i, line) in lines.iter().enumerate() {
        // The baseline sits a quarter of the line height above the line's bottom.
        let baseline = top + (i as f64 + 0.75) * METRICS.line_height;
        let style = match line.weight {
            Weight::Normal => "",
            Weight::Bold => " font-weight=\"bold\"",
            Weight::Italic => " font-style=\"italic\"",
        };
        let _ = write!(
            out,
            "<text x=\"{centre:.1}\" y=\"{baseline:.1}\" text-anchor=\"middle\" fill=\"{color}\"{style}>{}</text>",
            escape(&line.text)
        );
    }
}
