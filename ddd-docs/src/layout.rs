//! A layered layout, left to right, in the manner of Graphviz's `dot` but small: ranks by
//! longest path over the graph with its back edges turned round, then columns where every
//! node, every edge label and every bend of a long edge is a box of its own, ordered by
//! barycentres and stacked without overlap. Labels therefore never overlap by construction:
//! boxes of one column are stacked, and columns are as wide as their widest box.
//!
//! Text is measured from an average glyph width (see [`Metrics`]), which errs wide for the
//! sans-serif fonts browsers pick: a box is a little roomier than its text, never too small.

use std::collections::VecDeque;

/// A graph to lay out: nodes with text, edges with an optional label.
#[derive(Debug, Default, Clone)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// A box of text lines.
#[derive(Debug, Clone)]
pub struct Node {
    pub lines: Vec<Line>,
    pub style: NodeStyle,
    /// Where clicking the node leads, relative to the page the picture is on.
    pub link: Option<String>,
}

/// An edge from one node to another (indices into [`Graph::nodes`]).
#[derive(Debug, Clone)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    /// Drawn in a white box on the edge; none when empty.
    pub label: Vec<Line>,
    pub style: EdgeStyle,
}

/// One line of text and how it is set.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub text: String,
    pub weight: Weight,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Normal,
    Bold,
    Italic,
}

impl Line {
    pub fn normal(text: impl Into<String>) -> Line {
        Line {
            text: text.into(),
            weight: Weight::Normal,
        }
    }

    pub fn bold(text: impl Into<String>) -> Line {
        Line {
            text: text.into(),
            weight: Weight::Bold,
        }
    }

    pub fn italic(text: impl Into<String>) -> Line {
        Line {
            text: text.into(),
            weight: Weight::Italic,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeStyle {
    pub fill: &'static str,
    pub stroke: &'static str,
    pub stroke_width: u8,
    /// Corner radius; a pill when at least half the height.
    pub radius: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeStyle {
    pub dashed: bool,
    pub arrow: Arrow,
    pub color: &'static str,
}

/// Where an edge has arrowheads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrow {
    None,
    Head,
    Both,
}

/// How big text is: the font size, the line height and the average glyph widths, as
/// fractions of the font size (0.6 is a little wider than the average of Arial, DejaVu Sans
/// and Liberation Sans on identifiers; bold is wider still).
#[derive(Debug, Clone, Copy)]
pub struct Metrics {
    pub font_size: f64,
    pub line_height: f64,
    pub normal_em: f64,
    pub bold_em: f64,
}

pub const METRICS: Metrics = Metrics {
    font_size: 12.0,
    line_height: 16.0,
    normal_em: 0.6,
    bold_em: 0.66,
};

impl Metrics {
    /// The width of `line` as set.
    pub fn width(&self, line: &Line) -> f64 {
        let em = match line.weight {
            Weight::Bold => self.bold_em,
            Weight::Normal | Weight::Italic => self.normal_em,
        };
        line.text.chars().count() as f64 * em * self.font_size
    }

    /// The size of a block of lines, without padding.
    pub fn block(&self, lines: &[Line]) -> (f64, f64) {
        let width = lines.iter().map(|l| self.width(l)).fold(0.0, f64::max);
        (width, lines.len() as f64 * self.line_height)
    }
}

/// A rectangle: top-left corner and size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Rect {
    pub fn center_y(&self) -> f64 {
        self.y + self.height / 2.0
    }

    /// Whether the two share any area (touching edges do not count).
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.x + other.width
            && other.x < self.x + self.width
            && self.y < other.y + other.height
            && other.y < self.y + self.height
    }
}

/// Where everything went.
#[derive(Debug, Clone)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    /// One per node of the graph.
    pub nodes: Vec<Rect>,
    /// One per edge of the graph: its label's box, if it has a label.
    pub labels: Vec<Option<Rect>>,
    /// One per edge: the points it passes through, from its `from` node to its `to` node.
    pub paths: Vec<Vec<(f64, f64)>>,
}

impl Layout {
    /// Every box with text in it: the nodes, then the edge labels.
    pub fn text_boxes(&self) -> Vec<Rect> {
        self.nodes
            .iter()
            .copied()
            .chain(self.labels.iter().flatten().copied())
            .collect()
    }
}

const MARGIN: f64 = 16.0;
const NODE_PAD_X: f64 = 12.0;
const NODE_PAD_Y: f64 = 8.0;
const LABEL_PAD: f64 = 4.0;
const DOT: f64 = 16.0;
/// Vertical room between two boxes of a column.
const GAP_Y: f64 = 14.0;
/// Horizontal room between two columns.
const GAP_X: f64 = 36.0;
/// How tall a bend of a long edge is: room for the line to pass between boxes.
const BEND_HEIGHT: f64 = 6.0;
/// Barycentre sweeps: enough for the crossings to settle on the graphs ddd draws.
const SWEEPS: usize = 8;

/// The size of the box of a node; one without text is a dot (a state diagram's start and
/// end).
pub fn node_size(node: &Node) -> (f64, f64) {
    if node.lines.is_empty() {
        return (DOT, DOT);
    }
    let (w, h) = METRICS.block(&node.lines);
    (w + 2.0 * NODE_PAD_X, h + 2.0 * NODE_PAD_Y)
}

/// The size of the box of an edge's label, if it has one.
pub fn label_size(edge: &Edge) -> Option<(f64, f64)> {
    (!edge.label.is_empty()).then(|| {
        let (w, h) = METRICS.block(&edge.label);
        (w + 2.0 * LABEL_PAD, h + 2.0 * LABEL_PAD)
    })
}

/// Lays the graph out.
pub fn layout(graph: &Graph) -> Layout {
    let ranks = ranks(graph);
    let mut columns = Columns::build(graph, &ranks);
    columns.order(SWEEPS);
    columns.place();
    columns.finish(graph)
}

/// The rank of every node: the longest path to it once back edges are turned round, so that
/// most edges point right.
fn ranks(graph: &Graph) -> Vec<usize> {
    let n = graph.nodes.len();
    let forward = acyclic(graph);
    let mut outgoing = vec![Vec::new(); n];
    let mut incoming = vec![0usize; n];
    for (edge, &keep) in graph.edges.iter().zip(&forward) {
        let (from, to) = oriented(edge, keep);
        if from != to {
            outgoing[from].push(to);
            incoming[to] += 1;
        }
    }
    let mut rank = vec![0usize; n];
    let mut ready: VecDeque<usize> = (0..n).filter(|&v| incoming[v] == 0).collect();
    while let Some(v) = ready.pop_front() {
        for &w in &outgoing[v] {
            rank[w] = rank[w].max(rank[v] + 1);
            incoming[w] -= 1;
            if incoming[w] == 0 {
                ready.push_back(w);
            }
        }
    }
    rank
}

/// For every edge, whether it keeps its direction (`false`: it closes a cycle and is turned
/// round for ranking). A depth-first search without recursion, so a long chain cannot
/// overflow the stack.
fn acyclic(graph: &Graph) -> Vec<bool> {
    let n = graph.nodes.len();
    let mut outgoing: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (index, edge) in graph.edges.iter().enumerate() {
        outgoing[edge.from].push((index, edge.to));
    }
    // 0: not seen, 1: on the current path, 2: done.
    let mut state = vec![0u8; n];
    let mut forward = vec![true; graph.edges.len()];
    for root in 0..n {
        if state[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some((v, next)) = stack.pop() {
            let Some(&(edge, w)) = outgoing[v].get(next) else {
                state[v] = 2;
                continue;
            };
            stack.push((v, next + 1));
            match state[w] {
                0 => {
                    state[w] = 1;
                    stack.push((w, 0));
                }
                1 => forward[edge] = false,
                _ => {}
            }
        }
    }
    forward
}

fn oriented(edge: &Edge, forward: bool) -> (usize, usize) {
    if forward {
        (edge.from, edge.to)
    } else {
        (edge.to, edge.from)
    }
}

/// What a box in a column stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Item {
    Node(usize),
    /// An edge's label.
    Label(usize),
    /// Where an edge crosses a column without a label.
    Bend(usize),
}

#[derive(Debug, Clone)]
struct Cell {
    item: Item,
    width: f64,
    height: f64,
    y: f64,
}

/// The columns of boxes: even columns hold nodes (rank × 2), odd ones the labels between.
struct Columns {
    cells: Vec<Vec<Cell>>,
    /// Each edge's boxes from left to right as (column, index in column), and whether it was
    /// turned round.
    chains: Vec<(Vec<(usize, usize)>, bool)>,
    x: Vec<f64>,
}

impl Columns {
    fn build(graph: &Graph, ranks: &[usize]) -> Columns {
        let width = ranks.iter().map(|r| 2 * r + 2).max().unwrap_or(1);
        let mut cells: Vec<Vec<Cell>> = vec![Vec::new(); width];
        let mut node_at = Vec::with_capacity(graph.nodes.len());
        for (v, node) in graph.nodes.iter().enumerate() {
            let (w, h) = node_size(node);
            let column = 2 * ranks[v];
            node_at.push((column, cells[column].len()));
            cells[column].push(cell(Item::Node(v), w, h));
        }
        let mut chains = Vec::with_capacity(graph.edges.len());
        for (e, edge) in graph.edges.iter().enumerate() {
            let forward = ranks[edge.from] <= ranks[edge.to];
            let (left, right) = oriented(edge, forward);
            let (start, end) = (node_at[left], node_at[right]);
            // A loop (or an edge within one rank, which ranking rules out) goes through a
            // column to the right and back.
            let last = end.0.max(start.0 + 2);
            let label_column = label_column(start.0, last);
            let mut chain = vec![start];
            let crossed = cells.iter_mut().enumerate().take(last).skip(start.0 + 1);
            for (column, cells) in crossed {
                let item = match label_size(edge) {
                    Some((w, h)) if column == label_column => (Item::Label(e), w, h),
                    _ => (Item::Bend(e), 0.0, BEND_HEIGHT),
                };
                chain.push((column, cells.len()));
                cells.push(cell(item.0, item.1, item.2));
            }
            chain.push(end);
            chains.push((chain, !forward));
        }
        Columns {
            cells,
            chains,
            x: Vec::new(),
        }
    }

    /// Orders each column by the mean position of its neighbours, sweeping right then left.
    fn order(&mut self, sweeps: usize) {
        for sweep in 0..sweeps {
            let rightwards = sweep % 2 == 0;
            let columns: Vec<usize> = if rightwards {
                (1..self.cells.len()).collect()
            } else {
                (0..self.cells.len().saturating_sub(1)).rev().collect()
            };
            for column in columns {
                let neighbour = if rightwards { column - 1 } else { column + 1 };
                self.reorder(column, neighbour);
            }
        }
    }

    fn reorder(&mut self, column: usize, neighbour: usize) {
        let count = self.cells[column].len();
        let mut sums = vec![(0.0, 0usize); count];
        for (chain, _) in &self.chains {
            for pair in chain.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let (mine, theirs) = if a.0 == column && b.0 == neighbour {
                    (a.1, b.1)
                } else if b.0 == column && a.0 == neighbour {
                    (b.1, a.1)
                } else {
                    continue;
                };
                sums[mine].0 += theirs as f64;
                sums[mine].1 += 1;
            }
        }
        let mut order: Vec<usize> = (0..count).collect();
        // A box without neighbours there keeps its place.
        let key = |i: usize| match sums[i] {
            (_, 0) => i as f64,
            (sum, n) => sum / n as f64,
        };
        order.sort_by(|&a, &b| key(a).total_cmp(&key(b)).then(a.cmp(&b)));
        self.apply(column, &order);
    }

    /// Puts the column's cells in `order` (old indices) and renumbers the chains.
    fn apply(&mut self, column: usize, order: &[usize]) {
        let mut new_index = vec![0; order.len()];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = new;
        }
        let old = std::mem::take(&mut self.cells[column]);
        self.cells[column] = order.iter().map(|&i| old[i].clone()).collect();
        for (chain, _) in &mut self.chains {
            for at in chain.iter_mut().filter(|at| at.0 == column) {
                at.1 = new_index[at.1];
            }
        }
    }

    /// Columns side by side; in each, boxes as near the mean height of their left neighbours
    /// as the boxes above them allow.
    fn place(&mut self) {
        let mut x = MARGIN;
        for column in &self.cells {
            self.x.push(x);
            let widest = column.iter().map(|c| c.width).fold(0.0, f64::max);
            x += widest + GAP_X;
        }
        let lefts = self.left_neighbours();
        for (column, lefts) in lefts.iter().enumerate() {
            let mut bottom = MARGIN - GAP_Y;
            for (index, left) in lefts.iter().enumerate() {
                let wanted = mean(left.iter().map(|&(c, i)| {
                    let cell = &self.cells[c][i];
                    cell.y + cell.height / 2.0
                }));
                let cell = &mut self.cells[column][index];
                let top = wanted.map_or(MARGIN, |centre| centre - cell.height / 2.0);
                cell.y = top.max(bottom + GAP_Y);
                bottom = cell.y + cell.height;
            }
        }
    }

    /// For every cell, the cells whose height it follows: a label or a bend the box just left
    /// of it on its edge, a node the nodes its edges come from. A node that followed the
    /// labels before it would sit as low as the middle of their stack, a little lower at
    /// every rank down a long chain.
    fn left_neighbours(&self) -> Vec<Vec<Vec<(usize, usize)>>> {
        let mut lefts: Vec<Vec<Vec<(usize, usize)>>> = self
            .cells
            .iter()
            .map(|column| vec![Vec::new(); column.len()])
            .collect();
        for (chain, _) in &self.chains {
            let last = chain.len() - 1;
            for (position, pair) in chain.windows(2).enumerate() {
                let (left, right) = (pair[0], pair[1]);
                let followed = if position + 1 == last { chain[0] } else { left };
                if followed.0 < right.0 {
                    lefts[right.0][right.1].push(followed);
                }
            }
        }
        lefts
    }

    fn finish(&self, graph: &Graph) -> Layout {
        let mut nodes = vec![Rect::default(); graph.nodes.len()];
        let mut labels = vec![None; graph.edges.len()];
        let mut height: f64 = 0.0;
        for (column, cells) in self.cells.iter().enumerate() {
            let widest = cells.iter().map(|c| c.width).fold(0.0, f64::max);
            for cell in cells {
                // Centred in its column.
                let rect = Rect {
                    x: self.x[column] + (widest - cell.width) / 2.0,
                    y: cell.y,
                    width: cell.width,
                    height: cell.height,
                };
                height = height.max(rect.y + rect.height);
                match cell.item {
                    Item::Node(v) => nodes[v] = rect,
                    Item::Label(e) => labels[e] = Some(rect),
                    Item::Bend(_) => {}
                }
            }
        }
        let paths = self.paths(&nodes);
        let last = self.cells.len() - 1;
        let widest = self.cells[last].iter().map(|c| c.width).fold(0.0, f64::max);
        let width = self.x[last] + widest + MARGIN;
        Layout {
            width,
            height: height + MARGIN,
            nodes,
            labels,
            paths,
        }
    }

    /// Each edge from the right side of its left box through the middle of its labels and
    /// bends to the left side of its right box (a loop back into the top of its node), the
    /// ends spread along each side so that arrowheads do not pile up.
    fn paths(&self, nodes: &[Rect]) -> Vec<Vec<(f64, f64)>> {
        let mut paths: Vec<Vec<(f64, f64)>> = self
            .chains
            .iter()
            .map(|(chain, _)| chain.iter().map(|&at| self.centre(at, nodes)).collect())
            .collect();
        let mut ports: Vec<Vec<Port>> = vec![Vec::new(); nodes.len() * 2];
        for (e, (chain, _)) in self.chains.iter().enumerate() {
            let last = chain.len() - 1;
            if let Item::Node(v) = self.item(chain[0]) {
                ports[2 * v + 1].push(Port {
                    edge: e,
                    point: 0,
                    towards: paths[e][1].1,
                });
            }
            if let Item::Node(v) = self.item(chain[last]) {
                if chain[0] == chain[last] {
                    close_loop(&mut paths[e], nodes[v]);
                } else {
                    ports[2 * v].push(Port {
                        edge: e,
                        point: last,
                        towards: paths[e][last - 1].1,
                    });
                }
            }
        }
        for (slot, side) in ports.iter_mut().enumerate() {
            let node = nodes[slot / 2];
            let x = if slot % 2 == 1 {
                node.x + node.width
            } else {
                node.x
            };
            spread(side, node, x, &mut paths);
        }
        for (path, (_, turned)) in paths.iter_mut().zip(&self.chains) {
            if *turned {
                path.reverse();
            }
        }
        paths
    }

    fn item(&self, (column, index): (usize, usize)) -> Item {
        self.cells[column][index].item
    }

    /// The middle of a box, by its column's centre line.
    fn centre(&self, (column, index): (usize, usize), nodes: &[Rect]) -> (f64, f64) {
        let cell = &self.cells[column][index];
        match cell.item {
            Item::Node(v) => (nodes[v].x + nodes[v].width / 2.0, nodes[v].center_y()),
            Item::Label(_) | Item::Bend(_) => {
                let widest = self.cells[column]
                    .iter()
                    .map(|c| c.width)
                    .fold(0.0, f64::max);
                (self.x[column] + widest / 2.0, cell.y + cell.height / 2.0)
            }
        }
    }
}

/// Where an edge meets a side of a node: which point of which path, and the height of the
/// point next to it (the order the ends take along the side).
#[derive(Debug, Clone, Copy)]
struct Port {
    edge: usize,
    point: usize,
    towards: f64,
}

/// Spreads the ends on one side of `node` evenly over its middle half, in the order of where
/// they come from, so that they do not cross on the way in.
fn spread(side: &mut [Port], node: Rect, x: f64, paths: &mut [Vec<(f64, f64)>]) {
    side.sort_by(|a, b| a.towards.total_cmp(&b.towards).then(a.edge.cmp(&b.edge)));
    let count = side.len() as f64;
    for (i, port) in side.iter().enumerate() {
        let y = if side.len() == 1 {
            node.center_y()
        } else {
            node.y + node.height * (0.25 + 0.5 * i as f64 / (count - 1.0))
        };
        paths[port.edge][port.point] = (x, y);
    }
}

/// A loop leaves its node on the right and comes back in at its top.
fn close_loop(points: &mut [(f64, f64)], node: Rect) {
    if let Some(end) = points.last_mut() {
        *end = (node.x + node.width * 0.75, node.y);
    }
}

impl Default for Rect {
    fn default() -> Rect {
        Rect {
            x: 0.0,
            y: 0.0,
            width: 0.0,
            height: 0.0,
        }
    }
}

fn cell(item: Item, width: f64, height: f64) -> Cell {
    Cell {
        item,
        width,
        height,
        y: 0.0,
    }
}

/// The odd column nearest the middle of an edge from `start` to `end` (node columns).
fn label_column(start: usize, end: usize) -> usize {
    let middle = (start + end) / 2;
    if middle % 2 == 1 { middle } else { middle + 1 }
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (count > 0).then(|| sum / count as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(text: &str) -> Node {
        Node {
            lines: vec![Line::bold(text)],
            style: NodeStyle {
                fill: "#fff",
                stroke: "#000",
                stroke_width: 1,
                radius: 4.0,
            },
            link: None,
        }
    }

    fn edge(from: usize, to: usize, label: &str) -> Edge {
        Edge {
            from,
            to,
            label: if label.is_empty() {
                Vec::new()
            } else {
                vec![Line::normal(label)]
            },
            style: EdgeStyle {
                dashed: false,
                arrow: Arrow::Head,
                color: "#333",
            },
        }
    }

    #[test]
    fn a_cycle_is_ranked_and_every_edge_points_from_its_source_to_its_target() {
        let graph = Graph {
            nodes: vec![node("A"), node("B"), node("C")],
            edges: vec![edge(0, 1, "ab"), edge(1, 2, "bc"), edge(2, 0, "ca")],
        };
        let layout = layout(&graph);
        for (e, path) in graph.edges.iter().zip(&layout.paths) {
            let (first, last) = (path[0], path[path.len() - 1]);
            let (from, to) = (layout.nodes[e.from], layout.nodes[e.to]);
            assert!(
                first.1 > from.y && first.1 < from.y + from.height,
                "{path:?}"
            );
            assert!(last.1 > to.y && last.1 < to.y + to.height, "{path:?}");
        }
        let boxes = layout.text_boxes();
        assert_eq!(boxes.len(), 6);
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn a_loop_gets_a_label_beside_its_node() {
        let graph = Graph {
            nodes: vec![node("A")],
            edges: vec![edge(0, 0, "again")],
        };
        let layout = layout(&graph);
        let label = layout.labels[0].expect("a label");
        assert!(label.x > layout.nodes[0].x + layout.nodes[0].width);
        assert!(layout.width >= label.x + label.width);
    }
}
