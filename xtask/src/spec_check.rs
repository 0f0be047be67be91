//! `cargo xtask spec-check`: what the generators cannot take, and what good API style forbids.
//!
//! The generators refuse what they cannot turn into code (unresolved `$ref`s, duplicate
//! operationIds, what dropshot's router cannot hold), each with its spec location, and warn
//! about what the spec gets wrong but they can read; this adds the style rules, reported all at
//! once: every operation has an explicit snake_case operationId, component schemas are
//! PascalCase, properties and query and path parameters are snake_case, every tag an operation
//! uses is declared, and every operation that takes input declares the 400 its server answers
//! to input it cannot read, and every operation with a body the 413 and 415 it answers to a body
//! too large or of another media type (dropshot answers these before the operation runs, so a
//! client generated from a spec without them meets a status it was never told of).

use anyhow::Result;
use heck::{ToPascalCase, ToSnakeCase};
use serde_json::Value;

use squared_codegen::model::{self, pointer_token};

/// What the check finds in a spec, each line starting with its location.
#[derive(Debug, Default)]
pub struct Findings {
    /// What the generators refuse and what style forbids: the check fails on any.
    pub problems: Vec<String>,
    /// What the generators take but read differently than the spec may mean (a default they
    /// ignore, an unknown format): reported, not failed on.
    pub warnings: Vec<String>,
}

/// Every problem of a spec; empty when it is fine.
pub fn problems(spec_text: &str) -> Vec<String> {
    check(spec_text).problems
}

/// The problems and the generators' warnings of a spec.
pub fn check(spec_text: &str) -> Findings {
    let api = match model::load(spec_text) {
        Ok(api) => api,
        Err(error) => return Findings { problems: vec![format!("{error:#}")], warnings: Vec::new() },
    };
    let warnings = api.warnings.clone();
    Findings { problems: style_problems(&api, spec_text), warnings }
}

/// The refusals beyond the model, and the style rules.
fn style_problems(api: &model::Api, spec_text: &str) -> Vec<String> {
    // What the generators refuse beyond the model (dropshot's router, progenitor), in the
    // layout a team's own spec gets.
    let layout = squared_codegen::Layout { error: None, ..squared_codegen::Layout::workspace() };
    if let Err(error) = squared_codegen::generate(api, &layout) {
        return vec![format!("{error:#}")];
    }
    let spec: Value = match serde_yaml::from_str(spec_text) {
        Ok(spec) => spec,
        Err(error) => return vec![format!("not YAML: {error}")],
    };
    let mut problems: Vec<String> = api
        .warnings
        .iter()
        .filter(|w| w.contains("no operationId"))
        .map(|w| format!("{w} (give every operation an explicit operationId)"))
        .collect();
    let declared_tags: Vec<&str> =
        spec["tags"].as_array().into_iter().flatten().filter_map(|t| t["name"].as_str()).collect();
    for op in &api.operations {
        if spec.pointer(&format!("{}/operationId", op.location.trim_start_matches('#'))).is_some()
            && op.operation_id != op.operation_id.to_snake_case()
        {
            problems.push(format!("{}/operationId: {:?} is not snake_case", op.location, op.operation_id));
        }
        let takes_input = !op.params.is_empty() || op.body.is_some();
        let declares = |code: u16| {
            op.errors.iter().any(|e| match e.status {
                model::Status::Code(declared) => declared == code,
                model::Status::Range(class) => class == code / 100,
                model::Status::Default => true,
            })
        };
        if takes_input && !declares(400) {
            problems.push(format!(
                "{}/responses: the operation takes input but declares no 400 (nor 4XX nor default); its server \
                 answers 400 to input it cannot read, before the operation runs: declare \"400\"",
                op.location
            ));
        }
        for (code, why) in [(413, "a body larger than it reads"), (415, "a body of another media type")] {
            if op.body.is_some() && !declares(code) {
                problems.push(format!(
                    "{}/responses: the operation takes a body but declares no {code} (nor 4XX nor default); its \
                     server answers {code} to {why}, before the operation runs: declare \"{code}\"",
                    op.location
                ));
            }
        }
        for tag in &op.tags {
            if !declared_tags.contains(&tag.as_str()) {
                problems.push(format!("{}/tags: the tag {tag:?} is not declared in #/tags", op.location));
            }
        }
        for param in &op.params {
            let snake = param.name.to_snake_case();
            if param.location != model::ParamLocation::Header && param.name != snake {
                problems.push(format!(
                    "{}: the {} parameter {:?} is not snake_case",
                    op.location,
                    param.location.as_str(),
                    param.name
                ));
            }
        }
    }
    if let Some(schemas) = spec.pointer("/components/schemas").and_then(Value::as_object) {
        for (name, schema) in schemas {
            let location = format!("#/components/schemas/{}", pointer_token(name));
            if *name != name.to_pascal_case() {
                problems.push(format!("{location}: the schema name {name:?} is not PascalCase"));
            }
            property_names(schema, &location, &mut problems);
        }
    }
    problems
}

fn property_names(schema: &Value, location: &str, problems: &mut Vec<String>) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return };
    for (name, property) in properties {
        let here = format!("{location}/properties/{}", pointer_token(name));
        if *name != name.to_snake_case() {
            problems.push(format!("{here}: the property {name:?} is not snake_case"));
        }
        property_names(property, &here, problems);
        if let Some(items) = property.get("items") {
            property_names(items, &format!("{here}/items"), problems);
        }
    }
}

/// Runs the check on a spec file: prints the generators' warnings, and fails listing every
/// problem.
pub fn run(path: &std::path::Path) -> Result<()> {
    let text = std::fs::read_to_string(path)?;
    let Findings { problems, warnings } = check(&text);
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    if problems.is_empty() {
        println!("{}: no problems", path.display());
        return Ok(());
    }
    for problem in &problems {
        eprintln!("{problem}");
    }
    anyhow::bail!("{}: {} problem(s)", path.display(), problems.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codegen::{SPEC_PATH, workspace_root};

    fn spec(operation_id: &str, property: &str, schema_name: &str, tag: &str) -> String {
        format!(
            r##"
openapi: 3.0.3
info: {{title: T, version: 1.0.0}}
tags: [{{name: Things}}]
paths:
  /things:
    get:
      {operation_id}
      tags: [{tag}]
      parameters: [{{name: pageSize, in: query, schema: {{type: integer}}}}]
      responses:
        "200": {{description: ok, content: {{application/json: {{schema: {{$ref: "#/components/schemas/{schema_name}"}}}}}}}}
        "400": {{description: bad input}}
components:
  schemas:
    {schema_name}: {{type: object, properties: {{{property}: {{type: string}}}}}}
"##
        )
    }

    #[test]
    fn our_spec_has_no_problems() {
        let text = std::fs::read_to_string(workspace_root().join(SPEC_PATH)).unwrap();
        assert_eq!(problems(&text), Vec::<String>::new());
    }

    #[test]
    fn style_problems_are_all_reported_with_their_location() {
        let found = problems(&spec("summary: no id", "firstName", "thing_list", "Other"));
        let expected = [
            "#/paths/~1things/get: no operationId",
            "#/paths/~1things/get/tags: the tag \"Other\" is not declared",
            "#/paths/~1things/get: the query parameter \"pageSize\" is not snake_case",
            "#/components/schemas/thing_list: the schema name \"thing_list\" is not PascalCase",
            "#/components/schemas/thing_list/properties/firstName: the property \"firstName\" is not snake_case",
        ];
        assert_eq!(found.len(), expected.len(), "{found:#?}");
        for (problem, start) in found.iter().zip(expected) {
            assert!(problem.starts_with(start), "{problem} should start with {start}");
        }
        let camel = problems(&spec("operationId: listThings", "name", "ThingList", "Things"));
        assert_eq!(camel.len(), 2, "{camel:#?}");
        assert!(camel[0].ends_with("\"listThings\" is not snake_case"));
    }

    #[test]
    fn an_operation_with_input_must_declare_the_400_its_server_answers() {
        let text = spec("operationId: list_things", "name", "ThingList", "Things").replace("pageSize", "page_size");
        let without = text.replace("        \"400\": {description: bad input}\n", "");
        let found = problems(&without);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].starts_with("#/paths/~1things/get/responses: the operation takes input"), "{found:?}");
        for declared in ["\"400\"", "4XX", "default"] {
            let with = text.replace("\"400\": {description", &format!("{declared}: {{description"));
            assert_eq!(problems(&with), Vec::<String>::new(), "{declared}");
        }
        // Without input, nothing to refuse.
        let no_input =
            without.replace("      parameters: [{name: page_size, in: query, schema: {type: integer}}]\n", "");
        assert_eq!(problems(&no_input), Vec::<String>::new());
    }

    #[test]
    fn an_operation_with_a_body_must_declare_the_413_and_415_its_server_answers() {
        let text = spec("operationId: list_things", "name", "ThingList", "Things").replace("pageSize", "page_size");
        let with_body = text.replace("    get:\n", "    post:\n").replace(
            "      responses:\n",
            "      requestBody: {content: {application/json: {schema: {type: object}}}}\n      responses:\n",
        );
        let found = problems(&with_body);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].contains("declares no 413") && found[1].contains("declares no 415"), "{found:#?}");
        let declared = with_body.replace(
            "        \"400\": {description: bad input}\n",
            "        \"400\": {description: bad input}\n        \"413\": {description: too large}\n        \"415\": {description: media type}\n",
        );
        assert_eq!(problems(&declared), Vec::<String>::new());
        let ranged = with_body.replace("\"400\": {description", "4XX: {description");
        assert_eq!(problems(&ranged), Vec::<String>::new());
    }

    #[test]
    fn what_the_generators_read_differently_is_a_warning_not_a_problem() {
        let text =
            spec("operationId: list_things", "name: {type: string, format: hostname}, other", "ThingList", "Things");
        let findings = check(&text);
        assert!(findings.problems.iter().all(|p| !p.contains("hostname")), "{:?}", findings.problems);
        assert_eq!(findings.warnings.len(), 1, "{:?}", findings.warnings);
        assert!(
            findings.warnings[0].starts_with("#/components/schemas/ThingList/properties/name/format: \"hostname\"")
        );
    }

    #[test]
    fn what_the_generators_refuse_is_reported_with_its_location() {
        let unresolved = spec("operationId: list_things", "name", "ThingList", "Things")
            .replace("schemas/ThingList\"", "schemas/Missing\"");
        let found = problems(&unresolved);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].contains("/responses/200/content/application~1json/schema: unresolved reference"),
            "{found:?}"
        );
        // Look-behind is ECMA-262 (checked with regress), not a problem.
        let look_behind = spec("operationId: list_things", "name", "ThingList", "Things")
            .replace("name: {type: string}", "name: {type: string, pattern: '(?<=a)b'}");
        assert!(!problems(&look_behind).iter().any(|p| p.contains("/pattern")), "{:?}", problems(&look_behind));
        let duplicate = format!(
            "{}\n  /others:\n    get:\n      operationId: list_things\n      responses: {{\"204\": {{description: none}}}}\n",
            spec("operationId: list_things", "name", "ThingList", "Things").split("components:").next().unwrap()
        ) + "components:\n  schemas:\n    ThingList: {type: object, properties: {name: {type: string}}}\n";
        // One operationId twice: the later one's names take a number, with a warning.
        let findings = check(&duplicate);
        assert!(findings.warnings.iter().any(|w| w.contains("list_things_2")), "{:?}", findings.warnings);
    }
}
