//! `gloss`: the command line of Gloss. It reads settings, sets up logging,
//! and calls the engine or the server; it knows no SQL and no HTTP details.

mod cli;
mod config;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// mimalloc instead of the system allocator: exports and the queue allocate
/// and free many small values on different threads, where glibc's allocator
/// spent a third of an export's CPU time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "gloss",
    version,
    about = "Gloss: an open-source data-annotation platform"
)]
struct Cli {
    #[command(flatten)]
    global: config::GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server
    Serve(cli::serve::ServeArgs),
    /// Manage accounts
    #[command(subcommand)]
    User(cli::user::UserCommand),
    /// Manage projects
    #[command(subcommand)]
    Project(cli::project::ProjectCommand),
    /// Import tasks: image files or folders, JSON/JSONL/CSV/TSV task files, COCO, Label Studio exports
    Import(cli::import::ImportArgs),
    /// Export a project as Gloss JSON, Label Studio JSON or COCO
    Export(cli::export::ExportArgs),
    /// Write a backup of the database and media to one file (safe while the server runs)
    Backup(cli::backup::BackupArgs),
    /// Replace the database with a backup's and add its media (stop the server first)
    Restore(cli::backup::RestoreArgs),
    /// Inter-annotator agreement of a CSV or JSONL file of item, annotator, label rows (prints JSON)
    Agreement(cli::quality::AgreementArgs),
    /// Consensus labels of a CSV or JSONL file of item, annotator, label rows (prints JSON)
    Aggregate(cli::quality::AggregateArgs),
    /// Productivity per annotator of a project, or the leaderboard over every project (CSV)
    Productivity(cli::productivity::ProductivityArgs),
    /// Write the payroll of a date range as CSV (username,hours,tasks,rejected,gross,currency)
    Payroll(cli::pay::PayrollArgs),
    /// Show settings
    #[command(subcommand)]
    Config(cli::ConfigCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let file = config::read_file_config(&cli.global)?;
    let settings = config::resolve(&cli.global, &file)?;
    tracing_subscriber::fmt()
        .with_max_level(settings.log_level)
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Serve(args) => cli::serve::run(&settings, &file, args).await,
        Command::User(command) => cli::user::run(&settings, command).await,
        Command::Project(command) => cli::project::run(&settings, command).await,
        Command::Import(args) => cli::import::run(&settings, args).await,
        Command::Export(args) => cli::export::run(&settings, args).await,
        Command::Backup(args) => cli::backup::backup(&settings, args).await,
        Command::Restore(args) => cli::backup::restore(&settings, args).await,
        Command::Config(command) => cli::config_command(&settings, command),
        Command::Productivity(args) => cli::productivity::run(&settings, args).await,
        Command::Payroll(args) => cli::pay::payroll(&settings, args).await,
        Command::Agreement(args) => cli::quality::agreement(args),
        Command::Aggregate(args) => cli::quality::aggregate(args),
    }
}
