//! Secret fields of a configuration: those its schema marks `multiwoven_secret: true`.

use serde_json::Value;

/// What a secret value looks like in a response.
pub const MASK: &str = "*************";

/// `value` with every secret field, at any depth, replaced by [`MASK`].
///
/// It follows the schema through `properties`, `items` and `additionalProperties`, so a
/// secret nested in objects or arrays is masked too; a value the schema does not describe
/// is kept as it is.
pub fn mask(schema: &Value, value: &Value) -> Value {
    if schema.get("multiwoven_secret").and_then(Value::as_bool) == Some(true) && !value.is_null() {
        return Value::String(MASK.to_owned());
    }
    match value {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(key, member)| {
                    let member_schema = schema
                        .get("properties")
                        .and_then(|p| p.get(key))
                        .or_else(|| schema.get("additionalProperties").filter(|s| s.is_object()));
                    let masked = match member_schema {
                        Some(member_schema) => mask(member_schema, member),
                        None => member.clone(),
                    };
                    (key.clone(), masked)
                })
                .collect(),
        ),
        Value::Array(items) => match schema.get("items") {
            Some(item_schema) => Value::Array(items.iter().map(|item| mask(item_schema, item)).collect()),
            None => value.clone(),
        },
        _ => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_masked_at_any_depth() {
        let schema = json!({"properties": {
            "host": {"type": "string"},
            "credentials": {"properties": {"password": {"multiwoven_secret": true}}},
            "keys": {"items": {"properties": {"token": {"multiwoven_secret": true}}}},
            "api_key": {"multiwoven_secret": true}
        }});
        let value = json!({
            "host": "db", "api_key": "k1",
            "credentials": {"username": "u", "password": "p1"},
            "keys": [{"token": "t1", "name": "a"}, {"token": "t2"}]
        });
        assert_eq!(
            mask(&schema, &value),
            json!({
                "host": "db", "api_key": MASK,
                "credentials": {"username": "u", "password": MASK},
                "keys": [{"token": MASK, "name": "a"}, {"token": MASK}]
            })
        );
    }
}
