//! Secret fields of a configuration: those its schema marks `multiwoven_secret: true`.
//!
//! Three things happen to them, all driven by the definition's schema, at any depth
//! (through `properties`, `items` and `additionalProperties`):
//! - [`mask`]: every response shows them as [`MASK`];
//! - [`Vault::seal`]: before a configuration is stored, each secret value is encrypted with
//!   AES-256-GCM (a fresh nonce per value, the workspace and the field's JSON Pointer as
//!   associated data, so a sealed value cannot be moved to another field or workspace) and
//!   replaced by a `"sealed:v1:…"` string; [`Vault::open`] reverses it for the runtimes;
//! - [`keep_masked`]: on update, a secret sent back as the mask keeps its stored value (so
//!   the mask itself can never be stored as a secret).

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// What a secret value looks like in a response.
pub const MASK: &str = "*************";

/// The prefix of a sealed secret as stored.
const SEALED_PREFIX: &str = "sealed:v1:";

/// `value` with every secret field, at any depth, replaced by [`MASK`].
pub fn mask(schema: &Value, value: &Value) -> Value {
    map_secrets(schema, value, "", &mut |_, secret| {
        if secret.is_null() { Value::Null } else { Value::String(MASK.into()) }
    })
}

/// Rebuilds `value`, replacing each secret field (with its JSON Pointer) by `f`'s result.
fn map_secrets(schema: &Value, value: &Value, pointer: &str, f: &mut dyn FnMut(&str, &Value) -> Value) -> Value {
    if schema.get("multiwoven_secret").and_then(Value::as_bool) == Some(true) {
        return f(pointer, value);
    }
    match value {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(key, member)| {
                    let member_schema = schema
                        .get("properties")
                        .and_then(|p| p.get(key))
                        .or_else(|| schema.get("additionalProperties").filter(|s| s.is_object()));
                    let member_pointer = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                    let mapped = match member_schema {
                        Some(member_schema) => map_secrets(member_schema, member, &member_pointer, f),
                        None => member.clone(),
                    };
                    (key.clone(), mapped)
                })
                .collect(),
        ),
        Value::Array(items) => match schema.get("items") {
            Some(item_schema) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(index, item)| map_secrets(item_schema, item, &format!("{pointer}/{index}"), f))
                    .collect(),
            ),
            None => value.clone(),
        },
        _ => value.clone(),
    }
}

/// `incoming` with every secret field whose value is [`MASK`] given its value in `stored`
/// (both in clear). A masked field with nothing stored to keep is reported by pointer.
pub fn keep_masked(schema: &Value, incoming: &Value, stored: &Value) -> Result<Value, Vec<String>> {
    let mut missing = Vec::new();
    let merged = map_secrets(schema, incoming, "", &mut |pointer, value| {
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

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the encryption key must be 32 bytes, hex- or base64-encoded")]
    BadKey,
    #[error("a stored secret at {0} cannot be decrypted with this key")]
    Undecryptable(String),
}

/// The key that seals secrets at rest.
pub struct Vault {
    key: LessSafeKey,
}

impl Vault {
    /// A vault from 32 key bytes.
    pub fn new(key: &[u8]) -> Result<Vault, VaultError> {
        let unbound = UnboundKey::new(&AES_256_GCM, key).map_err(|_| VaultError::BadKey)?;
        Ok(Vault { key: LessSafeKey::new(unbound) })
    }

    /// Decodes a key written as 64 hex digits or as base64 of 32 bytes.
    pub fn decode_key(text: &str) -> Result<Vec<u8>, VaultError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            (0..32).map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap()).collect()
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
        map_secrets(schema, configuration, "", &mut |pointer, value| {
            if value.is_null() {
                return value.clone();
            }
            let mut nonce = [0u8; NONCE_LEN];
            aws_lc_rs::rand::fill(&mut nonce).expect("the system random source works");
            let mut data = serde_json::to_vec(value).expect("a JSON value serializes");
            self.key
                .seal_in_place_append_tag(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(Self::aad(workspace_id, pointer).as_bytes()),
                    &mut data,
                )
                .expect("AES-GCM sealing does not fail");
            let mut sealed = nonce.to_vec();
            sealed.extend_from_slice(&data);
            Value::String(format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(sealed)))
        })
    }

    /// `configuration` with every sealed secret decrypted, for the runtimes.
    pub fn open(&self, schema: &Value, configuration: &Value, workspace_id: i64) -> Result<Value, VaultError> {
        let mut failure = None;
        let opened = map_secrets(schema, configuration, "", &mut |pointer, value| {
            let Some(encoded) = value.as_str().and_then(|s| s.strip_prefix(SEALED_PREFIX)) else {
                return value.clone();
            };
            match self.open_one(encoded, workspace_id, pointer) {
                Some(plain) => plain,
                None => {
                    failure.get_or_insert_with(|| pointer.to_owned());
                    Value::Null
                }
            }
        });
        match failure {
            Some(pointer) => Err(VaultError::Undecryptable(pointer)),
            None => Ok(opened),
        }
    }

    fn open_one(&self, encoded: &str, workspace_id: i64, pointer: &str) -> Option<Value> {
        let sealed = URL_SAFE_NO_PAD.decode(encoded).ok()?;
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, data) = sealed.split_at(NONCE_LEN);
        let mut data = data.to_vec();
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let plain =
            self.key.open_in_place(nonce, Aad::from(Self::aad(workspace_id, pointer).as_bytes()), &mut data).ok()?;
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
        assert_eq!(
            mask(&schema(), &value()),
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
        let b64 = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
        assert_eq!(Vault::decode_key(&b64).unwrap(), vec![1u8; 32]);
        assert!(Vault::decode_key("short").is_err());
    }
}
