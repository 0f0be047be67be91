//! Models in the database: the rows, their pages, and who uses a connector.

use chrono::Utc;
use serde_json::Value;
use squared_types::ModelQueryType;

use super::database::{DatabaseError, Row, query};
use super::{Store, StoreError, json_text, parse_timestamp, timestamp};

/// A model as given to the store (checked by the service first).
#[derive(Clone, Debug)]
pub struct NewModel {
    pub workspace_id: i64,
    pub connector_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub query: Option<String>,
    /// The query type's wire name.
    pub query_type: ModelQueryType,
    pub primary_key: Option<String>,
    pub configuration: Value,
    /// The columns the source described, when the query was checked.
    pub columns: Option<Value>,
}

/// A model as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredModel {
    pub id: i64,
    pub workspace_id: i64,
    pub connector_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub query: Option<String>,
    pub query_type: ModelQueryType,
    pub primary_key: Option<String>,
    pub configuration: Value,
    pub columns: Option<Value>,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

/// The columns of a model row, in the order [`model_from_row`] reads them by name.
macro_rules! model_columns {
    () => {
        "id, workspace_id, connector_id, name, description, query, query_type, primary_key, configuration, columns, \
         created_at, updated_at"
    };
}

impl Store {
    /// Stores a new model. A connector deleted meanwhile is [`StoreError::Missing`].
    pub async fn insert_model(&self, new: &NewModel) -> Result<StoredModel, StoreError> {
        let now = timestamp(Utc::now());
        let row = query(concat!(
            "INSERT INTO models (workspace_id, connector_id, name, description, query, query_type, primary_key, \
             configuration, columns, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
             RETURNING ",
            model_columns!()
        ))
        .bind(new.workspace_id)
        .bind(new.connector_id)
        .bind(&new.name)
        .bind(&new.description)
        .bind(&new.query)
        .bind(new.query_type.as_str())
        .bind(&new.primary_key)
        .bind(json_text(&new.configuration))
        .bind(new.columns.as_ref().map(json_text))
        .bind(&now)
        .fetch_one(&self.pool)
        .await
        .map_err(missing_or_database)?;
        model_from_row(&row)
    }

    /// The model `id` of a workspace, if it exists there.
    pub async fn get_model(&self, workspace_id: i64, id: i64) -> Result<Option<StoredModel>, StoreError> {
        let row = query(concat!("SELECT ", model_columns!(), " FROM models WHERE workspace_id = $1 AND id = $2"))
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(model_from_row).transpose()
    }

    /// One page of a workspace's models (of `query_types`, when given), newest `updated_at`
    /// first, and how many there are in all.
    pub async fn list_models(
        &self,
        workspace_id: i64,
        query_types: Option<&[ModelQueryType]>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<StoredModel>, i64), StoreError> {
        let mut condition = String::from("workspace_id = $1");
        let types: Vec<&str> = query_types.unwrap_or_default().iter().map(|t| t.as_str()).collect();
        if query_types.is_some() {
            let placeholders: Vec<String> = (0..types.len()).map(|i| format!("${}", i + 2)).collect();
            condition.push_str(&format!(" AND query_type IN ({})", placeholders.join(", ")));
        }
        let (rows, total) = self
            .page(
                "models",
                model_columns!(),
                &condition,
                "updated_at DESC, id DESC",
                workspace_id,
                &types,
                limit,
                offset,
            )
            .await?;
        Ok((rows.iter().map(model_from_row).collect::<Result<_, _>>()?, total))
    }

    /// Replaces the fields of model `id` of a workspace; `None` when it is not there.
    pub async fn update_model(
        &self,
        workspace_id: i64,
        id: i64,
        changed: &NewModel,
    ) -> Result<Option<StoredModel>, StoreError> {
        let now = timestamp(Utc::now());
        let row = query(concat!(
            "UPDATE models SET connector_id = $1, name = $2, description = $3, query = $4, query_type = $5, \
             primary_key = $6, configuration = $7, columns = $8, updated_at = $9 \
             WHERE workspace_id = $10 AND id = $11 RETURNING ",
            model_columns!()
        ))
        .bind(changed.connector_id)
        .bind(&changed.name)
        .bind(&changed.description)
        .bind(&changed.query)
        .bind(changed.query_type.as_str())
        .bind(&changed.primary_key)
        .bind(json_text(&changed.configuration))
        .bind(changed.columns.as_ref().map(json_text))
        .bind(&now)
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(missing_or_database)?;
        row.as_ref().map(model_from_row).transpose()
    }

    /// Deletes model `id` of a workspace; false when it is not there.
    pub async fn delete_model(&self, workspace_id: i64, id: i64) -> Result<bool, StoreError> {
        let done = query("DELETE FROM models WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|error| match error.is_foreign_key_violation() {
                true => StoreError::InUse,
                false => StoreError::Database(error),
            })?;
        Ok(done == 1)
    }

    /// The models (id and name) that read connector `connector_id`, by id.
    pub async fn models_of_connector(&self, connector_id: i64) -> Result<Vec<(i64, String)>, StoreError> {
        let rows = query("SELECT id, name FROM models WHERE connector_id = $1 ORDER BY id")
            .bind(connector_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| Ok((row.try_get("id")?, row.try_get("name")?))).collect()
    }
}

/// A model whose connector went away between the check and the write.
fn missing_or_database(error: DatabaseError) -> StoreError {
    match &error {
        error if error.is_foreign_key_violation() => StoreError::Missing,
        _ => StoreError::Database(error),
    }
}

fn model_from_row(row: &Row) -> Result<StoredModel, StoreError> {
    let configuration: String = row.try_get("configuration")?;
    let columns: Option<String> = row.try_get("columns")?;
    let json = |text: &str, what: &str| {
        serde_json::from_str::<Value>(text).map_err(|e| StoreError::Corrupt(format!("model {what}: {e}")))
    };
    Ok(StoredModel {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        connector_id: row.try_get("connector_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        query: row.try_get("query")?,
        query_type: super::decode(row, "query_type")?,
        primary_key: row.try_get("primary_key")?,
        configuration: json(&configuration, "configuration")?,
        columns: columns.as_deref().map(|text| json(text, "columns")).transpose()?,
        created_at: parse_timestamp(&row.try_get::<String>("created_at")?)?,
        updated_at: parse_timestamp(&row.try_get::<String>("updated_at")?)?,
    })
}
