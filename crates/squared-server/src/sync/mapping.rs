//! A sync's mapping applied to one row: the destination record it becomes. A column's value
//! goes over as the exact JSON text the source gave ([`super::values`]).

use serde_json::Value;
use squared_types::{SyncMapping, SyncMappingType};

use super::values::{Record, Row, as_text, null, raw};

/// The record `row` becomes under `mapping`; `now` is the run's start (for templates).
pub fn apply(mapping: &SyncMapping, row: &Row, now: &str) -> Record {
    let column = |name: &str| row.get(name).cloned().unwrap_or_else(null);
    let fields = match mapping {
        SyncMapping::FieldMap(pairs) => pairs.iter().map(|(from, to)| (to.clone(), column(from))).collect(),
        SyncMapping::Entries(entries) => entries
            .iter()
            .map(|entry| {
                let value = match entry.mapping_type {
                    SyncMappingType::Standard => column(entry.from.as_deref().unwrap_or_default()),
                    SyncMappingType::Static => entry.value.as_ref().map(raw).unwrap_or_else(null),
                    SyncMappingType::Template => {
                        raw(&Value::String(render(entry.template.as_deref().unwrap_or_default(), row, now)))
                    }
                };
                (entry.to.clone(), value)
            })
            .collect(),
    };
    Record { fields }
}

/// The destination field that source `column` goes to unchanged under `mapping`, if any.
pub fn destination_of<'a>(mapping: &'a SyncMapping, column: &str) -> Option<&'a str> {
    match mapping {
        SyncMapping::FieldMap(pairs) => pairs.get(column).map(String::as_str),
        SyncMapping::Entries(entries) => entries
            .iter()
            .find(|e| e.mapping_type == SyncMappingType::Standard && e.from.as_deref() == Some(column))
            .map(|e| e.to.as_str()),
    }
}

/// A template: text with `{{ name }}` or `{{ name | filter | … }}` holes, where a name is a
/// column of the row or `current_timestamp`, and the filters `upcase`, `downcase` and `strip`
/// (see `GET /api/v1/syncs/configurations`). An unknown filter leaves the value as it is.
pub fn render(template: &str, row: &Row, now: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let mut parts = rest[start + 2..start + end].split('|').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let mut value = match (name, row.get(name)) {
            ("current_timestamp", None) => now.to_owned(),
            (_, Some(value)) => as_text(value),
            (_, None) => String::new(),
        };
        for filter in parts {
            value = match filter {
                "upcase" => value.to_uppercase(),
                "downcase" => value.to_lowercase(),
                "strip" => value.trim().to_owned(),
                _ => value,
            };
        }
        out.push_str(&value);
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use squared_types::SyncMappingEntry;

    use super::*;
    use crate::sync::values::parse_row;

    fn row() -> Row {
        parse_row(r#"{"id": 7, "name": "  Ada ", "amount": 12.50, "note": null}"#).unwrap()
    }

    fn json_of(record: Record) -> Value {
        serde_json::from_str(&record.to_json()).unwrap()
    }

    #[test]
    fn both_shapes_map_a_row() {
        let pairs = SyncMapping::FieldMap([("id".into(), "order_id".into()), ("gone".into(), "x".into())].into());
        assert_eq!(json_of(apply(&pairs, &row(), "T")), json!({"order_id": 7, "x": null}));
        let entry = |mapping_type, from: Option<&str>, to: &str, value: Option<Value>, template: Option<&str>| {
            SyncMappingEntry {
                mapping_type,
                from: from.map(str::to_owned),
                to: to.into(),
                value,
                template: template.map(str::to_owned),
            }
        };
        let entries = SyncMapping::Entries(vec![
            entry(SyncMappingType::Standard, Some("amount"), "total", None, None),
            entry(SyncMappingType::Static, None, "source", Some(json!("web")), None),
            entry(
                SyncMappingType::Template,
                None,
                "label",
                None,
                Some("{{ name | strip | upcase }}#{{id}} at {{current_timestamp}}"),
            ),
        ]);
        let record = apply(&entries, &row(), "2026-01-01T00:00:00Z");
        assert_eq!(record.get("total").unwrap().get(), "12.50", "the source's digits, exactly");
        assert_eq!(json_of(record), json!({"total": 12.5, "source": "web", "label": "ADA#7 at 2026-01-01T00:00:00Z"}));
    }

    #[test]
    fn templates_leave_what_they_cannot_read() {
        assert_eq!(render("{{note}}|{{ missing }}|{{ id | nonsense }}|{{ open", &row(), "T"), "||7|{{ open");
    }
}
