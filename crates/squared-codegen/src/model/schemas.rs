//! Schemas: turns each schema into a named type or a [`TypeRef`], refusing what has no
//! faithful Rust form.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail, ensure};
use heck::ToPascalCase;
use serde_json::Value;

use super::all_of;
use super::build::Builder;
use super::keywords::{enum_kind, is_annotation};
use super::naming::{first_free, join, pascal_ident, rust_field_name};
use super::{
    Choice, Constraints, DefaultValue, Discriminator, EnumVariant, Field, OneOfVariant, Pattern, PatternEngine,
    StringFormat, TypeDef, TypeKind, TypeRef,
};

impl<'a> Builder<'a> {
    /// What a property that refers to a type says beside it (see [`all_of::reference_annotations`]).
    fn reference_annotations<'p>(
        &self,
        property: &'p Value,
        location: &str,
    ) -> Option<(&'p str, serde_json::Map<String, Value>)> {
        let resolve = |reference: &str| self.resolve_ref(reference, location).ok().map(|(_, schema)| schema);
        all_of::reference_annotations(property, &resolve)
    }

    /// `schema` with its `allOf` merged (see [`all_of`]).
    pub(super) fn merged(&mut self, schema: &Value, location: &str) -> Result<Value> {
        let mut warnings = Vec::new();
        let resolve = |reference: &str| self.resolve_ref(reference, location).ok().map(|(_, schema)| schema);
        let mut merged = all_of::merge(schema, location, &resolve, &mut warnings)?;
        // Merging may set a `type` beside a `oneOf` (one part says `type`, another `oneOf`).
        super::loose::share_with_alternatives(&mut merged, location, &mut warnings);
        for warning in warnings {
            if !self.warnings.contains(&warning) {
                self.warnings.push(warning);
            }
        }
        Ok(merged)
    }

    /// Defines a named type for `schema`: a struct, an enum, a `oneOf`, or a newtype around
    /// whatever else the schema is (an array, a map, a scalar).
    pub(super) fn define(&mut self, name: &str, schema_name: &str, schema: &Value, location: &str) -> Result<()> {
        let merged;
        let schema = if schema.get("allOf").is_some() && all_of::single_reference(schema).is_none() {
            merged = self.merged(schema, location)?;
            &merged
        } else {
            schema
        };
        let distributed;
        let schema = match all_of::distribute(schema) {
            Some(alternatives) => {
                distributed = alternatives;
                &distributed
            }
            None => schema,
        };
        check_keywords(schema, location)?;
        let title = schema.get("title").and_then(Value::as_str).map(str::to_owned);
        let description = schema.get("description").and_then(Value::as_str).map(str::to_owned);
        let index = self.types.len();
        // Reserve the slot so that nested types follow their parent.
        self.types.push(TypeDef {
            name: name.to_owned(),
            schema_name: schema_name.to_owned(),
            title,
            description,
            default: None,
            kind: TypeKind::Enum { variants: Vec::new() },
            location: location.to_owned(),
        });
        let enum_type = declared_kind(schema);
        let numeric_enum = matches!(enum_type, Some("integer" | "number" | "boolean"));
        let kind = if let (Some(_), true) = (schema.get("enum"), numeric_enum) {
            // A number that must be one of the values: a newtype that checks it.
            let nullable = schema.get("nullable").and_then(Value::as_bool).unwrap_or(false);
            let mut plain = schema.clone();
            let object = plain.as_object_mut().expect("a schema is an object");
            object.remove("enum");
            object.insert("type".into(), Value::from(enum_type));
            let ty = self.type_ref(&plain, &format!("{name}Inner"), location)?;
            TypeKind::Alias { ty, constraints: constraints(schema, location, &mut self.warnings)?, nullable }
        } else if let Some(values) = schema.get("enum") {
            let nullable = schema.get("nullable").and_then(Value::as_bool) == Some(true);
            if !nullable && values.as_array().is_some_and(|v| v.contains(&Value::Null)) {
                self.warnings.push(format!(
                    "{location}/enum: `null` is listed but the schema is not `nullable`, so no value can be it; \
                     left out (quote it, \"null\", if the word is meant)"
                ));
            }
            TypeKind::Enum { variants: enum_variants(values, location)? }
        } else if let Some(alternatives) = schema.get("oneOf") {
            self.one_of(name, schema, "oneOf", alternatives, location)?
        } else if let Some(alternatives) = schema.get("anyOf") {
            self.one_of(name, schema, "anyOf", alternatives, location)?
        } else if let Some(excluded) = schema.get("not") {
            for (other, _) in schema.as_object().into_iter().flatten() {
                ensure!(
                    other == "not" || (is_annotation(other) && other != "nullable" && other != "default"),
                    "{location}: `{other}` beside `not` is not supported by the generators; write `allOf` of the \
                     schema and `{{not: …}}`"
                );
            }
            let excluded = self.type_ref(excluded, &format!("{name}Excluded"), &join(location, "not"))?;
            TypeKind::Not { excluded }
        } else if schema.get("properties").is_none() && schema.get("additionalProperties") != Some(&Value::Bool(false))
        {
            // No struct of its own: a newtype around what the schema is.
            let nullable = schema.get("nullable").and_then(Value::as_bool).unwrap_or(false);
            let ty = match all_of::single_reference(schema) {
                Some(reference) => TypeRef::Named(self.named_ref(reference, location)?),
                None => self.type_ref(schema, &format!("{name}Inner"), location)?,
            };
            TypeKind::Alias { ty, constraints: constraints(schema, location, &mut self.warnings)?, nullable }
        } else {
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut properties = schema.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
            // A required member the schema does not describe may hold any value.
            for name_required in &required {
                if !properties.contains_key(*name_required) {
                    self.warnings.push(format!(
                        "{location}/required: {name_required:?} is required but not among the properties; it is read \
                         as any JSON value"
                    ));
                    properties.insert((*name_required).to_owned(), Value::Object(Default::default()));
                }
            }
            let mut fields = Vec::new();
            let mut rust_names = BTreeMap::new();
            for (property, property_schema) in &properties {
                let property_location = join(&join(location, "properties"), property);
                let natural = rust_field_name(property);
                let rust_name = first_free(&natural, "_", |taken| rust_names.contains_key(taken));
                if let Some(other) = rust_names.get(&natural).filter(|_| rust_name != natural) {
                    self.warnings.push(format!(
                        "{property_location}: its Rust name {natural} is property {other:?}'s; it is {rust_name} \
                         (the JSON name stays {property:?})"
                    ));
                }
                rust_names.insert(rust_name.clone(), property.clone());
                let inline_name = format!("{name}{}", property.to_pascal_case());
                // How the property is used (readOnly, writeOnly): its own word, the type's it
                // names, or what its `allOf` parts say together (merged once, for the type too).
                let annotations =
                    self.reference_annotations(property_schema, &property_location).map(|(_, a)| Value::Object(a));
                let merged = match annotations {
                    None if property_schema.get("allOf").is_some() => {
                        Some(self.merged(property_schema, &property_location)?)
                    }
                    _ => None,
                };
                let ty = self.type_ref(merged.as_ref().unwrap_or(property_schema), &inline_name, &property_location)?;
                let usage = annotations.as_ref().or(merged.as_ref()).unwrap_or(property_schema);
                let flag = |keyword: &str| usage.get(keyword).and_then(Value::as_bool).unwrap_or(false);
                let default = self.default_value(
                    property_schema,
                    &ty,
                    required.contains(&property.as_str()),
                    &property_location,
                )?;
                // A named type carries its own description; one beside a $ref is ignored by
                // OpenAPI 3.0 anyway.
                let is_named = matches!(ty, TypeRef::Named(_));
                let items_doc = |keyword: &str| match &ty {
                    TypeRef::Array(item) if !matches!(**item, TypeRef::Named(_)) => {
                        usage.pointer(&format!("/items/{keyword}")).and_then(Value::as_str).map(str::to_owned)
                    }
                    _ => None,
                };
                let (items_description, items_title) = (items_doc("description"), items_doc("title"));
                fields.push(Field {
                    name: property.clone(),
                    rust_name,
                    ty,
                    required: required.contains(&property.as_str()),
                    nullable: flag("nullable"),
                    title: if is_named {
                        None
                    } else {
                        property_schema.get("title").and_then(Value::as_str).map(str::to_owned)
                    },
                    description: if is_named {
                        None
                    } else {
                        property_schema.get("description").and_then(Value::as_str).map(str::to_owned)
                    },
                    // A named type carries its own constraints.
                    constraints: if is_named {
                        Constraints::default()
                    } else {
                        constraints(usage, &property_location, &mut self.warnings)?
                    },
                    default,
                    read_only: flag("readOnly"),
                    write_only: flag("writeOnly"),
                    boxed: false,
                    items_description,
                    items_title,
                });
            }
            let (deny_unknown_fields, extra_properties) = match schema.get("additionalProperties") {
                None => (false, None),
                Some(Value::Bool(false)) => (true, None),
                Some(Value::Bool(true)) => (false, Some(TypeRef::Any)),
                Some(Value::Object(value_schema)) if value_schema.is_empty() => (false, Some(TypeRef::Any)),
                Some(value_schema) => {
                    let at = join(location, "additionalProperties");
                    (false, Some(self.map_value_type_ref(value_schema, &format!("{name}Value"), &at)?))
                }
            };
            let count = |keyword: &str| schema.get(keyword).and_then(Value::as_u64);
            let property_count = (count("minProperties"), count("maxProperties"));
            TypeKind::Struct { fields, deny_unknown_fields, extra_properties, property_count }
        };
        self.types[index].kind = kind;
        Ok(())
    }

    /// The variants of a `oneOf` or `anyOf` (`keyword`), and how a value picks one: by its
    /// JSON type when the alternatives differ in it, by the `discriminator` when there is
    /// one, else by trying them (exactly one must take a `oneOf` value; the first that
    /// takes an `anyOf` value wins).
    pub(super) fn one_of(
        &mut self,
        name: &str,
        schema: &Value,
        keyword: &str,
        alternatives: &Value,
        location: &str,
    ) -> Result<TypeKind> {
        let at = join(location, keyword);
        for (other, value) in schema.as_object().into_iter().flatten() {
            // `nullable` makes the holder of the type an `Option` (see `Field::nullable`); a
            // `default` is stated in the schema.
            let allowed = other == keyword
                || other == "discriminator"
                || (other == "type" && value == "object")
                || is_annotation(other);
            ensure!(
                allowed,
                "{location}: `{other}` beside `{keyword}` is not supported by the generators; move it into the \
                 alternatives (with `allOf` to share properties)"
            );
        }
        let alternatives = alternatives
            .as_array()
            .filter(|a| !a.is_empty())
            .with_context(|| format!("{at}: `{keyword}` needs alternatives"))?;
        let mut variants: Vec<OneOfVariant> = Vec::new();
        let mut kinds: Vec<Option<&'static str>> = Vec::new();
        for (index, alternative) in alternatives.iter().enumerate() {
            let here = format!("{at}/{index}");
            let kind = self.json_kind(alternative, &here)?;
            if is_named_kind(alternative) && alternative.get("nullable") == Some(&Value::Bool(true)) {
                self.warnings.push(format!(
                    "{here}/nullable: an alternative's own nullability is not kept (its type is a struct); the \
                     generated type does not take null: write `nullable` on the schema that holds the `{keyword}`"
                ));
            }
            let rust_name = match (alternative.get("title").and_then(Value::as_str), alternative.get("$ref")) {
                (Some(title), _) => pascal_ident(title),
                (None, Some(Value::String(reference))) => self.named_ref(reference, &here)?,
                _ => pascal_ident(kind.unwrap_or("value")),
            };
            let mut rust_name = if rust_name.is_empty() { format!("V{index}") } else { rust_name };
            if variants.iter().any(|v| v.rust_name == rust_name) {
                rust_name = format!("{rust_name}{index}");
            }
            kinds.push(kind);
            let ty = self.held_type_ref(alternative, &format!("{name}{rust_name}"), &here)?;
            let title = alternative.get("title").and_then(Value::as_str).map(str::to_owned);
            variants.push(OneOfVariant { rust_name, title, ty });
        }
        let distinct_kinds = kinds.iter().enumerate().all(|(i, kind)| {
            kind.is_some_and(|kind| {
                kinds[..i].iter().all(|other| other.is_some_and(|o| o != kind && !numeric_pair(o, kind)))
            })
        });
        let discriminator = match schema.get("discriminator") {
            None => None,
            Some(discriminator) => self.discriminator(discriminator, alternatives, &join(location, "discriminator"))?,
        };
        let choice = match (&discriminator, distinct_kinds, keyword) {
            (Some(_), _, _) => Choice::Discriminator,
            (None, true, _) => Choice::JsonType,
            (None, false, "oneOf") => Choice::ExactlyOne,
            (None, false, _) => Choice::FirstMatch,
        };
        if let Some(default) = schema.get("default")
            && let Some(def) = self.types.iter_mut().find(|t| t.name == name)
        {
            def.default = Some(default.clone());
        }
        Ok(TypeKind::OneOf { variants, choice, any_of: keyword == "anyOf", discriminator })
    }

    /// A `discriminator`: its property, and the value that names each alternative (the
    /// `mapping`'s, or else the alternative's schema name).
    fn discriminator(
        &mut self,
        discriminator: &Value,
        alternatives: &[Value],
        location: &str,
    ) -> Result<Option<Discriminator>> {
        let property = discriminator
            .get("propertyName")
            .and_then(Value::as_str)
            .with_context(|| format!("{location}: a discriminator needs a `propertyName`"))?;
        let mapping = discriminator.get("mapping").and_then(Value::as_object);
        // A mapping target, as the schema it names.
        let target = |builder: &Self, target: &str| {
            let reference =
                if target.starts_with('#') { target.to_owned() } else { format!("#/components/schemas/{target}") };
            builder.resolve_ref(&reference, location).ok().map(|(_, schema)| schema)
        };
        let mut values = Vec::new();
        for (index, alternative) in alternatives.iter().enumerate() {
            // An alternative distributed over shared properties names its schema inside `allOf`.
            let reference = alternative
                .get("$ref")
                .or_else(|| alternative.get("allOf")?.as_array()?.iter().rev().find_map(|part| part.get("$ref")))
                .and_then(Value::as_str);
            let alternative_schema = match reference {
                Some(reference) => self.resolve_ref(reference, location)?.1,
                None => alternative,
            };
            let mapped: Vec<String> = mapping
                .into_iter()
                .flatten()
                // The same schema in the document, not an equal one elsewhere.
                .filter(|(_, to)| {
                    to.as_str().is_some_and(|to| target(self, to).is_some_and(|t| std::ptr::eq(t, alternative_schema)))
                })
                .map(|(value, _)| value.clone())
                .collect();
            match (mapped.is_empty(), reference) {
                (false, _) => values.extend(mapped.into_iter().map(|value| (value, index))),
                (true, Some(reference)) => {
                    values.push((reference.rsplit('/').next().unwrap_or_default().to_owned(), index))
                }
                // An inline alternative has no name to be told by (the spec says so): without
                // a mapping to it, the discriminator cannot choose it.
                (true, None) => {
                    self.warnings.push(format!(
                        "{location}: alternative {index} is inline and no `mapping` names it, so the discriminator \
                         cannot choose it; the alternatives are told apart by trying them"
                    ));
                    return Ok(None);
                }
            }
        }
        for (value, to) in mapping.into_iter().flatten() {
            if !values.iter().any(|(v, _)| v == value) {
                self.warnings.push(format!(
                    "{location}/mapping/{value}: {to} is not one of the alternatives; the value chooses none"
                ));
            }
        }
        let mapping = mapping
            .into_iter()
            .flatten()
            .map(|(value, target)| (value.clone(), target.as_str().unwrap_or_default().to_owned()))
            .collect();
        Ok(Some(Discriminator { property: property.to_owned(), mapping, values }))
    }

    /// The JSON type of the values `schema` allows, for telling `oneOf` alternatives apart.
    pub(super) fn json_kind(&self, schema: &Value, location: &str) -> Result<Option<&'static str>> {
        let schema = match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => self.resolve_ref(reference, location)?.1,
            None => schema,
        };
        Ok(match schema.get("type").and_then(Value::as_str) {
            Some("object") => Some("object"),
            Some("array") => Some("array"),
            Some("string") => Some("string"),
            Some("integer") => Some("integer"),
            Some("number") => Some("number"),
            Some("boolean") => Some("boolean"),
            Some(other) => bail!("{location}: schema type {other:?} is not supported"),
            None if schema.get("properties").is_some() || schema.get("additionalProperties").is_some() => {
                Some("object")
            }
            None if schema.get("items").is_some() => Some("array"),
            None if schema.get("enum").is_some() => Some("string"),
            None => None,
        })
    }

    /// Resolves a schema used in a field, parameter or body; an inline object or enum
    /// becomes a new named type called `inline_name`.
    pub(super) fn type_ref(&mut self, schema: &Value, inline_name: &str, location: &str) -> Result<TypeRef> {
        let reference = schema
            .get("$ref")
            .and_then(Value::as_str)
            .or_else(|| all_of::single_reference(schema))
            .or_else(|| all_of::annotated_reference(schema));
        if let Some(reference) = reference {
            return self.named_ref(reference, location).map(TypeRef::Named);
        }
        if schema.get("allOf").is_some() {
            // One type per distinct `allOf`: a schema whose parts name the type that holds it
            // (`Not: {allOf: [{$ref: Expression}, …]}` inside `Expression`) would otherwise be
            // merged again at every depth, without end.
            let key = schema.to_string();
            if let Some(name) = self.merged_names.get(&key) {
                return Ok(TypeRef::Named(name.clone()));
            }
            let merged = self.merged(schema, location)?;
            if is_named_kind(&merged) && merged.get("allOf").is_none() {
                check_keywords(&merged, location)?;
                let name = self.claim_free(inline_name, location);
                self.merged_names.insert(key, name.clone());
                self.define(&name, &name, &merged, location)?;
                return Ok(TypeRef::Named(name));
            }
            return self.type_ref(&merged, inline_name, location);
        }
        check_keywords(schema, location)?;
        if is_named_kind(schema) {
            let name = self.claim_free(inline_name, location);
            self.define(&name, &name, schema, location)?;
            return Ok(TypeRef::Named(name));
        }
        let type_name = declared_type(schema);
        let format = schema.get("format").and_then(Value::as_str);
        if type_name.is_none() && schema.as_object().is_some_and(|o| o.keys().all(|k| is_annotation(k))) {
            return Ok(TypeRef::Any);
        }
        Ok(match type_name {
            Some("string") => match format {
                None => TypeRef::String,
                Some("date-time") => TypeRef::DateTime,
                Some("date") => TypeRef::Date,
                Some(other) => match StringFormat::from_keyword(other) {
                    Some(known) => TypeRef::Format(known),
                    None => {
                        self.unknown_format(other, "string", location);
                        TypeRef::String
                    }
                },
            },
            Some("integer") => match format {
                Some("int8") => TypeRef::I8,
                Some("int16") => TypeRef::I16,
                Some("int32") => TypeRef::I32,
                None | Some("int64") => TypeRef::I64,
                Some("uint8") => TypeRef::U8,
                Some("uint16") => TypeRef::U16,
                Some("uint32") => TypeRef::U32,
                Some("uint64") => TypeRef::U64,
                Some(other) => {
                    self.unknown_format(other, "integer", location);
                    TypeRef::I64
                }
            },
            Some("number") => match format {
                Some("float") => TypeRef::F32,
                None | Some("double") => TypeRef::F64,
                Some(other) => {
                    self.unknown_format(other, "number", location);
                    TypeRef::F64
                }
            },
            Some("boolean") => TypeRef::Bool,
            Some("array") => {
                // OpenAPI 3.0 requires `items`; real specs leave it out, meaning any value.
                let Some(items) = schema.get("items") else {
                    self.warnings.push(format!("{location}: an array without `items`; its items are any JSON value"));
                    return Ok(TypeRef::Array(Box::new(TypeRef::Any)));
                };
                let item = self.held_type_ref(items, &format!("{inline_name}Item"), &join(location, "items"))?;
                TypeRef::Array(Box::new(item))
            }
            Some("object") | None => match schema.get("additionalProperties") {
                None | Some(Value::Bool(true)) => TypeRef::JsonObject,
                Some(Value::Object(value_schema)) if value_schema.is_empty() => TypeRef::JsonObject,
                Some(value_schema) => {
                    let value = self.map_value_type_ref(
                        value_schema,
                        &format!("{inline_name}Value"),
                        &join(location, "additionalProperties"),
                    )?;
                    TypeRef::Map(Box::new(value))
                }
            },
            Some(other) => bail!("{location}: schema type {other:?} is not supported"),
        })
    }

    /// The `default` of a schema, checked against its type. A default is allowed only where
    /// it has an effect: on an optional, non-nullable scalar or enum.
    pub(super) fn default_value(
        &mut self,
        schema: &Value,
        ty: &TypeRef,
        required: bool,
        location: &str,
    ) -> Result<Option<DefaultValue>> {
        // A reference's default and nullability are what it says beside the type, or the type's.
        let (typed, stated) = match self.reference_annotations(schema, location) {
            Some((reference, annotations)) => (self.resolve_ref(reference, location)?.1, annotations),
            None => (schema, schema.as_object().cloned().unwrap_or_default()),
        };
        let Some(value) = stated.get("default") else { return Ok(None) };
        let ignored = |why: &str| format!("{location}/default: {why}; the generated code ignores it");
        if required {
            self.warnings.push(ignored("a required value never takes its default"));
            return Ok(None);
        }
        if let Err(why) = default_applies(&stated, typed) {
            self.warnings.push(ignored(&why));
            return Ok(None);
        }
        let scalar = |value: &Value| match value {
            Value::Bool(b) => Some(DefaultValue::Bool(*b)),
            Value::String(text) => Some(DefaultValue::String(text.clone())),
            Value::Number(n) => Some(n.as_i64().map_or(DefaultValue::Number(n.as_f64()?), DefaultValue::Integer)),
            _ => None,
        };
        let fitted = match ty {
            ty if ty.is_integer() => value.as_i64().map(DefaultValue::Integer),
            TypeRef::F32 | TypeRef::F64 => value.as_f64().map(DefaultValue::Number),
            TypeRef::Bool | TypeRef::String => scalar(value),
            // A string enum: the variant named by the value.
            TypeRef::Named(type_name) if typed.get("enum").is_some() && declared_kind(typed) == Some("string") => {
                let variants = enum_variants(&typed["enum"], location)?;
                value.as_str().and_then(|text| variants.into_iter().find(|v| v.value == text)).map(|variant| {
                    DefaultValue::Variant { type_name: type_name.clone(), variant: variant.rust_name.clone() }
                })
            }
            // A newtype around a scalar (a number enum, a bounded or named scalar).
            TypeRef::Named(type_name) => scalar(value)
                .map(|inner| DefaultValue::Newtype { type_name: type_name.clone(), value: Box::new(inner) }),
            _ => None,
        };
        if fitted.is_none() {
            self.warnings.push(ignored(&format!("{value} does not fit the generated type")));
        }
        Ok(fitted)
    }

    /// The type of a schema held in an array, a map or a `oneOf`, where no field carries its
    /// constraints: an inline schema with constraints becomes a newtype that checks them, and a
    /// nullable one a newtype that admits null.
    pub(super) fn held_type_ref(&mut self, schema: &Value, inline_name: &str, location: &str) -> Result<TypeRef> {
        let plain = schema.get("$ref").is_some() || all_of::single_reference(schema).is_some() || is_named_kind(schema);
        // A nullable item or value needs a type that admits null: a newtype of an `Option`.
        let nullable = schema.get("nullable") == Some(&Value::Bool(true));
        if !plain && schema.is_object() && (nullable || !constraints(schema, location, &mut Vec::new())?.is_empty()) {
            let name = self.claim_free(inline_name, location);
            self.define(&name, &name, schema, location)?;
            return Ok(TypeRef::Named(name));
        }
        self.type_ref(schema, inline_name, location)
    }

    /// The type of a map's values: as [`held_type_ref`](Self::held_type_ref), and a newtype
    /// when the values are described (a title or description), which a `String` or
    /// `serde_json::Value` held in a map cannot carry.
    pub(super) fn map_value_type_ref(&mut self, schema: &Value, inline_name: &str, location: &str) -> Result<TypeRef> {
        let plain = schema.get("$ref").is_some() || all_of::single_reference(schema).is_some() || is_named_kind(schema);
        let described = ["description", "title"]
            .iter()
            .any(|k| schema.get(*k).and_then(Value::as_str).is_some_and(|text| !text.trim().is_empty()));
        if !plain && described && schema.get("allOf").is_none() {
            let name = self.claim_free(inline_name, location);
            self.define(&name, &name, schema, location)?;
            return Ok(TypeRef::Named(name));
        }
        self.held_type_ref(schema, inline_name, location)
    }

    /// Claims `base` for an inline schema's type, or `base2`, `base3`… when a component (or
    /// another inline schema) has it: inline names are the generator's, not the spec's.
    pub(super) fn claim_free(&mut self, base: &str, location: &str) -> String {
        let mut name = base.to_owned();
        let mut n = 2;
        while self.claimed.contains_key(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        self.claimed.insert(name.clone(), location.to_owned());
        name
    }

    /// A `format` the generators do not know: the base type, with a warning.
    fn unknown_format(&mut self, format: &str, base: &str, location: &str) {
        self.warnings.push(format!(
            "{location}/format: {format:?} is not a format the generators know; the value is a plain {base}"
        ));
    }

    pub(super) fn is_struct(&self, type_name: &str) -> bool {
        self.types.iter().any(|t| t.name == type_name && matches!(t.kind, TypeKind::Struct { .. }))
    }

    /// A newtype around a scalar (a string, number or boolean, or an enum of them).
    pub(super) fn is_scalar_newtype(&self, type_name: &str) -> bool {
        self.types.iter().any(|t| {
            t.name == type_name
                && match &t.kind {
                    TypeKind::Alias { ty: TypeRef::Named(inner), nullable: false, .. } => {
                        self.is_enum(inner) || self.is_scalar_newtype(inner)
                    }
                    TypeKind::Alias { ty, nullable: false, .. } => !matches!(
                        ty,
                        TypeRef::Array(_) | TypeRef::Map(_) | TypeRef::JsonObject | TypeRef::Any | TypeRef::Named(_)
                    ),
                    _ => false,
                }
        })
    }

    /// A `oneOf`/`anyOf` of alternatives that are all scalars (a parameter can hold it: the
    /// value is read as a string and tried against each alternative).
    pub(super) fn is_scalar_choice(&self, type_name: &str) -> bool {
        self.types.iter().any(|t| {
            t.name == type_name
                && match &t.kind {
                    TypeKind::OneOf { variants, .. } => variants.iter().all(|v| match &v.ty {
                        TypeRef::Named(inner) => self.is_enum(inner) || self.is_scalar_newtype(inner),
                        other => {
                            !matches!(other, TypeRef::Array(_) | TypeRef::Map(_) | TypeRef::JsonObject | TypeRef::Any)
                        }
                    }),
                    _ => false,
                }
        })
    }

    /// Whether the named type is an object: a struct, or a newtype around a map.
    pub(super) fn is_struct_or_map(&self, type_name: &str) -> bool {
        self.types.iter().any(|t| {
            t.name == type_name
                && match &t.kind {
                    TypeKind::Struct { .. } => true,
                    TypeKind::Alias { ty: TypeRef::Map(_) | TypeRef::JsonObject, .. } => true,
                    TypeKind::Alias { ty: TypeRef::Named(inner), .. } => self.is_struct_or_map(inner),
                    _ => false,
                }
        })
    }

    pub(super) fn is_enum(&self, type_name: &str) -> bool {
        self.types.iter().any(|t| t.name == type_name && matches!(t.kind, TypeKind::Enum { .. }))
    }
}

/// Keywords the generators do not carry into code. Silently dropping them would make the
/// generated types accept what the spec forbids, so they are refused.
pub(super) fn check_keywords(schema: &Value, location: &str) -> Result<()> {
    let Some(object) = schema.as_object() else {
        bail!("{location}: a schema must be an object");
    };
    if let Some(values) = object.get("enum") {
        let kind = object.get("type").and_then(Value::as_str).or_else(|| enum_kind(values));
        ensure!(
            matches!(kind, Some("string" | "integer" | "number" | "boolean")),
            "{location}: an enum must be of strings, integers, numbers or booleans, found {kind:?}"
        );
        ensure!(values.as_array().is_some_and(|v| !v.is_empty()), "{location}/enum: must be a non-empty array");
    }
    Ok(())
}

/// Whether progenitor's client can check `pattern`: it compiles patterns as ECMA-262 (JSON
/// Schema's dialect) with `regress`, which refuses what Rust's `regex` also takes (`(?i)`).
pub fn is_ecma_pattern(pattern: &str) -> bool {
    regress::Regex::new(pattern).is_ok()
}

/// Every `pattern` of the document the client cannot check, by pointer: the server checks them
/// (with Rust's `regex`); the client leaves them out.
pub(super) fn patterns_the_client_skips(value: &Value, location: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                let here = join(location, key);
                match member.as_str() {
                    Some(pattern) if key == "pattern" && !is_ecma_pattern(pattern) => found.push(here),
                    _ => patterns_the_client_skips(member, &here, found),
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                patterns_the_client_skips(item, &join(location, &index.to_string()), found);
            }
        }
        _ => {}
    }
}

/// Whether a validation keyword says anything of a value of JSON type `ty`: each keyword
/// constrains values of its own type and lets the others pass (JSON Schema), so a `maximum`
/// beside `type: string` checks nothing. The generators and the round-trip normaliser both
/// ask here.
pub fn keyword_applies(keyword: &str, ty: &str) -> bool {
    let types: &[&str] = match keyword {
        "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf" => &["integer", "number"],
        "minLength" | "maxLength" | "pattern" => &["string"],
        "minItems" | "maxItems" | "uniqueItems" => &["array"],
        "minProperties" | "maxProperties" => &["object"],
        _ => return true,
    };
    types.contains(&ty)
}

/// The engine that checks `pattern` in the generated code: `regex` where it reads the pattern,
/// else `regress`; `None` when neither does.
pub fn pattern_engine(pattern: &str) -> Option<PatternEngine> {
    if regex::Regex::new(pattern).is_ok() {
        Some(PatternEngine::Regex)
    } else if is_ecma_pattern(pattern) {
        Some(PatternEngine::Regress)
    } else {
        None
    }
}

pub(super) fn constraints(schema: &Value, location: &str, warnings: &mut Vec<String>) -> Result<Constraints> {
    let declared = declared_type(schema);
    // A keyword of another type than the declared one checks nothing.
    let stated = |key: &str| schema.get(key).filter(|_| declared.is_none_or(|ty| keyword_applies(key, ty)));
    let number = |key: &str| stated(key).and_then(Value::as_f64);
    let count = |key: &str| -> Result<Option<u64>> {
        stated(key)
            .map(|v| v.as_u64().with_context(|| format!("{location}/{key}: must be a non-negative integer")))
            .transpose()
    };
    let is_array = declared == Some("array");
    let (min_length, max_length) =
        if is_array { (count("minItems")?, count("maxItems")?) } else { (count("minLength")?, count("maxLength")?) };
    let flag = |key: &str| stated(key).and_then(Value::as_bool).unwrap_or(false);
    let pattern = match stated("pattern").and_then(Value::as_str) {
        None => None,
        Some(text) => match pattern_engine(text) {
            Some(engine) => Some(Pattern { text: text.to_owned(), engine }),
            None => {
                warnings.push(format!(
                    "{location}/pattern: {text:?} is not an ECMA-262 regular expression (JSON Schema's dialect) \
                     nor one Rust's `regex` reads; values are not checked against it"
                ));
                None
            }
        },
    };
    let multiple_of = number("multipleOf");
    let kind = schema.get("type").and_then(Value::as_str).or_else(|| schema.get("enum").and_then(enum_kind));
    let is_number = matches!(kind, Some("integer" | "number"));
    let booleans: Vec<bool> = match (kind, schema.get("enum").and_then(Value::as_array)) {
        (Some("boolean"), Some(values)) => values.iter().filter_map(Value::as_bool).collect(),
        _ => Vec::new(),
    };
    let allowed_bool = match booleans.as_slice() {
        [only] => Some(*only),
        _ => None,
    };
    let allowed: Vec<f64> = match (is_number, schema.get("enum").and_then(Value::as_array)) {
        (true, Some(values)) => values
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| v.as_f64().with_context(|| format!("{location}/enum: {v} is not a number")))
            .collect::<Result<_>>()?,
        _ => Vec::new(),
    };
    ensure!(multiple_of.is_none_or(|m| m > 0.0), "{location}/multipleOf: must be greater than 0");
    Ok(Constraints {
        minimum: number("minimum"),
        maximum: number("maximum"),
        exclusive_minimum: flag("exclusiveMinimum"),
        exclusive_maximum: flag("exclusiveMaximum"),
        multiple_of,
        min_length,
        max_length,
        pattern,
        unique_items: flag("uniqueItems"),
        min_properties: count("minProperties")?,
        max_properties: count("maxProperties")?,
        allowed,
        allowed_bool,
    })
}

/// Whether the generated code applies a property's `default`, and if not, why. `stated` is
/// how the property is used (its own keywords, or for one naming a type those beside and
/// behind the reference: [`all_of::reference_annotations`]); `typed` is the schema of its
/// values (itself, or the type it names). Applied: a scalar of the schema's type (a string
/// only without a format that makes it another Rust type), or one of the schema's `enum`
/// values; never for a readOnly or a nullable value, nor to an object, array or `oneOf`. The
/// generators and the round-trip normaliser both ask here.
pub fn default_applies(stated: &serde_json::Map<String, Value>, typed: &Value) -> std::result::Result<(), String> {
    let Some(value) = stated.get("default") else { return Ok(()) };
    let flag = |keyword: &str| stated.get(keyword) == Some(&Value::Bool(true));
    if value.is_null() {
        return Err("a `null` default is what an absent optional value reads as anyway".into());
    }
    if flag("readOnly") {
        return Err("a readOnly value is never read, so its default never applies".into());
    }
    if flag("nullable") || typed.get("nullable") == Some(&Value::Bool(true)) {
        return Err("an absent nullable value reads as null, not as a default".into());
    }
    let compound = ["properties", "additionalProperties", "items", "oneOf", "anyOf", "allOf", "not"];
    let Some(kind) = declared_kind(typed).filter(|_| !compound.iter().any(|k| typed.get(k).is_some())) else {
        return Err("only scalars and enums take defaults in the generated code".into());
    };
    if let Some(values) = typed.get("enum").and_then(Value::as_array) {
        let same = |v: &Value| v == value || (v.is_number() && v.as_f64() == value.as_f64());
        return if values.iter().any(same) { Ok(()) } else { Err(format!("{value} is not one of the enum's values")) };
    }
    let format = typed.get("format").and_then(Value::as_str);
    if let Some(format) = format
        .filter(|f| kind == "string" && (matches!(*f, "date" | "date-time") || StringFormat::from_keyword(f).is_some()))
    {
        return Err(format!("a `{format}` string takes no default in the generated code"));
    }
    let fits = match kind {
        "string" => value.is_string(),
        "integer" => value.is_i64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => false,
    };
    if fits { Ok(()) } else { Err(format!("{value} does not fit the schema's type")) }
}

/// The type a schema declares: its `type`, or an array where it has `items` without one (as
/// everywhere in the model).
fn declared_type(schema: &Value) -> Option<&str> {
    schema.get("type").and_then(Value::as_str).or_else(|| schema.get("items").is_some().then_some("array"))
}

/// The scalar type of a schema's values: its `type`, or that of its `enum` values.
fn declared_kind(schema: &Value) -> Option<&str> {
    schema.get("type").and_then(Value::as_str).or_else(|| schema.get("enum").and_then(enum_kind))
}

/// Objects with properties, string enums and `oneOf`s become named Rust types.
pub fn is_named_kind(schema: &Value) -> bool {
    ["enum", "properties", "oneOf", "anyOf", "not"].iter().any(|keyword| schema.get(keyword).is_some())
        || schema.get("additionalProperties") == Some(&Value::Bool(false))
}

/// Integers are numbers too: a `oneOf` of both cannot tell them apart.
fn numeric_pair(a: &str, b: &str) -> bool {
    matches!((a, b), ("integer", "number") | ("number", "integer"))
}

pub(super) fn enum_variants(values: &Value, location: &str) -> Result<Vec<EnumVariant>> {
    let mut variants: Vec<EnumVariant> = Vec::new();
    for (index, value) in values.as_array().into_iter().flatten().enumerate() {
        if value.is_null() {
            continue;
        }
        let value = value.as_str().with_context(|| format!("{location}/enum/{index}: enum values must be strings"))?;
        let mut rust_name = pascal_ident(value);
        if rust_name.is_empty() || rust_name.starts_with(|c: char| c.is_ascii_digit()) {
            rust_name = format!("V{rust_name}");
        }
        // A value listed twice is one value (JSON Schema asks for unique values, but only as
        // a SHOULD); two values that spell one Rust name apart get a number.
        if variants.iter().any(|v| v.value == value) {
            continue;
        }
        let rust_name = first_free(&rust_name, "", |name| variants.iter().any(|v| v.rust_name == name));
        variants.push(EnumVariant { rust_name, value: value.to_owned() });
    }
    Ok(variants)
}
