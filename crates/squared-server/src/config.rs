//! Server settings and the secrets they lead to.
//!
//! Neither secret has a built-in default. The JWT secret comes from `SQUARED_JWT_SECRET`, or
//! from a file: `--jwt-secret-file` (`SQUARED_JWT_SECRET_FILE`), else `jwt-secret` in the data
//! directory. The key that seals connector secrets at rest comes from
//! `SQUARED_ENCRYPTION_KEY` (32 bytes, hex or base64), or from a file: `--encryption-key-file`
//! (`SQUARED_ENCRYPTION_KEY_FILE`), else `encryption-key` in the data directory. A file that
//! does not exist is created with fresh random bytes, atomically (a temporary file renamed
//! into place, never over another) and private (0600); an existing one that group or others
//! may read is refused. Every instance that serves the same database needs the same two.
//!
//! The data directory is kept private (0700) and so is the embedded database (0600, its WAL
//! files inherit that). Database URLs are shown only through [`redact_url`].

use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rand::RngCore;

use crate::auth::TokenRules;
use crate::egress::EgressPolicy;
use crate::runtime::RuntimeLimits;

/// The environment variable that holds the JWT secret.
pub const JWT_SECRET_ENV: &str = "SQUARED_JWT_SECRET";
/// The file, in the data directory, that holds a generated JWT secret.
pub const JWT_SECRET_FILE: &str = "jwt-secret";
/// The environment variable that holds the encryption key.
pub const ENCRYPTION_KEY_ENV: &str = "SQUARED_ENCRYPTION_KEY";
/// The file, in the data directory, that holds a generated encryption key.
pub const ENCRYPTION_KEY_FILE: &str = "encryption-key";
/// The embedded database's file, in the data directory.
pub const SQLITE_FILE: &str = "squared.sqlite3";
/// The file in the data directory a process holds locked while it uses the embedded database.
pub const LOCK_FILE: &str = "squared.lock";
/// Secrets shorter than this are refused: HS256 is only as strong as its key.
pub const MIN_SECRET_BYTES: usize = 32;

/// The operator's settings of the sync engine.
#[derive(Clone, Copy, Debug)]
pub struct EngineSettings {
    /// How many of a sync's latest runs keep their records; older runs keep only their counts.
    pub record_runs_kept: u32,
    /// How long a claimed run is its runner's without a word: the runner's heartbeat renews
    /// the lease every third of it, also while a batch is in flight; a run whose lease expired
    /// is taken over by any runner, and the runner that lost it writes nothing more.
    pub lease: chrono::Duration,
    /// How long a runner with nothing to do waits before it looks for runs (and due schedules)
    /// again. A run created in this process, or on any instance of a PostgreSQL deployment,
    /// wakes it at once; this is the fallback (another process on the same SQLite file, a lost
    /// notification).
    pub poll: std::time::Duration,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            record_runs_kept: 10,
            lease: chrono::Duration::minutes(2),
            poll: std::time::Duration::from_millis(300),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    /// `sqlite://…` or `postgres://…`; when absent, an SQLite file in `data_dir`.
    pub database: Option<String>,
    pub data_dir: PathBuf,
    /// Where the JWT secret lives, when not in `SQUARED_JWT_SECRET` nor the data directory.
    pub jwt_secret_file: Option<PathBuf>,
    /// Where the encryption key lives, when not in `SQUARED_ENCRYPTION_KEY` nor the data
    /// directory.
    pub encryption_key_file: Option<PathBuf>,
    /// Where connectors may connect.
    pub egress: EgressPolicy,
    /// How many connector calls, how long, how large.
    pub runtime_limits: RuntimeLimits,
    /// What tokens must be.
    pub token_rules: TokenRules,
    /// Whether this server executes sync runs (the engine's runner).
    pub run_syncs: bool,
    /// How the engine runs them.
    pub engine: EngineSettings,
    /// How often the alert worker looks for overdue schedules, long runs and alerts other
    /// processes raised (an alert this process raises wakes it at once).
    pub alert_check_every: std::time::Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: ([127, 0, 0, 1], 8080).into(),
            database: None,
            data_dir: PathBuf::from("squared-data"),
            jwt_secret_file: None,
            encryption_key_file: None,
            egress: EgressPolicy::public_only(),
            runtime_limits: RuntimeLimits::default(),
            token_rules: TokenRules::default(),
            run_syncs: true,
            engine: EngineSettings::default(),
            alert_check_every: std::time::Duration::from_secs(10),
        }
    }
}

/// The data directory's lock (see [`ServerConfig::lock_data_dir`]): held while this lives.
pub struct DataDirLock {
    _file: fs::File,
}

/// The server's secrets. Deliberately not `Debug`.
pub struct Secrets {
    pub jwt_secret: Vec<u8>,
    /// 32 bytes for AES-256-GCM.
    pub encryption_key: Vec<u8>,
}

impl ServerConfig {
    /// The database URL; for the embedded default, the data directory and the database file
    /// are made private first.
    pub fn database_url(&self) -> Result<String> {
        match &self.database {
            Some(url) => Ok(url.clone()),
            None => {
                private_dir(&self.data_dir)?;
                let path = self.data_dir.join(SQLITE_FILE);
                private_database_files(&path)?;
                Ok(format!("sqlite://{}", path.display()))
            }
        }
    }

    /// With the embedded database (no `--database`), an exclusive lock on the data directory's
    /// [`LOCK_FILE`], held while the process runs and let go by the OS when it ends, however it
    /// ends: a second `serve` or `worker` on the same directory is refused, with what to do,
    /// instead of two processes contending for one SQLite file. Processes that share a
    /// PostgreSQL database may share a data directory (they read its key files), so none is
    /// taken then.
    pub fn lock_data_dir(&self) -> Result<Option<DataDirLock>> {
        if self.database.is_some() {
            return Ok(None);
        }
        private_dir(&self.data_dir)?;
        let path = self.data_dir.join(LOCK_FILE);
        let file = fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(DataDirLock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => bail!(
                "the data directory {} is in use: another squared-server process (serve or worker) holds the lock on {} \
                 and uses its SQLite database; stop that process, or pass --data-dir with another directory \
                 (processes share one database through --database postgres://…)",
                self.data_dir.display(),
                path.display()
            ),
            Err(fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {}", path.display())),
        }
    }

    /// The JWT secret and the encryption key, from the environment or their files; files
    /// missing are created when `missing` says so (`serve`), and refused otherwise.
    pub fn load_secrets(&self, missing: MissingSecrets) -> Result<Secrets> {
        let jwt_secret = self.jwt_secret(missing)?;
        let encryption_key =
            match self.secret_source(ENCRYPTION_KEY_ENV, &self.encryption_key_file, ENCRYPTION_KEY_FILE, missing)? {
                SecretSource::Environment(value) => crate::secrets::Vault::decode_key(&value)
                    .with_context(|| format!("reading {ENCRYPTION_KEY_ENV}"))?,
                SecretSource::File(path) => {
                    let text =
                        self.secret_in(&path, missing, "encryption key", "--encryption-key-file", ENCRYPTION_KEY_ENV)?;
                    read_key(&path, &text)?
                }
            };
        Ok(Secrets { jwt_secret, encryption_key })
    }

    /// The secret that signs bearer tokens, from the environment or its file (see
    /// [`Self::load_secrets`]).
    pub fn jwt_secret(&self, missing: MissingSecrets) -> Result<Vec<u8>> {
        Ok(match self.secret_source(JWT_SECRET_ENV, &self.jwt_secret_file, JWT_SECRET_FILE, missing)? {
            SecretSource::Environment(value) => {
                if value.len() < MIN_SECRET_BYTES {
                    bail!("{JWT_SECRET_ENV} must be at least {MIN_SECRET_BYTES} bytes long");
                }
                value.into_bytes()
            }
            SecretSource::File(path) => {
                self.secret_in(&path, missing, "JWT secret", "--jwt-secret-file", JWT_SECRET_ENV)?
            }
        })
    }

    /// The secret in `path`; a missing file is created, or refused saying where the command
    /// looked and what to pass, as `missing` says.
    fn secret_in(
        &self,
        path: &Path,
        missing: MissingSecrets,
        what: &str,
        flag: &str,
        variable: &str,
    ) -> Result<Vec<u8>> {
        if missing == MissingSecrets::Refuse && !path.exists() {
            bail!(
                "there is no {what} at {}, and this command does not create one: `squared-server serve` creates it \
                 in its data directory on its first start. Pass the server's --data-dir (this command looked in {}), \
                 or its {flag} or {variable}",
                path.display(),
                self.data_dir.display()
            );
        }
        secret_file(path)
    }

    /// Where each of the server's two secrets comes from, by name, for the banner. Creates
    /// nothing.
    pub fn secret_origins(&self) -> Result<[(&'static str, SecretOrigin); 2]> {
        let origin = |variable: &'static str, file: &Option<PathBuf>, default_file: &str| {
            Ok::<_, anyhow::Error>(match self.secret_source(variable, file, default_file, MissingSecrets::Refuse)? {
                SecretSource::Environment(_) => SecretOrigin::Environment(variable),
                SecretSource::File(path) => SecretOrigin::File(path),
            })
        };
        Ok([
            ("JWT secret", origin(JWT_SECRET_ENV, &self.jwt_secret_file, JWT_SECRET_FILE)?),
            ("encryption key", origin(ENCRYPTION_KEY_ENV, &self.encryption_key_file, ENCRYPTION_KEY_FILE)?),
        ])
    }

    /// The file that holds the encryption key, or `None` when it comes from the environment.
    pub fn encryption_key_path(&self) -> Result<Option<PathBuf>> {
        let source = self.secret_source(
            ENCRYPTION_KEY_ENV,
            &self.encryption_key_file,
            ENCRYPTION_KEY_FILE,
            MissingSecrets::Create,
        )?;
        Ok(match source {
            SecretSource::Environment(_) => None,
            SecretSource::File(path) => Some(path),
        })
    }

    fn secret_source(
        &self,
        variable: &str,
        file: &Option<PathBuf>,
        default_file: &str,
        missing: MissingSecrets,
    ) -> Result<SecretSource> {
        match (std::env::var(variable), file) {
            (Ok(_), Some(path)) => {
                bail!("both {variable} and the file {} are given for the same secret; give one", path.display())
            }
            (Ok(value), None) => Ok(SecretSource::Environment(value)),
            (Err(_), Some(path)) => Ok(SecretSource::File(path.clone())),
            (Err(_), None) => {
                // Only a command that may create secrets makes the data directory.
                if missing == MissingSecrets::Create {
                    private_dir(&self.data_dir)?;
                }
                Ok(SecretSource::File(self.data_dir.join(default_file)))
            }
        }
    }
}

/// Where a secret comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretOrigin {
    /// This environment variable.
    Environment(&'static str),
    /// This file.
    File(PathBuf),
}

/// Whether a command may create the server's secrets where they are missing. Only `serve`
/// may: a command that made new ones in a mistyped data directory would sign tokens, or seal
/// secrets, that the running server does not know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingSecrets {
    Create,
    Refuse,
}

enum SecretSource {
    Environment(String),
    File(PathBuf),
}

/// The file that holds the next key while a key rotation is under way.
pub fn pending_key_file(key_file: &Path) -> PathBuf {
    let mut name = key_file.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".next");
    key_file.with_file_name(name)
}

/// An encryption key read from the text of `path`.
pub fn read_key(path: &Path, text: &[u8]) -> Result<Vec<u8>> {
    crate::secrets::Vault::decode_key(&String::from_utf8_lossy(text))
        .with_context(|| format!("reading {}", path.display()))
}

/// A database URL as it may be shown: with its password, if any, replaced.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("redacted"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        // Not a URL we can read: show only its scheme.
        Err(_) => format!("{}://…", url.split("://").next().unwrap_or("?")),
    }
}

/// Makes `path` a directory only its owner may use (0700), tightening one that exists.
pub fn private_dir(path: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path).with_context(|| format!("creating the directory {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(0o700))
                .with_context(|| format!("making {} private", path.display()))?;
        }
    }
    Ok(())
}

/// Creates the SQLite file (and finds its WAL files) private: SQLite gives its WAL and
/// shared-memory files the database file's mode.
fn private_database_files(path: &Path) -> Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).with_context(|| format!("creating {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            if let Ok(metadata) = fs::metadata(&file)
                && metadata.permissions().mode() & 0o077 != 0
            {
                fs::set_permissions(&file, fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("making {} private", file.display()))?;
            }
        }
    }
    Ok(())
}

/// Reads a secret file, or creates it (see [`create_secret_file`]) with 32 random bytes,
/// hex-encoded. An existing file that group or others may read is refused.
pub fn secret_file(path: &Path) -> Result<Vec<u8>> {
    match fs::read_to_string(path) {
        Ok(text) => {
            refuse_open_permissions(path)?;
            let secret = text.trim().as_bytes().to_vec();
            if secret.len() < MIN_SECRET_BYTES {
                bail!("{} holds a secret shorter than {MIN_SECRET_BYTES} bytes", path.display());
            }
            Ok(secret)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            let text = hex::encode(bytes);
            match create_secret_file(path, text.as_bytes()) {
                Ok(()) => Ok(text.into_bytes()),
                // Another process created it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => secret_file(path),
                Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
            }
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Writes a new secret file: a private (0600) temporary file in the same directory, synced,
/// then renamed into place only if nothing is there (`AlreadyExists` otherwise).
pub fn create_secret_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // tempfile creates its files 0600.
    let mut temporary = tempfile::Builder::new().prefix(".squared-secret-").tempfile_in(parent)?;
    temporary.write_all(contents)?;
    temporary.as_file().sync_all()?;
    temporary.persist_noclobber(path).map_err(|e| e.error)?;
    sync_dir(parent)
}

/// Moves `from` over `to` in one step (the end of a key rotation).
pub fn replace_file(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::rename(from, to)?;
    sync_dir(to.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")))
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

fn refuse_open_permissions(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            bail!(
                "{} holds a secret but group or others may use it (mode {mode:03o}); make it private with \
                 `chmod 600 {}` and check who may have read it",
                path.display(),
                path.display()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JWT_SECRET_FILE);
        let first = secret_file(&path).unwrap();
        let second = secret_file(&path).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn only_serve_creates_missing_secrets() {
        if std::env::var(JWT_SECRET_ENV).is_ok() || std::env::var(ENCRYPTION_KEY_ENV).is_ok() {
            return; // The secrets come from the environment here; there is no file to miss.
        }
        let dir = tempfile::tempdir().unwrap();
        let config = ServerConfig { data_dir: dir.path().join("sqaured-data"), ..ServerConfig::default() };
        let error = format!("{:#}", config.jwt_secret(MissingSecrets::Refuse).unwrap_err());
        assert!(error.contains("sqaured-data/jwt-secret") && error.contains("--data-dir"), "{error}");
        assert!(error.contains("SQUARED_JWT_SECRET"), "{error}");
        assert!(config.load_secrets(MissingSecrets::Refuse).is_err());
        assert!(!config.data_dir.exists(), "a refusing command creates nothing");
        let created = config.load_secrets(MissingSecrets::Create).unwrap();
        assert_eq!(config.jwt_secret(MissingSecrets::Refuse).unwrap(), created.jwt_secret, "found once created");
    }

    #[test]
    fn a_short_secret_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JWT_SECRET_FILE);
        create_secret_file(&path, b"short").unwrap();
        assert!(secret_file(&path).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_secret_file_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(ENCRYPTION_KEY_FILE);
        secret_file(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let error = format!("{:#}", secret_file(&path).unwrap_err());
        assert!(error.contains("chmod 600") && error.contains("644"), "{error}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        assert!(secret_file(&path).is_err());
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(secret_file(&path).is_ok());
    }

    #[test]
    fn secret_files_are_created_without_overwriting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        create_secret_file(&path, b"first").unwrap();
        let error = create_secret_file(&path, b"second").unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"first");
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn the_data_directory_and_database_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        fs::create_dir(&data_dir).unwrap();
        fs::set_permissions(&data_dir, fs::Permissions::from_mode(0o755)).unwrap();
        let config = ServerConfig { data_dir: data_dir.clone(), ..Default::default() };
        config.database_url().unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data_dir), 0o700);
        assert_eq!(mode(&data_dir.join(SQLITE_FILE)), 0o600);
    }

    #[test]
    fn passwords_never_show_in_urls() {
        let shown = redact_url("postgres://app:hunter2@db.example:5432/squared");
        assert!(!shown.contains("hunter2") && shown.contains("db.example"), "{shown}");
        assert_eq!(redact_url("sqlite:///tmp/x.sqlite3"), "sqlite:///tmp/x.sqlite3");
        assert!(!redact_url("postgres://app:hunter2@[bad").contains("hunter2"));
    }
}
