//! Models: a query on a source connector of the workspace, with a primary key.
//!
//! The rules live in [`Service::settle_model`], shared by create and update: the connector is
//! a source of the caller's workspace; `primary_key` and `query` are there where the query
//! type needs them; a query does not end in LIMIT, OFFSET or FETCH; and a `raw_sql` or
//! `table_selector` query on a source this server can query is run against it (read-only,
//! one row) and must return the primary key column, whose columns are then kept.

use serde_json::Value;
use squared_types::{
    ConnectorType, Model, ModelAttributes, ModelColumn, ModelInput, ModelListResponse, ModelQueryType, ModelResponse,
    ModelUpdate,
};

use super::permissions::{Action, Resource};
use super::{Service, page_links};
use crate::auth::Caller;
use crate::error::{Problem, ServiceError};
use crate::runtime::RuntimeError;
use crate::store::{NewModel, StoredModel};

/// The JSON:API resource type of a model.
pub const MODEL_RESOURCE: &str = "models";

/// The filter and page of a model list request.
pub struct ModelListRequest {
    /// Comma-separated query types, as the client sent them.
    pub query_type: Option<String>,
    pub page: i64,
    pub per_page: i64,
}

/// A model as a create or an update would leave it, before the rules are checked.
struct ModelDraft {
    connector_id: i64,
    name: String,
    description: Option<String>,
    query: Option<String>,
    query_type: ModelQueryType,
    primary_key: Option<String>,
    configuration: Value,
}

/// Whether a query type needs a query (the others describe their data otherwise).
fn needs_query(query_type: ModelQueryType) -> bool {
    matches!(
        query_type,
        ModelQueryType::RawSql | ModelQueryType::Dbt | ModelQueryType::Soql | ModelQueryType::TableSelector
    )
}

/// Whether a query type is SQL this server runs against PostgreSQL and MariaDB sources.
fn is_sql(query_type: ModelQueryType) -> bool {
    matches!(query_type, ModelQueryType::RawSql | ModelQueryType::TableSelector)
}

/// Whether `query` ends in a LIMIT, OFFSET or FETCH clause: one of those words followed only
/// by what such a clause holds (numbers, placeholders, ALL, FIRST/NEXT, ROW/ROWS, ONLY).
fn ends_in_paging(query: &str) -> bool {
    let query = query.trim().trim_end_matches(|c: char| c == ';' || c.is_whitespace()).to_ascii_lowercase();
    let tail = query.rsplit(')').next().unwrap_or_default();
    let words: Vec<&str> = tail.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).collect();
    let clause_word = |word: &&str| {
        matches!(*word, "all" | "first" | "next" | "row" | "rows" | "only" | "?" | "limit" | "offset" | "fetch")
            || word.chars().all(|c| c.is_ascii_digit())
            || word.strip_prefix('$').is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
    };
    match words.iter().rposition(|w| matches!(*w, "limit" | "offset" | "fetch")) {
        Some(at) => words[at + 1..].iter().all(clause_word) && words.len() > at + 1,
        None => false,
    }
}

impl Service {
    fn model_not_found(caller: &Caller, id: &str) -> ServiceError {
        ServiceError::NotFound(format!("there is no model {id} in workspace {}", caller.workspace_id))
    }

    async fn stored_model(&self, caller: &Caller, id: &str) -> Result<StoredModel, ServiceError> {
        let numeric: i64 = id.parse().map_err(|_| Self::model_not_found(caller, id))?;
        self.store.get_model(caller.workspace_id, numeric).await?.ok_or_else(|| Self::model_not_found(caller, id))
    }

    /// The model `draft` describes, checked against every rule (see the module doc); the
    /// source is asked again only when what it answered for `previous` may have changed.
    async fn settle_model(
        &self,
        caller: &Caller,
        draft: ModelDraft,
        previous: Option<&StoredModel>,
    ) -> Result<NewModel, ServiceError> {
        let mut problems = Vec::new();
        if draft.name.trim().is_empty() {
            problems.push(Problem::new("/model/name", "`name` must not be empty"));
        }
        let connector = self.store.get_connector(caller.workspace_id, draft.connector_id).await?;
        match &connector {
            None => problems.push(Problem::new(
                "/model/connector_id",
                format!("there is no connector {} in workspace {}", draft.connector_id, caller.workspace_id),
            )),
            Some(c) if c.connector_type != ConnectorType::Source => problems.push(Problem::new(
                "/model/connector_id",
                format!("connector {} is a destination; a model reads a source", c.id),
            )),
            Some(_) => {}
        }
        let query_type = draft.query_type;
        let primary_key = draft.primary_key.filter(|k| !k.trim().is_empty());
        if query_type != ModelQueryType::Unstructured && primary_key.is_none() {
            problems
                .push(Problem::new("/model/primary_key", format!("`primary_key` is required for {query_type} models")));
        }
        let query = draft.query.filter(|q| !q.trim().is_empty());
        match &query {
            None if needs_query(query_type) => {
                problems.push(Problem::new("/model/query", format!("`query` is required for {query_type} models")))
            }
            Some(q) if ends_in_paging(q) => problems.push(Problem::new(
                "/model/query",
                "the query must not end in LIMIT, OFFSET or FETCH: syncs page through it themselves",
            )),
            _ => {}
        }
        if !problems.is_empty() {
            return Err(ServiceError::Invalid(problems));
        }
        let connector = connector.expect("checked above");
        let unchanged = previous.is_some_and(|p| {
            p.connector_id == draft.connector_id
                && p.query == query
                && p.query_type == query_type
                && p.primary_key == primary_key
        });
        let columns = match (&query, is_sql(query_type)) {
            _ if unchanged => previous.and_then(|p| p.columns.clone()),
            (Some(sql), true) => {
                let entry = self.connectors.entry_of(&connector)?;
                let clear = self.connectors.open_with(entry, &connector)?;
                let inspected = self
                    .connectors
                    .runtimes
                    .inspect(connector.connector_type, &connector.connector_name, &clear, sql)
                    .await
                    .map_err(|error| match error {
                        RuntimeError::Busy(message) => ServiceError::Unavailable(message),
                        other => ServiceError::invalid("/model/query", other.to_string()),
                    })?;
                if let (Some(columns), Some(key)) = (&inspected, &primary_key)
                    && !columns.iter().any(|c| &c.name == key)
                {
                    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
                    return Err(ServiceError::invalid(
                        "/model/primary_key",
                        format!("the query returns no column `{key}`; it returns {}", names.join(", ")),
                    ));
                }
                inspected.map(|columns| serde_json::to_value(columns).expect("columns serialize"))
            }
            _ => None,
        };
        Ok(NewModel {
            workspace_id: caller.workspace_id,
            connector_id: draft.connector_id,
            name: draft.name,
            description: draft.description,
            query,
            query_type,
            primary_key,
            configuration: draft.configuration,
            columns,
        })
    }

    pub async fn create_model(&self, caller: &Caller, input: ModelInput) -> Result<ModelResponse, ServiceError> {
        let ModelInput { name, description, connector_id, query, query_type, primary_key, configuration } = input;
        Self::require(caller, Resource::Model, Action::Create)?;
        let draft = ModelDraft {
            connector_id,
            name,
            description,
            query,
            query_type,
            primary_key,
            configuration: Value::Object(configuration.unwrap_or_default()),
        };
        let new = self.settle_model(caller, draft, None).await?;
        let stored = self.store.insert_model(&new).await?;
        Ok(ModelResponse { data: model_resource(&stored)? })
    }

    pub async fn list_models(
        &self,
        caller: &Caller,
        request: ModelListRequest,
    ) -> Result<ModelListResponse, ServiceError> {
        let filter = request.query_type.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let query_types = filter
            .map(|text| {
                text.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(|t| {
                        t.parse::<ModelQueryType>().map_err(|_| {
                            ServiceError::Unprocessable(format!(
                                "`query_type` names an unknown query type; it takes {}",
                                ModelQueryType::ALL.map(|q| q.as_str()).join(", ")
                            ))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let offset = (request.page - 1).saturating_mul(request.per_page);
        let (models, total) =
            self.store.list_models(caller.workspace_id, query_types.as_deref(), request.per_page, offset).await?;
        let filters: Vec<(&str, &str)> = filter.map(|f| ("query_type", f)).into_iter().collect();
        Ok(ModelListResponse {
            data: models.iter().map(model_resource).collect::<Result<_, _>>()?,
            links: page_links("/api/v1/models", &filters, request.page, request.per_page, total),
        })
    }

    pub async fn show_model(&self, caller: &Caller, id: &str) -> Result<ModelResponse, ServiceError> {
        let stored = self.stored_model(caller, id).await?;
        Ok(ModelResponse { data: model_resource(&stored)? })
    }

    pub async fn update_model(
        &self,
        caller: &Caller,
        id: &str,
        update: ModelUpdate,
    ) -> Result<ModelResponse, ServiceError> {
        let ModelUpdate { name, description, connector_id, query, query_type, primary_key, configuration } = update;
        Self::require(caller, Resource::Model, Action::Update)?;
        let stored = self.stored_model(caller, id).await?;
        let query_type = query_type.unwrap_or(stored.query_type);
        let draft = ModelDraft {
            connector_id: connector_id.unwrap_or(stored.connector_id),
            name: name.unwrap_or_else(|| stored.name.clone()),
            description: description.or_else(|| stored.description.clone()),
            query: query.or_else(|| stored.query.clone()),
            query_type,
            primary_key: primary_key.or_else(|| stored.primary_key.clone()),
            configuration: configuration.map(Value::Object).unwrap_or_else(|| stored.configuration.clone()),
        };
        let changed = self.settle_model(caller, draft, Some(&stored)).await?;
        let updated = self
            .store
            .update_model(caller.workspace_id, stored.id, &changed)
            .await?
            .ok_or_else(|| Self::model_not_found(caller, id))?;
        Ok(ModelResponse { data: model_resource(&updated)? })
    }

    pub async fn delete_model(&self, caller: &Caller, id: &str) -> Result<(), ServiceError> {
        Self::require(caller, Resource::Model, Action::Delete)?;
        let stored = self.stored_model(caller, id).await?;
        self.refuse_if_used(None, Some(stored.id)).await?;
        match self.store.delete_model(caller.workspace_id, stored.id).await? {
            true => Ok(()),
            false => Err(Self::model_not_found(caller, id)),
        }
    }
}

/// A stored model as the API shows it.
fn model_resource(stored: &StoredModel) -> Result<Model, ServiceError> {
    let columns: Option<Vec<ModelColumn>> = match &stored.columns {
        Some(columns) => Some(
            serde_json::from_value(columns.clone())
                .map_err(|e| ServiceError::Internal(format!("model {} columns: {e}", stored.id)))?,
        ),
        None => None,
    };
    Ok(Model {
        id: stored.id.to_string(),
        type_: MODEL_RESOURCE.to_owned(),
        attributes: ModelAttributes {
            name: stored.name.clone(),
            description: stored.description.clone(),
            query: stored.query.clone(),
            query_type: stored.query_type,
            primary_key: stored.primary_key.clone(),
            configuration: stored.configuration.as_object().cloned().unwrap_or_default(),
            connector_id: stored.connector_id,
            workspace_id: stored.workspace_id,
            columns,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_ending_in_paging_are_found() {
        for query in [
            "SELECT * FROM t LIMIT 10",
            "select * from t limit 10;",
            "SELECT * FROM t LIMIT 10 OFFSET 20",
            "SELECT * FROM t OFFSET 5",
            "SELECT * FROM t LIMIT 5, 10",
            "SELECT * FROM t LIMIT ALL",
            "SELECT * FROM t ORDER BY id FETCH FIRST 10 ROWS ONLY",
            "SELECT * FROM t LIMIT $1",
            "SELECT * FROM (SELECT 1) AS x LIMIT 3",
        ] {
            assert!(ends_in_paging(query), "{query}");
        }
        for query in [
            "SELECT * FROM t",
            "SELECT * FROM (SELECT * FROM t LIMIT 5) AS x",
            "SELECT id, \"offset\" FROM t",
            "SELECT id, offset FROM t",
            "SELECT limit_value FROM settings",
            "SELECT * FROM t WHERE note = 'limit 10'",
        ] {
            assert!(!ends_in_paging(query), "{query}");
        }
    }
}
