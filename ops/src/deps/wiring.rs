//! The two graphs of a template: what its tags declare, and what its wiring really
//! is (event sources, references in environment variables and policies, the redrive
//! policy), and the drift between them.

use serde_json::Value;

use super::graph::Graph;
use super::tags::{Kind, TagError, parse_tag, split_version};
use local_cloud::cloudformation::{Template, references, talk_name};

/// The node kind of a resource type, for the types that are dependencies.
fn kind_of(resource: &Value) -> Option<Kind> {
    match resource["Type"].as_str()? {
        "AWS::Serverless::Function" | "AWS::Lambda::Function" => Some(Kind::Function),
        "AWS::SQS::Queue" => Some(Kind::Queue),
        "AWS::DynamoDB::Table" => Some(Kind::Table),
        "AWS::Serverless::Api" | "AWS::ApiGateway::RestApi" => Some(Kind::Api),
        _ => None,
    }
}

/// The graph with every dependency-kind resource as a node and no edges.
fn nodes_of(template: &Template) -> Graph {
    let mut graph = Graph::default();
    for (id, resource) in template.resources() {
        if let Some(kind) = kind_of(resource) {
            graph.add_node(&talk_name(id), kind);
        }
    }
    graph
}

fn functions(template: &Template) -> impl Iterator<Item = (&String, &Value)> {
    template
        .resources()
        .iter()
        .filter(|(_, r)| kind_of(r) == Some(Kind::Function))
}

/// Edges that no function tag can express: a queue's redrive to its dead-letter queue.
fn add_structural_edges(template: &Template, graph: &mut Graph) {
    for (id, resource) in template.resources() {
        if kind_of(resource) == Some(Kind::Queue) {
            for target in references(&resource["Properties"]["RedrivePolicy"]) {
                graph.add_edge(&talk_name(id), &talk_name(&target), "redrive policy");
            }
        }
    }
}

/// The graph the template's wiring really has.
pub fn actual(template: &Template) -> Graph {
    let mut graph = nodes_of(template);
    for (id, function) in functions(template) {
        let name = talk_name(id);
        let properties = &function["Properties"];
        for (event_name, event) in properties["Events"].as_object().into_iter().flatten() {
            let (source, why) = match event["Type"].as_str() {
                Some("Api") => (
                    &event["Properties"]["RestApiId"],
                    format!(
                        "route {} {}",
                        event["Properties"]["Method"]
                            .as_str()
                            .unwrap_or("?")
                            .to_ascii_uppercase(),
                        event["Properties"]["Path"].as_str().unwrap_or("?")
                    ),
                ),
                Some("SQS") => (
                    &event["Properties"]["Queue"],
                    format!("event source {event_name}"),
                ),
                _ => continue,
            };
            for upstream in references(source) {
                graph.add_edge(&talk_name(&upstream), &name, why.clone());
            }
        }
        for (variable, value) in properties["Environment"]["Variables"]
            .as_object()
            .into_iter()
            .flatten()
        {
            for target in references(value) {
                graph.add_edge(&name, &talk_name(&target), format!("env {variable}"));
            }
        }
        for target in references(&properties["Policies"]) {
            graph.add_edge(&name, &talk_name(&target), "policy");
        }
    }
    add_structural_edges(template, &mut graph);
    // Only edges between nodes: references to log groups, topics and the like are not
    // dependencies in the talk's sense.
    let mut kept = nodes_of(template);
    for (from, to, why) in graph.edges() {
        if kept.kind(from).is_some() && kept.kind(to).is_some() && from != to {
            for evidence in why {
                kept.add_edge(from, to, evidence.clone());
            }
        }
    }
    kept
}

/// A name in a tag that the template has no resource for.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UnknownName {
    /// The function whose tag it is in.
    pub function: String,
    /// `Upstream` or `Downstream`.
    pub tag: String,
    /// The entry as written, `Kind:name`.
    pub entry: String,
}

/// The graph the tags declare, and the names they use that match no resource.
#[derive(Clone, Debug)]
pub struct Declared {
    /// Tag edges, plus the structural edges tags cannot express.
    pub graph: Graph,
    /// Names no resource of that kind has.
    pub unknown: Vec<UnknownName>,
}

/// The graph the functions' `Upstream` and `Downstream` tags declare.
///
/// # Errors
/// [`TagError`] for the first tag that breaks the grammar.
pub fn declared(template: &Template) -> Result<Declared, TagError> {
    let mut graph = nodes_of(template);
    let mut unknown = Vec::new();
    for (id, function) in functions(template) {
        let name = talk_name(id);
        for tag in ["Upstream", "Downstream"] {
            let value = function["Properties"]["Tags"][tag]
                .as_str()
                .unwrap_or_default();
            for entry in parse_tag(&name, tag, value)? {
                // The talk's `add-comments-3` names a version of `add-comments`.
                let resolved = [entry.name.as_str(), split_version(&entry.name).0]
                    .into_iter()
                    .find(|candidate| graph.kind(candidate) == Some(entry.kind));
                let Some(other) = resolved.map(str::to_owned) else {
                    unknown.push(UnknownName {
                        function: name.clone(),
                        tag: tag.to_owned(),
                        entry: format!("{}:{}", entry.kind, entry.name),
                    });
                    continue;
                };
                let why = format!("tag {tag} of {name}");
                if tag == "Upstream" {
                    graph.add_edge(&other, &name, why);
                } else {
                    graph.add_edge(&name, &other, why);
                }
            }
        }
    }
    add_structural_edges(template, &mut graph);
    Ok(Declared { graph, unknown })
}

/// Where the tags and the wiring disagree.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Drift {
    /// Dependencies the wiring has and the tags do not declare, with the evidence.
    pub missing: Vec<(String, String, Vec<String>)>,
    /// Dependencies the tags declare and the wiring does not have.
    pub extra: Vec<(String, String)>,
    /// Tag names that match no resource.
    pub unknown: Vec<UnknownName>,
}

impl Drift {
    /// Whether tags and wiring agree.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.unknown.is_empty()
    }
}

/// Compares what the tags declare with what the wiring has.
pub fn drift(declared: &Declared, actual: &Graph) -> Drift {
    let missing = actual
        .edges()
        .filter(|(from, to, _)| !declared.graph.has_edge(from, to))
        .map(|(from, to, why)| {
            (
                from.to_owned(),
                to.to_owned(),
                why.iter().cloned().collect(),
            )
        })
        .collect();
    let extra = declared
        .graph
        .edges()
        .filter(|(from, to, _)| !actual.has_edge(from, to))
        .map(|(from, to, _)| (from.to_owned(), to.to_owned()))
        .collect();
    Drift {
        missing,
        extra,
        unknown: declared.unknown.clone(),
    }
}
