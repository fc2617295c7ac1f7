//! Reading `template.yaml`: CloudFormation's short-form tags become their long form, so
//! the rest of the code sees plain JSON (`!Ref X` → `{"Ref": "X"}`,
//! `!GetAtt A.B` → `{"Fn::GetAtt": ["A", "B"]}`, `!Sub s` → `{"Fn::Sub": s}`).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Map, Value};
use serde_norway::Value as Yaml;

/// A template, parsed.
#[derive(Clone, Debug)]
pub struct Template {
    document: Value,
}

/// The template could not be read or parsed. The message carries the reason itself (no
/// `source()`), so a chain printer such as anyhow's `{:#}` does not say it twice.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The file could not be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: std::io::Error,
    },
    /// The YAML is malformed.
    #[error("{path} is not valid YAML: {reason}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        reason: serde_norway::Error,
    },
    /// The YAML has no `Resources` mapping.
    #[error("{path} has no Resources section")]
    NoResources {
        /// The file.
        path: String,
    },
}

impl Template {
    /// Reads and parses a template file.
    ///
    /// # Errors
    /// [`TemplateError`] says which file and what is wrong.
    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|reason| TemplateError::Read {
            path: name.clone(),
            reason,
        })?;
        Self::parse(&text, &name)
    }

    /// Parses template text; `name` is for error messages.
    ///
    /// # Errors
    /// [`TemplateError`] when it is not YAML or has no resources.
    pub fn parse(text: &str, name: &str) -> Result<Self, TemplateError> {
        let yaml: Yaml = serde_norway::from_str(text).map_err(|reason| TemplateError::Parse {
            path: name.to_owned(),
            reason,
        })?;
        let document = long_form(yaml);
        if !document["Resources"].is_object() {
            return Err(TemplateError::NoResources {
                path: name.to_owned(),
            });
        }
        Ok(Self { document })
    }

    /// Sets parameters as `sam deploy --parameter-overrides` does: each value replaces
    /// the parameter's `Default`, so every intrinsic resolves with it.
    ///
    /// # Errors
    /// The name of a parameter the template does not declare.
    pub fn override_parameters(&mut self, overrides: &[(String, String)]) -> Result<(), String> {
        let declared: Vec<String> = self.document["Parameters"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        for (name, value) in overrides {
            let parameter = self.document["Parameters"]
                .get_mut(name)
                .and_then(Value::as_object_mut)
                .ok_or_else(|| {
                    format!(
                        "the template has no parameter {name}; it has {}",
                        declared.join(", ")
                    )
                })?;
            parameter.insert("Default".to_owned(), Value::String(value.clone()));
        }
        Ok(())
    }

    /// The whole document, in long form.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// The resources by logical id.
    pub fn resources(&self) -> &Map<String, Value> {
        // `parse` checked that Resources is a mapping.
        self.document["Resources"]
            .as_object()
            .unwrap_or_else(|| unreachable!())
    }

    /// The resource `logical_id`, if there is one.
    pub fn resource(&self, logical_id: &str) -> Option<&Value> {
        self.resources().get(logical_id)
    }
}

/// A YAML value in CloudFormation's long form.
pub fn long_form(yaml: Yaml) -> Value {
    match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => serde_json::to_value(n).unwrap_or(Value::Null),
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(long_form).collect()),
        Yaml::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| {
                    let key = match key {
                        Yaml::String(s) => s,
                        other => serde_norway::to_string(&other)
                            .unwrap_or_default()
                            .trim()
                            .to_owned(),
                    };
                    (key, long_form(value))
                })
                .collect(),
        ),
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let value = long_form(tagged.value);
            let key = if tag == "Ref" {
                "Ref".to_owned()
            } else {
                format!("Fn::{tag}")
            };
            let value = match (tag, value) {
                ("GetAtt", Value::String(dotted)) => match dotted.split_once('.') {
                    Some((resource, attribute)) => serde_json::json!([resource, attribute]),
                    None => Value::String(dotted),
                },
                (_, value) => value,
            };
            let mut object = Map::new();
            object.insert(key, value);
            Value::Object(object)
        }
    }
}

/// Every logical id a value refers to: `Ref` (`X` and `X.Version`), `Fn::GetAtt`, and
/// `${X}` / `${X.Attribute}` inside `Fn::Sub` strings (pseudo parameters excluded).
pub fn references(value: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    collect_references(value, &mut found);
    found
}

fn collect_references(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("Ref", Value::String(id)) => {
                        let id = id.split('.').next().unwrap_or(id);
                        if !id.starts_with("AWS::") {
                            found.insert(id.to_owned());
                        }
                    }
                    ("Fn::GetAtt", Value::Array(parts)) => {
                        if let Some(id) = parts.first().and_then(Value::as_str) {
                            found.insert(id.to_owned());
                        }
                    }
                    ("Fn::Sub", Value::String(text)) => sub_references(text, found),
                    ("Fn::Sub", Value::Array(parts)) => {
                        if let Some(text) = parts.first().and_then(Value::as_str) {
                            sub_references(text, found);
                        }
                        if let Some(variables) = parts.get(1) {
                            collect_references(variables, found);
                        }
                    }
                    _ => collect_references(inner, found),
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_references(item, found)),
        _ => {}
    }
}

fn sub_references(text: &str, found: &mut BTreeSet<String>) {
    for piece in text.split("${").skip(1) {
        let id = piece.split(['}', '.']).next().unwrap_or_default();
        if !id.is_empty() && !id.starts_with("AWS::") && !id.starts_with('!') {
            found.insert(id.to_owned());
        }
    }
}

/// A resource's name in the dependency tags: its logical id in kebab case, less a
/// `Function` suffix (`AddCommentsFunction` → `add-comments`, `CommentsDlq` →
/// `comments-dlq`).
pub fn talk_name(logical_id: &str) -> String {
    let id = logical_id.strip_suffix("Function").unwrap_or(logical_id);
    let mut name = String::with_capacity(id.len() + 4);
    for (i, c) in id.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            name.push('-');
        }
        name.push(c.to_ascii_lowercase());
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_form_tags_become_long_form() {
        let template = Template::parse(
            "Resources:\n  A:\n    Type: X\n    Properties:\n      R: !Ref B\n      G: !GetAtt C.Arn\n      S: !Sub \"${D}/${E.Arn}/${AWS::Region}\"\n      V: !Ref F.Version\n",
            "t",
        )
        .unwrap();
        let properties = &template.resource("A").unwrap()["Properties"];
        assert_eq!(properties["R"], serde_json::json!({"Ref": "B"}));
        assert_eq!(
            properties["G"],
            serde_json::json!({"Fn::GetAtt": ["C", "Arn"]})
        );
        let refs: Vec<String> = references(properties).into_iter().collect();
        assert_eq!(refs, ["B", "C", "D", "E", "F"]);
    }

    #[test]
    fn names_are_kebab_case_without_the_function_suffix() {
        assert_eq!(talk_name("AddCommentsFunction"), "add-comments");
        assert_eq!(talk_name("CommentsDlq"), "comments-dlq");
        assert_eq!(talk_name("FeedbackApi"), "feedback-api");
    }

    #[test]
    fn a_template_without_resources_is_an_error() {
        assert!(matches!(
            Template::parse("Parameters: {}\n", "t"),
            Err(TemplateError::NoResources { .. })
        ));
        assert!(matches!(
            Template::parse("Resources: [\n", "t"),
            Err(TemplateError::Parse { .. })
        ));
    }
}
