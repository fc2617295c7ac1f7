//! CloudFormation's intrinsic functions, resolved as CloudFormation would for a stack:
//! `Ref` (pseudo parameters, parameter defaults, physical names), `Fn::GetAtt … .Arn`,
//! `Fn::Sub`, `Fn::If` on the template's conditions, `Fn::FindInMap`, `Fn::Equals`,
//! `Fn::Not`. Anything else is an error that names it, never a silent guess.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{ACCOUNT, Template};

/// A resolution failed: the template uses something the local stack cannot resolve.
#[derive(Debug, thiserror::Error)]
#[error("template.yaml: {0}")]
pub struct ModelError(pub(crate) String);

/// The physical values a `Ref` and a `GetAtt … .Arn` resolve to.
#[derive(Clone, Debug, Default)]
pub struct Physical {
    pub(crate) refs: BTreeMap<String, String>,
    pub(crate) arns: BTreeMap<String, String>,
}

impl Physical {
    /// Sets what `Ref logical_id` is, and its ARN.
    pub fn set(&mut self, logical_id: &str, reference: String, arn: String) {
        self.refs.insert(logical_id.to_owned(), reference);
        self.arns.insert(logical_id.to_owned(), arn);
    }

    /// What `Ref logical_id` resolves to.
    pub fn reference(&self, logical_id: &str) -> Option<String> {
        self.refs.get(logical_id).cloned()
    }
}

/// Resolves intrinsics against a template, a stack name, a region and what exists.
pub(crate) struct Resolver<'a> {
    pub(crate) template: &'a Template,
    pub(crate) stack_name: &'a str,
    pub(crate) region: &'a str,
    pub(crate) physical: &'a Physical,
}

impl Resolver<'_> {
    fn parameter(&self, name: &str) -> Option<Value> {
        self.template.document()["Parameters"][name]
            .get("Default")
            .map(|value| match value {
                Value::Number(n) => Value::String(n.to_string()),
                other => other.clone(),
            })
    }

    fn pseudo(&self, name: &str) -> Option<String> {
        Some(match name {
            "AWS::StackName" => self.stack_name.to_owned(),
            "AWS::Region" => self.region.to_owned(),
            "AWS::AccountId" => ACCOUNT.to_owned(),
            "AWS::Partition" => "aws".to_owned(),
            "AWS::URLSuffix" => "amazonaws.com".to_owned(),
            _ => return None,
        })
    }

    fn reference(&self, name: &str) -> Result<Value, ModelError> {
        if let Some(value) = self.pseudo(name) {
            return Ok(Value::String(value));
        }
        if name == "AWS::NoValue" {
            return Ok(Value::Null);
        }
        if let Some(value) = self.parameter(name) {
            return Ok(value);
        }
        if let Some((function, "Version")) = name.split_once('.') {
            let arn = self.arn(function)?;
            return Ok(Value::String(format!("{arn}:1")));
        }
        self.physical
            .refs
            .get(name)
            .map(|value| Value::String(value.clone()))
            .ok_or_else(|| ModelError(format!("!Ref {name}: nothing local has that name")))
    }

    fn arn(&self, logical_id: &str) -> Result<String, ModelError> {
        self.physical
            .arns
            .get(logical_id)
            .cloned()
            .ok_or_else(|| ModelError(format!("!GetAtt {logical_id}.Arn: no such local resource")))
    }

    fn condition(&self, name: &str) -> Result<bool, ModelError> {
        let condition = &self.template.document()["Conditions"][name];
        if condition.is_null() {
            return Err(ModelError(format!("no condition named {name}")));
        }
        self.truth(condition)
    }

    fn truth(&self, value: &Value) -> Result<bool, ModelError> {
        if let Some(name) = value.get("Condition").and_then(Value::as_str) {
            return self.condition(name);
        }
        match self.resolve(value)? {
            Value::Bool(b) => Ok(b),
            Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
            other => Err(ModelError(format!("a condition resolved to {other}"))),
        }
    }

    pub(crate) fn resolve(&self, value: &Value) -> Result<Value, ModelError> {
        match value {
            Value::Array(items) => Ok(Value::Array(
                items
                    .iter()
                    .map(|item| self.resolve(item))
                    .filter(|item| !matches!(item, Ok(Value::Null)))
                    .collect::<Result<_, _>>()?,
            )),
            Value::Object(map) if map.len() == 1 => {
                let (key, inner) = map.iter().next().unwrap_or_else(|| unreachable!());
                self.intrinsic(key, inner)
                    .unwrap_or_else(|| self.resolve_object(map))
            }
            Value::Object(map) => self.resolve_object(map),
            other => Ok(other.clone()),
        }
    }

    fn resolve_object(&self, map: &Map<String, Value>) -> Result<Value, ModelError> {
        let mut out = Map::new();
        for (key, inner) in map {
            let resolved = self.resolve(inner)?;
            if !resolved.is_null() {
                out.insert(key.clone(), resolved);
            }
        }
        Ok(Value::Object(out))
    }

    /// `None` when `key` is not an intrinsic function.
    fn intrinsic(&self, key: &str, inner: &Value) -> Option<Result<Value, ModelError>> {
        let text = |v: Value| match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        Some(match (key, inner) {
            ("Ref", Value::String(name)) => self.reference(name),
            ("Fn::GetAtt", Value::Array(parts)) => {
                match (
                    parts.first().and_then(Value::as_str),
                    parts.get(1).and_then(Value::as_str),
                ) {
                    (Some(id), Some("Arn")) => self.arn(id).map(Value::String),
                    // An SQS queue's name is the last part of its ARN.
                    (Some(id), Some("QueueName")) => self.arn(id).and_then(|arn| {
                        arn.contains(":sqs:")
                            .then(|| arn.rsplit(':').next().unwrap_or_default().to_owned())
                            .map(Value::String)
                            .ok_or_else(|| {
                                ModelError(format!("!GetAtt {id}.QueueName: {id} is not a queue"))
                            })
                    }),
                    (id, attribute) => Err(ModelError(format!(
                        "!GetAtt {}.{}: only .Arn and a queue's .QueueName resolve locally",
                        id.unwrap_or("?"),
                        attribute.unwrap_or("?")
                    ))),
                }
            }
            ("Fn::Sub", Value::String(template)) => self.sub(template).map(Value::String),
            ("Fn::If", Value::Array(parts)) if parts.len() == 3 => {
                let name = parts[0].as_str().unwrap_or_default();
                self.condition(name)
                    .and_then(|yes| self.resolve(if yes { &parts[1] } else { &parts[2] }))
            }
            ("Fn::Equals", Value::Array(parts)) if parts.len() == 2 => {
                match (self.resolve(&parts[0]), self.resolve(&parts[1])) {
                    (Ok(a), Ok(b)) => Ok(Value::Bool(text(a) == text(b))),
                    (Err(e), _) | (_, Err(e)) => Err(e),
                }
            }
            ("Fn::Not", Value::Array(parts)) if parts.len() == 1 => {
                self.truth(&parts[0]).map(|b| Value::Bool(!b))
            }
            ("Fn::FindInMap", Value::Array(parts)) if parts.len() == 3 => {
                let keys: Result<Vec<String>, _> = parts
                    .iter()
                    .map(|part| self.resolve(part).map(text))
                    .collect();
                keys.and_then(|keys| {
                    let found = &self.template.document()["Mappings"][&keys[0]][&keys[1]][&keys[2]];
                    if found.is_null() {
                        Err(ModelError(format!("!FindInMap {keys:?}: no such entry")))
                    } else {
                        Ok(found.clone())
                    }
                })
            }
            _ if key.starts_with("Fn::") => Err(ModelError(format!(
                "{key} is not resolved by the local stack"
            ))),
            _ => return None,
        })
    }

    fn sub(&self, template: &str) -> Result<String, ModelError> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| ModelError(format!("!Sub {template:?}: unclosed ${{")))?;
            let name = &after[..end];
            let value = if let Some(literal) = name.strip_prefix('!') {
                format!("${{{literal}}}")
            } else if let Some((id, "Arn")) = name.split_once('.') {
                self.arn(id)?
            } else {
                match self.reference(name)? {
                    Value::String(s) => s,
                    other => other.to_string(),
                }
            };
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudformation::StackModel;

    fn resolver_on<'a>(template: &'a Template, physical: &'a Physical) -> Resolver<'a> {
        Resolver {
            template,
            stack_name: "s",
            region: "r",
            physical,
        }
    }

    #[test]
    fn sub_and_conditions_resolve() {
        let template = Template::parse(
            "Parameters:\n  Env: {Type: String, Default: dev}\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\nResources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      P: !If [IsProd, yes, no]\n      S: !Sub \"${AWS::StackName}/${T.Arn}/${!Literal}\"\n",
            "t",
        )
        .unwrap();
        let model = StackModel::read(&template, "s", "r").unwrap();
        let properties = &model.tables[0].properties;
        assert_eq!(properties["P"], "no");
        assert_eq!(
            properties["S"],
            format!("s/arn:aws:dynamodb:r:{ACCOUNT}:table/s-T/${{Literal}}")
        );
    }

    #[test]
    fn what_cannot_resolve_is_named() {
        let template = Template::parse(
            "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      X: !Ref Nowhere\n",
            "t",
        )
        .unwrap();
        let error = StackModel::read(&template, "s", "r").unwrap_err();
        assert!(error.to_string().contains("!Ref Nowhere"), "{error}");
    }
    #[test]
    fn find_in_map_not_and_pseudo_parameters_resolve_and_no_value_drops_a_member() {
        let template = Template::parse(
            "Mappings:\n  M: {dev: {Size: 128}}\nConditions:\n  Yes: !Not [!Equals [a, b]]\nResources: {}\n",
            "t",
        )
        .unwrap();
        let physical = Physical::default();
        let resolver = resolver_on(&template, &physical);
        let value = serde_json::json!({
            "size": {"Fn::FindInMap": ["M", "dev", "Size"]},
            "yes": {"Fn::If": ["Yes", {"Ref": "AWS::AccountId"}, "no"]},
            "gone": {"Ref": "AWS::NoValue"},
            "region": {"Fn::Sub": "${AWS::Region}-${AWS::Partition}"},
        });
        let answer = resolver.resolve(&value).unwrap();
        assert_eq!(answer["size"], 128);
        assert_eq!(answer["yes"], ACCOUNT);
        assert!(answer.get("gone").is_none());
        assert_eq!(answer["region"], "r-aws");
        for unsupported in [
            serde_json::json!({"Fn::GetAtt": ["T", "StreamArn"]}),
            serde_json::json!({"Fn::ImportValue": "x"}),
            serde_json::json!({"Fn::Sub": "${unclosed"}),
            serde_json::json!({"Fn::FindInMap": ["M", "prod", "Size"]}),
        ] {
            assert!(resolver.resolve(&unsupported).is_err(), "{unsupported}");
        }
    }
}
