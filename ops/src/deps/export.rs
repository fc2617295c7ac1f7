//! The graph for other tools: Graphviz DOT, Mermaid, JSON, a Gremlin script and
//! Neptune's bulk-load CSV.
//!
//! The Gremlin script builds vertices whose label is the kind and whose only property
//! is `name`, and `depends` edges, so the talk's query runs verbatim and answers in
//! the talk's form:
//!
//! ```text
//! gremlin> g.V().has('name','add-comments').out('depends').valueMap()
//! ==>{name=[comments-queue]}
//! ```

use std::fmt::Write as _;

use serde_json::json;

use super::graph::Graph;

/// The formats `deps export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
    /// `{"nodes": [...], "edges": [...]}`.
    Json,
    /// A Gremlin script for any TinkerPop console or server.
    Gremlin,
    /// Neptune's Gremlin bulk-load format: a vertices file and an edges file.
    NeptuneCsv,
}

/// Graphviz DOT: one node per resource (shape by kind), one edge per dependency.
pub fn dot(graph: &Graph) -> String {
    let mut out =
        String::from("digraph dependencies {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
    for (name, kind) in graph.nodes() {
        let shape = match kind.label() {
            "function" => "box",
            "queue" => "cds",
            "table" => "cylinder",
            _ => "ellipse",
        };
        let _ = writeln!(
            out,
            "  \"{name}\" [label=\"{name}\\n{}\", shape={shape}];",
            kind.label()
        );
    }
    for (from, to, _) in graph.edges() {
        let _ = writeln!(out, "  \"{from}\" -> \"{to}\" [label=\"depends\"];");
    }
    out.push_str("}\n");
    out
}

/// A Mermaid id: names with `-` are not valid ids, so ids are the names with `_`.
fn mermaid_id(name: &str) -> String {
    name.replace(['-', '.'], "_")
}

/// A Mermaid flowchart (`graph LR`).
pub fn mermaid(graph: &Graph) -> String {
    let mut out = String::from("graph LR\n");
    for (name, kind) in graph.nodes() {
        let id = mermaid_id(name);
        let node = match kind.label() {
            "function" => format!("{id}[\"{name}\"]"),
            "queue" => format!("{id}[/\"{name}\"/]"),
            "table" => format!("{id}[(\"{name}\")]"),
            _ => format!("{id}([\"{name}\"])"),
        };
        let _ = writeln!(out, "  {node}");
    }
    for (from, to, _) in graph.edges() {
        let _ = writeln!(
            out,
            "  {} -->|depends| {}",
            mermaid_id(from),
            mermaid_id(to)
        );
    }
    out
}

/// The graph as JSON, with each edge's evidence.
pub fn json(graph: &Graph) -> serde_json::Value {
    json!({
        "nodes": graph.nodes().map(|(name, kind)| json!({"name": name, "kind": kind})).collect::<Vec<_>>(),
        "edges": graph.edges().map(|(from, to, why)| json!({
            "from": from, "to": to, "label": "depends", "evidence": why,
        })).collect::<Vec<_>>(),
    })
}

/// Single-quoted Gremlin (Groovy) string.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A Gremlin script that (re)builds the graph in a TinkerPop console or server.
pub fn gremlin(graph: &Graph) -> String {
    let mut out = String::from(
        "// Dependency graph of online-feedback. Load it in a Gremlin console\n\
         // (:load deps.groovy) and ask the talk's question:\n\
         //   g.V().has('name','add-comments').out('depends').valueMap()\n\
         g.V().drop().iterate()\n",
    );
    for (name, kind) in graph.nodes() {
        let _ = writeln!(
            out,
            "g.addV({}).property('name', {}).iterate()",
            quoted(kind.label()),
            quoted(name)
        );
    }
    for (from, to, _) in graph.edges() {
        let _ = writeln!(
            out,
            "g.V().has('name', {}).as('from').V().has('name', {}).addE('depends').from('from').iterate()",
            quoted(from),
            quoted(to)
        );
    }
    out
}

/// Neptune's Gremlin bulk-load CSV: `(vertices, edges)`.
pub fn neptune_csv(graph: &Graph) -> (String, String) {
    let mut vertices = String::from("~id,~label,name:String\n");
    for (name, kind) in graph.nodes() {
        let _ = writeln!(vertices, "{name},{},{name}", kind.label());
    }
    let mut edges = String::from("~id,~from,~to,~label\n");
    for (from, to, _) in graph.edges() {
        let _ = writeln!(edges, "{from}->{to},{from},{to},depends");
    }
    (vertices, edges)
}
