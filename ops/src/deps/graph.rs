//! The dependency graph: nodes with a kind, and `depends` edges in the talk's
//! direction (`add-comments → comments-queue`: add-comments depends on the queue).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::tags::Kind;

/// A directed graph of named, kinded nodes; each edge keeps why it exists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Graph {
    nodes: BTreeMap<String, Kind>,
    edges: BTreeMap<(String, String), BTreeSet<String>>,
}

/// What breaks when a node fails, and through which chain.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Impact {
    /// The node that breaks.
    pub node: String,
    /// The chain from the failed node to this one (`[table, push-to-db, queue]`).
    pub path: Vec<String>,
}

impl Graph {
    /// Adds a node (a second add with another kind keeps the first).
    pub fn add_node(&mut self, name: &str, kind: Kind) {
        self.nodes.entry(name.to_owned()).or_insert(kind);
    }

    /// Adds `from → to`, noting why (`env TABLE_NAME`, `tag Downstream`, …).
    pub fn add_edge(&mut self, from: &str, to: &str, evidence: impl Into<String>) {
        self.edges
            .entry((from.to_owned(), to.to_owned()))
            .or_default()
            .insert(evidence.into());
    }

    /// The node's kind, if the graph has it.
    pub fn kind(&self, name: &str) -> Option<Kind> {
        self.nodes.get(name).copied()
    }

    /// Every node with its kind, by name.
    pub fn nodes(&self) -> impl Iterator<Item = (&str, Kind)> {
        self.nodes.iter().map(|(name, kind)| (name.as_str(), *kind))
    }

    /// Every edge with its evidence.
    pub fn edges(&self) -> impl Iterator<Item = (&str, &str, &BTreeSet<String>)> {
        self.edges
            .iter()
            .map(|((from, to), why)| (from.as_str(), to.as_str(), why))
    }

    /// Whether `from → to` is an edge.
    pub fn has_edge(&self, from: &str, to: &str) -> bool {
        self.edges.contains_key(&(from.to_owned(), to.to_owned()))
    }

    /// What `name` depends on: one hop out.
    pub fn depends_on(&self, name: &str) -> Vec<&str> {
        self.edges()
            .filter(|(from, _, _)| *from == name)
            .map(|(_, to, _)| to)
            .collect()
    }

    /// What depends on `name`: one hop in.
    pub fn dependents(&self, name: &str) -> Vec<&str> {
        self.edges()
            .filter(|(_, to, _)| *to == name)
            .map(|(from, _, _)| from)
            .collect()
    }

    /// Whether `function` consumes `queue` (the queue depends on it: an event source).
    fn consumes(&self, function: &str, queue: &str) -> bool {
        self.kind(queue) == Some(Kind::Queue)
            && self.kind(function) == Some(Kind::Function)
            && self.has_edge(queue, function)
    }

    /// Everything that breaks, transitively, if `name` fails: every node with a path
    /// of `depends` edges to it, each with the shortest such chain, nearest first.
    ///
    /// A queue's consumer is not broken by the queue, even when it also calls it (to
    /// delay a retry): it gets nothing to do, which [`Graph::starved`] lists.
    pub fn impact(&self, name: &str) -> Vec<Impact> {
        let mut seen = BTreeSet::from([name.to_owned()]);
        let mut queue = VecDeque::from([vec![name.to_owned()]]);
        let mut impacts = Vec::new();
        while let Some(path) = queue.pop_front() {
            let last = path.last().map_or("", String::as_str);
            for dependent in self.dependents(last) {
                if self.consumes(dependent, last) {
                    continue;
                }
                if seen.insert(dependent.to_owned()) {
                    let mut longer = path.clone();
                    longer.push(dependent.to_owned());
                    impacts.push(Impact {
                        node: dependent.to_owned(),
                        path: longer.clone(),
                    });
                    queue.push_back(longer);
                }
            }
        }
        impacts
    }

    /// What `name` feeds and so starves if it fails — consumers, not callers: every
    /// function or queue reached by following `depends` edges out of it (the queue's
    /// consumer, the consumer's own queues), except what [`Graph::impact`] already
    /// lists as broken; each with its chain (`[queue, push-to-db]`), nearest first.
    pub fn starved(&self, name: &str) -> Vec<Impact> {
        let broken: BTreeSet<String> = self.impact(name).into_iter().map(|i| i.node).collect();
        let mut seen = BTreeSet::from([name.to_owned()]);
        let mut queue = VecDeque::from([vec![name.to_owned()]]);
        let mut starved = Vec::new();
        while let Some(path) = queue.pop_front() {
            let last = path.last().map_or("", String::as_str);
            for fed in self.depends_on(last) {
                let flows = matches!(self.kind(fed), Some(Kind::Function | Kind::Queue));
                if flows && !broken.contains(fed) && seen.insert(fed.to_owned()) {
                    let mut longer = path.clone();
                    longer.push(fed.to_owned());
                    starved.push(Impact {
                        node: fed.to_owned(),
                        path: longer.clone(),
                    });
                    queue.push_back(longer);
                }
            }
        }
        starved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph() -> Graph {
        let mut graph = Graph::default();
        for (name, kind) in [
            ("api", Kind::Api),
            ("add", Kind::Function),
            ("queue", Kind::Queue),
            ("push", Kind::Function),
            ("table", Kind::Table),
            ("dlq", Kind::Queue),
        ] {
            graph.add_node(name, kind);
        }
        for (from, to) in [
            ("api", "add"),
            ("add", "queue"),
            ("queue", "push"),
            ("push", "table"),
            ("queue", "dlq"),
            ("add", "table"),
        ] {
            graph.add_edge(from, to, "test");
        }
        graph
    }

    #[test]
    fn one_hop_either_way() {
        let graph = graph();
        assert_eq!(graph.depends_on("add"), ["queue", "table"]);
        assert_eq!(graph.dependents("table"), ["add", "push"]);
        assert!(graph.depends_on("table").is_empty());
    }

    #[test]
    fn impact_is_transitive_with_the_shortest_chain_nearest_first() {
        let impacts = graph().impact("table");
        let found: Vec<(&str, Vec<&str>)> = impacts
            .iter()
            .map(|i| (i.node.as_str(), i.path.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            found,
            [
                ("add", vec!["table", "add"]),
                ("push", vec!["table", "push"]),
                ("api", vec!["table", "add", "api"]),
                ("queue", vec!["table", "push", "queue"]),
            ]
        );
        assert!(graph().impact("api").is_empty());
    }

    #[test]
    fn a_failed_queue_starves_its_consumer_which_impact_alone_does_not_list() {
        let graph = graph();
        assert!(!graph.impact("queue").iter().any(|i| i.node == "push"));
        let queue_starves = graph.starved("queue");
        let starved: Vec<(&str, Vec<&str>)> = queue_starves
            .iter()
            .map(|i| (i.node.as_str(), i.path.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            starved,
            [
                ("dlq", vec!["queue", "dlq"]),
                ("push", vec!["queue", "push"])
            ]
        );
        // A table feeds nothing; the API's failure starves what it calls.
        assert!(graph.starved("table").is_empty());
        let from_api: Vec<String> = graph.starved("api").into_iter().map(|i| i.node).collect();
        assert_eq!(from_api, ["add", "queue", "dlq", "push"]);
    }

    #[test]
    fn a_consumer_that_also_calls_its_queue_is_starved_by_it_not_broken() {
        let mut graph = graph();
        graph.add_edge("push", "queue", "env QUEUE_URL");
        assert!(!graph.impact("queue").iter().any(|i| i.node == "push"));
        assert!(graph.starved("queue").iter().any(|i| i.node == "push"));
        // The other way round nothing changes: a failed consumer backs its queue up.
        let from_table: Vec<String> = graph.impact("table").into_iter().map(|i| i.node).collect();
        assert!(from_table.contains(&"queue".to_owned()), "{from_table:?}");
    }

    #[test]
    fn evidence_accumulates_on_one_edge() {
        let mut graph = graph();
        graph.add_edge("add", "queue", "env QUEUE_URL");
        let (_, _, why) = graph
            .edges()
            .find(|(f, t, _)| *f == "add" && *t == "queue")
            .unwrap();
        assert_eq!(why.len(), 2);
    }
}
