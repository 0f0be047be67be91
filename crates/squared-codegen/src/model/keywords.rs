//! What schema keywords are, as every reader of a schema asks: which only annotate, and which
//! JSON type an enum's values have. It reads nothing but the values it is given.

use serde_json::Value;

/// Keywords that describe a value without constraining its shape.
pub fn is_annotation(keyword: &str) -> bool {
    matches!(
        keyword,
        "description" | "title" | "example" | "examples" | "externalDocs" | "deprecated" | "nullable" | "default"
    ) || keyword.starts_with("x-")
}

/// The type of an enum's values when its schema has no `type`: all strings, all integers or
/// all numbers (`null` aside).
pub fn enum_kind(values: &Value) -> Option<&'static str> {
    let values: Vec<&Value> = values.as_array()?.iter().filter(|v| !v.is_null()).collect();
    if values.iter().all(|v| v.is_string()) {
        Some("string")
    } else if values.iter().all(|v| v.is_i64() || v.is_u64()) {
        Some("integer")
    } else if values.iter().all(|v| v.is_number()) {
        Some("number")
    } else if values.iter().all(|v| v.is_boolean()) {
        Some("boolean")
    } else {
        None
    }
}
