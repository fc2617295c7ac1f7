//! The service map as the traces show it, beside the one the dependency tags declare.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};

use super::server::Shared;
use super::telemetry::Segment;

#[derive(Default)]
struct EdgeStats {
    calls: u64,
    errors: u64,
    faults: u64,
    durations_ms: Vec<f64>,
}

/// Nodes and edges: each edge says whether the tags declare it, whether traces show it,
/// and, when they do, its calls, error and fault counts, error rate and p50/p99.
pub fn observed(shared: &Shared) -> Value {
    let names = physical_names(shared);
    let mut edges: BTreeMap<(String, String), EdgeStats> = BTreeMap::new();
    let mut observed_nodes = BTreeSet::new();
    for (_, segments) in shared.telemetry.traces() {
        let by_id: HashMap<&str, &Value> = segments
            .iter()
            .filter_map(|s| s.document["id"].as_str().map(|id| (id, &s.document)))
            .collect();
        for segment in &segments {
            let document = &segment.document;
            let duration = (document["end_time"].as_f64().unwrap_or(0.0)
                - document["start_time"].as_f64().unwrap_or(0.0))
                * 1000.0;
            let edge = edge_of(segment, &segments, &by_id, &names, &shared.model.api.name);
            if let Some(((from, to), error, fault)) = edge {
                observed_nodes.insert(from.clone());
                observed_nodes.insert(to.clone());
                let stats = edges.entry((from, to)).or_default();
                stats.calls += 1;
                stats.errors += u64::from(error);
                stats.faults += u64::from(fault);
                stats.durations_ms.push(duration);
            }
        }
    }
    let declared = &shared.declared;
    let mut all: BTreeSet<(String, String)> = edges.keys().cloned().collect();
    for (from, to, _) in declared.edges() {
        all.insert((from.to_owned(), to.to_owned()));
    }
    let edge_list: Vec<Value> = all
        .into_iter()
        .map(|(from, to)| {
            let is_declared = declared.has_edge(&from, &to);
            match edges.get_mut(&(from.clone(), to.clone())) {
                Some(stats) => {
                    stats.durations_ms.sort_by(f64::total_cmp);
                    #[allow(clippy::cast_precision_loss)]
                    let rate = (stats.errors + stats.faults) as f64 / stats.calls as f64;
                    json!({
                        "from": from, "to": to, "declared": is_declared, "observed": true,
                        "calls": stats.calls, "errors": stats.errors, "faults": stats.faults,
                        "error_rate": rate,
                        "p50_ms": percentile(&stats.durations_ms, 0.50),
                        "p99_ms": percentile(&stats.durations_ms, 0.99),
                    })
                }
                None => json!({"from": from, "to": to, "declared": is_declared, "observed": false, "calls": 0}),
            }
        })
        .collect();
    let mut nodes: BTreeMap<String, Value> = BTreeMap::new();
    for (name, kind) in declared.nodes() {
        nodes.insert(
            name.to_owned(),
            json!({"name": name, "kind": kind.label(), "declared": true}),
        );
    }
    for name in &observed_nodes {
        nodes
            .entry(name.clone())
            .or_insert_with(|| json!({"name": name, "kind": "unknown", "declared": false}));
    }
    for (name, node) in &mut nodes {
        node["observed"] = json!(observed_nodes.contains(name));
    }
    let drift = |want_declared: bool| {
        edge_list
            .iter()
            .filter(|e| {
                e["observed"] == true && e["declared"] == false && !want_declared
                    || e["declared"] == true && e["observed"] == false && want_declared
            })
            .map(|e| {
                format!(
                    "{} → {}",
                    e["from"].as_str().unwrap_or("?"),
                    e["to"].as_str().unwrap_or("?")
                )
            })
            .collect::<Vec<_>>()
    };
    json!({
        "nodes": nodes.into_values().collect::<Vec<_>>(),
        "edges": edge_list,
        "declared_not_observed": drift(true),
        "observed_not_declared": drift(false),
    })
}

/// The edge one segment shows, with whether it failed as an error (4xx) or a fault:
/// an `AWS::Lambda` segment is its invoker (the API stage or the queue) calling the
/// function; an AWS SDK subsegment is the sending function calling a table or queue.
/// An invocation that served a batch from several traces counts once in each.
fn edge_of(
    segment: &Segment,
    segments: &[Segment],
    by_id: &HashMap<&str, &Value>,
    names: &HashMap<String, String>,
    api_name: &str,
) -> Option<((String, String), bool, bool)> {
    let document = &segment.document;
    if document["origin"] == "AWS::Lambda" {
        // Who invoked it: the API stage or the queue.
        let invoker = document["parent_id"]
            .as_str()
            .and_then(|p| by_id.get(p))
            .and_then(|parent| match parent["origin"].as_str() {
                Some("AWS::ApiGateway::Stage") => Some(api_name.to_owned()),
                Some("AWS::SQS::Queue") => {
                    parent["name"].as_str().and_then(|n| names.get(n).cloned())
                }
                _ => None,
            });
        let function = document["name"]
            .as_str()
            .and_then(|n| names.get(n).cloned());
        // The invocation failed if the function segment under it did.
        let failed = segments
            .iter()
            .any(|s| s.document["parent_id"] == document["id"] && s.document["fault"] == true);
        invoker.zip(function).map(|edge| (edge, false, failed))
    } else if document["namespace"] == "aws" && segment.source != "host" {
        let aws = &document["aws"];
        let target = aws["table_name"]
            .as_str()
            .and_then(|t| names.get(t))
            .or_else(|| {
                aws["queue_url"]
                    .as_str()
                    .and_then(|u| names.get(u.rsplit('/').next().unwrap_or(u)))
            })
            .cloned();
        target.map(|t| {
            (
                (segment.source.clone(), t),
                document["error"] == true,
                document["fault"] == true,
            )
        })
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

/// Physical names (table names, queue names, function names) → the graph's names.
fn physical_names(shared: &Shared) -> HashMap<String, String> {
    let model = &shared.model;
    let mut names = HashMap::new();
    for table in &model.tables {
        names.insert(
            table.name.clone(),
            crate::template::talk_name(&table.logical_id),
        );
    }
    for queue in &model.queues {
        names.insert(
            queue.name.clone(),
            crate::template::talk_name(&queue.logical_id),
        );
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
