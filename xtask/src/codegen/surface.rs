//! A human-readable summary of the API: one line per operation and per type.
//!
//! It is what reviewers read in a snapshot diff when the spec changes (`cargo insta review`),
//! so it names only what a client or server author sees: methods, paths, parameters,
//! bodies, statuses and the fields of every type.

use super::model::{Api, Field, ParamLocation, TypeKind, TypeRef};

fn type_name(ty: &TypeRef) -> String {
    match ty {
        TypeRef::Named(name) => name.clone(),
        TypeRef::String => "string".into(),
        TypeRef::DateTime => "date-time".into(),
        TypeRef::Date => "date".into(),
        TypeRef::I32 => "i32".into(),
        TypeRef::I64 => "i64".into(),
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
            inputs.push(format!("body: {}", type_name(body)));
        }
        let success = match &op.success_body {
            Some(body) => format!("{} {}", op.success_status, type_name(body)),
            None => op.success_status.to_string(),
        };
        let errors = op.error_type.as_deref().map(|e| format!(" | 4XX/5XX {e}")).unwrap_or_default();
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
            TypeKind::Enum { variants } => {
                variants.iter().map(|v| format!("{:?}", v.value)).collect::<Vec<_>>().join(" | ")
            }
            TypeKind::OneOf { variants } => variants
                .iter()
                .map(|v| format!("{}({})", v.rust_name, type_name(&v.ty)))
                .collect::<Vec<_>>()
                .join(" | "),
            TypeKind::Struct { fields, deny_unknown_fields, extra_properties } => {
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

#[cfg(test)]
mod tests {
    use crate::codegen::{TARGETS, model, workspace_root};

    fn surface(index: usize) -> String {
        let spec_text = std::fs::read_to_string(workspace_root().join(TARGETS[index].spec)).unwrap();
        super::render(&model::load(&spec_text).unwrap())
    }

    /// A spec change shows up here as a reviewable diff (`cargo insta review`).
    #[test]
    fn api_surface() {
        insta::assert_snapshot!(surface(0));
    }

    #[test]
    fn constructs_surface() {
        insta::assert_snapshot!(surface(1));
    }
}
