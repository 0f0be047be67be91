use super::*;

/// A small spec around one schema and one operation, for error-path tests.
fn spec_with(schema: &str, operation: &str) -> String {
    format!(
        r##"
openapi: 3.0.3
info: {{title: T, version: 1.0.0}}
paths:
  /things/{{id}}:
    get:
{operation}
components:
  schemas:
    Thing:
{schema}
    Problem: {{type: object, properties: {{message: {{type: string}}}}}}
"##
    )
}

const GOOD_OPERATION: &str = r##"      operationId: show_thing
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}
        "404": {description: no, content: {application/json: {schema: {$ref: "#/components/schemas/Problem"}}}}"##;

const GOOD_SCHEMA: &str = "      {type: object, properties: {name: {type: string}}}";

fn error_of(spec: &str) -> String {
    format!("{:#}", load(spec).expect_err("the spec must be refused"))
}

#[test]
fn a_good_spec_loads() {
    let api = load(&spec_with(GOOD_SCHEMA, GOOD_OPERATION)).unwrap();
    assert_eq!(api.operations[0].operation_id, "show_thing");
    assert_eq!(api.operations[0].error_type().as_deref(), Some("Problem"));
    assert!(api.warnings.is_empty());
}

#[test]
fn unsupported_keywords_are_refused_with_their_location() {
    let error = error_of(&spec_with("      {allOf: [{type: object}]}", GOOD_OPERATION));
    assert!(error.contains("#/components/schemas/Thing"), "{error}");
    let error = error_of(&spec_with(
        "      {type: object, properties: {code: {type: string, pattern: '^[a-z]+$'}}}",
        GOOD_OPERATION,
    ));
    assert!(error.starts_with("#/components/schemas/Thing/properties/code: `pattern`"), "{error}");
    let error = error_of(&spec_with(
        "      {type: object, properties: {a: {type: string}}, additionalProperties: {type: integer}}",
        GOOD_OPERATION,
    ));
    assert!(error.starts_with("#/components/schemas/Thing/additionalProperties"), "{error}");
}

#[test]
fn one_of_takes_alternatives_of_distinct_json_types_only() {
    let good = spec_with(
        "      {oneOf: [{title: Pairs, type: object, additionalProperties: {type: string}}, {type: array, items: {type: string}}]}",
        GOOD_OPERATION,
    );
    let api = load(&good).unwrap();
    let thing = api.types.iter().find(|t| matches!(t.kind, TypeKind::OneOf { .. })).unwrap();
    let TypeKind::OneOf { variants } = &thing.kind else { unreachable!() };
    assert_eq!(variants.iter().map(|v| v.rust_name.as_str()).collect::<Vec<_>>(), ["Pairs", "Array"]);
    let same = error_of(&spec_with(
        "      {oneOf: [{type: object}, {type: object, properties: {a: {type: string}}}]}",
        GOOD_OPERATION,
    ));
    assert!(same.contains("/oneOf/1: alternatives 0 and 1 are both JSON object values"), "{same}");
    let numbers = error_of(&spec_with("      {oneOf: [{type: integer}, {type: number}]}", GOOD_OPERATION));
    assert!(numbers.contains("both JSON number values"), "{numbers}");
    let beside = error_of(&spec_with("      {type: object, oneOf: [{type: string}, {type: integer}]}", GOOD_OPERATION));
    assert!(beside.contains("`type` beside `oneOf`"), "{beside}");
}

#[test]
fn unresolved_references_are_refused() {
    let operation = GOOD_OPERATION.replace("#/components/schemas/Thing", "#/components/schemas/Missing");
    let error = error_of(&spec_with(GOOD_SCHEMA, &operation));
    assert!(error.contains("/responses/200/content/application~1json/schema: unresolved reference"), "{error}");
}

#[test]
fn a_missing_operation_id_is_derived_with_a_warning() {
    let operation = GOOD_OPERATION.replace("operationId: show_thing", "summary: Show");
    let api = load(&spec_with(GOOD_SCHEMA, &operation)).unwrap();
    assert_eq!(api.operations[0].operation_id, "get_things_id");
    assert_eq!(api.warnings, ["#/paths/~1things~1{id}/get: no operationId; using \"get_things_id\""]);
}

#[test]
fn operation_shapes_the_generators_take() {
    let two_error_bodies = GOOD_OPERATION.replace(
        r##""404": {description: no, content: {application/json: {schema: {$ref: "#/components/schemas/Problem"}}}}"##,
        r##""404": {description: no, content: {application/json: {schema: {$ref: "#/components/schemas/Problem"}}}}
        "400": {description: bad, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}
        default: {description: other, content: {text/plain: {schema: {type: string}}}}"##,
    );
    let api = load(&spec_with(GOOD_SCHEMA, &two_error_bodies)).unwrap();
    let op = &api.operations[0];
    let statuses: Vec<String> = op.errors.iter().map(|e| e.status.key()).collect();
    assert_eq!(statuses, ["400", "404", "default"]);
    assert_eq!(op.error_type(), None);
    assert_eq!(
        op.error_body_types(),
        [&TypeRef::Named("Thing".into()), &TypeRef::Named("Problem".into()), &TypeRef::String]
    );
    // One hand-written error type cannot stand for several bodies; generated ones can.
    let error = format!(
        "{:#}",
        crate::codegen::server_trait::generate(&api, &crate::codegen::Layout::workspace()).unwrap_err()
    );
    assert!(
        error.starts_with("#/paths/~1things~1{id}/get/responses/404: the server trait has one hand-written"),
        "{error}"
    );
    let generated = crate::codegen::Layout { error: None, ..crate::codegen::Layout::workspace() };
    let code = crate::codegen::server_trait::generate(&api, &generated).unwrap().to_string();
    assert!(code.contains("pub enum ShowThingError"), "{code}");

    let dashed = load(&spec_with(GOOD_SCHEMA, &GOOD_OPERATION.replace("show_thing", "show-thing one"))).unwrap();
    assert_eq!(
        (dashed.operations[0].operation_id.as_str(), dashed.operations[0].rust_name.as_str()),
        ("show-thing one", "show_thing_one")
    );

    let two_successes = GOOD_OPERATION.replace(
        r##""404":"##,
        r##""203": {description: other, content: {application/json: {schema: {type: string}}}}
        "303": {description: elsewhere, headers: {Location: {schema: {type: string}}}}
        "404":"##,
    );
    let api = load(&spec_with(GOOD_SCHEMA, &two_successes)).unwrap();
    let statuses: Vec<String> = api.operations[0].responses.iter().map(|r| r.status.key()).collect();
    assert_eq!(statuses, ["200", "203", "303"]);
    assert_eq!(api.operations[0].responses[2].headers[0].name, "Location");
}

#[test]
fn operation_shapes_the_generators_cannot_serve_are_refused() {
    let no_path_param = GOOD_OPERATION
        .replace("parameters: [{name: id, in: path, required: true, schema: {type: string}}]", "parameters: []");
    assert!(error_of(&spec_with(GOOD_SCHEMA, &no_path_param)).contains("the path variable {id} has no path parameter"));

    let no_success = GOOD_OPERATION.replace("\"200\"", "\"409\"").replace("schemas/Thing", "schemas/Problem");
    assert!(error_of(&spec_with(GOOD_SCHEMA, &no_success)).contains("every response is an error"));
}

#[test]
fn inline_names_cannot_take_a_component_name() {
    let schema = "      {type: object, properties: {name: {type: object, properties: {x: {type: string}}}}}\n    ThingName: {type: object, properties: {y: {type: string}}}";
    let error = error_of(&spec_with(schema, GOOD_OPERATION));
    assert!(error.contains("the type name ThingName is already taken by #/components/schemas/ThingName"), "{error}");
}
