//! The connector catalog: every connector kind a workspace can create.
//!
//! Definitions are data files in `catalog/` (one per connector type), compiled into the
//! binary. [`Catalog::load`] parses them and compiles each connection specification into a
//! draft-07 validator once, at start-up; requests only run the compiled validators.

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;
use squared_types::{
    ConnectorCategory, ConnectorDefinition, ConnectorDefinitionCategoryFilter, ConnectorSubCategory, ConnectorType,
};

use crate::error::Problem;
use crate::{runtime, secrets};

const SOURCES: &str = include_str!("../catalog/sources.json");
const DESTINATIONS: &str = include_str!("../catalog/destinations.json");

/// The category that `category=ai_ml` selects; `category=data` selects all the others.
pub const AI_MODEL_CATEGORY: &str = "AI Model";

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("catalog/{file}: {source}")]
    Parse { file: &'static str, source: serde_json::Error },
    #[error("catalog/{file}: {name} is listed as a {found}")]
    WrongType { file: &'static str, name: String, found: String },
    #[error("catalog: {name} ({connector_type}) is defined twice")]
    Duplicate { name: String, connector_type: ConnectorType },
    #[error("catalog: the connection specification of {name} is not a valid draft-07 schema: {message}")]
    Schema { name: String, message: String },
}

/// One definition, its connection specification and that specification's compiled validator.
pub struct Entry {
    pub definition: ConnectorDefinition,
    pub connector_type: ConnectorType,
    schema: Value,
    validator: jsonschema::Validator,
}

pub struct Catalog {
    /// Sorted by type, then name.
    entries: Vec<Entry>,
}

impl Catalog {
    pub fn load() -> Result<Catalog, CatalogError> {
        let mut entries = Vec::new();
        for (file, text, connector_type) in [
            ("sources.json", SOURCES, ConnectorType::Source),
            ("destinations.json", DESTINATIONS, ConnectorType::Destination),
        ] {
            let raw: Vec<Value> = serde_json::from_str(text).map_err(|source| CatalogError::Parse { file, source })?;
            for mut raw in raw {
                // What this server can do with a definition is a fact of its code, not of the data.
                let name = raw["name"].as_str().unwrap_or_default().to_owned();
                raw["capabilities"] = serde_json::to_value(runtime::capabilities_of(connector_type, &name))
                    .expect("capabilities serialize");
                let definition: ConnectorDefinition =
                    serde_json::from_value(raw).map_err(|source| CatalogError::Parse { file, source })?;
                if definition.connector_type != connector_type.as_str() {
                    return Err(CatalogError::WrongType {
                        file,
                        name: definition.name,
                        found: definition.connector_type,
                    });
                }
                let mut schema = Value::Object(definition.connector_spec.connection_specification.clone());
                urls_are_uris(&mut schema);
                let validator = jsonschema::draft7::options()
                    .should_validate_formats(true)
                    .build(&schema)
                    .map_err(|e| CatalogError::Schema { name: definition.name.clone(), message: e.to_string() })?;
                entries.push(Entry { definition, connector_type, schema, validator });
            }
        }
        entries.sort_by(|a, b| (a.connector_type, &a.definition.name).cmp(&(b.connector_type, &b.definition.name)));
        if let Some(pair) = entries
            .windows(2)
            .find(|w| w[0].connector_type == w[1].connector_type && w[0].definition.name == w[1].definition.name)
        {
            return Err(CatalogError::Duplicate {
                name: pair[0].definition.name.clone(),
                connector_type: pair[0].connector_type,
            });
        }
        Ok(Catalog { entries })
    }

    /// The definition `name` (exact, case-sensitive) of a connector type.
    /// A binary search: every connector shown or listed looks its definition up.
    pub fn find(&self, connector_type: ConnectorType, name: &str) -> Option<&Entry> {
        let found = self
            .entries
            .binary_search_by(|e| (e.connector_type, e.definition.name.as_str()).cmp(&(connector_type, name)));
        found.ok().map(|index| &self.entries[index])
    }

    /// The definitions of a type, by name, optionally narrowed by category.
    pub fn list(
        &self,
        connector_type: ConnectorType,
        category: Option<ConnectorDefinitionCategoryFilter>,
    ) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(move |e| {
            e.connector_type == connector_type
                && match category {
                    None => true,
                    Some(ConnectorDefinitionCategoryFilter::AiMl) => e.definition.category == AI_MODEL_CATEGORY,
                    Some(ConnectorDefinitionCategoryFilter::Data) => e.definition.category != AI_MODEL_CATEGORY,
                }
        })
    }
}

impl Catalog {
    /// The definitions (type and name) in a category and sub-category (each optional).
    pub fn definitions_in(
        &self,
        connector_type: Option<ConnectorType>,
        category: Option<ConnectorCategory>,
        sub_category: Option<ConnectorSubCategory>,
    ) -> impl Iterator<Item = (ConnectorType, &str)> {
        self.entries
            .iter()
            .filter(move |e| {
                connector_type.is_none_or(|t| t == e.connector_type)
                    && category.is_none_or(|c| c.as_str() == e.definition.category)
                    && sub_category.is_none_or(|s| Some(s.as_str()) == e.definition.sub_category.as_deref())
            })
            .map(|e| (e.connector_type, e.definition.name.as_str()))
    }
}

impl Entry {
    /// The connection specification, a JSON Schema.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// Every way `configuration` breaks the connection specification, each with a JSON
    /// Pointer prefixed by `base`. Messages never quote the offending value: it may be a secret.
    pub fn validate(&self, configuration: &Value, base: &str) -> Vec<Problem> {
        let mut problems = schema_problems(&self.validator, &self.schema, configuration, base);
        for (pointer, declared) in secrets::stray_secrets(&self.schema, configuration) {
            let name = pointer.rsplit('/').next().unwrap_or_default();
            let hint = match declared {
                Some(declared) => format!("; this definition's `{name}` is at {base}{declared}"),
                None => String::new(),
            };
            problems.push(Problem::new(
                format!("{base}{pointer}"),
                format!(
                    "`{name}` is not a field of this connection specification, and its name says it holds a \
                     secret: only declared secret fields are sealed and masked, so it is refused{hint}"
                ),
            ));
        }
        problems.sort_by(|a, b| a.pointer.cmp(&b.pointer));
        problems
    }

    /// Makes a configuration fit to be shown: every secret field masked, in place.
    pub fn mask(&self, configuration: &mut Value) {
        secrets::mask(&self.schema, configuration)
    }
}

/// Marks every string property named as a URL (`destination_url`, `base_url`, `url`…) without
/// a format of its own as `format: uri`, at any depth, so that a configuration whose URL is not
/// one is refused at create, at its pointer, not when the connector first runs. The schema the
/// definitions API shows is left as published; this is the one the server checks with.
fn urls_are_uris(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else { return };
    if let Some(Value::Object(properties)) = object.get_mut("properties") {
        for (name, property) in properties.iter_mut() {
            let is_url = name.to_ascii_lowercase().ends_with("url");
            if is_url
                && property.get("type").and_then(Value::as_str) == Some("string")
                && property.get("format").is_none()
                && let Some(property) = property.as_object_mut()
            {
                property.insert("format".into(), Value::String("uri".into()));
            }
            urls_are_uris(property);
        }
    }
    for keyword in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(alternatives)) = object.get_mut(keyword) {
            alternatives.iter_mut().for_each(urls_are_uris);
        }
    }
    for keyword in ["items", "additionalProperties"] {
        if let Some(inner) = object.get_mut(keyword) {
            urls_are_uris(inner);
        }
    }
}

/// Every way `configuration` breaks `schema` (compiled as `validator`), each with a JSON
/// Pointer prefixed by `base`: the one reading of a JSON Schema's errors as problems, for
/// connector definitions and any other configuration checked by a schema. Messages never
/// quote the offending value: it may be a secret.
pub fn schema_problems(
    validator: &jsonschema::Validator,
    schema: &Value,
    configuration: &Value,
    base: &str,
) -> Vec<Problem> {
    let mut problems: Vec<Problem> = validator
        .iter_errors(configuration)
        .map(|error| {
            let at = error.instance_path.to_string();
            match &error.kind {
                ValidationErrorKind::Required { property } => {
                    let property = property.as_str().unwrap_or_default();
                    Problem::new(
                        format!("{base}{at}/{}", crate::error::pointer_token(property)),
                        format!("`{property}` is required"),
                    )
                }
                ValidationErrorKind::AdditionalProperties { unexpected } => {
                    Problem::new(format!("{base}{at}"), format!("unexpected properties: {}", unexpected.join(", ")))
                }
                _ => Problem::new(format!("{base}{at}"), describe_keyword(schema, &error.schema_path.to_string())),
            }
        })
        .collect();
    problems.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    problems
}

/// Words for a failed keyword, made from the schema (never from the value).
fn describe_keyword(schema: &Value, schema_path: &str) -> String {
    let keyword = schema_path.rsplit('/').next().unwrap_or_default();
    let expected = schema.pointer(schema_path);
    let shown = |v: Option<&Value>| v.map(Value::to_string).unwrap_or_else(|| "?".into());
    match keyword {
        "type" => format!("must be of type {}", shown(expected).trim_matches('"')),
        "enum" => format!("must be one of {}", shown(expected)),
        "const" => format!("must be {}", shown(expected)),
        "minimum" => format!("must be at least {}", shown(expected)),
        "maximum" => format!("must be at most {}", shown(expected)),
        "minLength" => format!("must be at least {} characters long", shown(expected)),
        "maxLength" => format!("must be at most {} characters long", shown(expected)),
        "format" => format!("must be a valid {}", shown(expected).trim_matches('"')),
        "pattern" => format!("must match the pattern {}", shown(expected)),
        other => format!("does not satisfy `{other}` of the connection specification"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_url_that_is_not_one_is_refused_at_create() {
        let catalog = Catalog::load().unwrap();
        let http = catalog.find(ConnectorType::Destination, "Http").unwrap();
        let problems = http.validate(&json!({"destination_url": "not a url"}), "/connector/configuration");
        let found: Vec<(&str, &str)> = problems.iter().map(|p| (p.pointer.as_str(), p.detail.as_str())).collect();
        assert_eq!(found, [("/connector/configuration/destination_url", "must be a valid uri")]);
        assert!(http.validate(&json!({"destination_url": "https://example.com/hook?x=1"}), "").is_empty());
        // The definition as the API shows it is as published.
        let shown = &http.definition.connector_spec.connection_specification;
        assert!(shown["properties"]["destination_url"].get("format").is_none());
    }

    #[test]
    fn a_secret_outside_its_declared_field_is_refused_with_where_it_goes() {
        let catalog = Catalog::load().unwrap();
        let postgres = catalog.find(ConnectorType::Source, "Postgresql").unwrap();
        let configuration = json!({
            "data_type": "structured", "host": "db.example.com", "port": "5432", "database": "d", "schema": "public",
            "password": "hunter2", "note": "kept", "credentials": {"auth_type": "username/password", "username": "u", "password": "p"}
        });
        let problems = postgres.validate(&configuration, "/connector/configuration");
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(pointers, ["/connector/configuration/password"], "{problems:?}");
        assert!(problems[0].detail.contains("/connector/configuration/credentials/password"), "{}", problems[0].detail);
        assert!(!problems[0].detail.contains("hunter2"));

        // In its declared field it is a secret like any other; a headers map takes any name.
        let mut declared = configuration.clone();
        declared.as_object_mut().unwrap().remove("password");
        assert!(postgres.validate(&declared, "").is_empty());
        let http = catalog.find(ConnectorType::Destination, "Http").unwrap();
        let headers = json!({"destination_url": "https://example.com", "headers": {"X-Api-Key": "k"}});
        assert!(http.validate(&headers, "").is_empty());
    }

    #[test]
    fn the_whole_catalog_loads() {
        let catalog = Catalog::load().unwrap();
        assert_eq!(catalog.list(ConnectorType::Source, None).count(), 29);
        assert_eq!(catalog.list(ConnectorType::Destination, None).count(), 27);
        for name in ["Postgresql", "MariaDB", "Snowflake", "Redshift", "Bigquery", "Http"] {
            assert!(catalog.find(ConnectorType::Source, name).is_some(), "{name}");
        }
        for name in ["Http", "Klaviyo", "Slack", "SalesforceCrm", "Hubspot", "GoogleSheets", "Postgresql"] {
            assert!(catalog.find(ConnectorType::Destination, name).is_some(), "{name}");
        }
        assert!(catalog.find(ConnectorType::Source, "postgresql").is_none(), "names are case-sensitive");
    }

    /// Every property of a connection specification, at any depth, with its JSON Pointer
    /// (`/*` for the values of a map).
    fn properties(schema: &Value, pointer: &str, found: &mut Vec<(String, Value)>) {
        for (name, member) in schema.get("properties").and_then(Value::as_object).into_iter().flatten() {
            let here = format!("{pointer}/{name}");
            found.push((here.clone(), member.clone()));
            properties(member, &here, found);
        }
        for (keyword, step) in [("additionalProperties", "*"), ("items", "0")] {
            if let Some(member) = schema.get(keyword).filter(|m| m.is_object()) {
                let here = format!("{pointer}/{step}");
                found.push((here.clone(), member.clone()));
                properties(member, &here, found);
            }
        }
    }

    fn marked(schema: &Value, keyword: &str) -> bool {
        schema.get(keyword).and_then(Value::as_bool) == Some(true)
    }

    #[test]
    fn every_secret_of_the_catalog_is_marked() {
        // Properties whose names look secret but are not, each with the reason.
        const NOT_SECRET: &[(&str, &str)] = &[
            ("credentials", "an object holding a user name and a password; the password is marked"),
            ("credentials_json", "a service-account object; its private key is marked"),
            ("private_key_id", "names the service account's key; it grants nothing without the key"),
            ("token_uri", "the public URL where the key is exchanged for a token"),
            ("access_key", "the AWS access key id, an identifier; its secret access key is marked"),
            ("access_key_id", "the AWS access key id, an identifier; its secret access key is marked"),
        ];
        let looks_secret = secrets::looks_secret;
        let catalog = Catalog::load().unwrap();
        let mut unmarked = Vec::new();
        let mut secrets = 0;
        for entry in &catalog.entries {
            let mut found = Vec::new();
            properties(entry.schema(), "", &mut found);
            for (pointer, schema) in found {
                let name = pointer.rsplit('/').next().unwrap();
                if marked(&schema, secrets::SECRET_KEYWORD) {
                    secrets += 1;
                } else if looks_secret(name) && !NOT_SECRET.iter().any(|(n, _)| *n == name) {
                    unmarked.push(format!("{} {}{pointer}", entry.connector_type, entry.definition.name));
                }
            }
        }
        assert!(unmarked.is_empty(), "secret-looking properties neither marked nor allowed: {unmarked:#?}");
        assert_eq!(secrets, 70, "secrets marked across the catalog; a change here is a change of the audit");
        // The headers of the HTTP connectors carry API keys: their values are secret.
        for (connector_type, name) in [(ConnectorType::Destination, "Http"), (ConnectorType::Source, "Http")] {
            let headers = &catalog.find(connector_type, name).unwrap().schema()["properties"]["headers"];
            assert!(marked(&headers["additionalProperties"], secrets::SECRET_KEYWORD), "{name}");
        }
    }

    #[test]
    fn every_field_that_locates_a_system_is_an_audience() {
        // A stored secret is kept through an update only while these are unchanged: one
        // left unmarked would let a masked secret follow a new destination.
        const LOCATORS: &[&str] = &[
            "host",
            "port",
            "database",
            "username",
            "user",
            "sid",
            "url",
            "url_host",
            "base_url",
            "destination_url",
            "endpoint",
            "instance_url",
            "api_url",
            "databricks_host",
            "token_uri",
            "subdomain",
        ];
        let catalog = Catalog::load().unwrap();
        let mut unmarked = Vec::new();
        for entry in &catalog.entries {
            let mut found = Vec::new();
            properties(entry.schema(), "", &mut found);
            for (pointer, schema) in found {
                let name = pointer.rsplit('/').next().unwrap();
                let locates = LOCATORS.contains(&name) || name.ends_with("_url") && !name.contains("cert");
                if locates && !marked(&schema, secrets::AUDIENCE_KEYWORD) {
                    unmarked.push(format!("{} {}{pointer}", entry.connector_type, entry.definition.name));
                }
            }
        }
        assert!(unmarked.is_empty(), "fields that locate a system but are no audience: {unmarked:#?}");
        let postgres = catalog.find(ConnectorType::Source, "Postgresql").unwrap();
        let audience: Vec<String> =
            secrets::audience(postgres.schema(), &json!({})).into_iter().map(|(pointer, _)| pointer).collect();
        assert_eq!(audience, ["/credentials/username", "/host", "/port", "/database"]);
    }

    #[test]
    fn categories_filter() {
        let catalog = Catalog::load().unwrap();
        let ai: Vec<_> = catalog
            .list(ConnectorType::Source, Some(ConnectorDefinitionCategoryFilter::AiMl))
            .map(|e| e.definition.name.as_str())
            .collect();
        assert!(ai.contains(&"OpenAI") && !ai.contains(&"Postgresql"), "{ai:?}");
        let data = catalog.list(ConnectorType::Source, Some(ConnectorDefinitionCategoryFilter::Data)).count();
        assert_eq!(ai.len() + data, 29);
    }

    #[test]
    fn validation_reports_every_field_without_values() {
        let catalog = Catalog::load().unwrap();
        let postgres = catalog.find(ConnectorType::Source, "Postgresql").unwrap();
        let problems = postgres.validate(
            &json!({"data_type": "tabular", "host": "db", "port": 5432, "database": "d",
                    "credentials": {"auth_type": "username/password", "username": "u", "password": 12345}}),
            "/connector/configuration",
        );
        let pointers: Vec<_> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/connector/configuration/credentials/password",
                "/connector/configuration/data_type",
                "/connector/configuration/port",
                "/connector/configuration/schema",
            ]
        );
        let text = format!("{problems:?}");
        assert!(!text.contains("12345") && !text.contains("tabular"), "{text}");
    }
}
