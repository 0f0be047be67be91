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
fn what_no_rust_type_can_hold_is_refused_with_its_location() {
    let api = load(&spec_with("      {allOf: [{type: string}, {type: integer}]}", GOOD_OPERATION)).unwrap();
    assert!(api.warnings[0].starts_with("#/components/schemas/Thing/allOf/1/type:"), "{:?}", api.warnings);
    let error = error_of(&spec_with("      {oneOf: [{$ref: '#/components/schemas/Gone'}]}", GOOD_OPERATION));
    assert!(error.contains("oneOf/0: unresolved reference"), "{error}");
    // Look-around is ECMA-262 that `regex` does not read: checked with `regress`. A pattern
    // neither engine reads is not checked, with a warning.
    let api =
        load(&spec_with("      {type: object, properties: {code: {type: string, pattern: '^(?=a)'}}}", GOOD_OPERATION))
            .unwrap();
    let TypeKind::Struct { fields, .. } = &api.types[0].kind else { panic!("a struct") };
    assert_eq!(fields[0].constraints.pattern, Some(Pattern { text: "^(?=a)".into(), engine: PatternEngine::Regress }));
    let api =
        load(&spec_with("      {type: object, properties: {code: {type: string, pattern: '(a'}}}", GOOD_OPERATION))
            .unwrap();
    let TypeKind::Struct { fields, .. } = &api.types[0].kind else { panic!("a struct") };
    assert_eq!(fields[0].constraints.pattern, None);
    assert!(api.warnings[0].starts_with("#/components/schemas/Thing/properties/code/pattern:"), "{:?}", api.warnings);
    let error =
        error_of(&spec_with("      {type: object, properties: {n: {type: number, multipleOf: 0}}}", GOOD_OPERATION));
    assert!(error.starts_with("#/components/schemas/Thing/properties/n/multipleOf"), "{error}");
}

#[test]
fn schema_constructs_are_read_into_the_model() {
    let schema = r##"      type: object
      required: [id, secret]
      properties:
        id: {type: string, format: uuid, readOnly: true}
        secret: {type: string, writeOnly: true, pattern: '^[a-z]+$'}
        small: {type: integer, format: uint8, exclusiveMaximum: true, maximum: 10, multipleOf: 2}
        odd: {type: string, format: color}
        tags: {type: array, items: {type: string}, uniqueItems: true}
        extra: {type: object, additionalProperties: {type: integer}, minProperties: 1}
      additionalProperties: {type: integer}
    Pets: {type: array, items: {$ref: "#/components/schemas/Thing"}}
    Named: {allOf: [{$ref: "#/components/schemas/Thing"}, {properties: {more: {type: boolean}}, required: [more]}]}"##;
    let api = load(&spec_with(schema, GOOD_OPERATION)).unwrap();
    let thing = api.types.iter().find(|t| t.name == "Thing").unwrap();
    let TypeKind::Struct { fields, extra_properties, .. } = &thing.kind else { panic!("{thing:?}") };
    assert_eq!(extra_properties, &Some(TypeRef::I64));
    let field = |name: &str| fields.iter().find(|f| f.name == name).unwrap();
    assert_eq!(field("id").ty, TypeRef::Format(StringFormat::Uuid));
    assert!(field("id").read_only && field("secret").write_only);
    assert_eq!(field("secret").constraints.pattern.as_ref().map(|p| p.text.as_str()), Some("^[a-z]+$"));
    assert_eq!(field("small").ty, TypeRef::U8);
    assert!(field("small").constraints.exclusive_maximum);
    assert_eq!(field("small").constraints.multiple_of, Some(2.0));
    assert_eq!(field("odd").ty, TypeRef::String);
    assert!(api.warnings.iter().any(|w| w.contains("properties/odd/format: \"color\"")), "{:?}", api.warnings);
    assert!(field("tags").constraints.unique_items);
    assert_eq!(field("extra").constraints.min_properties, Some(1));
    let pets = api.types.iter().find(|t| t.name == "Pets").unwrap();
    assert!(
        matches!(&pets.kind, TypeKind::Alias { ty: TypeRef::Array(item), .. } if **item == TypeRef::Named("Thing".into()))
    );
    let named = api.types.iter().find(|t| t.name == "Named").unwrap();
    let TypeKind::Struct { fields, .. } = &named.kind else { panic!("{named:?}") };
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["id", "secret", "small", "odd", "tags", "extra", "more"]);
}

#[test]
fn one_of_and_any_of_pick_their_alternative_by_type_discriminator_or_trial() {
    let choice_of = |schema: &str| {
        let api = load(&spec_with(schema, GOOD_OPERATION)).unwrap();
        let thing = api.types.into_iter().find(|t| t.name == "Thing").unwrap();
        let TypeKind::OneOf { variants, choice, discriminator, any_of } = thing.kind else {
            panic!("{:?}", thing.kind)
        };
        (variants.into_iter().map(|v| v.rust_name).collect::<Vec<_>>(), choice, discriminator, any_of)
    };
    let (names, choice, _, _) = choice_of(
        "      {oneOf: [{title: Pairs, type: object, additionalProperties: {type: string}}, {type: array, items: {type: string}}]}",
    );
    assert_eq!((names, choice), (vec!["Pairs".to_owned(), "Array".to_owned()], Choice::JsonType));
    let (_, choice, _, _) =
        choice_of("      {oneOf: [{type: object}, {type: object, properties: {a: {type: string}}}]}");
    assert_eq!(choice, Choice::ExactlyOne);
    let (_, choice, _, any_of) = choice_of("      {anyOf: [{type: integer}, {type: number}]}");
    assert_eq!((choice, any_of), (Choice::FirstMatch, true));
    let pets = r##"      oneOf: [{$ref: "#/components/schemas/Cat"}, {$ref: "#/components/schemas/Dog"}]
      discriminator: {propertyName: kind, mapping: {kitty: "#/components/schemas/Cat"}}
    Cat: {type: object, properties: {kind: {type: string}}}
    Dog: {type: object, properties: {kind: {type: string}}}"##;
    let (_, choice, discriminator, _) = choice_of(pets);
    let discriminator = discriminator.unwrap();
    assert_eq!(choice, Choice::Discriminator);
    assert_eq!(discriminator.values, [("kitty".to_owned(), 0), ("Dog".to_owned(), 1)]);
    // Properties beside the alternatives hold in each: each alternative is merged with them.
    let api = load(&spec_with(
        "      {properties: {a: {type: string}}, oneOf: [{required: [a]}, {properties: {b: {type: integer}}}]}",
        GOOD_OPERATION,
    ))
    .unwrap();
    let fields = |name: &str| match &api.types.iter().find(|t| t.name == name).unwrap().kind {
        TypeKind::Struct { fields, .. } => fields.iter().map(|f| (f.name.clone(), f.required)).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(fields("ThingValue"), [("a".to_owned(), true)]);
    assert_eq!(fields("ThingValue1"), [("a".to_owned(), false), ("b".to_owned(), false)]);
    // A discriminator over inline alternatives nothing maps to cannot choose: the
    // alternatives are told apart otherwise, with a warning.
    let api = load(&spec_with(
        "      {oneOf: [{type: object}, {type: string}], discriminator: {propertyName: kind}}",
        GOOD_OPERATION,
    ))
    .unwrap();
    assert!(
        api.warnings.iter().any(|w| w.contains("alternative 0 is inline and no `mapping` names it")),
        "{:?}",
        api.warnings
    );
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
    let error = format!("{:#}", crate::server_trait::generate(&api, &crate::Layout::workspace()).unwrap_err());
    assert!(
        error.starts_with("#/paths/~1things~1{id}/get/responses/404: the server trait has one hand-written"),
        "{error}"
    );
    let generated = crate::Layout { error: None, ..crate::Layout::workspace() };
    let code = crate::server_trait::generate(&api, &generated).unwrap().to_string();
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
    let api = load(&spec_with(GOOD_SCHEMA, &no_success)).unwrap();
    assert_eq!(api.operations[0].responses[0].status, Status::Code(204));
    assert!(api.warnings[0].contains("every response is an error"), "{:?}", api.warnings);
}

#[test]
fn inline_names_never_take_a_component_name() {
    let schema = "      {type: object, properties: {name: {type: object, properties: {x: {type: string}}}}}\n    ThingName: {type: object, properties: {y: {type: string}}}\n    thingName: {type: string}";
    let api = load(&spec_with(schema, GOOD_OPERATION)).unwrap();
    let names: Vec<&str> = api.types.iter().map(|t| t.name.as_str()).collect();
    assert!(names.contains(&"ThingName") && names.contains(&"ThingName3"), "{names:?}");
    // Two component keys with one Rust name: the later gets a number, with a warning.
    assert!(names.contains(&"ThingName2"), "{names:?}");
    assert!(api.warnings.iter().any(|w| w.contains("its Rust name ThingName is taken")), "{:?}", api.warnings);
}

/// What real specs get wrong in ways that lose nothing is taken, with a warning where the
/// spec says something it should not.
#[test]
fn harmless_slips_of_real_specs_are_taken() {
    // An enum value listed twice is one variant; `SELF` cannot be the variant `Self`.
    let api = load(&spec_with("      {type: string, enum: [SELF, NONE, SELF]}", GOOD_OPERATION)).unwrap();
    let TypeKind::Enum { variants } = &api.types.iter().find(|t| t.name == "Thing").unwrap().kind else {
        panic!("an enum")
    };
    let names: Vec<&str> = variants.iter().map(|v| v.rust_name.as_str()).collect();
    assert_eq!(names, ["Self_", "None"]);
    // Two values that spell one Rust name apart are numbered, not refused.
    let api = load(&spec_with("      {type: string, enum: [a-b, a_b]}", GOOD_OPERATION)).unwrap();
    let TypeKind::Enum { variants } = &api.types.iter().find(|t| t.name == "Thing").unwrap().kind else {
        panic!("an enum")
    };
    assert_eq!(variants.iter().map(|v| v.rust_name.as_str()).collect::<Vec<_>>(), ["AB", "AB2"]);
    // An array without `items` holds any value.
    let api = load(&spec_with("      {type: object, properties: {all: {type: array}}}", GOOD_OPERATION)).unwrap();
    assert!(api.warnings.iter().any(|w| w.contains("properties/all: an array without `items`")), "{:?}", api.warnings);
    // A path parameter not marked required is required.
    let operation = GOOD_OPERATION.replace("required: true, ", "");
    let api = load(&spec_with(GOOD_SCHEMA, &operation)).unwrap();
    assert!(api.operations[0].params[0].required);
    assert!(api.warnings.iter().any(|w| w.contains("not marked required")), "{:?}", api.warnings);
    // A pattern Rust's regex takes but ECMA-262 does not: the client cannot check it.
    let api =
        load(&spec_with("      {type: object, properties: {c: {type: string, pattern: '(?i)^a$'}}}", GOOD_OPERATION))
            .unwrap();
    assert!(
        api.warnings.iter().any(|w| w.contains("properties/c/pattern: a pattern outside ECMA-262")),
        "{:?}",
        api.warnings
    );
    // A version with a leading zero is not semantic.
    assert!(!is_semver("2026.06.3") && is_semver("2026.6.3"));
}

/// A path parameter may be a `oneOf` of scalars (read as a string, tried on each); one of
/// objects may not.
#[test]
fn a_path_parameter_may_be_a_choice_of_scalars() {
    let schemas = "      {type: object, properties: {name: {type: string}}}\n    Kind: {type: string, enum: [a, b]}\n    Ref: {oneOf: [{$ref: '#/components/schemas/Kind'}, {type: integer}]}";
    let operation = GOOD_OPERATION.replace("schema: {type: string}", "schema: {$ref: '#/components/schemas/Ref'}");
    assert!(load(&spec_with(schemas, &operation)).is_ok());
    let operation = GOOD_OPERATION
        .replace("schema: {type: string}", "schema: {oneOf: [{$ref: '#/components/schemas/Thing'}, {type: integer}]}");
    // A choice with an object among it is read as JSON text, with a warning.
    let api = load(&spec_with(GOOD_SCHEMA, &operation)).unwrap();
    assert_eq!(api.operations[0].params[0].object, Some(ObjectText::Json));
    assert!(api.warnings.iter().any(|w| w.contains("read as JSON text")), "{:?}", api.warnings);
}

fn field<'a>(api: &'a Api, type_name: &str, field: &str) -> &'a Field {
    let Some(TypeDef { kind: TypeKind::Struct { fields, .. }, .. }) = api.types.iter().find(|t| t.name == type_name)
    else {
        panic!("a struct {type_name}")
    };
    fields.iter().find(|f| f.name == field).unwrap_or_else(|| panic!("a field {field}"))
}

/// A property that names a type takes what it says beside the reference, or what the named
/// schema says of itself: `readOnly`, `writeOnly`, `default` and (of an object) `nullable`.
#[test]
fn a_property_naming_a_type_takes_how_that_type_is_used() {
    let schemas = r##"      type: object
      properties:
        links: {$ref: '#/components/schemas/Links'}
        own: {$ref: '#/components/schemas/Plain', readOnly: true}
        wrapped: {allOf: [{$ref: '#/components/schemas/Plain'}], writeOnly: true}
        header: {$ref: '#/components/schemas/Header'}
        mode: {$ref: '#/components/schemas/Mode'}
        created: {allOf: [{$ref: '#/components/schemas/Stamp'}, {example: x}]}
        plain: {$ref: '#/components/schemas/Plain'}
        either: {$ref: '#/components/schemas/Either'}
    Either: {nullable: true, oneOf: [{type: string}, {type: integer}]}
    Links: {type: object, readOnly: true, properties: {self: {type: string}}}
    Plain: {type: object, properties: {x: {type: string}}}
    Header: {type: object, nullable: true, properties: {key: {type: string}}}
    Mode: {type: string, enum: [fast, slow], default: slow}
    Stamp: {type: string, format: date-time, readOnly: true}"##;
    let api = load(&spec_with(schemas, GOOD_OPERATION)).unwrap();
    assert!(field(&api, "Thing", "links").read_only);
    assert!(field(&api, "Thing", "own").read_only);
    assert!(field(&api, "Thing", "wrapped").write_only);
    assert!(field(&api, "Thing", "header").nullable);
    assert!(field(&api, "Thing", "either").nullable);
    assert!(
        matches!(&field(&api, "Thing", "mode").default, Some(DefaultValue::Variant { variant, .. }) if variant == "Slow")
    );
    // Merged parts say it together.
    assert!(field(&api, "Thing", "created").read_only);
    let plain = field(&api, "Thing", "plain");
    assert!(!plain.read_only && !plain.write_only && !plain.nullable && plain.default.is_none());
    // `allOf` of one reference with readOnly beside it is that type, not a copy of it.
    assert!(matches!(&field(&api, "Thing", "wrapped").ty, TypeRef::Named(name) if name == "Plain"));
}

/// A validation keyword of another type than the declared one checks nothing; `items` make an
/// array; a nullable map value or array item gets a type that admits null.
#[test]
fn keywords_are_read_for_the_type_they_constrain() {
    let schemas = r##"      type: object
      properties:
        name: {type: string, minimum: 1, maximum: 100, minLength: 2}
        count: {type: integer, maxLength: 3, minimum: 0}
        methods: {items: {type: string, description: A verb}}
        extra: {type: object, additionalProperties: {type: object, nullable: true}}"##;
    let api = load(&spec_with(schemas, GOOD_OPERATION)).unwrap();
    let name = field(&api, "Thing", "name");
    assert_eq!(
        (name.constraints.minimum, name.constraints.maximum, name.constraints.min_length),
        (None, None, Some(2))
    );
    let count = field(&api, "Thing", "count");
    assert_eq!((count.constraints.max_length, count.constraints.minimum), (None, Some(0.0)));
    let methods = field(&api, "Thing", "methods");
    assert_eq!(methods.ty, TypeRef::Array(Box::new(TypeRef::String)));
    assert_eq!(methods.items_description.as_deref(), Some("A verb"));
    let TypeRef::Map(value) = &field(&api, "Thing", "extra").ty else { panic!("a map") };
    let TypeRef::Named(value) = &**value else { panic!("a named value type") };
    let value = api.types.iter().find(|t| &t.name == value).unwrap();
    assert!(matches!(value.kind, TypeKind::Alias { nullable: true, .. }), "{:?}", value.kind);
}

/// A default is applied where the generated type can hold it: a scalar, a string enum's
/// variant, a newtype around a scalar (a number enum, a named scalar), a writeOnly value.
#[test]
fn defaults_apply_where_the_generated_type_can_hold_them() {
    let schemas = r##"      allOf: [{$ref: '#/components/schemas/Base'}]
      type: object
      properties:
        flag: {type: boolean, default: true, writeOnly: true}
        interval: {type: integer, default: 60, enum: [60, 120]}
        port: {$ref: '#/components/schemas/Port'}
        ratio: {type: number, default: 2}
        span: {$ref: '#/components/schemas/Span', default: P30D}
        id: {type: string, format: uuid, default: 0b4a2c39-5d2e-4a53-8e84-6f8d1a3d8a5b}
        odd: {type: integer, default: 3, enum: [1, 2]}
        tags: {type: array, items: {type: string}, default: []}
        mode: {type: string, enum: [a, null], nullable: true, default: null}
        level: {type: string, enum: [low, high], default: null}
    Base: {type: object, properties: {x: {type: string}}}
    Port: {type: integer, format: int32, minimum: 1, default: 8080}
    Span: {type: string, pattern: '^P'}"##;
    let api = load(&spec_with(schemas, GOOD_OPERATION)).unwrap();
    let default = |name: &str| field(&api, "Thing", name).default.clone();
    assert!(matches!(default("flag"), Some(DefaultValue::Bool(true))));
    let newtype = |name: &str, expected: &str, n: i64| {
        matches!(default(name), Some(DefaultValue::Newtype { type_name, value })
            if type_name == expected && matches!(*value, DefaultValue::Integer(v) if v == n))
    };
    assert!(newtype("interval", "ThingInterval", 60), "{:?}", default("interval"));
    assert!(newtype("port", "Port", 8080), "{:?}", default("port"));
    assert!(matches!(default("ratio"), Some(DefaultValue::Number(2.0))), "{:?}", default("ratio"));
    assert!(
        matches!(default("span"), Some(DefaultValue::Newtype { value, .. }) if matches!(&*value, DefaultValue::String(s) if s == "P30D")),
        "{:?}",
        default("span")
    );
    for (name, why) in [
        ("id", "a `uuid` string takes no default"),
        ("odd", "3 is not one of the enum's values"),
        ("tags", "only scalars and enums take defaults"),
        ("mode", "a `null` default"),
        ("level", "a `null` default"),
    ] {
        assert_eq!(default(name), None);
        let at = format!("#/components/schemas/Thing/properties/{name}/default: {why}");
        assert!(api.warnings.iter().any(|w| w.starts_with(&at)), "{at} in {:?}", api.warnings);
    }
}

/// What real specs write loosely is read, each with a warning (`loose`).
#[test]
fn loosely_written_enums_are_read_as_their_authors_meant_them() {
    let schemas = r##"      type: object
      properties:
        level: {type: integer, enum: ["1", "2"]}
        size: {type: string, enum: [1, 2]}
        sort: {type: string, enum: [asc, null]}
        mixed: {enum: [a, 1, true]}
        shape: {type: object, enum: [{a: 1}]}
        only_null: {type: string, enum: [null]}"##;
    let api = load(&spec_with(schemas, GOOD_OPERATION)).unwrap();
    let schema = |name: &str| api.document["components"]["schemas"]["Thing"]["properties"][name].clone();
    assert_eq!(schema("level")["enum"], serde_json::json!([1, 2]));
    assert_eq!(schema("size")["enum"], serde_json::json!(["1", "2"]));
    assert_eq!(schema("sort")["nullable"], serde_json::json!(true));
    for dropped in ["mixed", "shape", "only_null"] {
        assert!(schema(dropped).get("enum").is_none(), "{dropped}: {}", schema(dropped));
    }
    for place in ["level/enum", "size/enum", "sort/enum", "mixed/enum", "shape/enum", "only_null/enum"] {
        let at = format!("#/components/schemas/Thing/properties/{place}");
        assert!(api.warnings.iter().any(|w| w.starts_with(&at)), "no warning at {at}: {:?}", api.warnings);
    }
}

#[test]
fn references_are_percent_decoded_and_those_into_path_items_followed() {
    let text = r##"
openapi: 3.0.3
info: {title: T, version: 1.0.0}
paths:
  /companies/{companyId}:
    parameters: [{name: companyId, in: path, required: true, schema: {type: string}}]
    get:
      operationId: show_company
      responses:
        "200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Company"}}}}
        "401": {$ref: "#/paths/~1companies/get/responses/401"}
  /companies/{companyId}/users:
    parameters: [{$ref: "#/paths/~1companies~1%7BcompanyId%7D/parameters/0"}]
    $ref: "#/paths/~1companies~1%7BcompanyId%7D"
  /companies:
    get:
      operationId: list_companies
      responses:
        "200": {description: ok, content: {application/json: {schema: {$ref: "#/paths/~1companies~1%7BcompanyId%7D/get/responses/200/content/application~1json/schema"}}}}
        "401": {description: no, content: {application/json: {schema: {$ref: "#/components/schemas/Company"}}}}
components:
  schemas:
    Company: {type: object, properties: {id: {type: string}}}
"##;
    let api = load(text).unwrap_or_else(|e| panic!("{e:#}"));
    let ops: Vec<&str> = api.operations.iter().map(|op| op.path.as_str()).collect();
    assert_eq!(ops.len(), 3, "{ops:?}");
    let show = api.operations.iter().find(|op| op.operation_id == "show_company").unwrap();
    assert_eq!(show.errors.len(), 1, "the 401 followed into another path item");
}

#[test]
fn a_type_or_enum_beside_one_of_goes_into_its_alternatives() {
    let schemas = r##"      type: object
      properties:
        when: {type: string, oneOf: [{format: date-time}, {format: date}]}"##;
    let api = load(&spec_with(schemas, GOOD_OPERATION)).unwrap();
    let when = &api.document["components"]["schemas"]["Thing"]["properties"]["when"];
    assert!(when.get("type").is_none(), "{when}");
    assert_eq!(when["oneOf"][0], serde_json::json!({"type": "string", "format": "date-time"}));
}

#[test]
fn a_query_in_a_path_key_is_read_as_a_fragment() {
    let operation = r##"      operationId: search
      parameters: [{name: q, in: path, required: true, schema: {type: string}}]
      responses:
        "200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}"##;
    let text = spec_with(GOOD_SCHEMA, operation).replace("/things/{id}:", "/things?query={q}&full=true:");
    let api = load(&text).unwrap_or_else(|e| panic!("{e:#}"));
    let op = &api.operations[0];
    assert_eq!(op.path, "/things#query&full=true");
    assert_eq!(op.params[0].name, "query");
    assert_eq!(op.params[0].location, ParamLocation::Query);
    assert_eq!(op.conditions.len(), 2);
}

#[test]
fn colliding_rust_names_take_a_number_and_keep_their_wire_names() {
    let schemas = "      {type: object, properties: {maxResults: {type: integer}, max_results: {type: integer}}}";
    let operation = GOOD_OPERATION.replace(
        "parameters: [{name: id, in: path, required: true, schema: {type: string}}]",
        "parameters: [{name: id, in: path, required: true, schema: {type: string}}, {name: pageSize, in: query, schema: {type: integer}}, {name: page-size, in: query, schema: {type: integer}}]",
    );
    let api = load(&spec_with(schemas, &operation)).unwrap();
    let names: Vec<(&str, &str)> =
        api.operations[0].params.iter().map(|p| (p.name.as_str(), p.rust_name.as_str())).collect();
    assert_eq!(names, [("id", "id"), ("pageSize", "page_size"), ("page-size", "page_size_2")]);
    assert_eq!(field(&api, "Thing", "max_results").rust_name, "max_results_2");
    assert!(api.warnings.iter().any(|w| w.contains("page_size_2")), "{:?}", api.warnings);
}

/// The sample's round trips: what a property's or parameter's schema says of itself (a title)
/// is kept; keywords of another type than the declared one are left out, with a warning.
#[test]
fn titles_are_kept_and_keywords_of_another_type_left_out() {
    let schemas = "      {type: object, properties: {name: {type: string, title: Name}, tags: {type: array, items: \
                   {type: string, title: Tag}}, links: {type: array, items: {type: string}, properties: {next: {type: \
                   string}}}, game: {type: object, items: {type: string}}}}";
    let operation = GOOD_OPERATION.replace(
        "schema: {type: string}}]",
        "schema: {type: string}}, {name: ids, in: query, schema: {type: string, title: Some IDs}}]",
    );
    let api = load(&spec_with(schemas, &operation)).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(field(&api, "Thing", "name").title.as_deref(), Some("Name"));
    assert_eq!(field(&api, "Thing", "tags").items_title.as_deref(), Some("Tag"));
    assert_eq!(api.operations[0].params[1].title.as_deref(), Some("Some IDs"));
    assert_eq!(field(&api, "Thing", "links").ty, TypeRef::Array(Box::new(TypeRef::String)));
    assert_eq!(field(&api, "Thing", "game").ty, TypeRef::JsonObject);
    for place in ["links/properties", "game/items"] {
        assert!(
            api.warnings.iter().any(|w| w.contains(place) && w.contains("left out")),
            "{place}: {:?}",
            api.warnings
        );
    }
}

/// A map's described values are a type of their own, which carries the description.
#[test]
fn described_map_values_are_a_type() {
    let schemas = "      {type: object, properties: {totals: {type: object, additionalProperties: {type: string, \
                   description: A total}}, any: {type: object, additionalProperties: {description: Anything}}}}";
    let api = load(&spec_with(schemas, GOOD_OPERATION)).unwrap_or_else(|e| panic!("{e:#}"));
    for (name, value) in [("totals", "ThingTotalsValue"), ("any", "ThingAnyValue")] {
        assert_eq!(field(&api, "Thing", name).ty, TypeRef::Map(Box::new(TypeRef::Named(value.into()))));
        let def = api.types.iter().find(|t| t.name == value).unwrap();
        assert!(def.description.is_some(), "{def:?}");
    }
}

/// dropshot's router takes a variable once per path: a path naming one twice is refused, with
/// the place and what to write instead.
#[test]
fn a_path_naming_a_variable_twice_is_refused() {
    let text = spec_with(GOOD_SCHEMA, GOOD_OPERATION).replace("/things/{id}:", "/things/{id}/parts/{id}:");
    let error = error_of(&text);
    assert!(error.contains("names the variable {id} twice"), "{error}");
    assert!(error.contains("give the second its own name"), "{error}");
}

/// A formatted string body is a newtype that states its format; `minProperties` and
/// `maxProperties` of an object are kept.
#[test]
fn formatted_bodies_and_property_counts_are_kept() {
    let schemas = "      {type: object, minProperties: 1, maxProperties: 2, properties: {a: {type: string}}}";
    let operation = GOOD_OPERATION
        .replace(r##"{schema: {$ref: "#/components/schemas/Thing"}}"##, "{schema: {type: string, format: byte}}");
    let api = load(&spec_with(schemas, &operation)).unwrap_or_else(|e| panic!("{e:#}"));
    let body = api.operations[0].responses[0].content.as_ref().unwrap();
    let TypeRef::Named(name) = &body.ty else { panic!("{body:?}") };
    let def = api.types.iter().find(|t| t.name == *name).unwrap();
    assert!(matches!(def.kind, TypeKind::Alias { ty: TypeRef::Format(_), .. }), "{def:?}");
    let thing = api.types.iter().find(|t| t.name == "Thing").unwrap();
    assert!(matches!(thing.kind, TypeKind::Struct { property_count: (Some(1), Some(2)), .. }), "{thing:?}");
}
