//! Which versions of a function to keep — the talk's "support for n-3 versions" — as
//! one rule for the local stack's deployments and for `feedback-ops release prune`
//! against any Lambda API. Kept: every version an alias references (its primary and its
//! `AdditionalVersionWeights`, so a canary in progress is never deleted), the `keep`
//! versions immediately older than the `live` alias's primary (what a rollback can go
//! back to), the newest (a deployment whose hook is still running has published it, but
//! no alias points to it yet), and any version a deployment in progress names. Deleted:
//! the rest, oldest first. Without a `live` alias nothing is deleted.

use serde::Serialize;

/// An alias, as the planner needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AliasRef {
    /// Its name.
    pub name: String,
    /// Its primary version.
    pub primary: String,
    /// Its additional versions (`RoutingConfig.AdditionalVersionWeights`).
    pub additional: Vec<String>,
}

/// One version's fate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The version.
    pub version: String,
    /// Kept, or deleted.
    pub keep: bool,
    /// Why, in words.
    pub why: String,
}

/// The plan for one function's published `versions` (numbers; `$LATEST` is never
/// touched), oldest first.
pub fn plan(
    versions: &[u64],
    aliases: &[AliasRef],
    in_progress: &[String],
    keep: usize,
) -> Vec<Decision> {
    let mut versions = versions.to_vec();
    versions.sort_unstable();
    versions.dedup();
    let live = aliases
        .iter()
        .find(|a| a.name == "live")
        .and_then(|a| a.primary.parse::<u64>().ok());
    let newest = versions.last().copied();
    let rollback_targets: Vec<u64> = live.map_or_else(Vec::new, |live| {
        versions
            .iter()
            .rev()
            .filter(|v| **v < live)
            .take(keep)
            .copied()
            .collect()
    });
    versions
        .into_iter()
        .map(|number| {
            let version = number.to_string();
            let why = aliases
                .iter()
                .find_map(|alias| {
                    if alias.primary == version {
                        Some(format!("alias {} points to it", alias.name))
                    } else if alias.additional.contains(&version) {
                        Some(format!(
                            "alias {} routes part of its traffic to it",
                            alias.name
                        ))
                    } else {
                        None
                    }
                })
                .or_else(|| {
                    rollback_targets
                        .contains(&number)
                        .then(|| format!("one of the {keep} before live: a rollback target"))
                })
                .or_else(|| {
                    in_progress
                        .contains(&version)
                        .then(|| "a deployment in progress names it".to_owned())
                })
                .or_else(|| {
                    (Some(number) == newest)
                        .then(|| "the newest: a deployment may still be testing it".to_owned())
                })
                .or_else(|| {
                    live.is_none()
                        .then(|| "no live alias: nothing is pruned".to_owned())
                });
            match why {
                Some(why) => Decision {
                    version,
                    keep: true,
                    why,
                },
                None => Decision {
                    version,
                    keep: false,
                    why: format!("not aliased, not among the {keep} before live, not the newest"),
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(primary: &str, additional: &[&str]) -> AliasRef {
        AliasRef {
            name: "live".into(),
            primary: primary.into(),
            additional: additional.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    fn deleted(plan: &[Decision]) -> Vec<&str> {
        plan.iter()
            .filter(|d| !d.keep)
            .map(|d| d.version.as_str())
            .collect()
    }

    #[test]
    fn the_issues_example_keeps_the_canary_the_rollback_targets_and_the_newest() {
        let plan = plan(&[1, 2, 3, 4, 5, 6, 7, 8, 9], &[live("6", &["7"])], &[], 3);
        assert_eq!(deleted(&plan), ["1", "2", "8"]);
        let why = |v: &str| plan.iter().find(|d| d.version == v).unwrap().why.clone();
        assert!(why("7").contains("routes part"), "{}", why("7"));
        assert!(why("4").contains("rollback target"));
        assert!(why("9").contains("newest"));
    }

    #[test]
    fn other_aliases_and_deployments_in_progress_are_kept_and_no_live_alias_deletes_nothing() {
        let old = AliasRef {
            name: "old".into(),
            primary: "1".into(),
            additional: Vec::new(),
        };
        let plan = plan(
            &[1, 2, 3, 4, 5, 6],
            &[live("6", &[]), old],
            &["2".into()],
            1,
        );
        assert_eq!(deleted(&plan), ["3", "4"]);
        assert!(deleted(&super::plan(&[1, 2, 3], &[], &[], 0)).is_empty());
        assert!(super::plan(&[], &[live("1", &[])], &[], 3).is_empty());
    }
}
