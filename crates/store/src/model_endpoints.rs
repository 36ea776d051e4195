//! A project's model endpoint: where red-teaming chats are sent. The API key
//! is kept here for the server to use; nothing that reads the endpoint for a
//! caller returns it (see [`ModelEndpoint::api_key`]).

use crate::tasks::Columns;
use crate::{Error, Result, Store};
use gloss_types::{ProjectId, Timestamp, UserId};

/// A project's model endpoint as stored.
#[derive(Clone, PartialEq)]
pub struct ModelEndpoint {
    pub project_id: ProjectId,
    /// An OpenAI-compatible base URL (`…/v1`) or full chat-completions URL.
    pub url: String,
    pub model: String,
    /// The secret sent as `Authorization: Bearer …`; `None` when unset.
    pub api_key: Option<String>,
    /// Sent first, as a `system` message, when not empty.
    pub system_prompt: String,
    pub temperature: Option<f64>,
    pub max_tokens: Option<i64>,
    pub updated_by: Option<UserId>,
    pub updated_at: Timestamp,
}

/// Debug output never shows the key.
impl std::fmt::Debug for ModelEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelEndpoint")
            .field("project_id", &self.project_id)
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("system_prompt", &self.system_prompt)
            .field("temperature", &self.temperature)
            .field("max_tokens", &self.max_tokens)
            .field("updated_by", &self.updated_by)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// What to store as a project's endpoint.
#[derive(Clone)]
pub struct ModelEndpointInput {
    pub url: String,
    pub model: String,
    /// `None` keeps the stored key; `Some(None)` removes it.
    pub api_key: Option<Option<String>>,
    pub system_prompt: String,
    pub temperature: Option<f64>,
    pub max_tokens: Option<i64>,
    pub updated_by: Option<UserId>,
}

impl std::fmt::Debug for ModelEndpointInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelEndpointInput")
            .field("url", &self.url)
            .field("model", &self.model)
            .field(
                "api_key",
                &self.api_key.as_ref().map(|key| key.as_ref().map(|_| "***")),
            )
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str = "project_id, url, model, api_key, system_prompt, temperature, max_tokens, \
     updated_by, updated_at";

fn endpoint(row: &dyn Columns) -> Result<ModelEndpoint> {
    Ok(ModelEndpoint {
        project_id: ProjectId(row.int("project_id")?),
        url: row.text("url")?,
        model: row.text("model")?,
        api_key: row.optional_text("api_key")?,
        system_prompt: row.text("system_prompt")?,
        temperature: row.optional_float("temperature")?,
        max_tokens: row.optional_int("max_tokens")?,
        updated_by: row.optional_int("updated_by")?.map(UserId),
        updated_at: Timestamp(row.int("updated_at")?),
    })
}

impl Store {
    /// The project's endpoint, `None` when none is set.
    pub async fn model_endpoint(&self, project: ProjectId) -> Result<Option<ModelEndpoint>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM model_endpoints WHERE project_id = $1"
        ))
        .bind(project.0)
        .fetch_optional(&self.readers)
        .await?;
        row.as_ref().map(|row| endpoint(row)).transpose()
    }

    /// Sets the project's endpoint (replacing any), keeping the stored key
    /// when `input.api_key` is `None`. [`Error::NotFound`] without the project.
    pub async fn set_model_endpoint(
        &self,
        project: ProjectId,
        input: &ModelEndpointInput,
    ) -> Result<ModelEndpoint> {
        let mut tx = self.begin_write().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM projects WHERE id = $1")
            .bind(project.0)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(Error::NotFound);
        }
        let stored_key: Option<Option<String>> =
            sqlx::query_scalar("SELECT api_key FROM model_endpoints WHERE project_id = $1")
                .bind(project.0)
                .fetch_optional(&mut *tx)
                .await?;
        let api_key = match &input.api_key {
            Some(key) => key.clone(),
            None => stored_key.flatten(),
        };
        sqlx::query("DELETE FROM model_endpoints WHERE project_id = $1")
            .bind(project.0)
            .execute(&mut *tx)
            .await?;
        let insert = format!(
            "INSERT INTO model_endpoints ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        let query = sqlx::query(&insert)
            .bind(project.0)
            .bind(&input.url)
            .bind(&input.model)
            .bind(api_key.clone())
            .bind(&input.system_prompt);
        let query = crate::bind_optional_f64(query, input.temperature);
        let now = Timestamp::now();
        query
            .bind(input.max_tokens)
            .bind(input.updated_by.map(|user| user.0))
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ModelEndpoint {
            project_id: project,
            url: input.url.clone(),
            model: input.model.clone(),
            api_key,
            system_prompt: input.system_prompt.clone(),
            temperature: input.temperature,
            max_tokens: input.max_tokens,
            updated_by: input.updated_by,
            updated_at: now,
        })
    }

    /// Removes the project's endpoint; `false` when it had none.
    pub async fn delete_model_endpoint(&self, project: ProjectId) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM model_endpoints WHERE project_id = $1")
            .bind(project.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}
