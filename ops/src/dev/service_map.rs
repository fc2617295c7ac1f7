//! The service map as the traces show it, beside the one the dependency tags declare:
//! each edge says whether the tags declare it, whether traces show it, and, when they do,
//! its calls, error and fault counts, error rate and p50/p99.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use local_cloud::cloudformation::{StackModel, talk_name};
use local_cloud::xray::{Segment, SegmentSource, TraceStore};
use serde::Serialize;

use crate::deps::graph::Graph;

/// A node of the map.
#[derive(Clone, Debug, Serialize)]
pub struct Node {
    /// Its name in the dependency tags.
    pub name: String,
    /// `api`, `function`, `queue`, `table`, or `unknown` when only traces know it.
    pub kind: String,
    /// Whether the tags name it.
    pub declared: bool,
    /// Whether traces show it.
    pub observed: bool,
}

/// An edge of the map.
#[derive(Clone, Debug, Serialize)]
pub struct Edge {
    /// The caller.
    pub from: String,
    /// The callee.
    pub to: String,
    /// Whether the tags declare it.
    pub declared: bool,
    /// Whether traces show it.
    pub observed: bool,
    /// Calls seen.
    pub calls: u64,
    /// Of which client errors, when observed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<u64>,
    /// Of which faults, when observed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub faults: Option<u64>,
    /// (errors + faults) / calls, when observed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<f64>,
    /// Median duration, when observed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    /// 99th percentile duration, when observed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<f64>,
}

/// What `GET /ops/api/graph` answers.
#[derive(Clone, Debug, Serialize)]
pub struct ServiceMap {
    /// Every node, declared or observed.
    pub nodes: Vec<Node>,
    /// Every edge, declared or observed.
    pub edges: Vec<Edge>,
    /// `from → to` the tags declare and no trace shows.
    pub declared_not_observed: Vec<String>,
    /// `from → to` traces show and the tags do not declare: drift.
    pub observed_not_declared: Vec<String>,
}

#[derive(Default)]
struct EdgeStats {
    calls: u64,
    errors: u64,
    faults: u64,
    durations_ms: Vec<f64>,
}

/// The map from every stored trace, with `declared` beside it.
pub fn observed(traces: &TraceStore, model: &StackModel, declared: &Graph) -> ServiceMap {
    let mut stats = edge_stats(traces, model);
    let observed_nodes: BTreeSet<String> = stats
        .keys()
        .flat_map(|(from, to)| [from.clone(), to.clone()])
        .collect();
    let mut all: BTreeSet<(String, String)> = stats.keys().cloned().collect();
    for (from, to, _) in declared.edges() {
        all.insert((from.to_owned(), to.to_owned()));
    }
    let edges: Vec<Edge> = all
        .into_iter()
        .map(|(from, to)| {
            let is_declared = declared.has_edge(&from, &to);
            match stats.get_mut(&(from.clone(), to.clone())) {
                Some(stats) => {
                    stats.durations_ms.sort_by(f64::total_cmp);
                    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
                    let rate = (stats.errors + stats.faults) as f64 / stats.calls as f64;
                    Edge {
                        from,
                        to,
                        declared: is_declared,
                        observed: true,
                        calls: stats.calls,
                        errors: Some(stats.errors),
                        faults: Some(stats.faults),
                        error_rate: Some(rate),
                        p50_ms: percentile(&stats.durations_ms, 0.50),
                        p99_ms: percentile(&stats.durations_ms, 0.99),
                    }
                }
                None => Edge {
                    from,
                    to,
                    declared: is_declared,
                    observed: false,
                    calls: 0,
                    errors: None,
                    faults: None,
                    error_rate: None,
                    p50_ms: None,
                    p99_ms: None,
                },
            }
        })
        .collect();
    let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
    for (name, kind) in declared.nodes() {
        nodes.insert(
            name.to_owned(),
            Node {
                name: name.to_owned(),
                kind: kind.label().to_owned(),
                declared: true,
                observed: observed_nodes.contains(name),
            },
        );
    }
    for name in &observed_nodes {
        nodes.entry(name.clone()).or_insert_with(|| Node {
            name: name.clone(),
            kind: "unknown".to_owned(),
            declared: false,
            observed: true,
        });
    }
    let listed = |keep: fn(&Edge) -> bool| {
        edges
            .iter()
            .filter(|e| keep(e))
            .map(|e| format!("{} → {}", e.from, e.to))
            .collect::<Vec<_>>()
    };
    ServiceMap {
        nodes: nodes.into_values().collect(),
        declared_not_observed: listed(|e| e.declared && !e.observed),
        observed_not_declared: listed(|e| e.observed && !e.declared),
        edges,
    }
}

/// The calls each segment shows, by `(from, to)`, in every stored trace.
fn edge_stats(traces: &TraceStore, model: &StackModel) -> BTreeMap<(String, String), EdgeStats> {
    let names = physical_names(model);
    let mut stats: BTreeMap<(String, String), EdgeStats> = BTreeMap::new();
    traces.scan(|_, segments| {
        let by_id: HashMap<String, &Segment> = segments
            .iter()
            .map(|s| (s.document.id.to_string(), s))
            .collect();
        for segment in segments {
            let document = &segment.document;
            let duration =
                (document.end_time.unwrap_or(document.start_time) - document.start_time) * 1000.0;
            if let Some((edge, error, fault)) =
                edge_of(segment, segments, &by_id, &names, &model.api.name)
            {
                let entry = stats.entry(edge).or_default();
                entry.calls += 1;
                entry.errors += u64::from(error);
                entry.faults += u64::from(fault);
                entry.durations_ms.push(duration);
            }
        }
        true
    });
    stats
}

/// The edge one segment shows, with whether it failed as an error (4xx) or a fault:
/// an `AWS::Lambda` segment is its invoker (the API stage or the queue) calling the
/// function; an AWS SDK subsegment is the sending function calling a table or queue.
/// An invocation that served a batch from several traces counts once in each.
fn edge_of(
    segment: &Segment,
    segments: &[Segment],
    by_id: &HashMap<String, &Segment>,
    names: &HashMap<String, String>,
    api_name: &str,
) -> Option<((String, String), bool, bool)> {
    let document = &segment.document;
    if document.origin.as_deref() == Some("AWS::Lambda") {
        let invoker = document
            .parent_id
            .as_ref()
            .and_then(|p| by_id.get(&p.to_string()))
            .and_then(|parent| match parent.document.origin.as_deref() {
                Some("AWS::ApiGateway::Stage") => Some(api_name.to_owned()),
                Some("AWS::SQS::Queue") => names.get(&parent.document.name).cloned(),
                _ => None,
            });
        let function = names.get(&document.name).cloned();
        // The invocation failed if the function segment under it did.
        let failed = segments
            .iter()
            .any(|s| s.document.parent_id.as_ref() == Some(&document.id) && s.document.fault);
        invoker.zip(function).map(|edge| (edge, false, failed))
    } else if let (Some("aws"), SegmentSource::Function(caller)) =
        (document.namespace.as_deref(), &segment.source)
    {
        let aws = document.aws.as_ref()?;
        let target = aws["table_name"]
            .as_str()
            .and_then(|t| names.get(t))
            .or_else(|| {
                aws["queue_url"]
                    .as_str()
                    .and_then(|u| names.get(u.rsplit('/').next().unwrap_or(u)))
            })
            .cloned()?;
        Some(((caller.clone(), target), document.error, document.fault))
    } else {
        None
    }
}

/// The nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// Physical names (table, queue and function names) → the graph's names.
fn physical_names(model: &StackModel) -> HashMap<String, String> {
    let mut names = HashMap::new();
    for table in &model.tables {
        names.insert(table.name.clone(), talk_name(&table.logical_id));
    }
    for queue in &model.queues {
        names.insert(queue.name.clone(), talk_name(&queue.logical_id));
    }
    for function in &model.functions {
        names.insert(function.function_name.clone(), function.name.clone());
    }
    names
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.5), Some(50.0));
        assert_eq!(percentile(&values, 0.99), Some(99.0));
        assert_eq!(percentile(&[7.0], 0.99), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
