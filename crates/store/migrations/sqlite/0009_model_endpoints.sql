-- A project's model endpoint for red-teaming chats: an OpenAI-compatible
-- chat-completions URL, the model, and the API key, which only the server
-- reads (no API returns it).
CREATE TABLE model_endpoints (
    project_id INTEGER PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    model TEXT NOT NULL,
    api_key TEXT,
    system_prompt TEXT NOT NULL,
    temperature REAL,
    max_tokens INTEGER,
    updated_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    updated_at INTEGER NOT NULL
);
