//! What the binary's end-to-end tests share: running `gloss` commands with
//! a clean environment and bounded time, and a running `gloss serve`.

// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

pub const BIN: &str = env!("CARGO_BIN_EXE_gloss");
/// The longest one command may take (an unreachable PostgreSQL takes 30 s to give up).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(90);
pub const START_TIMEOUT: Duration = Duration::from_secs(60);
pub const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// Settings that must not leak in from the environment of whoever runs the tests.
pub const GLOSS_VARIABLES: &[&str] = &[
    "GLOSS_SETTINGS",
    "GLOSS_DATA",
    "GLOSS_DATABASE",
    "GLOSS_MEDIA",
    "GLOSS_SQLITE_SYNC",
    "GLOSS_LOG",
    "GLOSS_BIND",
    "GLOSS_DEMO",
    "GLOSS_SECURE_COOKIES",
    "GLOSS_PASSWORD",
    "GLOSS_ADMIN_PASSWORD",
    "GLOSS_MAX_UPLOAD_BYTES",
    "GLOSS_MAX_IMAGE_PIXELS",
    "GLOSS_FETCH_URLS",
    "GLOSS_FETCH_ALLOW",
];

/// A `gloss` command line, with a clean environment and a current folder.
pub struct Gloss {
    pub command: Command,
    pub shown: String,
    pub stdin: Option<String>,
}

pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Gloss {
    pub fn new(cwd: &Path) -> Gloss {
        let mut command = Command::new(BIN);
        command.current_dir(cwd).kill_on_drop(true);
        for variable in GLOSS_VARIABLES {
            command.env_remove(variable);
        }
        Gloss {
            command,
            shown: "gloss".to_string(),
            stdin: None,
        }
    }

    pub fn args(mut self, args: &[&str]) -> Gloss {
        for arg in args {
            self.command.arg(arg);
            self.shown.push(' ');
            self.shown.push_str(arg);
        }
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> Gloss {
        self.command.env(name, value);
        self
    }

    pub fn stdin(mut self, text: &str) -> Gloss {
        self.stdin = Some(text.to_string());
        self
    }

    /// Runs to completion within [`COMMAND_TIMEOUT`].
    pub async fn run(mut self) -> Output {
        self.command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("starting gloss");
        if let Some(text) = self.stdin.take() {
            let mut stdin = child.stdin.take().expect("stdin");
            // A command that exits without reading its input is judged by its output.
            let _ = stdin.write_all(text.as_bytes()).await;
        }
        match tokio::time::timeout(COMMAND_TIMEOUT, child.wait_with_output()).await {
            Ok(output) => {
                let output = output.expect("waiting for gloss");
                Output {
                    status: output.status,
                    stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                    stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
                }
            }
            // Dropping the future dropped the child, which kills it.
            Err(_) => panic!("`{}` ran past {COMMAND_TIMEOUT:?}", self.shown),
        }
    }

    /// Runs and checks that it succeeded; returns standard output.
    pub async fn ok(self) -> String {
        let shown = self.shown.clone();
        let out = self.run().await;
        assert!(
            out.status.success(),
            "`{shown}` failed ({}):\n{}",
            out.status,
            out.stderr
        );
        out.stdout
    }

    /// Runs and checks that it failed; returns standard error.
    pub async fn fails(self) -> String {
        let shown = self.shown.clone();
        let out = self.run().await;
        assert!(
            !out.status.success(),
            "`{shown}` should have failed:\n{}{}",
            out.stdout,
            out.stderr
        );
        assert!(!out.stderr.trim().is_empty(), "`{shown}` failed silently");
        out.stderr
    }

    /// Starts a server and reads its banner up to the `Data:` line.
    pub async fn serve(mut self) -> Server {
        self.command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("starting gloss serve");
        let stderr_text = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().expect("stderr");
        let sink = stderr_text.clone();
        // Drained all along, so that logging can never block the server.
        tokio::spawn(async move {
            let mut buffer = [0u8; 4096];
            while let Ok(read) = stderr.read(&mut buffer).await {
                if read == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&buffer[..read]).into_owned();
                sink.lock().unwrap().push_str(&text);
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        let mut banner = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, stdout.next_line()).await {
                Ok(Ok(Some(line))) => {
                    let done = line.starts_with("Data:");
                    banner.push(line);
                    if done {
                        break;
                    }
                }
                Ok(_) => {
                    let _ = tokio::time::timeout(STOP_TIMEOUT, child.wait()).await;
                    panic!(
                        "`{}` exited while starting:\n{}\n{}",
                        self.shown,
                        banner.join("\n"),
                        stderr_text.lock().unwrap()
                    );
                }
                Err(_) => panic!(
                    "`{}` did not start within {START_TIMEOUT:?}:\n{}\n{}",
                    self.shown,
                    banner.join("\n"),
                    stderr_text.lock().unwrap()
                ),
            }
        }
        let base = banner
            .iter()
            .find_map(|line| line.strip_prefix("Gloss is running at "))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in the banner:\n{}", banner.join("\n")))
            .to_string();
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        Server {
            child,
            _stdout: stdout,
            stderr: stderr_text,
            base,
            banner,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
        }
    }
}

/// A running `gloss serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    /// Kept open so that the server's later prints never hit a closed pipe.
    pub _stdout: Lines<BufReader<ChildStdout>>,
    pub stderr: Arc<Mutex<String>>,
    pub base: String,
    /// Standard output up to the `Data:` line.
    pub banner: Vec<String>,
    pub client: reqwest::Client,
}

impl Server {
    /// Stops with SIGTERM and checks that the server shut down cleanly.
    pub async fn stop(mut self) {
        let pid = self.child.id().expect("the server is running");
        let status = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -TERM {pid} failed");
        let exit = tokio::time::timeout(STOP_TIMEOUT, self.child.wait())
            .await
            .expect("the server did not stop on SIGTERM")
            .expect("waiting for the server");
        assert!(
            exit.success(),
            "the server exited with {exit} on SIGTERM:\n{}",
            self.stderr.lock().unwrap()
        );
    }

    /// Kills with SIGKILL: no chance to clean up.
    pub async fn crash(mut self) {
        self.child.kill().await.expect("killing the server");
    }
}
