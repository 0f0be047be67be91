//! What real specs write loosely and the generators can still read: rewritten once, in the
//! document every generator (and progenitor) reads, each with a warning that names the place
//! and what was read (none for a reference, whose meaning is unchanged).
//!
//! A `$ref` is a URI, so its fragment (the JSON Pointer) may be percent-encoded
//! (`#/paths/~1companies~1%7BcompanyId%7D`); RFC 6901 decodes it before reading the pointer.
//! Every reference is decoded here, once, so that nothing downstream resolves two spellings.
//!
//! A reference to a path item, or to a parameter, response, header or request body inside one
//! (not in `components`), is replaced by a copy of what it names, as if it were written there.
//!
//! A `pattern` or `format` that is not a string, `properties` beside another type than
//! `object` and `items` beside another than `array`, a `not` beside other constraints, callbacks given by reference and `trace`
//! operations are left out ([`drop_unreadable`]).
//!
//! A path key with a query (`/uploads?convert={convert}`) becomes the path with a `#fragment`
//! ([`query_in_path_keys`]).
//!
//! A `type` or `enum` beside `oneOf`/`anyOf` moves into the alternatives
//! ([`share_with_alternatives`]).
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

use super::keywords::{enum_kind, is_annotation};
use super::naming::join;

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

/// Whether `reference` names a path item, or a parameter, response, header or request body
/// inside one (`#/paths/~1chargers/get/parameters/0`), which specs reuse as if it were a
/// component.
fn is_path_reference(reference: &str) -> bool {
    let Some(rest) = reference.strip_prefix("#/paths/") else { return false };
    let tokens: Vec<&str> = rest.split('/').collect();
    match tokens.as_slice() {
        [_path_item] => true,
        [.., "parameters", index] => index.parse::<usize>().is_ok(),
        [.., "responses", _] | [.., "headers", _] => true,
        [.., "requestBody"] => true,
        _ => false,
    }
}

/// What a local reference names, following the references met on the way (a pointer through
/// `/responses/200/headers/x` where that response is itself a `$ref`).
fn follow<'v>(document: &'v Value, reference: &str) -> Option<&'v Value> {
    let mut current = document;
    for token in reference.strip_prefix("#/")?.split('/') {
        for _ in 0..8 {
            match current.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
                Some(pointer) => current = document.pointer(pointer)?,
                None => break,
            }
        }
        let token = token.replace("~1", "/").replace("~0", "~");
        current = match current {
            Value::Object(members) => members.get(&token)?,
            Value::Array(items) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

/// Replaces every reference to a parameter, response, header or request body inside a path
/// item by a copy of it: OpenAPI allows any local reference, and those are what the model (and
/// progenitor) resolve only in `components`. References to schemas anywhere stay.
pub(super) fn inline_path_references(document: &mut Value) {
    fn any(value: &Value) -> bool {
        match value {
            Value::Object(members) => {
                members.get("$ref").and_then(Value::as_str).is_some_and(is_path_reference) || members.values().any(any)
            }
            Value::Array(items) => items.iter().any(any),
            _ => false,
        }
    }
    fn inline(value: &mut Value, original: &Value, depth: usize) {
        match value {
            Value::Object(members) => {
                let reference = members.get("$ref").and_then(Value::as_str).filter(|r| is_path_reference(r));
                if let Some(reference) = reference {
                    let mut target = follow(original, reference).cloned();
                    // A reference to a reference: followed a few steps.
                    for _ in 0..8 {
                        match target.as_ref().and_then(|t| t.get("$ref")).and_then(Value::as_str) {
                            Some(next) if is_path_reference(next) => target = follow(original, next).cloned(),
                            _ => break,
                        }
                    }
                    if let Some(target) = target {
                        *value = target;
                        // What it names may itself refer into a path item.
                        if depth < 8 {
                            inline(value, original, depth + 1);
                        }
                    }
                    return;
                }
                members.values_mut().for_each(|member| inline(member, original, depth));
            }
            Value::Array(items) => items.iter_mut().for_each(|item| inline(item, original, depth)),
            _ => {}
        }
    }
    if any(document) {
        let original = document.clone();
        inline(document, &original, 0);
    }
}

/// Leaves out, each with a warning, what no generator reads and the document's validation
/// would trip over: a `pattern` or `format` that is not a string, a `not` beside keywords that
/// constrain the value too (only one of the two can be a Rust type: the other keywords are
/// kept), callbacks given by reference, and `trace` operations (dropshot and progenitor serve
/// and send the other methods).
pub(super) fn drop_unreadable(value: &mut Value, location: &str, warnings: &mut Vec<String>) {
    visit_objects(value, location, &mut |members, location| {
        for keyword in ["pattern", "format"] {
            if members.get(keyword).is_some_and(|v| !v.is_string() && !v.is_object()) {
                let dropped = members.remove(keyword).expect("checked");
                warnings.push(format!("{}: {dropped} is not a string; left out", join(location, keyword)));
            }
        }
        // `properties` beside `type: array` (or a scalar type), or `items` beside a type other
        // than `array`, describe nothing a value of that type has: the declared type wins.
        if let Some(ty) = members.get("type").and_then(Value::as_str).map(str::to_owned) {
            let wrong: &[&str] = match ty.as_str() {
                "object" => &["items"],
                "array" => &["properties", "additionalProperties"],
                _ => &["properties", "additionalProperties", "items"],
            };
            for &keyword in wrong {
                if members.get(keyword).is_some_and(|v| v.is_object() || v.is_boolean()) {
                    members.remove(keyword);
                    warnings.push(format!(
                        "{}: beside `type: {ty}`, which it does not describe; left out",
                        join(location, keyword)
                    ));
                }
            }
        }
        let constrains = |k: &str| !is_annotation(k) && k != "not" && k != "type";
        if members.get("not").is_some_and(Value::is_object) && members.keys().any(|k| constrains(k)) {
            members.remove("not");
            warnings.push(format!(
                "{}: `not` beside other constraints; left out, so values are not checked against it",
                join(location, "not")
            ));
        }
        if members
            .get("callbacks")
            .and_then(Value::as_object)
            .is_some_and(|c| c.values().any(|v| v.get("$ref").is_some()))
        {
            members.remove("callbacks");
            warnings.push(format!(
                "{}: left out: callbacks are requests the API sends, which neither the server trait nor the \
                     client makes",
                join(location, "callbacks")
            ));
        }
        if location.starts_with("#/paths/") && location.matches('/').count() == 2 && members.remove("trace").is_some() {
            warnings.push(format!(
                "{}: left out: the generators serve and send the other methods",
                join(location, "trace")
            ));
        }
    });
}

/// Calls `visit` on every object under `value` (with its location), parents first, except
/// inside values (`enum`, `example`, `examples`, `default`), which hold data, not schemas.
fn visit_objects(value: &mut Value, location: &str, visit: &mut dyn FnMut(&mut serde_json::Map<String, Value>, &str)) {
    match value {
        Value::Object(members) => {
            visit(members, location);
            for (key, member) in members.iter_mut() {
                if !matches!(key.as_str(), "enum" | "example" | "examples" | "default") {
                    visit_objects(member, &join(location, key), visit);
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                visit_objects(item, &join(location, &index.to_string()), visit);
            }
        }
        _ => {}
    }
}

/// Rewrites each path key with a query in it (`/uploads?convert={convert}`, not OpenAPI but
/// written) as the path with a `#fragment` of the conditions its query states
/// (`/uploads#convert`), the operations telling it apart by their query as AWS specs do; a
/// variable of the query is a query parameter (its `in: path` becomes `in: query`, under the
/// query key's name).
pub(super) fn query_in_path_keys(document: &mut Value, warnings: &mut Vec<String>) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else { return };
    if !paths.keys().any(|key| key.contains('?')) {
        return;
    }
    let entries: Vec<(String, Value)> = std::mem::take(paths).into_iter().collect();
    for (key, mut item) in entries {
        let Some((path, query)) = key.split_once('?') else {
            paths.insert(key, item);
            continue;
        };
        let mut conditions = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match value.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
                Some(variable) => {
                    conditions.push(name.to_owned());
                    move_to_query(&mut item, variable, name);
                }
                None if value.is_empty() => conditions.push(name.to_owned()),
                None => conditions.push(format!("{name}={value}")),
            }
        }
        let (path, fragment) = match path.split_once('#') {
            Some((path, fragment)) => (path, format!("{fragment}&{}", conditions.join("&"))),
            None => (path, conditions.join("&")),
        };
        let rewritten = format!("{path}#{fragment}");
        warnings.push(format!(
            "{}: a query in a path key is not OpenAPI; read as {rewritten:?} (operations told apart by their query)",
            join("#/paths", &key)
        ));
        paths.insert(rewritten, item);
    }
}

/// Makes the path parameter `variable` of every operation of `item` the query parameter
/// `name`.
fn move_to_query(item: &mut Value, variable: &str, name: &str) {
    let Some(item) = item.as_object_mut() else { return };
    let mut holders: Vec<&mut Value> = Vec::new();
    for (key, member) in item.iter_mut() {
        if key == "parameters" {
            holders.push(member);
        } else if let Some(params) = member.get_mut("parameters") {
            holders.push(params);
        }
    }
    for params in holders {
        for param in params.as_array_mut().into_iter().flatten() {
            if param.get("name").and_then(Value::as_str) == Some(variable)
                && param.get("in").and_then(Value::as_str) == Some("path")
            {
                param["in"] = Value::String("query".into());
                param["name"] = Value::String(name.to_owned());
            }
        }
    }
}

/// Moves a `type` (other than `object`) or an `enum` that stands beside `oneOf`/`anyOf` into
/// the alternatives (`type: string, oneOf: [{format: date-time}, {format: date}]`): into each
/// that declares no `type` of its own and is no reference; an `enum` only into those of its
/// values' type. An alternative of another type keeps its own (JSON Schema would take none of
/// its values), with a warning.
pub(super) fn share_with_alternatives(value: &mut Value, location: &str, warnings: &mut Vec<String>) {
    visit_objects(value, location, &mut |members, location| {
        let keyword = ["oneOf", "anyOf"].into_iter().find(|k| members.get(*k).is_some_and(Value::is_array));
        if let Some(keyword) = keyword {
            share(members, keyword, location, warnings);
        }
    });
}

fn share(schema: &mut serde_json::Map<String, Value>, keyword: &str, location: &str, warnings: &mut Vec<String>) {
    let ty = schema.get("type").and_then(Value::as_str).filter(|t| *t != "object").map(str::to_owned);
    let values = schema.get("enum").filter(|v| v.is_array()).cloned();
    if ty.is_none() && values.is_none() {
        return;
    }
    let enum_type = values.as_ref().and_then(|v| enum_kind(v)).map(str::to_owned);
    let mut refused = Vec::new();
    if let Some(Value::Array(alternatives)) = schema.get_mut(keyword) {
        for (index, alternative) in alternatives.iter_mut().enumerate() {
            let Some(alternative) = alternative.as_object_mut() else { continue };
            if alternative.contains_key("$ref") {
                continue;
            }
            let own = alternative.get("type").and_then(Value::as_str).map(str::to_owned);
            if let Some(ty) = &ty {
                match &own {
                    None => {
                        alternative.insert("type".into(), Value::String(ty.clone()));
                    }
                    Some(own) if own == ty || (own == "integer" && ty == "number") => {}
                    Some(_) => refused.push(index),
                }
            }
            let effective = alternative.get("type").and_then(Value::as_str).map(str::to_owned);
            if let Some(values) = &values {
                let fits = match (&effective, &enum_type) {
                    (Some(t), Some(k)) => t == k || (t == "number" && k == "integer"),
                    (None, _) => true,
                    (Some(_), None) => false,
                };
                if fits && !alternative.contains_key("enum") {
                    alternative.insert("enum".into(), values.clone());
                }
            }
        }
    }
    if ty.is_some() {
        schema.remove("type");
    }
    if values.is_some() {
        schema.remove("enum");
    }
    if !refused.is_empty() {
        warnings.push(format!(
            "{}: alternatives {refused:?} are of another type than the `type` beside them, which no value \
             can be; they are kept as written",
            join(location, keyword)
        ));
    }
}

/// Rewrites the loose `enum`s of every schema under `value` (at `location`).
pub(super) fn tighten_enums(value: &mut Value, location: &str, warnings: &mut Vec<String>) {
    visit_objects(value, location, &mut |members, location| {
        if members.get("enum").is_some_and(Value::is_array) && !members.contains_key("in") {
            tighten(members, location, warnings);
        }
    });
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
