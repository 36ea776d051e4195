//! `gloss serve`

use super::open_engine;
use crate::config::{FileConfig, Settings};
use anyhow::{Context, Result};
use clap::Args;
use gloss_server::{App, ServerConfig};
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "GLOSS_BIND", value_name = "ADDR")]
    bind: Option<String>,
    /// Seed a demo project when the instance has no projects
    #[arg(long, env = "GLOSS_DEMO")]
    demo: bool,
    /// Mark cookies Secure (when Gloss is served over HTTPS)
    #[arg(long, env = "GLOSS_SECURE_COOKIES")]
    secure_cookies: bool,
}

pub async fn run(settings: &Settings, file: &FileConfig, args: ServeArgs) -> Result<()> {
    let bind = args
        .bind
        .or_else(|| file.bind.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let demo = args.demo || file.demo.unwrap_or(false);
    let secure_cookies = args.secure_cookies || file.secure_cookies.unwrap_or(false);
    // Bind first: a taken port should fail before anything is written.
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .with_context(|| format!("listening on {bind}"))?;
    let address = listener
        .local_addr()
        .context("reading the listening address")?;
    let engine = Arc::new(open_engine(settings).await?);

    let admin_password = std::env::var("GLOSS_ADMIN_PASSWORD")
        .ok()
        .filter(|password| !password.is_empty());
    let created_admin = engine.ensure_admin(admin_password.as_deref()).await?;
    let interrupted = engine.recover_interrupted_imports().await?;
    if interrupted > 0 {
        eprintln!("{interrupted} imports were cut short by the last stop; they wrote nothing and are marked failed");
    }
    if demo {
        super::demo::seed(&engine).await?;
    }
    // The quality reports of the projects worked on last are ready before
    // anyone asks (in the background: serving starts at once).
    let warming = engine.clone();
    tokio::spawn(async move { warming.warm_quality_answers().await });
    // Tasks imported while the server was down, or by `gloss import`, get
    // the data manager's indexes (data fields, then the text of `contains`
    // filters); then new tasks as they come.
    let indexing = engine.clone();
    tokio::spawn(async move { indexing.keep_table_indexes().await });
    // Rows written while the queue was idle join the tables SQLite keeps
    // in place of indexes by person.
    let person_indexing = engine.clone();
    tokio::spawn(async move { person_indexing.keep_person_indexes().await });

    let app = App {
        engine: engine.clone(),
        config: Arc::new(ServerConfig {
            secure_cookies,
            max_import_bytes: file
                .max_import_bytes
                .unwrap_or(ServerConfig::default().max_import_bytes),
            ..ServerConfig::default()
        }),
    };
    println!("Gloss is running at http://{address}  (API: http://{address}/api/v1/openapi.json)");
    match created_admin {
        Some((admin, Some(password))) => {
            println!("Created the first account: username `{}`, password `{password}` (shown only this once)", admin.username);
        }
        Some((admin, None)) => {
            println!("Created the first account: username `{}` with the password from GLOSS_ADMIN_PASSWORD", admin.username);
        }
        None => {}
    }
    println!(
        "Get an API token: curl -s -X POST http://{address}/api/v1/auth/token -H 'Content-Type: application/json' \
         -d '{{\"username\": \"admin\", \"password\": \"…\"}}'"
    );
    println!("Data: {}   Stop with Ctrl+C", settings.data_dir.display());

    gloss_server::serve(listener, app, shutdown_signal())
        .await
        .context("serving HTTP")?;
    engine.store().close().await;
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
    tracing::info!("shutting down");
}
