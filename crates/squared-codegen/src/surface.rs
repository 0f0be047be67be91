//! A human-readable summary of the API: one line per operation and per type.
//!
//! It is what reviewers read in a snapshot diff when the spec changes (`cargo insta review`),
//! so it names only what a client or server author sees: methods, paths, parameters,
//! bodies, statuses and the fields of every type.

use super::model::{Api, Field, MediaKind, ParamLocation, Response, TypeKind, TypeRef};

fn type_name(ty: &TypeRef) -> String {
    match ty {
        TypeRef::Named(name) => name.clone(),
        TypeRef::String => "string".into(),
        TypeRef::DateTime => "date-time".into(),
        TypeRef::Date => "date".into(),
        TypeRef::Format(format) => format.keyword().into(),
        TypeRef::I8 => "i8".into(),
        TypeRef::I16 => "i16".into(),
        TypeRef::I32 => "i32".into(),
        TypeRef::I64 => "i64".into(),
        TypeRef::U8 => "u8".into(),
        TypeRef::U16 => "u16".into(),
        TypeRef::U32 => "u32".into(),
        TypeRef::U64 => "u64".into(),
        TypeRef::F32 => "f32".into(),
        TypeRef::F64 => "f64".into(),
        TypeRef::Bool => "bool".into(),
        TypeRef::Array(item) => format!("[{}]", type_name(item)),
        TypeRef::Map(value) => format!("{{string: {}}}", type_name(value)),
        TypeRef::JsonObject => "object".into(),
        TypeRef::Any => "any".into(),
    }
}

fn field(f: &Field) -> String {
    let optional = if f.required { "" } else { "?" };
    let nullable = if f.nullable { " | null" } else { "" };
    format!("{}{optional}: {}{nullable}", f.name, type_name(&f.ty))
}

pub fn render(api: &Api) -> String {
    let mut out = format!("{} {}\n", api.title, api.version);
    for op in &api.operations {
        let mut inputs: Vec<String> = Vec::new();
        for location in [ParamLocation::Path, ParamLocation::Query, ParamLocation::Header] {
            for p in op.params_in(location) {
                let optional = if p.required { "" } else { "?" };
                inputs.push(format!("{} {}{optional}: {}", location.as_str(), p.name, type_name(&p.ty)));
            }
        }
        if let Some(body) = &op.body {
            let optional = if body.required { "" } else { "?" };
            let media = if body.content.kind == MediaKind::Json {
                String::new()
            } else {
                format!(" as {}", body.content.media_type)
            };
            inputs.push(format!("body{optional}: {}{media}", type_name(&body.content.ty)));
        }
        let response = |r: &Response| match &r.content {
            Some(content) => format!("{} {}", r.status.key(), type_name(&content.ty)),
            None => r.status.key(),
        };
        let success = op.responses.iter().map(response).collect::<Vec<_>>().join(", ");
        let errors = match op.error_type() {
            Some(e) => format!(" | 4XX/5XX {e}"),
            None if op.errors.is_empty() => String::new(),
            None => format!(" | {}", op.errors.iter().map(response).collect::<Vec<_>>().join(", ")),
        };
        out.push_str(&format!(
            "op {} {} {}({}) -> {success}{errors}\n",
            op.method,
            op.path,
            op.operation_id,
            inputs.join(", ")
        ));
    }
    for def in &api.types {
        let body = match &def.kind {
            TypeKind::Alias { ty, nullable, .. } => {
                format!("{}{}", type_name(ty), if *nullable { " | null" } else { "" })
            }
            TypeKind::Enum { variants } => {
                variants.iter().map(|v| format!("{:?}", v.value)).collect::<Vec<_>>().join(" | ")
            }
            TypeKind::Not { excluded } => format!("not {}", type_name(excluded)),
            TypeKind::OneOf { variants, .. } => variants
                .iter()
                .map(|v| format!("{}({})", v.rust_name, type_name(&v.ty)))
                .collect::<Vec<_>>()
                .join(" | "),
            TypeKind::Struct { fields, deny_unknown_fields, extra_properties, .. } => {
                let mut parts: Vec<String> = fields.iter().map(field).collect();
                match (deny_unknown_fields, extra_properties) {
                    (true, _) => parts.push("(no other properties)".into()),
                    (false, Some(extra)) => parts.push(format!("..: {}", type_name(extra))),
                    (false, None) => {}
                }
                format!("{{ {} }}", parts.join(", "))
            }
        };
        out.push_str(&format!("type {} = {body}\n", def.name));
    }
    out
}
