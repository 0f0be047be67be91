//! The server's keys and files as an operator handles them, through the real binary:
//! rotating the encryption key, refusing to start with the wrong key or with key files that
//! others may read, keeping keys outside the data directory, and never printing a database
//! password.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::json;
use squared_client::types::{ConnectorInput, ConnectorType, CreateConnectorRequest};
use squared_client::{Client, Credentials};
use squared_server::auth::{Role, TokenIssuer, TokenRules};
use squared_server::secrets::key_id;

const JWT_SECRET: &str = "keys-test-secret-0123456789abcdef-0123";
const WORKSPACE: i64 = 5;

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_squared-server"));
    command
        .env_remove("SQUARED_ENCRYPTION_KEY")
        .env_remove("SQUARED_DATABASE_URL")
        .env("SQUARED_JWT_SECRET", JWT_SECRET);
    command
}

fn run(command: &mut Command) -> Output {
    command.stdin(Stdio::null()).output().expect("the binary runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// `serve` with `key_file`, started and ready, with the URL it listens on.
fn serve(data_dir: &Path, key_file: &Path) -> (Child, String) {
    let mut child = binary()
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .arg("--encryption-key-file")
        .arg(key_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a line").unwrap();
    let url = first.strip_prefix("squared-server listening on ").expect(&first).to_owned();
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

/// `serve` that is expected to refuse to start: its output.
fn serve_refused(data_dir: &Path, key_file: &Path) -> String {
    let output = run(binary()
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .arg("--encryption-key-file")
        .arg(key_file));
    assert!(!output.status.success(), "the server started: {}", text(&output));
    text(&output)
}

fn stop(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

fn client(url: &str) -> Client {
    client_as(url, Role::Member)
}

fn client_as(url: &str, role: Role) -> Client {
    let token = TokenIssuer::new(JWT_SECRET.as_bytes(), &TokenRules::default()).issue_for(
        "ops",
        WORKSPACE,
        role,
        chrono::Duration::hours(1),
    );
    Client::new(url, Credentials::new(token, WORKSPACE))
}

fn klaviyo() -> CreateConnectorRequest {
    CreateConnectorRequest {
        connector: ConnectorInput {
            name: "mail".into(),
            description: None,
            connector_type: ConnectorType::Destination,
            connector_name: "Klaviyo".into(),
            configuration: json!({"public_api_key": "pk-1", "private_api_key": "sk-very-secret"})
                .as_object()
                .cloned()
                .unwrap(),
        },
    }
}

/// The stored configuration of every connector and alert channel, as raw text.
async fn stored(data_dir: &Path) -> String {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}", data_dir.join("squared.sqlite3").display());
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT configuration FROM connectors UNION ALL SELECT configuration FROM alert_channels")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    rows.join("\n")
}

fn read_key(path: &Path) -> Vec<u8> {
    hex::decode(std::fs::read_to_string(path).unwrap().trim()).unwrap()
}

fn pending(key_file: &Path) -> PathBuf {
    squared_server::config::pending_key_file(key_file)
}

#[tokio::test]
async fn rotate_key_reseals_every_secret_and_the_old_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    // The key lives outside the data directory, as the README advises.
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    let key_file = keys.join("squared.key");

    let (server, url) = serve(&data_dir, &key_file);
    let old_key = read_key(&key_file);
    assert!(!data_dir.join("encryption-key").exists(), "no key in the data directory");
    client(&url).create_connector().body(klaviyo()).send().await.unwrap();
    // An alert channel keeps a sealed secret too.
    let alert_channel = squared_client::types::AlertChannelInput {
        name: "ops".into(),
        kind: squared_client::types::AlertChannelKind::Webhook,
        configuration: json!({"url": "https://hooks.example.com/a", "secret": "hook-secret-0123456789"})
            .as_object()
            .cloned()
            .unwrap(),
    };
    let request = squared_client::types::CreateAlertChannelRequest { alert_channel };
    client_as(&url, Role::Admin).create_alert_channel().body(request).send().await.unwrap();
    stop(server);
    let before = stored(&data_dir).await;
    assert!(before.contains(&format!("sealed:v2:{}:", key_id(&old_key))), "{before}");
    assert!(!before.contains("hook-secret-0123456789"), "{before}");

    let output =
        run(binary().arg("rotate-key").arg("--data-dir").arg(&data_dir).arg("--encryption-key-file").arg(&key_file));
    assert!(output.status.success(), "{}", text(&output));
    let new_key = read_key(&key_file);
    assert_ne!(new_key, old_key);
    assert!(
        text(&output).contains(&format!("re-sealed 3 stored secrets with key {}", key_id(&new_key))),
        "{}",
        text(&output)
    );
    assert!(!pending(&key_file).exists(), "the next key became the key");
    let after = stored(&data_dir).await;
    assert!(after.contains(&format!("sealed:v2:{}:", key_id(&new_key))), "{after}");
    assert!(!after.contains(&key_id(&old_key)) && !after.contains("sk-very-secret"), "{after}");
    assert!(!after.contains("hook-secret-0123456789"), "{after}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }

    // The old key no longer starts the server: it says so, and names both keys.
    let old_file = keys.join("old.key");
    squared_server::config::create_secret_file(&old_file, hex::encode(&old_key).as_bytes()).unwrap();
    let refusal = serve_refused(&data_dir, &old_file);
    assert!(refusal.contains(&key_id(&old_key)) && refusal.contains(&key_id(&new_key)), "{refusal}");
    assert!(refusal.contains("is not the key"), "{refusal}");

    // The new key does, and the secret still works through it (shown masked, kept on update).
    let (server, url) = serve(&data_dir, &key_file);
    let list = client(&url).list_connectors().send().await.unwrap().into_inner();
    assert_eq!(list.data[0].attributes.configuration["private_api_key"], "*************");
    stop(server);
}

#[tokio::test]
async fn an_interrupted_rotation_is_named_at_start_and_finished_by_running_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let key_file = dir.path().join("squared.key");
    let (server, url) = serve(&data_dir, &key_file);
    client(&url).create_connector().body(klaviyo()).send().await.unwrap();
    stop(server);
    let old_key = std::fs::read(&key_file).unwrap();
    let output =
        run(binary().arg("rotate-key").arg("--data-dir").arg(&data_dir).arg("--encryption-key-file").arg(&key_file));
    assert!(output.status.success(), "{}", text(&output));
    // Put the files back as they were between the commit and the last rename.
    std::fs::rename(&key_file, pending(&key_file)).unwrap();
    squared_server::config::create_secret_file(&key_file, &old_key).unwrap();

    let refusal = serve_refused(&data_dir, &key_file);
    assert!(refusal.contains("interrupted key rotation") && refusal.contains("rotate-key"), "{refusal}");
    let output =
        run(binary().arg("rotate-key").arg("--data-dir").arg(&data_dir).arg("--encryption-key-file").arg(&key_file));
    assert!(output.status.success(), "{}", text(&output));
    let (server, url) = serve(&data_dir, &key_file);
    assert_eq!(client(&url).list_connectors().send().await.unwrap().into_inner().data.len(), 1);
    stop(server);
}

#[test]
fn key_files_that_others_may_read_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("squared.key");
    std::fs::write(&key_file, "ab".repeat(32)).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refusal = serve_refused(&dir.path().join("data"), &key_file);
        assert!(refusal.contains("chmod 600"), "{refusal}");
    }
}

#[test]
fn rotate_key_refuses_a_key_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(binary()
        .env("SQUARED_ENCRYPTION_KEY", "cd".repeat(32))
        .arg("rotate-key")
        .arg("--data-dir")
        .arg(dir.path()));
    assert!(!output.status.success());
    assert!(text(&output).contains("--encryption-key-file"), "{}", text(&output));
}

#[test]
fn no_database_password_is_printed() {
    let secret_url = "postgres://app:hunter2-db-password@127.0.0.1:1/squared";
    // Not in the help, where clap would show the variable's value.
    let help = run(binary().env("SQUARED_DATABASE_URL", secret_url).args(["serve", "--help"]));
    assert!(help.status.success());
    assert!(text(&help).contains("--database") && !text(&help).contains("hunter2"), "{}", text(&help));
    // Not in the error when the database cannot be reached.
    let dir = tempfile::tempdir().unwrap();
    let failed =
        run(binary().args(["serve", "--bind", "127.0.0.1:0", "--database", secret_url, "--data-dir"]).arg(dir.path()));
    assert!(!failed.status.success());
    assert!(!text(&failed).contains("hunter2"), "{}", text(&failed));
    assert!(text(&failed).contains("redacted"), "{}", text(&failed));
    // Nor in an unsupported one.
    let failed = run(binary().args(["serve", "--database", "mysql://root:hunter2@db/x", "--data-dir"]).arg(dir.path()));
    assert!(!text(&failed).contains("hunter2"), "{}", text(&failed));
}

#[test]
fn a_second_server_on_the_same_port_is_refused_with_the_os_cause_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("squared.key");
    let (first, url) = serve(&dir.path().join("one"), &key_file);
    let address = url.strip_prefix("http://").unwrap().to_owned();
    let output = run(binary()
        .args(["serve", "--bind", &address, "--data-dir"])
        .arg(dir.path().join("two"))
        .arg("--encryption-key-file")
        .arg(&key_file));
    stop(first);
    assert!(!output.status.success(), "{}", text(&output));
    let refusal = text(&output);
    assert!(refusal.contains("in use"), "the OS's reason: {refusal}");
    assert!(refusal.contains("--bind"), "what to do: {refusal}");
}

#[test]
fn a_second_server_on_the_same_data_directory_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("squared.key");
    let data_dir = dir.path().join("data");
    let (first, _) = serve(&data_dir, &key_file);
    // Started, the second would print where it listens and run on: fail then, not hang.
    let mut second = binary()
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir)
        .arg("--encryption-key-file")
        .arg(&key_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(second.stdout.take().unwrap()).read_line(&mut first_line).unwrap();
    if first_line.starts_with("squared-server listening on") {
        stop(second);
        stop(first);
        panic!("a second server started on the data directory in use");
    }
    let output = second.wait_with_output().unwrap();
    assert!(!output.status.success());
    let refusal = text(&output);
    let worker =
        run(binary().args(["worker", "--data-dir"]).arg(&data_dir).arg("--encryption-key-file").arg(&key_file));
    stop(first);
    assert!(refusal.contains("is in use") && refusal.contains("squared.lock"), "why: {refusal}");
    assert!(refusal.contains("--data-dir"), "what to do: {refusal}");
    assert!(!worker.status.success() && text(&worker).contains("is in use"), "{}", text(&worker));
    // The lock goes with the process that held it, however it ended (here: killed).
    let (again, _) = serve(&data_dir, &key_file);
    stop(again);
}

/// The banner of `serve` with `arguments`, up to the first line of its "try it" command.
fn banner(data_dir: &Path, key_file: &Path, arguments: &[&str]) -> Vec<String> {
    let mut child = binary()
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .arg("--encryption-key-file")
        .arg(key_file)
        .args(arguments)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(Result::unwrap)
        // Up to the line after "try it:" (the command's first line).
        .scan(0u8, |after, line| {
            if *after == 2 {
                return None;
            }
            if *after == 1 || line == "try it:" {
                *after += 1;
            }
            Some(line)
        })
        .collect();
    stop(child);
    lines
}

#[test]
fn the_banner_names_the_database_the_secrets_and_whether_syncs_run_here() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let key_file = dir.path().join("squared.key");
    let first = banner(&data_dir, &key_file, &["--no-sync-runner"]);
    let text = first.join("\n");
    let database = format!("database: sqlite://{}", data_dir.join("squared.sqlite3").display());
    assert!(first.contains(&database), "{text}");
    assert!(first.contains(&format!("data directory: {}", data_dir.display())), "{text}");
    assert!(first.contains(&"JWT secret: from SQUARED_JWT_SECRET".to_owned()), "{text}");
    let created = format!("encryption key: {} (created now", key_file.display());
    assert!(first.iter().any(|line| line.starts_with(&created)), "{text}");
    assert!(first.iter().any(|line| line.starts_with("sync runs: not executed here")), "{text}");
    // The "try it" command names this binary, which `cargo run` puts on no PATH.
    // (The process names itself by its resolved path: a target directory reached through a
    // symbolic link is named where it really is.)
    let binary = std::fs::canonicalize(env!("CARGO_BIN_EXE_squared-server")).unwrap();
    assert!(text.contains(&format!("$({} token", binary.display())), "{text}");

    let second = banner(&data_dir, &key_file, &[]);
    let text = second.join("\n");
    assert!(second.contains(&format!("encryption key: {}", key_file.display())), "not created again: {text}");
    assert!(second.iter().any(|line| line.starts_with("sync runs: executed here")), "{text}");
}

#[test]
fn the_help_groups_options_and_gives_every_variable_a_line_of_its_own() {
    let help = run(binary().args(["serve", "--help"]));
    assert!(help.status.success());
    let help = text(&help);
    for heading in
        ["Storage:", "Connectors:", "Runs:", "Tokens:", "Logging:", "Secrets (environment only, never a flag):"]
    {
        assert!(help.lines().any(|line| line == heading), "no heading {heading:?} in\n{help}");
    }
    // Each option's variable starts a line of its own (clap's long form), and so does each
    // variable that holds a secret.
    for variable in ["SQUARED_BIND", "SQUARED_RUN_LEASE", "SQUARED_DATA_DIR", "SQUARED_NO_SYNC_RUNNER"] {
        assert!(
            help.lines().any(|line| line.trim_start().starts_with(&format!("[env: {variable}"))),
            "{variable} is not on a line of its own in\n{help}"
        );
    }
    for variable in ["SQUARED_JWT_SECRET", "SQUARED_ENCRYPTION_KEY"] {
        assert!(help.lines().any(|line| line.trim() == variable), "{variable} is not listed in\n{help}");
    }
}

#[test]
fn durations_need_their_unit_and_booleans_take_one_and_zero() {
    // A file in the way of the data directory stops a server that got past its flags.
    let dir = tempfile::tempdir().unwrap();
    let blocked = dir.path().join("a-file");
    std::fs::write(&blocked, "").unwrap();
    let bare = run(binary().args(["serve", "--run-lease", "2", "--data-dir"]).arg(&blocked));
    assert!(!bare.status.success());
    assert!(text(&bare).contains("such as 90s, 15m, 12h or 30d"), "{}", text(&bare));
    // `1` is read as true: the flag parses, and the server gets as far as its storage.
    for value in ["1", "0", "true", "off"] {
        let started = run(binary().env("SQUARED_NO_SYNC_RUNNER", value).args(["serve", "--data-dir"]).arg(&blocked));
        assert!(!started.status.success());
        assert!(!text(&started).contains("invalid value"), "{value}: {}", text(&started));
    }
}
