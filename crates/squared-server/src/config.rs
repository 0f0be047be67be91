//! Server settings and the secrets they lead to.
//!
//! Neither secret has a built-in default. The JWT secret comes from `SQUARED_JWT_SECRET`, the
//! key that encrypts connector secrets at rest from `SQUARED_ENCRYPTION_KEY` (32 bytes, hex
//! or base64); either, when unset, from a file in the data directory that the first start
//! creates with fresh random bytes and mode 0600. Every instance that serves the same
//! database needs the same two.

use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rand::RngCore;

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
/// Secrets shorter than this are refused: HS256 is only as strong as its key.
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    /// `sqlite://…`; when absent, an SQLite file in `data_dir`.
    pub database: Option<String>,
    pub data_dir: PathBuf,
}

/// The server's secrets. Deliberately not `Debug`.
pub struct Secrets {
    pub jwt_secret: Vec<u8>,
    /// 32 bytes for AES-256-GCM.
    pub encryption_key: Vec<u8>,
}

impl ServerConfig {
    pub fn database_url(&self) -> Result<String> {
        match &self.database {
            Some(url) => Ok(url.clone()),
            None => {
                fs::create_dir_all(&self.data_dir)
                    .with_context(|| format!("creating the data directory {}", self.data_dir.display()))?;
                Ok(format!("sqlite://{}", self.data_dir.join(SQLITE_FILE).display()))
            }
        }
    }

    /// The JWT secret from the environment, or from the data directory (created on first use).
    pub fn load_secrets(&self) -> Result<Secrets> {
        let jwt_secret = match std::env::var(JWT_SECRET_ENV) {
            Ok(value) => {
                if value.len() < MIN_SECRET_BYTES {
                    bail!("{JWT_SECRET_ENV} must be at least {MIN_SECRET_BYTES} bytes long");
                }
                value.into_bytes()
            }
            Err(_) => secret_file(&self.data_dir.join(JWT_SECRET_FILE))?,
        };
        let encryption_key = match std::env::var(ENCRYPTION_KEY_ENV) {
            Ok(value) => {
                crate::secrets::Vault::decode_key(&value).with_context(|| format!("reading {ENCRYPTION_KEY_ENV}"))?
            }
            Err(_) => {
                let path = self.data_dir.join(ENCRYPTION_KEY_FILE);
                let text = secret_file(&path)?;
                crate::secrets::Vault::decode_key(&String::from_utf8_lossy(&text))
                    .with_context(|| format!("reading {}", path.display()))?
            }
        };
        Ok(Secrets { jwt_secret, encryption_key })
    }
}

/// Reads a secret file, or creates it (mode 0600) with 32 random bytes, hex-encoded.
fn secret_file(path: &Path) -> Result<Vec<u8>> {
    match fs::read_to_string(path) {
        Ok(text) => {
            let secret = text.trim().as_bytes().to_vec();
            if secret.len() < MIN_SECRET_BYTES {
                bail!("{} holds a secret shorter than {MIN_SECRET_BYTES} bytes", path.display());
            }
            Ok(secret)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
            }
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(path) {
                Ok(mut file) => {
                    file.write_all(hex.as_bytes())?;
                    file.sync_all()?;
                    Ok(hex.into_bytes())
                }
                // Another process created it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => secret_file(path),
                Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
            }
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
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
    fn a_short_secret_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JWT_SECRET_FILE);
        fs::write(&path, "short").unwrap();
        assert!(secret_file(&path).is_err());
    }
}
