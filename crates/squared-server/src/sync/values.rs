//! A row's values on their way from a source to a destination, each kept as the exact JSON
//! text the source gave (never through a 64-bit float: `12345678901234.123456` stays those
//! digits), in the canonical forms the readers give every type:
//!
//! | values | canonical JSON |
//! | --- | --- |
//! | integers, decimals, floats | numbers, with every digit the source has |
//! | booleans | `true` / `false` (a MariaDB `TINYINT(1)` too) |
//! | text, uuid, enum | strings |
//! | date, time | `"2026-03-01"`, `"11:00:00.123456"` |
//! | timestamp (no zone) | `"2026-03-01T11:00:00.123456"` or with a space for the `T` |
//! | timestamp with a zone | RFC 3339 with its offset, `"2026-03-01T11:00:00.123456+00:00"` |
//! | bytes | PostgreSQL's hex text, `"\x01ff"` |
//! | json | the JSON value itself (a bare string keeps its quotes) |
//! | arrays | JSON arrays |
//!
//! Each destination writes these into its columns' own types ([`crate::runtime`]).

use serde::ser::SerializeMap;
use serde_json::Value;
use serde_json::value::RawValue;

/// A value as JSON text, exactly as read.
pub type RawJson = Box<RawValue>;

/// A source row: each column's value, by name.
pub type Row = std::collections::BTreeMap<String, RawJson>;

/// Reads a row from the JSON object text a reader gave.
pub fn parse_row(text: &str) -> Result<Row, serde_json::Error> {
    serde_json::from_str(text)
}

/// A record to write: destination fields and their values, in the mapping's order.
#[derive(Clone, Debug, Default)]
pub struct Record {
    pub fields: Vec<(String, RawJson)>,
}

impl Record {
    /// The value of `field`, if the record has it.
    pub fn get(&self, field: &str) -> Option<&RawValue> {
        self.fields.iter().find(|(name, _)| name == field).map(|(_, value)| &**value)
    }

    /// The record as one JSON object's text, every value as read.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a record serializes")
    }
}

impl serde::Serialize for Record {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (name, value) in &self.fields {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// A JSON value (a static value of a mapping, a rendered template) as raw JSON.
pub fn raw(value: &Value) -> RawJson {
    serde_json::value::to_raw_value(value).expect("a JSON value serializes")
}

/// JSON `null`.
pub fn null() -> RawJson {
    RawValue::from_string("null".to_owned()).expect("null is JSON")
}

/// What a raw JSON value is, read from its first character (the text is valid JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool(bool),
    Number,
    String,
    /// An object or an array.
    Structure,
}

pub fn kind(value: &RawValue) -> Kind {
    match value.get().trim_start().as_bytes().first() {
        Some(b'n') => Kind::Null,
        Some(b't') => Kind::Bool(true),
        Some(b'f') => Kind::Bool(false),
        Some(b'"') => Kind::String,
        Some(b'{' | b'[') => Kind::Structure,
        _ => Kind::Number,
    }
}

/// The text of a JSON string value, unescaped; `None` for any other value.
pub fn string(value: &RawValue) -> Option<String> {
    match kind(value) {
        Kind::String => serde_json::from_str(value.get()).ok(),
        _ => None,
    }
}

/// A value as text in a template: a string's text, a number's digits exactly, `true`/`false`,
/// nothing for null, and the JSON of an object or array.
pub fn as_text(value: &RawValue) -> String {
    match kind(value) {
        Kind::Null => String::new(),
        Kind::String => string(value).unwrap_or_default(),
        _ => value.get().trim().to_owned(),
    }
}

/// Bytes in PostgreSQL's hex text (`\x01ff`), decoded; `None` for any other text.
pub fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    hex::decode(text.strip_prefix("\\x")?).ok()
}

/// The JSON type of the values a model's column holds or a destination's field takes, as JSON
/// Schema names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonType {
    Integer,
    Number,
    Boolean,
    String,
    Object,
    Array,
}

impl JsonType {
    /// The type a JSON Schema name gives.
    pub fn of_name(name: &str) -> Option<JsonType> {
        Some(match name {
            "integer" => JsonType::Integer,
            "number" => JsonType::Number,
            "boolean" => JsonType::Boolean,
            "string" => JsonType::String,
            "object" => JsonType::Object,
            "array" => JsonType::Array,
            _ => return None,
        })
    }

    /// The type a JSON Schema states (`"type": "integer"` or `["integer", "null"]`).
    pub fn of_schema(schema: &Value) -> Option<JsonType> {
        match schema.get("type")? {
            Value::String(name) => JsonType::of_name(name),
            Value::Array(names) => {
                let mut named = names.iter().filter_map(Value::as_str).filter(|n| *n != "null");
                let first = JsonType::of_name(named.next()?)?;
                named.next().is_none().then_some(first)
            }
            _ => None,
        }
    }

    /// The type of a value; `None` for null, which any field takes.
    pub fn of_value(value: &Value) -> Option<JsonType> {
        Some(match value {
            Value::Null => return None,
            Value::Bool(_) => JsonType::Boolean,
            Value::Number(n) if n.is_i64() || n.is_u64() => JsonType::Integer,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Object(_) => JsonType::Object,
            Value::Array(_) => JsonType::Array,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            JsonType::Integer => "integer",
            JsonType::Number => "number",
            JsonType::Boolean => "boolean",
            JsonType::String => "string",
            JsonType::Object => "object",
            JsonType::Array => "array",
        }
    }
}

/// Whether a field of type `into` can take values of type `from` at all: a text or JSON field
/// takes anything, and a field takes values it can read; no object or array is a number or a
/// boolean, and a boolean is a number only where the destination says so
/// (`booleans_are_numbers`: MariaDB's `BOOLEAN` is a `TINYINT`; PostgreSQL refuses). A value
/// that may or may not read (text into a number) is the row's to fail, visibly.
pub fn writable(from: JsonType, into: JsonType, booleans_are_numbers: bool) -> bool {
    use JsonType::*;
    match (from, into) {
        (_, String | Object) => true,
        (Object | Array, Integer | Number | Boolean) | (Object, Array) => false,
        (Boolean, Integer | Number) => booleans_are_numbers,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_text_exactly() {
        let row = parse_row(
            r#"{"n": 12345678901234.123456, "big": 18446744073709551615, "f": 1.6777216e+07,
            "s": "a \"quoted\" text", "j": "bare", "o": {"x": [1, 2.50]}, "b": true, "z": null}"#,
        )
        .unwrap();
        assert_eq!(row["n"].get(), "12345678901234.123456");
        assert_eq!(row["big"].get(), "18446744073709551615");
        assert_eq!(as_text(&row["f"]), "1.6777216e+07");
        assert_eq!(string(&row["s"]).as_deref(), Some("a \"quoted\" text"));
        assert_eq!(row["o"].get(), r#"{"x": [1, 2.50]}"#);
        assert_eq!(
            [kind(&row["b"]), kind(&row["z"]), kind(&row["j"]), kind(&row["o"]), kind(&row["n"])],
            [Kind::Bool(true), Kind::Null, Kind::String, Kind::Structure, Kind::Number]
        );
        let record = Record { fields: vec![("total".into(), row["n"].clone()), ("doc".into(), row["j"].clone())] };
        assert_eq!(record.to_json(), r#"{"total":12345678901234.123456,"doc":"bare"}"#);
        assert_eq!(hex_bytes("\\x01ff"), Some(vec![1, 255]));
        assert_eq!(hex_bytes("x01ff"), None);
    }

    #[test]
    fn fields_take_the_values_they_can_read() {
        use JsonType::*;
        let field = |schema: serde_json::Value| JsonType::of_schema(&schema);
        assert_eq!(field(serde_json::json!({"type": ["number", "null"]})), Some(Number));
        assert_eq!(field(serde_json::json!({"type": ["number", "string"]})), None, "a choice is not checked");
        assert!(writable(Object, String, false) && writable(Array, Object, false) && writable(Integer, Number, false));
        assert!(!writable(Object, Number, true) && !writable(Array, Boolean, true) && !writable(Object, Array, true));
        assert!(!writable(Boolean, Integer, false) && writable(Boolean, Integer, true));
        assert!(writable(String, Integer, false), "text that reads as a number is the row's to fail or not");
    }
}
