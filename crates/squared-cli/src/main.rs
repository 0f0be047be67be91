//! `squared`: the API from a shell.
//!
//! `generated.rs` is progenitor's command line, generated from `spec/openapi.yaml` by `cargo
//! xtask codegen`: a subcommand per operation (named after its operationId, `list-connectors`),
//! its parameters and body fields as flags, `--json-body FILE` for a whole body. This file adds
//! what a spec cannot say: where the server, token and workspace come from ([`settings`]), how
//! answers are printed ([`print`]), `login`, and reading a paged list whole (a list command
//! without `--page` fetches every page and prints each as it arrives).
//!
//! The operator's commands (`serve`, `worker`, `token`, `rotate-key`) stay with the server's
//! binary, `squared-server`: they read the server's secrets and data directory, which a client
//! machine does not have, and this binary stays a small HTTP client.

#[allow(unused, clippy::all)]
#[rustfmt::skip]
mod generated;
mod print;
mod settings;

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, Command};
use progenitor_client::{ByteStream, ResponseValue};
use tokio::io::AsyncWriteExt as _;

use generated::{Cli, CliCommand};
use print::{Output, Printer};
use settings::Settings;

/// The root command: global options, `login`, and a subcommand per operation.
fn command() -> Command {
    let operations =
        CliCommand::iter().map(|operation| Cli::<Printer>::get_command(operation).name(subcommand_name(operation)));
    Command::new("squared")
        .about("The AI Squared API from a shell: a subcommand per operation of spec/openapi.yaml.")
        .after_help(settings::HELP)
        .subcommand_required(true)
        .arg(
            Arg::new("output")
                .long("output")
                .short('o')
                .global(true)
                .value_parser(["json", "table"])
                .default_value("json")
                .help("How answers are printed: JSON (a paged list as one item per line), or a table"),
        )
        .arg(
            Arg::new("url")
                .long("url")
                .global(true)
                .help("The server's base URL [env: SQUARED_URL; else the login file]"),
        )
        .arg(
            Arg::new("workspace")
                .long("workspace")
                .global(true)
                .value_parser(clap::value_parser!(i64).range(1..))
                .help("The workspace to act in [env: SQUARED_WORKSPACE; else the login file]"),
        )
        .subcommand(
            Command::new("login")
                .about(
                    "Saves the server's URL, a token and a workspace in the login file; the token is read from \
                     standard input (one line), so it is not left in the shell's history",
                )
                .arg(Arg::new("url").long("url").required(true).help("The server's base URL"))
                .arg(
                    Arg::new("workspace")
                        .long("workspace")
                        .required(true)
                        .value_parser(clap::value_parser!(i64).range(1..))
                        .help("The workspace to act in"),
                ),
        )
        .subcommands(operations)
}

/// `list_connectors` → `list-connectors`.
fn subcommand_name(operation: CliCommand) -> String {
    operation.operation_id().replace('_', "-")
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        // An error answer was printed where it was met.
        Err(error) if error.is::<progenitor_client::Error<squared_client::types::ErrorResponse>>() => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let matches = command().get_matches_from(&args);
    let output: Output = matches.get_one::<String>("output").expect("has a default").parse()?;
    let (name, sub) = matches.subcommand().expect("a subcommand is required");
    if name == "login" {
        return settings::login(sub);
    }
    let operation = CliCommand::iter()
        .find(|operation| subcommand_name(*operation) == name)
        .expect("every subcommand is an operation");
    let settings = Settings::resolve(&matches)?;
    let printer = Printer::new(output);
    let cli = Cli::new(settings.client()?, printer.clone());

    if !is_paged(operation, sub) {
        return cli.execute(operation, sub).await;
    }
    // A list read whole: the same command line with `--page N` for each page in turn, until
    // the answer says no page follows.
    let mut page = 1u64;
    loop {
        let mut with_page = args.clone();
        with_page.extend(["--page".to_owned(), page.to_string()]);
        let matches = command().try_get_matches_from(&with_page)?;
        let (_, sub) = matches.subcommand().expect("the same subcommand");
        printer.start_page(page);
        cli.execute(operation, sub).await?;
        if !printer.more_pages() {
            printer.end_list();
            return Ok(());
        }
        page += 1;
    }
}

/// Whether a command reads a paged list whole: it takes `--page` and none was given.
fn is_paged(operation: CliCommand, sub: &ArgMatches) -> bool {
    let takes_page = Cli::<Printer>::get_command(operation).get_arguments().any(|arg| arg.get_id() == "page");
    takes_page && sub.value_source("page") != Some(ValueSource::CommandLine)
}

/// An answer that is not JSON (a CSV export): its bytes to standard output, as they arrive.
/// Called by the generated command line.
pub(crate) async fn print_raw(answer: ResponseValue<ByteStream>) -> Result<()> {
    use futures::TryStreamExt as _;
    let mut body = answer.into_inner();
    let mut out = tokio::io::stdout();
    while let Some(chunk) = body.try_next().await.context("reading the answer")? {
        out.write_all(&chunk).await?;
    }
    out.flush().await?;
    Ok(())
}
