//! Query parameters that are arrays.
//!
//! dropshot reads a query string with `serde_urlencoded`, which takes a key once, and it
//! describes only scalar query parameters. The generated trait reads a query struct with
//! array fields through [`ArrayQuery`]: the values of a repeated key (`tags=a&tags=b`, the
//! spec's default `explode: true`) are gathered into one, and the field splits them again
//! ([`repeated`]), or splits a comma-separated value (`tags=a,b`, `explode: false`,
//! [`comma_separated`], or [`space_separated`], [`pipe_separated`]). Such a field is described
//! as a string, the nearest dropshot takes.
//!
//! Object parameters likewise: the keys of a `deepObject` (`filter[name]=x&filter[age]=3`) or
//! of an exploded `form` object (its properties as keys of the query) are gathered under the
//! parameter's name, as a query string of their own, which the field reads with
//! [`object_from_text`] (as it reads `name,x,age,3`, `name=x,age=3` in a path or header, or
//! the JSON text of a parameter described by `content`).

use dropshot::{
    ApiEndpointBodyContentType, ExtractorMetadata, HttpError, Query, RequestContext, ServerContext, SharedExtractor,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, Error as _};

/// What separates gathered values: a control character no query value holds once decoded.
const GATHERED: char = '\u{1e}';

/// A query struct that has array fields read from repeated keys, or object fields read from
/// several keys.
pub trait RepeatedKeys {
    /// The wire names of the fields whose key may repeat.
    const REPEATED: &'static [&'static str];
    /// The wire names of the object fields whose properties are keys of their own, and which.
    const OBJECTS: &'static [(&'static str, ObjectKeys)] = &[];
}

/// Which keys of a query hold an object parameter's properties.
#[derive(Debug, Clone, Copy)]
pub enum ObjectKeys {
    /// `name[property]` (`style: deepObject`).
    Deep,
    /// The object's properties, by name (`style: form`, `explode: true`).
    Properties(&'static [&'static str]),
    /// Every key but these (the other parameters): an exploded `form` map.
    Rest(&'static [&'static str]),
}

/// How a parameter's text holds an object.
#[derive(Debug, Clone, Copy)]
pub enum ObjectText {
    /// A query string of its own (gathered from the keys of a `deepObject` or exploded `form`
    /// object).
    Nested,
    /// `name,x,age,3`.
    Joined,
    /// `name=x,age=3`.
    Exploded,
    /// JSON text.
    Json,
}

/// An object parameter from its text (see [`ObjectText`]); its properties' values are read
/// as a query's are (numbers and booleans from their text).
pub fn object_from_text<T: DeserializeOwned>(text: &str, form: ObjectText) -> Result<T, String> {
    let pairs: Vec<(String, String)> = match form {
        ObjectText::Json => return serde_json::from_str(text).map_err(|e| e.to_string()),
        ObjectText::Nested => return serde_urlencoded::from_str(text).map_err(|e| e.to_string()),
        ObjectText::Joined => {
            let items: Vec<&str> = text.split(',').collect();
            if !items.len().is_multiple_of(2) {
                return Err(format!("{text:?} is not a list of names and values"));
            }
            items.chunks(2).map(|pair| (pair[0].to_owned(), pair[1].to_owned())).collect()
        }
        ObjectText::Exploded => text
            .split(',')
            .filter(|item| !item.is_empty())
            .map(|item| item.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect::<Option<_>>()
            .ok_or_else(|| format!("{text:?} is not a list of name=value"))?,
    };
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    serde_urlencoded::from_str(&query).map_err(|e| e.to_string())
}

/// The query parameters of a request whose query struct has array fields.
#[derive(Debug)]
pub struct ArrayQuery<T>(T);

impl<T> ArrayQuery<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// The query string with every repeated key of `repeated` given once, its values gathered,
/// and the keys of each object of `objects` gathered under its name as a query string.
fn gather(query: &str, repeated: &[&str], objects: &[(&str, ObjectKeys)]) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut nested: Vec<(&str, Vec<(String, String)>)> = objects.iter().map(|(name, _)| (*name, Vec::new())).collect();
    'pairs: for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        for ((name, keys), (_, held)) in objects.iter().zip(nested.iter_mut()) {
            let property = match keys {
                ObjectKeys::Deep => key.strip_prefix(name).and_then(|k| k.strip_prefix('[')?.strip_suffix(']')),
                ObjectKeys::Properties(properties) => properties.contains(&key.as_ref()).then_some(key.as_ref()),
                ObjectKeys::Rest(others) => (!others.contains(&key.as_ref())).then_some(key.as_ref()),
            };
            if let Some(property) = property {
                held.push((property.to_owned(), value.into_owned()));
                continue 'pairs;
            }
        }
        match pairs.iter_mut().find(|(k, _)| *k == key && repeated.contains(&key.as_ref())) {
            Some((_, gathered)) => {
                gathered.push(GATHERED);
                gathered.push_str(&value);
            }
            None => pairs.push((key.into_owned(), value.into_owned())),
        }
    }
    for (name, held) in nested.into_iter().filter(|(_, held)| !held.is_empty()) {
        pairs.push((name.to_owned(), form_urlencoded::Serializer::new(String::new()).extend_pairs(held).finish()));
    }
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

#[async_trait::async_trait]
impl<T> SharedExtractor for ArrayQuery<T>
where
    T: DeserializeOwned + JsonSchema + RepeatedKeys + Send + Sync + 'static,
{
    async fn from_request<Context: ServerContext>(rqctx: &RequestContext<Context>) -> Result<Self, HttpError> {
        let query = gather(rqctx.request.uri().query().unwrap_or_default(), T::REPEATED, T::OBJECTS);
        serde_urlencoded::from_str(&query)
            .map(ArrayQuery)
            .map_err(|e| HttpError::for_bad_request(None, format!("unable to parse query string: {e}")))
    }

    fn metadata(body_content_type: ApiEndpointBodyContentType) -> ExtractorMetadata {
        <Query<T> as SharedExtractor>::metadata(body_content_type)
    }
}

/// Reads one item the way a query value is read (numbers and booleans from their text).
fn item<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    #[derive(Deserialize)]
    struct One<T> {
        v: T,
    }
    let query = form_urlencoded::Serializer::new(String::new()).append_pair("v", text).finish();
    serde_urlencoded::from_str::<One<T>>(&query).map(|one| one.v).map_err(|e| e.to_string())
}

fn split<'de, D: Deserializer<'de>, T: DeserializeOwned, O: From<Vec<T>>>(
    deserializer: D,
    separator: char,
) -> Result<O, D::Error> {
    let text = String::deserialize(deserializer)?;
    let items = text.split(separator).map(item).collect::<Result<Vec<T>, _>>().map_err(D::Error::custom)?;
    Ok(O::from(items))
}

/// An array field read from a repeated key (`explode: true`).
pub fn repeated<'de, D: Deserializer<'de>, T: DeserializeOwned, O: From<Vec<T>>>(
    deserializer: D,
) -> Result<O, D::Error> {
    split(deserializer, GATHERED)
}

/// An array field read from one comma-separated value (`explode: false`).
pub fn comma_separated<'de, D: Deserializer<'de>, T: DeserializeOwned, O: From<Vec<T>>>(
    deserializer: D,
) -> Result<O, D::Error> {
    split(deserializer, ',')
}

/// An array field read from one space-separated value (`style: spaceDelimited`).
pub fn space_separated<'de, D: Deserializer<'de>, T: DeserializeOwned, O: From<Vec<T>>>(
    deserializer: D,
) -> Result<O, D::Error> {
    split(deserializer, ' ')
}

/// An array field read from one `|`-separated value (`style: pipeDelimited`).
pub fn pipe_separated<'de, D: Deserializer<'de>, T: DeserializeOwned, O: From<Vec<T>>>(
    deserializer: D,
) -> Result<O, D::Error> {
    split(deserializer, '|')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Find {
        #[serde(default, deserialize_with = "repeated")]
        tags: Option<Vec<String>>,
        #[serde(deserialize_with = "comma_separated")]
        ids: Vec<i64>,
        limit: Option<i32>,
    }

    fn read(query: &str) -> Result<Find, String> {
        serde_urlencoded::from_str(&gather(query, &["tags"], &[])).map_err(|e| e.to_string())
    }

    #[test]
    fn repeated_keys_and_comma_separated_values_become_arrays() {
        let find = read("tags=a%2Cb&ids=1,2&tags=c&limit=3").unwrap();
        assert_eq!(find, Find { tags: Some(vec!["a,b".into(), "c".into()]), ids: vec![1, 2], limit: Some(3) });
        assert_eq!(read("ids=7").unwrap(), Find { tags: None, ids: vec![7], limit: None });
        assert!(read("ids=1,x").unwrap_err().contains("invalid digit"), "{:?}", read("ids=1,x"));
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Filter {
        name: String,
        age: Option<u8>,
    }

    #[test]
    fn objects_are_read_from_their_keys_or_their_text() {
        let gathered = gather("filter%5Bname%5D=Rex&limit=3&filter[age]=4", &[], &[("filter", ObjectKeys::Deep)]);
        let text: Vec<(String, String)> = form_urlencoded::parse(gathered.as_bytes()).into_owned().collect();
        assert_eq!(text[0], ("limit".to_owned(), "3".to_owned()));
        let filter: Filter = object_from_text(&text[1].1, ObjectText::Nested).unwrap();
        assert_eq!(filter, Filter { name: "Rex".into(), age: Some(4) });
        let exploded = gather("name=Rex&limit=3", &[], &[("filter", ObjectKeys::Properties(&["name", "age"]))]);
        assert_eq!(exploded, "limit=3&filter=name%3DRex");
        let rest = gather("name=Rex&limit=3", &[], &[("filter", ObjectKeys::Rest(&["limit"]))]);
        assert_eq!(rest, "limit=3&filter=name%3DRex");
        let joined: Filter = object_from_text("name,Rex,age,4", ObjectText::Joined).unwrap();
        assert_eq!(joined, Filter { name: "Rex".into(), age: Some(4) });
        let pairs: Filter = object_from_text("name=Rex,age=4", ObjectText::Exploded).unwrap();
        assert_eq!(pairs, joined);
        let json: Filter = object_from_text(r#"{"name": "Rex", "age": 4}"#, ObjectText::Json).unwrap();
        assert_eq!(json, joined);
        assert!(object_from_text::<Filter>("name,Rex,age", ObjectText::Joined).is_err());
        assert!(object_from_text::<Filter>("age=old,name=Rex", ObjectText::Exploded).is_err());
    }
}
