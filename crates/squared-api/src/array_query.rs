//! Query parameters that are arrays.
//!
//! dropshot reads a query string with `serde_urlencoded`, which takes a key once, and it
//! describes only scalar query parameters. The generated trait reads a query struct with
//! array fields through [`ArrayQuery`]: the values of a repeated key (`tags=a&tags=b`, the
//! spec's default `explode: true`) are gathered into one, and the field splits them again
//! ([`repeated`]), or splits a comma-separated value (`tags=a,b`, `explode: false`,
//! [`comma_separated`]). Such a field is described as a string, the nearest dropshot takes.

use dropshot::{
    ApiEndpointBodyContentType, ExtractorMetadata, HttpError, Query, RequestContext, ServerContext, SharedExtractor,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, Error as _};

/// What separates gathered values: a control character no query value holds once decoded.
const GATHERED: char = '\u{1e}';

/// A query struct that has array fields read from repeated keys.
pub trait RepeatedKeys {
    /// The wire names of the fields whose key may repeat.
    const REPEATED: &'static [&'static str];
}

/// The query parameters of a request whose query struct has array fields.
#[derive(Debug)]
pub struct ArrayQuery<T>(T);

impl<T> ArrayQuery<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// The query string with every repeated key of `repeated` given once, its values gathered.
fn gather(query: &str, repeated: &[&str]) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match pairs.iter_mut().find(|(k, _)| *k == key && repeated.contains(&key.as_ref())) {
            Some((_, gathered)) => {
                gathered.push(GATHERED);
                gathered.push_str(&value);
            }
            None => pairs.push((key.into_owned(), value.into_owned())),
        }
    }
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

#[async_trait::async_trait]
impl<T> SharedExtractor for ArrayQuery<T>
where
    T: DeserializeOwned + JsonSchema + RepeatedKeys + Send + Sync + 'static,
{
    async fn from_request<Context: ServerContext>(rqctx: &RequestContext<Context>) -> Result<Self, HttpError> {
        let query = gather(rqctx.request.uri().query().unwrap_or_default(), T::REPEATED);
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
        serde_urlencoded::from_str(&gather(query, &["tags"])).map_err(|e| e.to_string())
    }

    #[test]
    fn repeated_keys_and_comma_separated_values_become_arrays() {
        let find = read("tags=a%2Cb&ids=1,2&tags=c&limit=3").unwrap();
        assert_eq!(find, Find { tags: Some(vec!["a,b".into(), "c".into()]), ids: vec![1, 2], limit: Some(3) });
        assert_eq!(read("ids=7").unwrap(), Find { tags: None, ids: vec![7], limit: None });
        assert!(read("ids=1,x").unwrap_err().contains("invalid digit"), "{:?}", read("ids=1,x"));
    }
}
