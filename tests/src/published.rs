//! The published AI Squared API (`tests/specs/ai-squared-published.yaml`, as published) as a
//! judge of our answers: where our spec carries a published operation, the body we answer must
//! be valid against the published response schema, so that a client written to the published
//! document reads it.

use serde_json::Value;

/// Checks `body` against the published schema of the `status` response of `method` `path`;
/// panics naming every place where it is not valid.
pub fn assert_published_shape(path: &str, method: &str, status: u16, body: &Value) {
    let schema = response_schema(path, method, status);
    let validator = jsonschema::validator_for(&schema).expect("the published schema compiles");
    let errors: Vec<String> =
        validator.iter_errors(body).map(|error| format!("{} at {}", error, error.instance_path)).collect();
    assert!(errors.is_empty(), "{method} {path} {status}: not the published shape: {errors:#?}\n{body:#}");
}

/// The published JSON schema of a response, as JSON Schema: OpenAPI 3.0's `nullable` becomes a
/// `null` type; the published response schemas of the operations we check are inline.
fn response_schema(path: &str, method: &str, status: u16) -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/specs/ai-squared-published.yaml"))
        .expect("the published document");
    let document: Value = serde_yaml::from_str(&text).expect("the published document is YAML");
    let schema = document
        .pointer(&format!(
            "/paths/{}/{method}/responses/{status}/content/application~1json/schema",
            path.replace('~', "~0").replace('/', "~1")
        ))
        .unwrap_or_else(|| panic!("the published document has no JSON {status} response of {method} {path}"))
        .clone();
    json_schema(schema)
}

fn json_schema(schema: Value) -> Value {
    match schema {
        Value::Object(mut object) => {
            if object.remove("nullable") == Some(Value::Bool(true))
                && let Some(Value::String(kind)) = object.get("type").cloned()
            {
                object.insert("type".into(), Value::Array(vec![Value::String(kind), "null".into()]));
            }
            Value::Object(object.into_iter().map(|(key, value)| (key, json_schema(value))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(json_schema).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::assert_published_shape;

    #[test]
    fn a_body_not_of_the_published_shape_is_refused() {
        let path = "/enterprise/api/v1/syncs/{sync_id}/test";
        assert_published_shape(path, "post", 200, &json!({"message": "Sync test triggered successfully"}));
        let wrong = std::panic::catch_unwind(|| assert_published_shape(path, "post", 200, &json!({"message": 1})));
        assert!(wrong.is_err(), "a number where the published document says string");
    }
}
