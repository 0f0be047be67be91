//! Where the server, the token and the workspace come from: a flag, else an environment
//! variable, else the login file `squared login` writes. The token is never a flag (a flag
//! stays in the shell's history and the process list).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::ArgMatches;
use serde::{Deserialize, Serialize};
use squared_client::{Client, Credentials, env};

/// The help's closing section: every variable on its own line.
pub const HELP: &str = "\
Environment:
  SQUARED_URL        The server's base URL (--url wins over it)
  SQUARED_TOKEN      The bearer token (`squared-server token` prints one)
  SQUARED_WORKSPACE  The workspace to act in (--workspace wins over it)
  SQUARED_CONFIG     The login file [default: $XDG_CONFIG_HOME/squared/login.json, or
                     ~/.config/squared/login.json]
Each setting is read from its flag, else its variable, else the login file.";

/// The login file's contents.
#[derive(Debug, Default, Serialize, Deserialize)]
struct LoginFile {
    url: Option<String>,
    token: Option<String>,
    workspace: Option<i64>,
}

/// The login file's path.
fn login_path() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("SQUARED_CONFIG").filter(|path| !path.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|path| !path.is_empty()) {
        Some(base) => PathBuf::from(base),
        None => {
            let home = std::env::var_os("HOME").context("neither SQUARED_CONFIG, XDG_CONFIG_HOME nor HOME is set")?;
            PathBuf::from(home).join(".config")
        }
    };
    Ok(base.join("squared").join("login.json"))
}

fn read_login() -> Result<(PathBuf, LoginFile)> {
    let path = login_path()?;
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let file =
                serde_json::from_str(&text).with_context(|| format!("{} is not a login file", path.display()))?;
            Ok((path, file))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((path, LoginFile::default())),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// `squared login`: the URL and workspace from flags, the token from standard input.
pub fn login(matches: &ArgMatches) -> Result<()> {
    let url = matches.get_one::<String>("url").expect("required").clone();
    let workspace = *matches.get_one::<i64>("workspace").expect("required");
    let mut token = String::new();
    std::io::stdin().read_line(&mut token).context("reading the token from standard input")?;
    let token = token.trim().to_owned();
    if token.is_empty() {
        bail!("no token on standard input: pipe one in (`squared-server token … | squared login …`)");
    }
    let path = login_path()?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let text =
        serde_json::to_string_pretty(&LoginFile { url: Some(url), token: Some(token), workspace: Some(workspace) })?;
    write_private(&path, &text).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("saved the server, token and workspace {workspace} in {}", path.display());
    Ok(())
}

/// Writes a file only its owner can read (it holds a token).
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

/// The settings of one command.
pub struct Settings {
    url: String,
    token: Option<String>,
    workspace: Option<i64>,
}

impl Settings {
    pub fn resolve(matches: &ArgMatches) -> Result<Settings> {
        let (path, file) = read_login()?;
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let url =
            matches.get_one::<String>("url").cloned().or_else(|| var(env::URL)).or(file.url).with_context(|| {
                format!(
                    "no server: pass --url, set {}, or run `squared login` (no login file at {})",
                    env::URL,
                    path.display()
                )
            })?;
        let workspace = match matches.get_one::<i64>("workspace") {
            Some(id) => Some(*id),
            None => match var(env::WORKSPACE) {
                Some(text) => Some(
                    text.parse::<i64>()
                        .ok()
                        .filter(|id| *id > 0)
                        .with_context(|| format!("{} is {text:?}, not a workspace id", env::WORKSPACE))?,
                ),
                None => file.workspace,
            },
        };
        Ok(Settings { url, token: var(env::TOKEN).or(file.token), workspace })
    }

    pub fn client(&self) -> Result<Client> {
        let credentials = Credentials::none().with_bearer_token(self.token.clone()).with_workspace(self.workspace);
        Ok(Client::new_with_client(&self.url, reqwest::Client::new(), credentials))
    }
}
