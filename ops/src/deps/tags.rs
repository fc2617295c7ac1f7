//! The talk's dependency tags: `Upstream` and `Downstream`, each `Kind:name[,name…]`
//! entries joined by `;`, kinds `Fn`, `SQS`, `DDB` and `API`.
//!
//! ```text
//! Upstream:   Fn:add-comments-3,status-2
//! Downstream: Fn:push-to-db-1;SQS:comments-queue
//! ```
//!
//! A function name may carry the version that was live when the tag was written
//! (`add-comments-3`), as in the talk. An empty value means "none".

use std::fmt;

/// A node kind in the tags' grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Kind {
    /// A Lambda function.
    #[serde(rename = "Fn")]
    Function,
    /// An SQS queue.
    #[serde(rename = "SQS")]
    Queue,
    /// A DynamoDB table.
    #[serde(rename = "DDB")]
    Table,
    /// An API Gateway API.
    #[serde(rename = "API")]
    Api,
}

impl Kind {
    /// The kind's name in tags: `Fn`, `SQS`, `DDB`, `API`.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Function => "Fn",
            Self::Queue => "SQS",
            Self::Table => "DDB",
            Self::Api => "API",
        }
    }

    /// A kind from its tag name.
    pub fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            "Fn" => Some(Self::Function),
            "SQS" => Some(Self::Queue),
            "DDB" => Some(Self::Table),
            "API" => Some(Self::Api),
            _ => None,
        }
    }

    /// The kind's label in exports: `function`, `queue`, `table`, `api`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Function => "function",
            Self::Queue => "queue",
            Self::Table => "table",
            Self::Api => "api",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// One `Kind:name` of a tag.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TagEntry {
    /// Its kind.
    pub kind: Kind,
    /// The name as written, version included (`add-comments-3`).
    pub name: String,
}

/// A tag that does not follow the grammar, with where and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{function}: tag {tag} = {value:?}: at character {position}: {reason}")]
pub struct TagError {
    /// The function whose tag it is.
    pub function: String,
    /// `Upstream` or `Downstream`.
    pub tag: String,
    /// The tag's value.
    pub value: String,
    /// 1-based character position of the problem.
    pub position: usize,
    /// What is wrong, and what is expected.
    pub reason: String,
}

/// Parses a tag value. `function` and `tag` are only for the error message.
///
/// # Errors
/// [`TagError`] at the first entry that breaks the grammar.
pub fn parse_tag(function: &str, tag: &str, value: &str) -> Result<Vec<TagEntry>, TagError> {
    let error = |position: usize, reason: String| TagError {
        function: function.to_owned(),
        tag: tag.to_owned(),
        value: value.to_owned(),
        position,
        reason,
    };
    let mut entries = Vec::new();
    if value.trim().is_empty() {
        return Ok(entries);
    }
    let mut offset = 0;
    for entry in value.split(';') {
        let start = offset + 1;
        offset += entry.chars().count() + 1;
        let Some((kind, names)) = entry.split_once(':') else {
            return Err(error(
                start,
                format!(
                    "{entry:?} has no kind: write Kind:name, with Kind one of Fn, SQS, DDB, API"
                ),
            ));
        };
        let kind = Kind::from_tag(kind.trim()).ok_or_else(|| {
            error(
                start,
                format!("unknown kind {kind:?}: expected Fn, SQS, DDB or API"),
            )
        })?;
        let mut name_offset = start + entry.find(':').unwrap_or(0) + 1;
        for name in names.split(',') {
            let trimmed = name.trim();
            if trimmed.is_empty() {
                return Err(error(
                    name_offset,
                    "empty name: remove the extra ',' or ';'".into(),
                ));
            }
            if let Some(bad) = trimmed
                .chars()
                .position(|c| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
            {
                return Err(error(
                    name_offset + bad,
                    format!("{trimmed:?}: a name has only letters, digits and - _ ."),
                ));
            }
            entries.push(TagEntry {
                kind,
                name: trimmed.to_owned(),
            });
            name_offset += name.chars().count() + 1;
        }
    }
    Ok(entries)
}

/// `add-comments-3` → `("add-comments", Some(3))`; a name without a numeric suffix is
/// its own base.
pub fn split_version(name: &str) -> (&str, Option<u32>) {
    match name.rsplit_once('-') {
        Some((base, version))
            if !base.is_empty() && version.chars().all(|c| c.is_ascii_digit()) =>
        {
            (base, version.parse().ok())
        }
        _ => (name, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(value: &str) -> Vec<(Kind, String)> {
        parse_tag("f", "Downstream", value)
            .unwrap()
            .into_iter()
            .map(|e| (e.kind, e.name))
            .collect()
    }

    #[test]
    fn the_talks_examples_parse() {
        assert_eq!(
            entries("Fn:add-comments-3,status-2"),
            [
                (Kind::Function, "add-comments-3".into()),
                (Kind::Function, "status-2".into())
            ]
        );
        assert_eq!(
            entries("Fn:push-to-db-1;SQS:comments-queue"),
            [
                (Kind::Function, "push-to-db-1".into()),
                (Kind::Queue, "comments-queue".into())
            ]
        );
        assert!(entries("").is_empty());
    }

    #[test]
    fn errors_name_the_function_the_tag_and_the_position() {
        let error = parse_tag("status", "Upstream", "API:feedback-api;Queue:q").unwrap_err();
        assert_eq!(error.position, 18);
        assert_eq!(
            error.to_string(),
            "status: tag Upstream = \"API:feedback-api;Queue:q\": at character 18: unknown kind \"Queue\": expected Fn, SQS, DDB or API"
        );
        assert_eq!(parse_tag("f", "t", "SQS:a,,b").unwrap_err().position, 7);
        assert_eq!(
            parse_tag("f", "t", "comments-queue").unwrap_err().position,
            1
        );
        assert_eq!(parse_tag("f", "t", "SQS:a;").unwrap_err().position, 7);
        assert_eq!(parse_tag("f", "t", "SQS:a b").unwrap_err().position, 6);
    }

    #[test]
    fn versions_split_off_only_numeric_suffixes() {
        assert_eq!(split_version("add-comments-3"), ("add-comments", Some(3)));
        assert_eq!(split_version("comments-queue"), ("comments-queue", None));
        assert_eq!(split_version("status"), ("status", None));
    }
}
