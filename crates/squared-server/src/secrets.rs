//! Secret fields of a configuration: those its schema marks `multiwoven_secret: true`, and
//! the fields that decide where those secrets go: those it marks `squared_audience: true`.
//!
//! Four things happen to secrets, all driven by the definition's schema, at any depth
//! (through `properties`, `items` and `additionalProperties`):
//! - [`mask`]: every response shows them as [`MASK`];
//! - [`Vault::seal`]: before a configuration is stored, each secret value is encrypted with
//!   AES-256-GCM (a fresh nonce per value, the workspace and the field's JSON Pointer as
//!   associated data, so a sealed value cannot be moved to another field or workspace) and
//!   replaced by a `"sealed:v2:<key id>:…"` string; [`Vault::open`] reverses it for the
//!   runtimes, and refuses a secret field that is not sealed;
//! - [`keep_masked`]: on update, a secret sent back as the mask keeps its stored value (so
//!   the mask itself can never be stored as a secret); [`audience`] tells whether it may;
//! - [`Vault::reseal`]: key rotation opens every sealed value with the key that sealed it
//!   (by its id) and seals it again with the current key.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// What a secret value looks like in a response.
pub const MASK: &str = "*************";

/// The prefix of every sealed secret as stored.
const SEALED: &str = "sealed:";
/// Sealed values written before keys had ids: `sealed:v1:<base64>`, opened with the current key.
const SEALED_V1: &str = "sealed:v1:";
/// Sealed values with the id of their key: `sealed:v2:<key id>:<base64>`.
const SEALED_V2: &str = "sealed:v2:";
/// The schema keyword that marks a field deciding where a configuration's secrets go.
pub const AUDIENCE_KEYWORD: &str = "squared_audience";
/// The schema keyword that marks a secret field.
pub const SECRET_KEYWORD: &str = "multiwoven_secret";

/// Replaces every secret field of `value`, at any depth, by [`MASK`], in place: every
/// connector a response shows is the caller's own copy, so none is made here.
pub fn mask(schema: &Value, value: &mut Value) {
    for_each_secret(schema, value, &mut String::new(), &mut |_, secret| {
        if !secret.is_null() {
            *secret = Value::String(MASK.into());
        }
    });
}

/// Whether a property's name says it holds a secret (`password`, `api_key`, `client_secret`…).
pub fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["password", "secret", "token", "key", "credential", "private"].iter().any(|word| name.contains(word))
}

/// The JSON Pointers of the members of `value` that the schema does not declare (where it
/// declares its properties and says nothing of others) and whose names look secret, each with
/// the pointer of a declared secret field of that name, if the schema has one. Such a member
/// would be kept as it is, unsealed, and shown in every answer, since only declared secret
/// fields are sealed and masked; a configuration holding one is refused instead.
pub fn stray_secrets(schema: &Value, value: &Value) -> Vec<(String, Option<String>)> {
    fn declared_secret(schema: &Value, name: &str, pointer: &mut String) -> Option<String> {
        let properties = schema.get("properties")?.as_object()?;
        for (key, property) in properties {
            let parent = pointer.len();
            pointer.push('/');
            pointer.push_str(&crate::error::pointer_token(key));
            if key == name && property.get(SECRET_KEYWORD).and_then(Value::as_bool) == Some(true) {
                return Some(pointer.clone());
            }
            if let Some(found) = declared_secret(property, name, pointer) {
                return Some(found);
            }
            pointer.truncate(parent);
        }
        None
    }
    fn walk(root: &Value, schema: &Value, value: &Value, pointer: &str, out: &mut Vec<(String, Option<String>)>) {
        let Value::Object(members) = value else { return };
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return };
        for (key, member) in members {
            let at = format!("{pointer}/{}", crate::error::pointer_token(key));
            match properties.get(key) {
                Some(property) => walk(root, property, member, &at, out),
                None if schema.get("additionalProperties").is_none() && looks_secret(key) => {
                    out.push((at, declared_secret(root, key, &mut String::new())));
                }
                None => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(schema, schema, value, "", &mut out);
    out
}

/// Rebuilds `value`, replacing each secret field (with its JSON Pointer) by `f`'s result.
fn map_secrets(schema: &Value, value: &Value, f: &mut dyn FnMut(&str, &Value) -> Value) -> Value {
    let mut mapped = value.clone();
    for_each_secret(schema, &mut mapped, &mut String::new(), &mut |pointer, secret| *secret = f(pointer, secret));
    mapped
}

/// Calls `f` with each secret field of `value` (and its JSON Pointer, built in `pointer`
/// without an allocation per field), which may change it in place: the one walk of a
/// configuration by its schema's secret marks.
fn for_each_secret(schema: &Value, value: &mut Value, pointer: &mut String, f: &mut dyn FnMut(&str, &mut Value)) {
    if schema.get(SECRET_KEYWORD).and_then(Value::as_bool) == Some(true) {
        f(pointer, value);
        return;
    }
    let parent = pointer.len();
    match value {
        Value::Object(members) => {
            for (key, member) in members.iter_mut() {
                let member_schema = schema
                    .get("properties")
                    .and_then(|p| p.get(key))
                    .or_else(|| schema.get("additionalProperties").filter(|s| s.is_object()));
                if let Some(member_schema) = member_schema {
                    pointer.push('/');
                    pointer.push_str(&crate::error::pointer_token(key));
                    for_each_secret(member_schema, member, pointer, f);
                    pointer.truncate(parent);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter_mut().enumerate() {
                    use std::fmt::Write as _;
                    write!(pointer, "/{index}").expect("writing to a String cannot fail");
                    for_each_secret(item_schema, item, pointer, f);
                    pointer.truncate(parent);
                }
            }
        }
        _ => {}
    }
}

/// `incoming` with every secret field whose value is [`MASK`] given its value in `stored`
/// (both in clear). A masked field with nothing stored to keep is reported by pointer.
pub fn keep_masked(schema: &Value, incoming: &Value, stored: &Value) -> Result<Value, Vec<String>> {
    let mut missing = Vec::new();
    let merged = map_secrets(schema, incoming, &mut |pointer, value| {
        if value.as_str() != Some(MASK) {
            return value.clone();
        }
        match stored.pointer(pointer) {
            Some(kept) if !kept.is_null() => kept.clone(),
            _ => {
                missing.push(pointer.to_owned());
                value.clone()
            }
        }
    });
    if missing.is_empty() { Ok(merged) } else { Err(missing) }
}

/// The pointers of the secret fields of `value` that hold the mask.
pub fn masked_pointers(schema: &Value, value: &Value) -> Vec<String> {
    let mut masked = Vec::new();
    map_secrets(schema, value, &mut |pointer, secret| {
        if secret.as_str() == Some(MASK) {
            masked.push(pointer.to_owned());
        }
        secret.clone()
    });
    masked
}

/// Where a configuration's secrets go: the value of every field its schema marks with
/// [`AUDIENCE_KEYWORD`], by JSON Pointer. A URL counts by its scheme, host and port only (a
/// new path on the same server is the same audience); anything else counts as it is.
pub fn audience(schema: &Value, value: &Value) -> Vec<(String, Value)> {
    let mut found = Vec::new();
    collect_audience(schema, value, "", &mut found);
    found
}

fn collect_audience(schema: &Value, value: &Value, pointer: &str, found: &mut Vec<(String, Value)>) {
    if schema.get(AUDIENCE_KEYWORD).and_then(Value::as_bool) == Some(true) {
        let origin = value.as_str().and_then(|text| url::Url::parse(text).ok()).filter(|u| u.has_host()).map(|u| {
            Value::String(format!(
                "{}://{}:{}",
                u.scheme(),
                u.host_str().unwrap_or_default().to_ascii_lowercase(),
                u.port_or_known_default().map(|p| p.to_string()).unwrap_or_default()
            ))
        });
        found.push((pointer.to_owned(), origin.unwrap_or_else(|| value.clone())));
        return;
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (key, member_schema) in properties {
            let member = value.get(key).unwrap_or(&Value::Null);
            collect_audience(member_schema, member, &format!("{pointer}/{}", crate::error::pointer_token(key)), found);
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the encryption key must be 32 bytes, hex- or base64-encoded")]
    BadKey,
    #[error("a stored secret at {0} cannot be decrypted with this key")]
    Undecryptable(String),
    #[error("a stored secret at {pointer} was sealed with key {key_id}, which this server does not have")]
    UnknownKey { pointer: String, key_id: String },
    #[error("the secret field at {0} is stored without being sealed")]
    NotSealed(String),
}

/// One AES-256-GCM key and its id (the first 8 bytes of the SHA-256 of the key, in hex).
struct SealingKey {
    id: String,
    key: LessSafeKey,
}

impl SealingKey {
    fn new(bytes: &[u8]) -> Result<SealingKey, VaultError> {
        let unbound = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| VaultError::BadKey)?;
        Ok(SealingKey { id: key_id(bytes), key: LessSafeKey::new(unbound) })
    }
}

/// The id of a key: safe to show, since it tells nothing of the key.
pub fn key_id(key: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(key)[..8])
}

/// The keys that seal secrets at rest: the current one seals; it and any others (during a
/// key rotation) open, each the values sealed with it.
pub struct Vault {
    current: SealingKey,
    others: Vec<SealingKey>,
}

/// What the vault check value holds, in clear.
const CHECK_PLAINTEXT: &str = "squared vault check";

impl Vault {
    /// A vault from 32 key bytes.
    pub fn new(key: &[u8]) -> Result<Vault, VaultError> {
        Ok(Vault { current: SealingKey::new(key)?, others: Vec::new() })
    }

    /// A vault that seals with `current` and also opens what `previous` sealed: for a
    /// key rotation.
    pub fn rotating(current: &[u8], previous: &[u8]) -> Result<Vault, VaultError> {
        Ok(Vault { current: SealingKey::new(current)?, others: vec![SealingKey::new(previous)?] })
    }

    /// The id of the key that seals.
    pub fn key_id(&self) -> &str {
        &self.current.id
    }

    /// A value sealed with the current key that only [`Vault::open_check`] opens: stored once
    /// per database, it tells at start-up whether this server has the database's key.
    pub fn seal_check(&self) -> String {
        match self.seal_value(&Value::String(CHECK_PLAINTEXT.into()), &Self::check_aad()) {
            Value::String(text) => text,
            _ => unreachable!("a sealed value is a string"),
        }
    }

    /// Whether `sealed` is a check value of this vault's keys; else, the id of the key that
    /// sealed it, where it says.
    pub fn open_check(&self, sealed: &str) -> Result<(), Option<String>> {
        match self.open_value(sealed, &Self::check_aad()) {
            Ok(Value::String(text)) if text == CHECK_PLAINTEXT => Ok(()),
            Ok(_) => Err(None),
            Err(VaultError::UnknownKey { key_id, .. }) => Err(Some(key_id)),
            Err(_) => Err(sealed.strip_prefix(SEALED_V2).and_then(|r| r.split_once(':')).map(|(id, _)| id.to_owned())),
        }
    }

    fn check_aad() -> String {
        "squared:vault-check:v1".to_owned()
    }

    /// Decodes a key written as 64 hex digits or as base64 of 32 bytes.
    pub fn decode_key(text: &str) -> Result<Vec<u8>, VaultError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|_| VaultError::BadKey)?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .or_else(|_| URL_SAFE_NO_PAD.decode(text))
                .map_err(|_| VaultError::BadKey)?
        };
        if bytes.len() == 32 { Ok(bytes) } else { Err(VaultError::BadKey) }
    }

    fn aad(workspace_id: i64, pointer: &str) -> String {
        format!("squared:connector-secret:v1:{workspace_id}:{pointer}")
    }

    /// `configuration` (in clear) with every secret value encrypted.
    pub fn seal(&self, schema: &Value, configuration: &Value, workspace_id: i64) -> Value {
        map_secrets(schema, configuration, &mut |pointer, value| {
            if value.is_null() { value.clone() } else { self.seal_value(value, &Self::aad(workspace_id, pointer)) }
        })
    }

    fn seal_value(&self, value: &Value, aad: &str) -> Value {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).expect("the system random source works");
        let mut data = serde_json::to_vec(value).expect("a JSON value serializes");
        self.current
            .key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad.as_bytes()), &mut data)
            .expect("AES-GCM sealing does not fail");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&data);
        Value::String(format!("{SEALED_V2}{}:{}", self.current.id, URL_SAFE_NO_PAD.encode(sealed)))
    }

    /// `configuration` with every sealed secret decrypted, for the runtimes. A secret field
    /// that holds anything but a sealed value (or null) is an error: it was never meant to be
    /// stored in clear, and is not passed on as if it had been.
    pub fn open(&self, schema: &Value, configuration: &Value, workspace_id: i64) -> Result<Value, VaultError> {
        let mut failure = None;
        let opened = map_secrets(schema, configuration, &mut |pointer, value| {
            if value.is_null() {
                return Value::Null;
            }
            let Some(sealed) = value.as_str().filter(|s| s.starts_with(SEALED)) else {
                failure.get_or_insert(VaultError::NotSealed(pointer.to_owned()));
                return Value::Null;
            };
            match self.open_value(sealed, &Self::aad(workspace_id, pointer)) {
                Ok(plain) => plain,
                Err(error) => {
                    failure.get_or_insert(match error {
                        VaultError::UnknownKey { key_id, .. } => {
                            VaultError::UnknownKey { pointer: pointer.to_owned(), key_id }
                        }
                        _ => VaultError::Undecryptable(pointer.to_owned()),
                    });
                    Value::Null
                }
            }
        });
        match failure {
            Some(error) => Err(error),
            None => Ok(opened),
        }
    }

    /// `configuration` with every sealed value, wherever it stands, opened with the key
    /// that sealed it and sealed again with the current key. It needs no schema: the place
    /// of a sealed value is its JSON Pointer, which is what it was sealed with. Returns how
    /// many values it re-sealed.
    pub fn reseal(&self, configuration: &Value, workspace_id: i64) -> Result<(Value, usize), VaultError> {
        fn walk(
            vault: &Vault,
            value: &Value,
            pointer: &str,
            workspace_id: i64,
            count: &mut usize,
        ) -> Result<Value, VaultError> {
            Ok(match value {
                Value::String(text) if text.starts_with(SEALED) => {
                    let aad = Vault::aad(workspace_id, pointer);
                    let plain = vault.open_value(text, &aad).map_err(|e| match e {
                        VaultError::UnknownKey { key_id, .. } => {
                            VaultError::UnknownKey { pointer: pointer.to_owned(), key_id }
                        }
                        _ => VaultError::Undecryptable(pointer.to_owned()),
                    })?;
                    *count += 1;
                    vault.seal_value(&plain, &aad)
                }
                Value::Object(members) => Value::Object(
                    members
                        .iter()
                        .map(|(key, member)| {
                            let member_pointer = format!("{pointer}/{}", crate::error::pointer_token(key));
                            Ok((key.clone(), walk(vault, member, &member_pointer, workspace_id, count)?))
                        })
                        .collect::<Result<_, VaultError>>()?,
                ),
                Value::Array(items) => Value::Array(
                    items
                        .iter()
                        .enumerate()
                        .map(|(index, item)| walk(vault, item, &format!("{pointer}/{index}"), workspace_id, count))
                        .collect::<Result<_, VaultError>>()?,
                ),
                other => other.clone(),
            })
        }
        let mut count = 0;
        let resealed = walk(self, configuration, "", workspace_id, &mut count)?;
        Ok((resealed, count))
    }

    /// Re-seals a check value (see [`Vault::seal_check`]) with the current key.
    pub fn reseal_check(&self, sealed: &str) -> Result<String, VaultError> {
        let plain = self.open_value(sealed, &Self::check_aad())?;
        match self.seal_value(&plain, &Self::check_aad()) {
            Value::String(text) => Ok(text),
            _ => unreachable!("a sealed value is a string"),
        }
    }

    /// Opens one sealed value with the key it names (v2) or the current key (v1).
    fn open_value(&self, sealed: &str, aad: &str) -> Result<Value, VaultError> {
        let undecryptable = || VaultError::Undecryptable(String::new());
        let keys = std::iter::once(&self.current).chain(&self.others);
        if let Some(rest) = sealed.strip_prefix(SEALED_V2) {
            let (id, encoded) = rest.split_once(':').ok_or_else(undecryptable)?;
            let key = keys
                .into_iter()
                .find(|k| k.id == id)
                .ok_or_else(|| VaultError::UnknownKey { pointer: String::new(), key_id: id.to_owned() })?;
            Self::open_with(key, encoded, aad).ok_or_else(undecryptable)
        } else if let Some(encoded) = sealed.strip_prefix(SEALED_V1) {
            // No key id: whichever key opens it sealed it.
            keys.into_iter().find_map(|key| Self::open_with(key, encoded, aad)).ok_or_else(undecryptable)
        } else {
            Err(undecryptable())
        }
    }

    fn open_with(key: &SealingKey, encoded: &str, aad: &str) -> Option<Value> {
        let sealed = URL_SAFE_NO_PAD.decode(encoded).ok()?;
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, data) = sealed.split_at(NONCE_LEN);
        let mut data = data.to_vec();
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let plain = key.key.open_in_place(nonce, Aad::from(aad.as_bytes()), &mut data).ok()?;
        serde_json::from_slice(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"properties": {
            "host": {"type": "string"},
            "credentials": {"properties": {"password": {"multiwoven_secret": true}}},
            "keys": {"items": {"properties": {"token": {"multiwoven_secret": true}}}},
            "api_key": {"multiwoven_secret": true}
        }})
    }

    fn value() -> Value {
        json!({
            "host": "db", "api_key": "k1",
            "credentials": {"username": "u", "password": "p1"},
            "keys": [{"token": "t1", "name": "a"}, {"token": "t2"}]
        })
    }

    fn vault() -> Vault {
        Vault::new(&[7u8; 32]).unwrap()
    }

    #[test]
    fn secrets_are_masked_at_any_depth() {
        let mut masked = value();
        mask(&schema(), &mut masked);
        assert_eq!(
            masked,
            json!({
                "host": "db", "api_key": MASK,
                "credentials": {"username": "u", "password": MASK},
                "keys": [{"token": MASK, "name": "a"}, {"token": MASK}]
            })
        );
    }

    #[test]
    fn sealed_secrets_show_nothing_and_open_again() {
        let sealed = vault().seal(&schema(), &value(), 3);
        let text = sealed.to_string();
        for secret in ["k1", "p1", "t1", "t2"] {
            assert!(!text.contains(&format!("\"{secret}\"")), "{secret} in {text}");
        }
        assert_eq!(sealed["host"], "db");
        assert_eq!(vault().open(&schema(), &sealed, 3).unwrap(), value());
    }

    #[test]
    fn a_sealed_secret_is_bound_to_its_workspace_field_and_key() {
        let sealed = vault().seal(&schema(), &value(), 3);
        assert!(matches!(vault().open(&schema(), &sealed, 4), Err(VaultError::Undecryptable(_))));
        let mut moved = sealed.clone();
        moved["api_key"] = sealed["credentials"]["password"].clone();
        assert!(matches!(vault().open(&schema(), &moved, 3), Err(VaultError::Undecryptable(p)) if p == "/api_key"));
        let other = Vault::new(&[8u8; 32]).unwrap();
        assert!(other.open(&schema(), &sealed, 3).is_err());
    }

    #[test]
    fn sealed_values_name_their_key() {
        let sealed = vault().seal(&schema(), &value(), 3);
        let id = key_id(&[7u8; 32]);
        assert_eq!(id.len(), 16);
        assert!(sealed["api_key"].as_str().unwrap().starts_with(&format!("sealed:v2:{id}:")), "{sealed}");
        let other = Vault::new(&[8u8; 32]).unwrap();
        assert!(matches!(
            other.open(&schema(), &sealed, 3),
            Err(VaultError::UnknownKey { key_id, .. }) if key_id == id
        ));
    }

    #[test]
    fn a_secret_stored_in_clear_is_an_error_not_a_value() {
        let mut sealed = vault().seal(&schema(), &value(), 3);
        sealed["credentials"]["password"] = json!("in-clear");
        assert!(matches!(
            vault().open(&schema(), &sealed, 3),
            Err(VaultError::NotSealed(p)) if p == "/credentials/password"
        ));
        // A secret that was never set is fine.
        sealed["credentials"]["password"] = Value::Null;
        assert!(vault().open(&schema(), &sealed, 3).is_ok());
    }

    #[test]
    fn rotation_reseals_every_value_under_the_new_key() {
        let old = vault();
        let sealed = old.seal(&schema(), &value(), 3);
        let rotating = Vault::rotating(&[9u8; 32], &[7u8; 32]).unwrap();
        let (resealed, count) = rotating.reseal(&sealed, 3).unwrap();
        assert_eq!(count, 4);
        let new = Vault::new(&[9u8; 32]).unwrap();
        assert_eq!(new.open(&schema(), &resealed, 3).unwrap(), value());
        assert!(old.open(&schema(), &resealed, 3).is_err());
        // Running it again (an interrupted rotation) changes nothing but the nonces.
        let (again, _) = rotating.reseal(&resealed, 3).unwrap();
        assert_eq!(new.open(&schema(), &again, 3).unwrap(), value());
        // The check value follows.
        let check = old.seal_check();
        assert_eq!(new.open_check(&check), Err(Some(key_id(&[7u8; 32]))));
        assert_eq!(new.open_check(&rotating.reseal_check(&check).unwrap()), Ok(()));
    }

    #[test]
    fn values_of_the_first_format_still_open() {
        // `sealed:v1:` values carry no key id; the current key opens them.
        let v2 = vault().seal_value(&json!("p1"), &Vault::aad(3, "/api_key"));
        let body = v2.as_str().unwrap().splitn(4, ':').nth(3).unwrap().to_owned();
        let configuration = json!({"api_key": format!("sealed:v1:{body}")});
        assert_eq!(vault().open(&schema(), &configuration, 3).unwrap()["api_key"], "p1");
    }

    #[test]
    fn the_audience_counts_urls_by_origin() {
        let schema = json!({"properties": {
            "url": {"squared_audience": true},
            "host": {"squared_audience": true},
            "credentials": {"properties": {"username": {"squared_audience": true}, "password": {"multiwoven_secret": true}}},
            "path": {"type": "string"}
        }});
        let a = json!({"url": "https://Api.Example.com/v1?x=1", "host": "db", "credentials": {"username": "u"}, "path": "/a"});
        let same = json!({"url": "https://api.example.com:443/v2", "host": "db", "credentials": {"username": "u"}, "path": "/b"});
        assert_eq!(audience(&schema, &a), audience(&schema, &same));
        for (pointer, changed) in [
            ("/url", "http://api.example.com/v1"),
            ("/url", "https://api.example.com:8443/v1"),
            ("/url", "https://evil.example.com/v1"),
            ("/host", "evil"),
            ("/credentials/username", "other"),
        ] {
            let mut moved = a.clone();
            *moved.pointer_mut(pointer).unwrap() = json!(changed);
            assert_ne!(audience(&schema, &a), audience(&schema, &moved), "{pointer} = {changed}");
        }
    }

    #[test]
    fn masked_secrets_keep_their_stored_value() {
        let incoming = json!({"host": "db2", "api_key": MASK, "credentials": {"username": "u", "password": "new"}});
        let merged = keep_masked(&schema(), &incoming, &value()).unwrap();
        assert_eq!(merged["api_key"], "k1");
        assert_eq!(merged["credentials"]["password"], "new");
        assert_eq!(merged["host"], "db2");
    }

    #[test]
    fn a_mask_with_nothing_stored_is_reported() {
        let incoming = json!({"api_key": MASK});
        assert_eq!(keep_masked(&schema(), &incoming, &json!({})).unwrap_err(), ["/api_key"]);
    }

    #[test]
    fn keys_decode_from_hex_or_base64() {
        let hex = "00".repeat(31) + "ff";
        assert_eq!(Vault::decode_key(&hex).unwrap()[31], 0xff);
        assert!(Vault::decode_key(&"zz".repeat(32)).is_err());
        let b64 = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
        assert_eq!(Vault::decode_key(&b64).unwrap(), vec![1u8; 32]);
        assert!(Vault::decode_key("short").is_err());
    }
}
