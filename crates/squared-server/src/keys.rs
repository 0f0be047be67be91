//! The encryption key's life: the start-up check that this server holds the key the
//! database's secrets were sealed with, and `squared-server rotate-key`.
//!
//! The check: the database keeps one value sealed with its key (`vault_check`). A server
//! whose key cannot open it refuses to start, with a message naming both key ids, instead of
//! failing at the first request that needs a secret. A database from before the check has
//! none; its first sealed secret is tried instead, then the check is stored.
//!
//! Rotation: a new key is written next to the key file (`<key file>.next`, created
//! atomically and private), every sealed value in the database is opened with the key that
//! sealed it and sealed again with the new key in one transaction, and only then does the
//! new key replace the old file. An interruption at any point loses nothing: before the
//! commit the old key still opens everything; after it, running `rotate-key` again finishes
//! the job (it finds the `.next` file and the values already under it). Stop the servers
//! that use the database first: one still running holds the old key.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::config::{self, ServerConfig};
use crate::secrets::{Vault, key_id};
use crate::store::Store;

/// Checks that `vault` opens this database's secrets; stores the check value on first use.
pub async fn check_database_key(store: &Store, vault: &Vault, config: &ServerConfig) -> Result<()> {
    let interrupted = || -> String {
        match config.encryption_key_path() {
            Ok(Some(path)) if config::pending_key_file(&path).exists() => format!(
                "; {} shows an interrupted key rotation: run `squared-server rotate-key` again to finish it",
                config::pending_key_file(&path).display()
            ),
            _ => String::new(),
        }
    };
    if store.vault_check().await?.is_none() {
        // A database from before the check: its first sealed secret must open.
        if let Some((id, workspace_id, configuration)) = store.some_sealed_configuration().await?
            && let Err(error) = vault.reseal(&configuration, workspace_id)
        {
            bail!(
                "the encryption key (id {}) cannot open the secrets of this database (connector {id}: {error}); \
                 start the server with the key they were sealed with{}",
                vault.key_id(),
                interrupted()
            );
        }
        store.init_vault_check(vault.key_id(), &vault.seal_check()).await?;
    }
    let (stored_id, sealed) = store.vault_check().await?.context("the vault check was just stored")?;
    vault.open_check(&sealed).map_err(|found| {
        anyhow::anyhow!(
            "the encryption key (id {}) is not the key this database's secrets were sealed with (id {}); start the \
             server with that key ({}, --encryption-key-file, or the data directory's {}){}",
            vault.key_id(),
            found.unwrap_or(stored_id),
            config::ENCRYPTION_KEY_ENV,
            config::ENCRYPTION_KEY_FILE,
            interrupted()
        )
    })
}

/// What a rotation did.
#[derive(Debug)]
pub struct Rotation {
    pub old_key_id: String,
    pub new_key_id: String,
    pub key_file: PathBuf,
    /// Sealed values re-sealed.
    pub values: usize,
}

/// Re-seals every stored secret under a new key, then makes it the key (see the module doc).
pub async fn rotate(config: &ServerConfig) -> Result<Rotation> {
    let Some(key_file) = config.encryption_key_path()? else {
        bail!(
            "rotate-key replaces a key file, and this server's key comes from {}: write the key to a private file, \
             pass it with --encryption-key-file, and unset the variable",
            config::ENCRYPTION_KEY_ENV
        );
    };
    if !key_file.exists() {
        bail!("{} does not exist: there is no key to rotate", key_file.display());
    }
    let old_key = config::read_key(&key_file, &config::secret_file(&key_file)?)?;
    let next_file = config::pending_key_file(&key_file);
    // An interrupted rotation left its key: finish with it, since values may be under it.
    let new_key = config::read_key(&next_file, &config::secret_file(&next_file)?)?;
    let vault = Vault::rotating(&new_key, &old_key)?;
    let url = config.database_url()?;
    let store = Store::open(&url).await.with_context(|| format!("opening {}", config::redact_url(&url)))?;
    let values = store
        .reseal_all(
            vault.key_id(),
            |configuration, workspace_id| vault.reseal(configuration, workspace_id).map_err(|e| e.to_string()),
            |check| match check {
                Some(sealed) => vault.reseal_check(sealed).map_err(|e| e.to_string()),
                None => Ok(vault.seal_check()),
            },
        )
        .await;
    store.close().await;
    let values = values.context("re-sealing the stored secrets; nothing was changed")?;
    config::replace_file(&next_file, &key_file)
        .with_context(|| format!("moving {} to {}", next_file.display(), key_file.display()))?;
    Ok(Rotation { old_key_id: key_id(&old_key), new_key_id: vault.key_id().to_owned(), key_file, values })
}
