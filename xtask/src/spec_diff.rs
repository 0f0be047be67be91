//! `cargo xtask spec-diff --base <git-ref>`: what changed in the API since a commit, and
//! whether it breaks existing clients.
//!
//! Both versions are read into the generators' model, so the comparison is of what clients
//! and servers actually see: operations by method and path, their parameters, bodies and
//! statuses, and the types they reach, compared in the direction the data flows. A client
//! sends inputs, so a new required input or a narrower one breaks it; it reads outputs, so a
//! removed or newly optional output breaks it, and so does a new enum value (a generated
//! client refuses values it does not know).
//!
//! A breaking change fails the command unless `info.version` was raised as semantic versioning
//! asks: its major part, or for a 0.x API its minor part (semver lets `0.y` break in `y`).

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};

use squared_codegen::model::{self, Api, Constraints, Operation, Param, TypeDef, TypeKind, TypeRef};

/// One difference between two versions of the spec.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    Breaking(String),
    Compatible(String),
}

impl Change {
    pub fn is_breaking(&self) -> bool {
        matches!(self, Change::Breaking(_))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Direction {
    /// Sent by clients.
    Input,
    /// Read by clients.
    Output,
}

struct Differ<'a> {
    old: &'a Api,
    new: &'a Api,
    changes: Vec<Change>,
    compared: BTreeSet<(String, String, Direction)>,
}

/// Every change from `old` to `new`.
pub fn diff(old: &Api, new: &Api) -> Vec<Change> {
    let mut differ = Differ { old, new, changes: Vec::new(), compared: BTreeSet::new() };
    for op in &old.operations {
        match new.operations.iter().find(|n| n.method == op.method && n.path == op.path) {
            None => differ.breaking(format!("{} {}: the operation was removed", op.method, op.path)),
            Some(new_op) => differ.operation(op, new_op),
        }
    }
    for op in &new.operations {
        if !old.operations.iter().any(|o| o.method == op.method && o.path == op.path) {
            differ.compatible(format!("{} {}: a new operation, {}", op.method, op.path, op.operation_id));
        }
    }
    differ.changes
}

impl Differ<'_> {
    fn breaking(&mut self, message: String) {
        self.changes.push(Change::Breaking(message));
    }

    fn compatible(&mut self, message: String) {
        self.changes.push(Change::Compatible(message));
    }

    fn operation(&mut self, old: &Operation, new: &Operation) {
        let at = format!("{} {}", old.method, old.path);
        if old.operation_id != new.operation_id {
            self.breaking(format!(
                "{at}: the operationId changed from {} to {} (client methods are named after it)",
                old.operation_id, new.operation_id
            ));
        }
        for param in &old.params {
            match new.params.iter().find(|p| p.name == param.name && p.location == param.location) {
                None => {
                    self.breaking(format!("{at}: the {} parameter {} was removed", param.location.as_str(), param.name))
                }
                Some(new_param) => self.parameter(&at, param, new_param),
            }
        }
        for param in &new.params {
            if !old.params.iter().any(|p| p.name == param.name && p.location == param.location) {
                let kind = param.location.as_str();
                if param.required {
                    self.breaking(format!("{at}: a new required {kind} parameter, {}", param.name));
                } else {
                    self.compatible(format!("{at}: a new optional {kind} parameter, {}", param.name));
                }
            }
        }
        match (&old.body, &new.body) {
            (None, Some(_)) => self.breaking(format!("{at}: a request body is now required")),
            (Some(_), None) => self.breaking(format!("{at}: the request body was removed")),
            (Some(a), Some(b)) => {
                if a.required != b.required {
                    let change =
                        format!("{at}: the request body is now {}", if b.required { "required" } else { "optional" });
                    if b.required { self.breaking(change) } else { self.compatible(change) }
                }
                self.type_ref(&format!("{at} request body"), &a.content.ty, &b.content.ty, Direction::Input)
            }
            (None, None) => {}
        }
        let statuses = |op: &Operation| op.responses.iter().map(|r| r.status.key()).collect::<Vec<_>>();
        if statuses(old) != statuses(new) {
            self.breaking(format!(
                "{at}: the success status changed from {} to {}",
                statuses(old).join(", "),
                statuses(new).join(", ")
            ));
        } else {
            for (a, b) in old.responses.iter().zip(&new.responses) {
                match (&a.content, &b.content) {
                    (Some(a), Some(b)) => self.type_ref(&format!("{at} response"), &a.ty, &b.ty, Direction::Output),
                    (None, None) => {}
                    _ => self.breaking(format!("{at}: the response body appeared or disappeared")),
                }
            }
        }
        if old.error_type() != new.error_type() {
            match (&old.error_type(), &new.error_type()) {
                (Some(a), Some(b)) => self.type_ref(
                    &format!("{at} error body"),
                    &TypeRef::Named(a.clone()),
                    &TypeRef::Named(b.clone()),
                    Direction::Output,
                ),
                _ => self.breaking(format!("{at}: the error body appeared or disappeared")),
            }
        }
        // A client meets the same answers either way; it now knows more of them, or fewer.
        let errors = |op: &Operation| op.errors.iter().map(|r| r.status.key()).collect::<Vec<_>>();
        let (before, after) = (errors(old), errors(new));
        let added: Vec<&str> = after.iter().filter(|s| !before.contains(s)).map(String::as_str).collect();
        let removed: Vec<&str> = before.iter().filter(|s| !after.contains(s)).map(String::as_str).collect();
        if !added.is_empty() {
            self.compatible(format!("{at}: error statuses now declared: {}", added.join(", ")));
        }
        if !removed.is_empty() {
            self.compatible(format!("{at}: error statuses no longer declared: {}", removed.join(", ")));
        }
    }

    fn parameter(&mut self, at: &str, old: &Param, new: &Param) {
        let what = format!("{at}: the {} parameter {}", old.location.as_str(), old.name);
        match (old.required, new.required) {
            (false, true) => self.breaking(format!("{what} is now required")),
            (true, false) => self.compatible(format!("{what} is now optional")),
            _ => {}
        }
        if old.ty == new.ty {
            self.constraints(&what, &old.constraints, &new.constraints, Direction::Input);
        }
        self.type_ref(&what, &old.ty, &new.ty, Direction::Input);
    }

    fn constraints(&mut self, what: &str, old: &Constraints, new: &Constraints, direction: Direction) {
        if direction == Direction::Output || old == new {
            return;
        }
        let tighter_low = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (None, Some(_)) => true,
            (Some(a), Some(b)) => b > a,
            _ => false,
        };
        let tighter_high = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (None, Some(_)) => true,
            (Some(a), Some(b)) => b < a,
            _ => false,
        };
        let as_f64 = |v: Option<u64>| v.map(|v| v as f64);
        let narrowed = tighter_low(old.minimum, new.minimum)
            || tighter_high(old.maximum, new.maximum)
            || tighter_low(as_f64(old.min_length), as_f64(new.min_length))
            || tighter_high(as_f64(old.max_length), as_f64(new.max_length));
        let (old, new) = (bounds(old), bounds(new));
        if narrowed {
            self.breaking(format!("{what}: its bounds were narrowed ({old} to {new})"));
        } else {
            self.compatible(format!("{what}: its bounds were widened ({old} to {new})"));
        }
    }

    fn type_ref(&mut self, what: &str, old: &TypeRef, new: &TypeRef, direction: Direction) {
        match (old, new) {
            (TypeRef::Named(a), TypeRef::Named(b)) => self.named(what, a, b, direction),
            (TypeRef::Array(a), TypeRef::Array(b)) => self.type_ref(&format!("{what} items"), a, b, direction),
            (TypeRef::Map(a), TypeRef::Map(b)) => self.type_ref(&format!("{what} values"), a, b, direction),
            (a, b) if a == b => {}
            (a, b) => self.breaking(format!("{what}: its type changed from {} to {}", describe(a), describe(b))),
        }
    }

    fn named(&mut self, what: &str, old_name: &str, new_name: &str, direction: Direction) {
        if !self.compared.insert((old_name.to_owned(), new_name.to_owned(), direction)) {
            return;
        }
        let (Some(old), Some(new)) = (find(self.old, old_name), find(self.new, new_name)) else { return };
        match (&old.kind, &new.kind) {
            (TypeKind::OneOf { variants: a, .. }, TypeKind::OneOf { variants: b, .. }) => {
                let type_name = &new.name;
                let removed: Vec<_> =
                    a.iter().filter(|v| !b.iter().any(|w| w.rust_name == v.rust_name)).map(|v| &v.rust_name).collect();
                let added: Vec<_> =
                    b.iter().filter(|v| !a.iter().any(|w| w.rust_name == v.rust_name)).map(|v| &v.rust_name).collect();
                if !removed.is_empty() {
                    let message = format!("{what} ({type_name}): alternatives removed: {removed:?}");
                    if direction == Direction::Input { self.breaking(message) } else { self.compatible(message) }
                }
                if !added.is_empty() {
                    let message = format!("{what} ({type_name}): alternatives added: {added:?}");
                    if direction == Direction::Output { self.breaking(message) } else { self.compatible(message) }
                }
                for variant in a {
                    if let Some(new_variant) = b.iter().find(|w| w.rust_name == variant.rust_name) {
                        let here = format!("{what} ({type_name}::{})", variant.rust_name);
                        self.type_ref(&here, &variant.ty, &new_variant.ty, direction);
                    }
                }
            }
            (TypeKind::Enum { variants: a }, TypeKind::Enum { variants: b }) => {
                let removed: Vec<_> =
                    a.iter().filter(|v| !b.iter().any(|w| w.value == v.value)).map(|v| &v.value).collect();
                let added: Vec<_> =
                    b.iter().filter(|v| !a.iter().any(|w| w.value == v.value)).map(|v| &v.value).collect();
                let type_name = &new.name;
                if !removed.is_empty() {
                    let message = format!("{what} ({type_name}): values removed: {removed:?}");
                    if direction == Direction::Input { self.breaking(message) } else { self.compatible(message) }
                }
                if !added.is_empty() {
                    let message = format!("{what} ({type_name}): values added: {added:?}");
                    if direction == Direction::Output { self.breaking(message) } else { self.compatible(message) }
                }
            }
            (
                TypeKind::Struct { fields: a, deny_unknown_fields: deny_a, .. },
                TypeKind::Struct { fields: b, deny_unknown_fields: deny_b, .. },
            ) => {
                let type_name = &new.name;
                if direction == Direction::Input && !deny_a && *deny_b {
                    self.breaking(format!("{what} ({type_name}): unknown fields are now refused"));
                }
                for field in a {
                    let here = format!("{what} ({type_name}.{})", field.name);
                    let Some(new_field) = b.iter().find(|f| f.name == field.name) else {
                        self.breaking(format!("{here}: the field was removed"));
                        continue;
                    };
                    match (direction, field.required, new_field.required) {
                        (Direction::Input, false, true) => self.breaking(format!("{here}: the field is now required")),
                        (Direction::Output, true, false) => {
                            self.breaking(format!("{here}: the field may now be absent"))
                        }
                        (_, a, b) if a != b => {
                            self.compatible(format!("{here}: the field's requiredness changed ({a} to {b})"))
                        }
                        _ => {}
                    }
                    match (direction, field.nullable, new_field.nullable) {
                        (Direction::Input, true, false) => {
                            self.breaking(format!("{here}: the field may no longer be null"))
                        }
                        (Direction::Output, false, true) => self.breaking(format!("{here}: the field may now be null")),
                        _ => {}
                    }
                    if field.ty == new_field.ty {
                        self.constraints(&here, &field.constraints, &new_field.constraints, direction);
                    }
                    self.type_ref(&here, &field.ty, &new_field.ty, direction);
                }
                for field in b {
                    if !a.iter().any(|f| f.name == field.name) {
                        let here = format!("{what} ({type_name}.{})", field.name);
                        if direction == Direction::Input && field.required {
                            self.breaking(format!("{here}: a new required field"));
                        } else {
                            self.compatible(format!("{here}: a new field"));
                        }
                    }
                }
            }
            (
                TypeKind::Alias { ty: a, constraints: bounds_a, nullable: null_a },
                TypeKind::Alias { ty: b, constraints: bounds_b, nullable: null_b },
            ) => {
                let here = format!("{what} ({})", new.name);
                match (direction, null_a, null_b) {
                    (Direction::Input, true, false) => self.breaking(format!("{here}: it may no longer be null")),
                    (Direction::Output, false, true) => self.breaking(format!("{here}: it may now be null")),
                    _ => {}
                }
                if a == b {
                    self.constraints(&here, bounds_a, bounds_b, direction);
                }
                self.type_ref(&here, a, b, direction);
            }
            // What `not` refuses is compared as written: any change may refuse what was taken.
            (TypeKind::Not { excluded: a }, TypeKind::Not { excluded: b }) if a == b => {}
            (TypeKind::Not { .. }, TypeKind::Not { .. }) => {
                self.breaking(format!("{what} ({}): the schema it refuses changed", new.name))
            }
            (a, b) => self.breaking(format!("{what}: {old_name} changed from {} to {}", kind_name(a), kind_name(b))),
        }
    }
}

/// A kind of type, in words.
fn kind_name(kind: &TypeKind) -> &'static str {
    match kind {
        TypeKind::Struct { .. } => "an object",
        TypeKind::Enum { .. } => "an enum",
        TypeKind::Alias { .. } => "a newtype",
        TypeKind::OneOf { .. } => "a oneOf",
        TypeKind::Not { .. } => "a not",
    }
}

/// Bounds in words: `minimum 1, maximum 100`, or `none`.
fn bounds(c: &Constraints) -> String {
    let parts: Vec<String> = [
        c.minimum.map(|v| format!("minimum {v}")),
        c.maximum.map(|v| format!("maximum {v}")),
        c.min_length.map(|v| format!("minLength {v}")),
        c.max_length.map(|v| format!("maxLength {v}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() { "none".into() } else { parts.join(", ") }
}

fn find<'a>(api: &'a Api, name: &str) -> Option<&'a TypeDef> {
    api.types.iter().find(|t| t.name == name)
}

fn describe(ty: &TypeRef) -> String {
    match ty {
        TypeRef::Named(name) => name.clone(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// The major and minor parts of a semantic version (0 where one is missing or not a number).
fn major_minor(version: &str) -> (u64, u64) {
    let mut parts = version.split('.').map(|part| part.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// The version a breaking change needs at least, after `old`, by semantic versioning: a new
/// major version, or for a 0.x API (whose every minor version may break) a new minor one.
fn breaking_version(old: &str) -> (u64, u64) {
    match major_minor(old) {
        (0, minor) => (0, minor + 1),
        (major, _) => (major + 1, 0),
    }
}

/// Compares the spec at `base` with the working tree's; fails on an unversioned break.
pub fn run(root: &std::path::Path, base: &str) -> Result<()> {
    let output = std::process::Command::new("git")
        .current_dir(root)
        .args(["show", &format!("{base}:{}", crate::codegen::SPEC_PATH)])
        .output()
        .context("running git")?;
    if !output.status.success() {
        bail!("git show {base}:{}: {}", crate::codegen::SPEC_PATH, String::from_utf8_lossy(&output.stderr).trim());
    }
    let old = model::load(&String::from_utf8(output.stdout)?).with_context(|| format!("the spec at {base}"))?;
    let new_text = std::fs::read_to_string(root.join(crate::codegen::SPEC_PATH))?;
    let new = model::load(&new_text).context("the spec in the working tree")?;
    verdict(&old, &new)
}

/// Prints the changes, and fails when one breaks clients without a version that may break.
pub fn verdict(old: &Api, new: &Api) -> Result<()> {
    let mut changes = diff(old, new);
    changes.sort();
    for change in &changes {
        match change {
            Change::Breaking(message) => println!("breaking:   {message}"),
            Change::Compatible(message) => println!("compatible: {message}"),
        }
    }
    let breaking = changes.iter().filter(|c| c.is_breaking()).count();
    println!("{} change(s), {breaking} breaking; version {} -> {}", changes.len(), old.version, new.version);
    let needed = breaking_version(&old.version);
    if breaking > 0 && major_minor(&new.version) < needed {
        let part = if needed.0 == 0 { "minor part (a 0.x API breaks in a new minor version)" } else { "major part" };
        bail!(
            "{breaking} breaking change(s) without a new version that may break: raise info.version's {part} \
             ({} -> {}.{}.0) or make the change compatible",
            old.version,
            needed.0,
            needed.1
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small API: one GET with a query parameter and one POST with a body.
    fn spec(version: &str, edit: impl Fn(String) -> String) -> Api {
        let text = format!(
            r##"
openapi: 3.0.3
info: {{title: T, version: {version}}}
paths:
  /things:
    get:
      operationId: list_things
      parameters:
        - {{name: limit, in: query, schema: {{type: integer, maximum: 100}}}}
      responses:
        "200": {{description: ok, content: {{application/json: {{schema: {{$ref: "#/components/schemas/Thing"}}}}}}}}
        "404": {{description: no, content: {{application/json: {{schema: {{$ref: "#/components/schemas/Problem"}}}}}}}}
    post:
      operationId: make_thing
      requestBody: {{required: true, content: {{application/json: {{schema: {{$ref: "#/components/schemas/NewThing"}}}}}}}}
      responses:
        "201": {{description: ok, content: {{application/json: {{schema: {{$ref: "#/components/schemas/Thing"}}}}}}}}
components:
  schemas:
    Thing:
      type: object
      required: [id, kind]
      properties:
        id: {{type: string}}
        kind: {{type: string, enum: [small, large]}}
        note: {{type: string}}
    NewThing:
      type: object
      required: [kind]
      properties:
        kind: {{type: string, enum: [small, large]}}
        note: {{type: string}}
    Problem: {{type: object, properties: {{message: {{type: string}}}}}}
"##
        );
        model::load(&edit(text)).unwrap()
    }

    fn changes(edit: impl Fn(String) -> String) -> Vec<Change> {
        diff(&spec("1.0.0", |s| s), &spec("1.0.0", edit))
    }

    fn only(edit: impl Fn(String) -> String) -> Change {
        let found = changes(edit);
        assert_eq!(found.len(), 1, "{found:#?}");
        found.into_iter().next().unwrap()
    }

    fn breaking(edit: impl Fn(String) -> String, contains: &str) {
        match only(edit) {
            Change::Breaking(message) => assert!(message.contains(contains), "{message}"),
            other => panic!("expected a breaking change, got {other:?}"),
        }
    }

    fn compatible(edit: impl Fn(String) -> String, contains: &str) {
        match only(edit) {
            Change::Compatible(message) => assert!(message.contains(contains), "{message}"),
            other => panic!("expected a compatible change, got {other:?}"),
        }
    }

    #[test]
    fn no_change_is_no_change() {
        assert_eq!(changes(|s| s), []);
    }

    #[test]
    fn removed_operations_parameters_and_fields_break() {
        let found = changes(|s| s.replace("    post:", "    put:").replace("make_thing", "put_thing"));
        assert_eq!(
            found,
            [
                Change::Breaking("POST /things: the operation was removed".into()),
                Change::Compatible("PUT /things: a new operation, put_thing".into())
            ]
        );
        breaking(
            |s| {
                s.replace(
                    "      parameters:\n        - {name: limit, in: query, schema: {type: integer, maximum: 100}}\n",
                    "",
                )
            },
            "parameter limit was removed",
        );
        breaking(
            |s| s.replace("        id: {type: string}\n", "").replace("[id, kind]", "[kind]"),
            "Thing.id): the field was removed",
        );
    }

    #[test]
    fn new_required_inputs_break_and_optional_ones_do_not() {
        breaking(
            |s| s.replace("{name: limit, in: query,", "{name: limit, in: query, required: true,"),
            "limit is now required",
        );
        breaking(
            |s| s.replace("      required: [kind]\n", "      required: [kind, note]\n"),
            "NewThing.note): the field is now required",
        );
        compatible(
            |s| {
                s.replace(
                    "        - {name: limit,",
                    "        - {name: offset, in: query, schema: {type: integer}}\n        - {name: limit,",
                )
            },
            "a new optional query parameter, offset",
        );
        compatible(
            |s| {
                s.replace(
                    "        note: {type: string}\n    Problem:",
                    "        note: {type: string}\n        size: {type: integer}\n    Problem:",
                )
            },
            "NewThing.size): a new field",
        );
    }

    #[test]
    fn narrowed_types_and_enums_break() {
        breaking(
            |s| s.replace("schema: {type: integer, maximum: 100}", "schema: {type: integer, maximum: 50}"),
            "bounds were narrowed",
        );
        compatible(
            |s| s.replace("schema: {type: integer, maximum: 100}", "schema: {type: integer, maximum: 500}"),
            "bounds were widened",
        );
        breaking(
            |s| s.replace("schema: {type: integer, maximum: 100}", "schema: {type: string}"),
            "type changed from i64 to string",
        );
        // The enum is inline in both types: the input one loses a value, the output one too.
        let found = changes(|s| s.replace("enum: [small, large]", "enum: [small]"));
        assert!(
            found.iter().any(|c| matches!(c, Change::Breaking(m) if m.contains("NewThingKind): values removed"))),
            "{found:#?}"
        );
        assert!(
            found.iter().any(|c| matches!(c, Change::Compatible(m) if m.contains("ThingKind): values removed"))),
            "{found:#?}"
        );
        let found = changes(|s| s.replace("enum: [small, large]", "enum: [small, large, huge]"));
        assert!(
            found.iter().any(|c| matches!(c, Change::Breaking(m) if m.contains("ThingKind): values added"))),
            "{found:#?}"
        );
    }

    #[test]
    fn declared_error_statuses_are_compatible_changes() {
        compatible(
            |s| {
                s.replace(
                    "      responses:\n        \"201\"",
                    "      responses:\n        \"413\": {description: too large}\n        \"201\"",
                )
            },
            "POST /things: error statuses now declared: 413",
        );
        let found = changes(|s| s.replace("        \"404\": {description: no", "        \"410\": {description: no"));
        assert_eq!(
            found,
            [
                Change::Compatible("GET /things: error statuses now declared: 410".into()),
                Change::Compatible("GET /things: error statuses no longer declared: 404".into()),
            ]
        );
    }

    #[test]
    fn changed_statuses_and_weaker_outputs_break() {
        breaking(
            |s| s.replace("\"201\": {description: ok", "\"200\": {description: ok"),
            "success status changed from 201 to 200",
        );
        let found = changes(|s| s.replace("required: [id, kind]", "required: [id]"));
        assert!(
            found
                .iter()
                .any(|c| matches!(c, Change::Breaking(m) if m.contains("Thing.kind): the field may now be absent"))),
            "{found:#?}"
        );
    }

    #[test]
    fn an_unchanged_newtype_is_no_change_and_a_narrowed_one_breaks() {
        // Constrained array items are a newtype of their own.
        let with_items = |maximum: u32| {
            move |s: String| {
                s.replace(
                    "        - {name: limit,",
                    &format!(
                        "        - {{name: ids, in: query, schema: {{type: array, items: {{type: integer, minimum: 1, \
                         maximum: {maximum}}}}}}}\n        - {{name: limit,"
                    ),
                )
            }
        };
        let old = spec("1.0.0", with_items(100));
        assert_eq!(diff(&old, &spec("1.0.0", with_items(100))), []);
        let found = diff(&old, &spec("1.0.0", with_items(50)));
        assert!(
            matches!(found.as_slice(), [Change::Breaking(m)] if m.contains("ids items (ListThingsIdsItem): its bounds were narrowed")),
            "{found:#?}"
        );
    }

    #[test]
    fn the_workspace_spec_has_no_changes_against_itself() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(crate::codegen::SPEC_PATH),
        )
        .unwrap();
        let api = model::load(&text).unwrap();
        assert_eq!(diff(&api, &model::load(&text).unwrap()), []);
    }

    #[test]
    fn a_0x_api_breaks_in_a_new_minor_version() {
        let old = spec("0.5.2", |s| s);
        let broken =
            |version| spec(version, |s| s.replace("        id: {type: string}\n", "").replace("[id, kind]", "[kind]"));
        assert!(verdict(&old, &broken("0.5.3")).is_err());
        let refused = verdict(&old, &broken("0.5.3")).unwrap_err().to_string();
        assert!(refused.contains("minor part") && refused.contains("0.5.2 -> 0.6.0"), "{refused}");
        assert!(verdict(&old, &broken("0.6.0")).is_ok());
        assert!(verdict(&old, &broken("1.0.0")).is_ok());
    }

    #[test]
    fn a_new_major_version_allows_breaking_changes() {
        let old = spec("1.4.0", |s| s);
        let broken =
            |version| spec(version, |s| s.replace("        id: {type: string}\n", "").replace("[id, kind]", "[kind]"));
        assert!(verdict(&old, &broken("1.5.0")).is_err());
        assert!(verdict(&old, &broken("2.0.0")).is_ok());
        let compatible = spec("1.4.1", |s| {
            s.replace(
                "        - {name: limit,",
                "        - {name: offset, in: query, schema: {type: integer}}\n        - {name: limit,",
            )
        });
        assert!(verdict(&old, &compatible).is_ok());
    }
}
