//! Test helpers shared by the crates' test suites.
//!
//! [`databases`] yields a fresh SQLite database always and a fresh PostgreSQL
//! database when `GLOSS_TEST_POSTGRES_URL` points at a server (the test
//! scripts start a private one); under `CI` that variable is required, so the
//! PostgreSQL half can never be skipped silently. [`TestServer`] runs the real
//! HTTP server on 127.0.0.1 with an ephemeral port.

use gloss_engine::{Actor, Engine, EngineConfig};
use gloss_media::MediaStore;
use gloss_server::{App, ServerConfig};
use gloss_store::{Store, StoreOptions};
use gloss_types::{Role, User};
use rand::Rng;
use sqlx::Connection;
use std::sync::Arc;
use tempfile::TempDir;

/// A fresh, empty database for one test.
pub struct TestDb {
    pub url: String,
    /// `sqlite` or `postgres`, for messages.
    pub label: &'static str,
    /// Keeps the SQLite file's folder alive for the test's duration.
    pub dir: TempDir,
}

/// A fresh SQLite database, and a fresh PostgreSQL database when one is configured.
pub async fn databases() -> Vec<TestDb> {
    let mut dbs = vec![sqlite_db()];
    if let Some(db) = postgres_db().await {
        dbs.push(db);
    }
    dbs
}

pub fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("gloss.db").display());
    TestDb {
        url,
        label: "sqlite",
        dir,
    }
}

/// A new database inside the server named by `GLOSS_TEST_POSTGRES_URL`.
pub async fn postgres_db() -> Option<TestDb> {
    let Ok(admin_url) = std::env::var("GLOSS_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but GLOSS_TEST_POSTGRES_URL is not: run the tests through scripts/with-postgres.sh"
        );
        return None;
    };
    let name = format!("gloss_t_{:016x}", rand::thread_rng().gen::<u64>());
    let mut conn = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("connecting to GLOSS_TEST_POSTGRES_URL");
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("creating a test database");
    conn.close().await.ok();
    let base = admin_url
        .rsplit_once('/')
        .map(|(base, _)| base)
        .unwrap_or(&admin_url);
    let dir = tempfile::tempdir().expect("temporary folder");
    Some(TestDb {
        url: format!("{base}/{name}"),
        label: "postgres",
        dir,
    })
}

/// Opens and migrates a store on a test database.
pub async fn open_store(db: &TestDb) -> Store {
    let store = Store::open(&db.url, &StoreOptions::default())
        .await
        .expect("opening the test store");
    store.migrate().await.expect("migrating the test store");
    store
}

pub fn media_in(dir: &TempDir) -> MediaStore {
    MediaStore::open(&format!("file://{}", dir.path().join("media").display()))
        .expect("opening media")
}

/// The real server on 127.0.0.1:0 over a fresh database.
pub struct TestServer {
    pub base: String,
    pub engine: Arc<Engine>,
    pub client: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// A small valid label config for tests that need a project.
pub const LABEL_CONFIG: &str = r#"<View><Image name="image" value="$image"/><Choices name="class" toName="image"><Choice value="Cat"/><Choice value="Dog"/></Choices></View>"#;

/// The password of every account the helpers create.
pub const PASSWORD: &str = "correct horse battery";

impl TestServer {
    pub async fn start(db: &TestDb) -> TestServer {
        TestServer::start_with(db, |_| {}, ServerConfig::default()).await
    }

    /// Like [`TestServer::start`], with settings changed by `configure`.
    pub async fn start_with(
        db: &TestDb,
        configure: impl FnOnce(&mut EngineConfig),
        server_config: ServerConfig,
    ) -> TestServer {
        let store = open_store(db).await;
        let media = media_in(&db.dir);
        let mut config = EngineConfig::new(db.dir.path().join("backups"));
        configure(&mut config);
        let engine = Arc::new(Engine::new(store, media, config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding 127.0.0.1:0");
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        let app = App {
            engine: engine.clone(),
            config: Arc::new(server_config),
        };
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            gloss_server::serve(listener, app, async {
                let _ = stop.await;
            })
            .await
            .expect("serving");
        });
        TestServer {
            base,
            engine,
            client: reqwest::Client::new(),
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Creates an account with [`PASSWORD`] and returns it with a fresh API token.
    pub async fn user(&self, username: &str, role: Role) -> (User, String) {
        let user = self
            .engine
            .create_user(&Actor::Operator, username, PASSWORD, role)
            .await
            .expect("creating a user");
        let token = self
            .engine
            .issue_token(&user, "test")
            .await
            .expect("issuing a token");
        (user, token.secret)
    }

    /// Sends a request with a bearer token (or none) and an optional JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("sending a request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("reading a response");
        let json = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
        };
        (status, json)
    }

    /// Creates a project over the API as the holder of `token` and returns
    /// its id; panics with the answer unless it is created.
    pub async fn create_project(&self, token: &str, name: &str, label_config: &str) -> i64 {
        let (status, project) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/projects",
                Some(token),
                Some(serde_json::json!({"name": name, "label_config": label_config})),
            )
            .await;
        assert_eq!(status, 201, "creating project {name}: {project}");
        project["id"].as_i64().expect("the project's id")
    }

    /// Uploads one file to a project's imports as `format` (`auto` guesses)
    /// and returns the import job once it has ended.
    pub async fn import_file(
        &self,
        token: &str,
        project: i64,
        format: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> serde_json::Value {
        let form = reqwest::multipart::Form::new()
            .text("format", format.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
            );
        let response = self
            .client
            .post(self.url(&format!("/api/v1/projects/{project}/imports")))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("uploading an import");
        let status = response.status().as_u16();
        let job: serde_json::Value = response.json().await.unwrap_or_default();
        assert_eq!(status, 202, "starting the import: {job}");
        let path = format!("/api/v1/imports/{}", job["id"]);
        for _ in 0..400 {
            let (status, job) = self
                .call(reqwest::Method::GET, &path, Some(token), None)
                .await;
            assert_eq!(status, 200, "{job}");
            if job["state"] != "running" {
                return job;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the import {path} did not end in 10 s");
    }

    /// A project's export as `format`, as text; the export must succeed.
    pub async fn export_text(&self, token: &str, project: i64, format: &str) -> String {
        let response = self
            .client
            .get(self.url(&format!(
                "/api/v1/projects/{project}/export?format={format}"
            )))
            .bearer_auth(token)
            .send()
            .await
            .expect("exporting");
        let status = response.status().as_u16();
        let text = response.text().await.expect("reading the export");
        assert_eq!(status, 200, "exporting as {format}: {text}");
        text
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.engine.store().close().await;
    }
}

/// A PNG of `width` × `height` pixels, with a gradient so that images differ.
pub fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, seed])
    });
    let mut bytes = Vec::new();
    picture
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .expect("encoding a PNG");
    bytes
}

/// A 1 × 1 PNG.
pub fn tiny_png() -> Vec<u8> {
    png(1, 1, 0)
}

/// The names of the database's indexes named like `pattern` (SQL `LIKE`,
/// escaped by a backslash), sorted.
pub async fn index_names(db: &TestDb, pattern: &str) -> Vec<String> {
    sqlx::any::install_default_drivers();
    let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
        .await
        .expect("connecting to the test database");
    let query = match db.label {
        "sqlite" => "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE $1 ESCAPE '\\' ORDER BY name",
        _ => "SELECT CAST(indexname AS TEXT) AS name FROM pg_indexes WHERE indexname LIKE $1 ESCAPE '\\' ORDER BY name",
    };
    let rows = sqlx::query(query)
        .bind(pattern)
        .fetch_all(&mut connection)
        .await
        .expect("listing indexes");
    sqlx::Connection::close(connection).await.ok();
    rows.iter()
        .map(|row| sqlx::Row::get::<String, _>(row, "name"))
        .collect()
}
