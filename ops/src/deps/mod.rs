//! Dependency management, the talk's OC1: the graph from the `Upstream`/`Downstream`
//! tags and from the template's real wiring, the drift between them, the talk's
//! questions (what does X depend on, what depends on X, what breaks if X fails), and
//! exports for other tools.

pub mod export;
pub mod graph;
pub mod live;
pub mod tags;
pub mod wiring;
