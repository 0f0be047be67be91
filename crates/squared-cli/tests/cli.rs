//! `squared` against a real server: login, a body from a file, a list read across pages as
//! one JSON object per line and as a table, an error answer as one line and a failing exit.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use squared_server::auth::Role;
use squared_tests::harness::TestServer;

/// Runs `squared` with `args` and only the given settings (no login file but `config`).
fn squared(config: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_squared"))
        .args(args)
        .env_remove("SQUARED_URL")
        .env_remove("SQUARED_TOKEN")
        .env_remove("SQUARED_WORKSPACE")
        .env("SQUARED_CONFIG", config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("squared runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_logs_in_creates_lists_across_pages_and_reports_errors_in_one_line() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("login.json");
    let token = server.token(1, Role::Admin);

    let login = squared(&config, &["login", "--url", &server.base_url, "--workspace", "1"], &format!("{token}\n"));
    assert!(login.status.success(), "{}", text(&login.stderr));
    assert!(!text(&login.stderr).contains(&token), "the token is not echoed");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the login file holds a token: only its owner reads it");
    }

    for name in ["first", "second", "third"] {
        let body = dir.path().join(format!("{name}.json"));
        std::fs::write(
            &body,
            serde_json::json!({"connector": {
                "name": name, "connector_type": "destination", "connector_name": "Http",
                "configuration": {"destination_url": "https://example.com/hook", "headers": {}}
            }})
            .to_string(),
        )
        .unwrap();
        let created = squared(&config, &["create-connector", "--json-body", body.to_str().unwrap()], "");
        assert!(created.status.success(), "{}", text(&created.stderr));
        let answer: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
        assert_eq!(answer["data"]["attributes"]["name"], name);
    }

    // Without --page, every page is read (here three pages of one) and each item printed on
    // its own line as it arrives.
    let listed = squared(&config, &["list-connectors", "--per-page", "1"], "");
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let names: Vec<String> = text(&listed.stdout)
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["attributes"]["name"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(names, ["third", "second", "first"]);

    // With --page, that page alone, whole.
    let page = squared(&config, &["list-connectors", "--per-page", "1", "--page", "2"], "");
    let page: serde_json::Value = serde_json::from_slice(&page.stdout).unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert_eq!(page["data"][0]["attributes"]["name"], "second");

    // A table: a header, then a row per item, its attributes as columns.
    let table = squared(&config, &["list-connectors", "--per-page", "2", "-o", "table"], "");
    let table = text(&table.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(lines[0].starts_with("id") && lines[0].contains("name") && lines[0].contains("connector_type"), "{table}");
    assert!(lines[1].contains("third") && lines[3].contains("first"), "{table}");

    // An error answer: one line with the status, the detail and the request id; exit 1.
    let missing = squared(&config, &["show-connector", "--id", "999"], "");
    assert_eq!(missing.status.code(), Some(1));
    let stderr = text(&missing.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: 404 Not Found: "), "{stderr}");
    assert!(stderr.contains("[request "), "{stderr}");

    // A flag wins over the login file: another workspace, refused.
    let other = squared(&config, &["list-connectors", "--workspace", "2"], "");
    assert_eq!(other.status.code(), Some(1));
    assert!(text(&other.stderr).starts_with("error: 403 Forbidden: "), "{}", text(&other.stderr));

    server.stop().await;
}

#[test]
fn without_a_server_the_cli_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("login.json");
    let output = squared(&config, &["list-connectors"], "");
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("--url") && stderr.contains("SQUARED_URL") && stderr.contains("squared login"), "{stderr}");
    assert!(stderr.contains(config.to_str().unwrap()), "{stderr}");
}
