//! `allOf`: a schema made of parts, all of which a value must satisfy.
//!
//! The generators write flat types, so an `allOf` is merged into the one schema it means:
//! properties and `required` are united, every other keyword is taken from whichever part
//! has it (two different values of one keyword are refused by place, since a Rust type cannot
//! hold both), and a property two parts both describe becomes the `allOf` of both, merged in
//! turn. The schema's own annotations (`description`, `title`, `nullable`, …) stay; those of
//! its parts belong to the parts. A `discriminator` of a part (a parent in an inheritance
//! hierarchy) says how to choose among the parent's children, not what the child holds, so
//! it is left out.
//!
//! An `allOf` of a single `$ref` beside annotations only (how OpenAPI 3.0 writes "this type,
//! nullable" or "this type, described here") is not merged: it is a reference to that type.
//!
//! The round-trip normaliser calls [`merge`] too, so that the spec and the emitted document are
//! compared in the same terms.

use anyhow::{Result, bail};
use serde_json::{Map, Value};

use super::naming::join;

/// Keywords that describe the schema they stand in, not its parts.
fn is_own_annotation(keyword: &str) -> bool {
    matches!(keyword, "description" | "title" | "example" | "examples" | "deprecated" | "nullable" | "default")
        || keyword.starts_with("x-")
}

/// The one `$ref` an `allOf` wraps, when annotations are all that stand beside it.
pub fn single_reference(schema: &Value) -> Option<&str> {
    let object = schema.as_object()?;
    let [part] = object.get("allOf")?.as_array()?.as_slice() else { return None };
    let reference = part.get("$ref")?.as_str()?;
    let only_ref = part.as_object().is_some_and(|p| p.len() == 1);
    // `readOnly`/`writeOnly` beside it say how the property holding the type is used.
    let beside = |k: &str| k == "allOf" || k == "readOnly" || k == "writeOnly" || is_own_annotation(k);
    (only_ref && object.keys().all(|k| beside(k))).then_some(reference)
}

/// The one `$ref` an `allOf` wraps when every other part only annotates it
/// (`allOf: [{$ref: …}, {description: …}]`, as AWS specs write a property's description): a
/// use of that type where a value is held (a property, an item), never a type of its own.
/// Read as the reference, such uses cost no copy of the type (merged, a recursive one would be
/// copied at every depth).
pub fn annotated_reference(schema: &Value) -> Option<&str> {
    let object = schema.as_object()?;
    let parts = object.get("allOf")?.as_array()?;
    let beside = |k: &str| k == "readOnly" || k == "writeOnly" || is_own_annotation(k);
    let mut references = parts.iter().filter(|part| part.get("$ref").is_some());
    let part = references.next()?;
    let reference = part.get("$ref")?.as_str()?;
    let only_ref = part.as_object().is_some_and(|p| p.len() == 1);
    let others_annotate = parts
        .iter()
        .filter(|other| other.get("$ref").is_none())
        .all(|other| other.as_object().is_some_and(|o| o.keys().all(|k| beside(k))));
    (references.next().is_none() && only_ref && others_annotate && object.keys().all(|k| k == "allOf" || beside(k)))
        .then_some(reference)
}

/// What a property that refers to a type (`$ref`, or an `allOf` of one `$ref`) says of its
/// value beside the type: the `readOnly`, `writeOnly`, `nullable` and `default` of the schema
/// it names, overridden by its own. OpenAPI 3.0 ignores
/// keywords beside a `$ref`, but authors write them meaning them (and 3.1 honours them); a
/// named schema's `readOnly` or `nullable` says what every property of that type is (a struct
/// or a `oneOf` enum cannot be "nullable" itself: the field holding it is an `Option`). `None` when the
/// property is no reference; else the reference and those keywords. The generators and the
/// round-trip normaliser both read it here.
pub fn reference_annotations<'p, 'v>(
    property: &'p Value,
    resolve: &dyn Fn(&str) -> Option<&'v Value>,
) -> Option<(&'p str, Map<String, Value>)> {
    let reference = property
        .get("$ref")
        .and_then(Value::as_str)
        .or_else(|| single_reference(property))
        .or_else(|| annotated_reference(property))?;
    const USAGE: [&str; 4] = ["readOnly", "writeOnly", "nullable", "default"];
    let mut annotations = Map::new();
    if let Some(target) = resolve(reference).and_then(Value::as_object) {
        // A newtype or enum carries its own nullability; a struct or a `oneOf` cannot.
        let held_by_holder = ["properties", "oneOf", "anyOf"].iter().any(|k| target.contains_key(*k));
        for keyword in USAGE {
            if keyword == "nullable" && !held_by_holder {
                continue;
            }
            if let Some(value) = target.get(keyword) {
                annotations.insert(keyword.to_owned(), value.clone());
            }
        }
    }
    for keyword in USAGE {
        if let Some(value) = property.get(keyword) {
            annotations.insert(keyword.to_owned(), value.clone());
        }
    }
    annotations.retain(|keyword, value| keyword == "default" || *value == Value::Bool(true));
    Some((reference, annotations))
}

/// `schema` with its `allOf` merged away (recursively through referenced parts).
/// `resolve` follows a `$ref` to the schema it names.
pub fn merge<'v>(
    schema: &Value,
    location: &str,
    resolve: &dyn Fn(&str) -> Option<&'v Value>,
    warnings: &mut Vec<String>,
) -> Result<Value> {
    merge_at(schema, location, resolve, 0, warnings)
}

fn merge_at<'v>(
    schema: &Value,
    location: &str,
    resolve: &dyn Fn(&str) -> Option<&'v Value>,
    depth: usize,
    warnings: &mut Vec<String>,
) -> Result<Value> {
    if depth > 64 {
        bail!("{location}: `allOf` parts refer to each other in a cycle; a type cannot contain itself");
    }
    let Some(object) = schema.as_object() else { return Ok(schema.clone()) };
    let Some(parts) = object.get("allOf") else { return Ok(schema.clone()) };
    let Some(parts) = parts.as_array() else { bail!("{location}/allOf: must be an array of schemas") };
    let mut merged: Map<String, Value> =
        object.iter().filter(|(k, _)| *k != "allOf").map(|(k, v)| (k.clone(), v.clone())).collect();
    for (index, part) in parts.iter().enumerate() {
        let at = format!("{location}/allOf/{index}");
        let part = match part.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let Some(target) = resolve(reference) else { bail!("{at}: unresolved reference {reference:?}") };
                merge_at(target, &at, resolve, depth + 1, warnings)?
            }
            None => merge_at(part, &at, resolve, depth + 1, warnings)?,
        };
        let Some(part) = part.as_object() else { bail!("{at}: a schema must be an object") };
        for (keyword, value) in part {
            if is_own_annotation(keyword) || keyword == "discriminator" {
                continue;
            }
            match keyword.as_str() {
                "properties" => {
                    let Some(properties) = value.as_object() else { continue };
                    let target = merged.entry("properties").or_insert_with(|| Value::Object(Map::new()));
                    let Some(target) = target.as_object_mut() else {
                        bail!("{location}/properties: must be an object")
                    };
                    for (name, property) in properties {
                        match target.get(name) {
                            None => {
                                target.insert(name.clone(), property.clone());
                            }
                            Some(existing) if existing == property => {}
                            Some(existing) => {
                                let both = serde_json::json!({ "allOf": [existing, property] });
                                let place = join(&format!("{at}/properties"), name);
                                target.insert(name.clone(), merge_at(&both, &place, resolve, depth + 1, warnings)?);
                            }
                        }
                    }
                }
                "required" => {
                    let Some(names) = value.as_array() else { continue };
                    let target = merged.entry("required").or_insert_with(|| Value::Array(Vec::new()));
                    let Some(target) = target.as_array_mut() else { bail!("{location}/required: must be an array") };
                    for name in names {
                        if !target.contains(name) {
                            target.push(name.clone());
                        }
                    }
                }
                _ => match merged.get(keyword) {
                    None => {
                        merged.insert(keyword.clone(), value.clone());
                    }
                    Some(existing) if existing == value => {}
                    Some(existing) if let Some(both) = intersection(keyword, existing, value) => {
                        merged.insert(keyword.clone(), both);
                    }
                    // No value satisfies both: the later part (a child refining its parent) wins,
                    // as most tools read it, and the spec's contradiction is reported.
                    Some(existing) => {
                        warnings.push(format!(
                            "{at}/{keyword}: {value} here, but {existing} in an earlier part of the same `allOf`; no \
                             value satisfies both, so the generated type takes this one"
                        ));
                        merged.insert(keyword.clone(), value.clone());
                    }
                },
            }
        }
    }
    Ok(Value::Object(merged))
}

/// A `oneOf` or `anyOf` beside the keywords of an object (`properties`, `required`, …): the
/// value must satisfy both, so each alternative becomes the `allOf` of those keywords and
/// itself. The schema's annotations and `discriminator` stay outside. `None` when there is
/// nothing beside the alternatives.
pub fn distribute(schema: &Value) -> Option<Value> {
    let object = schema.as_object()?;
    let keyword = ["oneOf", "anyOf"].into_iter().find(|k| object.contains_key(*k))?;
    let outside = |key: &str| key == keyword || key == "discriminator" || is_own_annotation(key) || key == "type";
    let base: Map<String, Value> =
        object.iter().filter(|(key, _)| !outside(key)).map(|(k, v)| (k.clone(), v.clone())).collect();
    if base.is_empty() {
        return None;
    }
    let alternatives = object.get(keyword)?.as_array()?;
    let distributed: Vec<Value> = alternatives
        .iter()
        .map(|alternative| serde_json::json!({ "allOf": [Value::Object(base.clone()), alternative] }))
        .collect();
    let mut result: Map<String, Value> = object
        .iter()
        .filter(|(key, _)| outside(key) && key.as_str() != keyword)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    result.insert(keyword.to_owned(), Value::Array(distributed));
    Some(Value::Object(result))
}

/// One value of `keyword` that says what two values of it say together, where there is one:
/// the values both enums allow, the tighter of two bounds, the integer of `integer` and
/// `number`.
fn intersection(keyword: &str, a: &Value, b: &Value) -> Option<Value> {
    let tighter = |pick_max: bool| {
        let (x, y) = (a.as_f64()?, b.as_f64()?);
        Some(if (x > y) == pick_max { a.clone() } else { b.clone() })
    };
    match keyword {
        "enum" => {
            let both: Vec<Value> =
                a.as_array()?.iter().filter(|v| b.as_array().is_some_and(|b| b.contains(v))).cloned().collect();
            (!both.is_empty()).then_some(Value::Array(both))
        }
        "minimum" | "minLength" | "minItems" | "minProperties" => tighter(true),
        "maximum" | "maxLength" | "maxItems" | "maxProperties" => tighter(false),
        "type" => match (a.as_str()?, b.as_str()?) {
            ("integer", "number") | ("number", "integer") => Some(Value::from("integer")),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn components() -> Value {
        json!({
            "NewPet": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "tag": {"type": "string"}}},
            "Base": {"type": "object", "discriminator": {"propertyName": "kind"}, "properties": {"kind": {"type": "string"}}},
        })
    }

    fn merged(schema: Value) -> Result<Value> {
        let components = components();
        let resolve = |reference: &str| components.get(reference.trim_start_matches("#/components/schemas/"));
        merge(&schema, "#/components/schemas/X", &resolve, &mut Vec::new())
    }

    #[test]
    fn parts_are_merged_into_one_object() {
        let pet = merged(json!({
            "description": "A pet.",
            "allOf": [
                {"$ref": "#/components/schemas/NewPet"},
                {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer", "format": "int64"}}}
            ]
        }))
        .unwrap();
        assert_eq!(
            pet,
            json!({
                "description": "A pet.",
                "type": "object",
                "required": ["name", "id"],
                "properties": {"name": {"type": "string"}, "tag": {"type": "string"}, "id": {"type": "integer", "format": "int64"}}
            })
        );
        let child = merged(
            json!({"allOf": [{"$ref": "#/components/schemas/Base"}, {"properties": {"bark": {"type": "boolean"}}}]}),
        )
        .unwrap();
        assert!(child.get("discriminator").is_none(), "{child}");
    }

    #[test]
    fn keywords_two_parts_both_set_are_intersected() {
        let merged = merged(json!({"allOf": [
            {"type": "string", "enum": ["a", "b", "c"], "maxLength": 5},
            {"enum": ["b", "c", "d"], "maxLength": 3}
        ]}))
        .unwrap();
        assert_eq!(merged, json!({"type": "string", "enum": ["b", "c"], "maxLength": 3}));
    }

    #[test]
    fn a_contradiction_is_read_as_the_later_part_with_a_warning() {
        let components = components();
        let resolve = |reference: &str| components.get(reference.trim_start_matches("#/components/schemas/"));
        let mut warnings = Vec::new();
        let schema = json!({"allOf": [{"type": "string", "enum": ["a"]}, {"enum": ["b"]}]});
        let merged = merge(&schema, "#/components/schemas/X", &resolve, &mut warnings).unwrap();
        assert_eq!(merged, json!({"type": "string", "enum": ["b"]}));
        assert!(
            warnings[0].starts_with("#/components/schemas/X/allOf/1/enum: [\"b\"] here, but [\"a\"]"),
            "{warnings:?}"
        );
        let cycle = json!({"allOf": [{"$ref": "#/components/schemas/X"}]});
        let components = json!({"X": cycle.clone()});
        let resolve = |reference: &str| components.get(reference.trim_start_matches("#/components/schemas/"));
        let error = merge(&cycle, "#/components/schemas/X", &resolve, &mut Vec::new()).unwrap_err().to_string();
        assert!(error.contains("cycle"), "{error}");
    }

    #[test]
    fn a_lone_reference_with_annotations_stays_a_reference() {
        let nullable =
            json!({"nullable": true, "description": "d", "allOf": [{"$ref": "#/components/schemas/NewPet"}]});
        assert_eq!(single_reference(&nullable), Some("#/components/schemas/NewPet"));
        let constrained = json!({"maxLength": 3, "allOf": [{"$ref": "#/components/schemas/NewPet"}]});
        assert_eq!(single_reference(&constrained), None);
    }
}
