//! What real specs write loosely and the generators can still read: rewritten once, in the
//! document every generator (and progenitor) reads, each with a warning that names the place
//! and what was read (none for a reference, whose meaning is unchanged).
//!
//! A `$ref` is a URI, so its fragment (the JSON Pointer) may be percent-encoded
//! (`#/paths/~1companies~1%7BcompanyId%7D`); RFC 6901 decodes it before reading the pointer.
//! Every reference is decoded here, once, so that nothing downstream resolves two spellings.
//!
//! Of schemas, only their `enum`s:
//!
//! - a value of another JSON type than the schema's `type` that reads as one (`"1"` in an
//!   integer enum, `1` in a string enum) is that value;
//! - `null` among the values of a schema that is not `nullable` makes it nullable (OpenAPI
//!   3.0 admits `null` only so);
//! - values of several JSON types with no `type`, values of the wrong type that read as none,
//!   objects or arrays, an empty enum, or one of `null` alone: the `enum` is dropped (any value
//!   of the type), since no Rust type holds exactly those values.

use serde_json::{Number, Value};

use super::naming::join;
use super::schemas::enum_kind;

/// Percent-decodes the fragment of every `$ref` under `value`.
pub(super) fn decode_references(value: &mut Value) {
    match value {
        Value::Object(members) => {
            for (key, member) in members.iter_mut() {
                match member {
                    Value::String(reference) if key == "$ref" && reference.contains('%') => {
                        if let Ok(decoded) = percent_encoding::percent_decode_str(reference).decode_utf8() {
                            *reference = decoded.into_owned();
                        }
                    }
                    _ => decode_references(member),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(decode_references),
        _ => {}
    }
}

/// Rewrites the loose `enum`s of every schema under `value` (at `location`).
pub(super) fn tighten_enums(value: &mut Value, location: &str, warnings: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            let is_schema_enum = members.get("enum").is_some_and(Value::is_array) && !members.contains_key("in");
            if is_schema_enum {
                tighten(members, location, warnings);
            }
            for (key, member) in members.iter_mut() {
                if key == "enum" || key == "example" || key == "examples" || key == "default" {
                    continue;
                }
                tighten_enums(member, &join(location, key), warnings);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                tighten_enums(item, &join(location, &index.to_string()), warnings);
            }
        }
        _ => {}
    }
}

/// `value` as a value of JSON type `ty`, when it reads as one.
fn as_type(value: &Value, ty: &str) -> Option<Value> {
    match (ty, value) {
        ("string", Value::String(_)) | ("boolean", Value::Bool(_)) | ("number", Value::Number(_)) => {
            Some(value.clone())
        }
        ("integer", Value::Number(n)) if n.is_i64() || n.is_u64() => Some(value.clone()),
        ("integer", Value::Number(n)) => {
            n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9e15).map(|f| Value::from(f as i64))
        }
        ("string", Value::Number(n)) => Some(Value::String(n.to_string())),
        ("string", Value::Bool(b)) => Some(Value::String(b.to_string())),
        ("integer", Value::String(text)) => text.trim().parse::<i64>().ok().map(Value::from),
        ("number", Value::String(text)) => {
            text.trim().parse::<f64>().ok().and_then(Number::from_f64).map(|n| {
                // A whole number stays an integer (`"1"` is 1, not 1.0).
                text.trim().parse::<i64>().map(Value::from).unwrap_or(Value::Number(n))
            })
        }
        ("boolean", Value::String(text)) => text.trim().parse::<bool>().ok().map(Value::Bool),
        _ => None,
    }
}

fn tighten(schema: &mut serde_json::Map<String, Value>, location: &str, warnings: &mut Vec<String>) {
    let at = join(location, "enum");
    let values = schema["enum"].as_array().cloned().unwrap_or_default();
    let has_null = values.iter().any(Value::is_null);
    let declared = schema.get("type").and_then(Value::as_str).map(str::to_owned);
    let others: Vec<Value> = values.iter().filter(|v| !v.is_null()).cloned().collect();
    if has_null && schema.get("nullable") != Some(&Value::Bool(true)) {
        warnings.push(format!("{at}: `null` among the values; the value is nullable"));
        schema.insert("nullable".into(), Value::Bool(true));
    }
    if others.is_empty() {
        let why = if has_null { "only `null`" } else { "no value" };
        warnings.push(format!("{at}: an enum of {why}; the enum is dropped and the value is not checked"));
        schema.remove("enum");
        return;
    }
    let structured = |v: &Value| v.is_object() || v.is_array();
    if matches!(declared.as_deref(), Some("object" | "array")) || others.iter().any(structured) {
        warnings.push(format!(
            "{at}: an enum of objects or arrays; no Rust type holds exactly those values, so the enum is dropped \
             and the value is not checked against it"
        ));
        schema.remove("enum");
        return;
    }
    let ty = match declared.as_deref() {
        Some(ty @ ("string" | "integer" | "number" | "boolean")) => ty.to_owned(),
        Some(_) => return,
        None => match enum_kind(&Value::Array(others.clone())) {
            Some(_) => return,
            None => {
                warnings.push(format!(
                    "{at}: values of several JSON types and no `type`; the enum is dropped and the value is not \
                     checked"
                ));
                schema.remove("enum");
                return;
            }
        },
    };
    let converted: Vec<Option<Value>> = others.iter().map(|v| as_type(v, &ty)).collect();
    let changed: Vec<String> = others
        .iter()
        .zip(&converted)
        .filter(|(original, read)| read.as_ref() != Some(*original))
        .map(|(original, _)| original.to_string())
        .collect();
    if changed.is_empty() {
        return;
    }
    if converted.iter().any(Option::is_none) {
        warnings.push(format!(
            "{at}: values that are not of type {ty} ({}); the enum is dropped and the value is not checked",
            changed.join(", ")
        ));
        schema.remove("enum");
        return;
    }
    warnings.push(format!("{at}: values written as another JSON type ({}) are read as {ty}s", changed.join(", ")));
    let mut tightened: Vec<Value> = converted.into_iter().flatten().collect();
    tightened.dedup();
    if has_null {
        tightened.push(Value::Null);
    }
    schema.insert("enum".into(), Value::Array(tightened));
}
