//! How answers are printed: the generated command line calls [`Printer`] (its `CliConfig`)
//! with each answer.
//!
//! An answer is printed as JSON or as a table. A list read whole arrives a page at a time
//! (`start_page`): its items are printed as they come, one JSON object per line or one table
//! row each, and whether a page follows is read from the answer's `links.next`.

use std::cell::RefCell;
use std::rc::Rc;

use progenitor_client::{Error, ResponseValue};
use serde_json::Value;
use squared_client::Failure;
use squared_client::types::ErrorResponse;

use crate::generated::CliConfig;

/// How answers are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Json,
    Table,
}

impl std::str::FromStr for Output {
    type Err = anyhow::Error;
    fn from_str(text: &str) -> anyhow::Result<Self> {
        match text {
            "json" => Ok(Output::Json),
            "table" => Ok(Output::Table),
            other => anyhow::bail!("{other:?} is not an output (json or table)"),
        }
    }
}

/// Where a list read whole stands.
#[derive(Default)]
struct ListState {
    /// The page being printed (from 1), while a list is read whole.
    page: Option<u64>,
    /// The columns of the table, fixed by the first page.
    columns: Option<Vec<(String, usize)>>,
    more: bool,
}

/// The printer the generated command line reports to. Clones share their state.
#[derive(Clone)]
pub struct Printer {
    output: Output,
    list: Rc<RefCell<ListState>>,
}

impl Printer {
    pub fn new(output: Output) -> Self {
        Printer { output, list: Rc::default() }
    }

    /// The next answer is page `page` of a list read whole.
    pub fn start_page(&self, page: u64) {
        let mut list = self.list.borrow_mut();
        list.page = Some(page);
        list.more = false;
    }

    /// Whether the last page's answer said another follows.
    pub fn more_pages(&self) -> bool {
        self.list.borrow().more
    }

    /// The list was read whole.
    pub fn end_list(&self) {
        let list = self.list.borrow();
        if self.output == Output::Table && list.columns.is_none() {
            emit("(no items)");
        }
    }

    fn print_value(&self, value: Value) {
        let mut list = self.list.borrow_mut();
        if list.page.is_some()
            && let Value::Object(mut page) = value
        {
            list.more = page.get("links").and_then(|links| links.get("next")).is_some_and(|next| !next.is_null());
            let items = match page.remove("data") {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            };
            for item in items {
                let item = if self.output == Output::Table { flattened(&item) } else { item };
                match self.output {
                    Output::Json => emit(&item.to_string()),
                    Output::Table => {
                        let columns = list.columns.get_or_insert_with(|| {
                            let columns = columns_of(&item);
                            print_row(&columns, columns.iter().map(|(name, _)| name.clone()).collect());
                            columns
                        });
                        print_row(columns, columns.iter().map(|(name, _)| cell(item.get(name))).collect());
                    }
                }
            }
            return;
        }
        match self.output {
            Output::Json => emit(&serde_json::to_string_pretty(&value).expect("a JSON value prints")),
            Output::Table => print_table(&value),
        }
    }
}

/// The columns of a table of items like `item`: its members, each as wide as its name or its
/// value here (at most 40 characters).
fn columns_of(item: &Value) -> Vec<(String, usize)> {
    match item {
        Value::Object(members) => members
            .iter()
            .map(|(name, value)| (name.clone(), name.len().max(cell(Some(value)).len()).min(40)))
            .collect(),
        _ => vec![("value".to_owned(), 40)],
    }
}

/// A value as one table cell: strings as they are, null as empty, the rest as compact JSON,
/// cut at 40 characters.
fn cell(value: Option<&Value>) -> String {
    let text = match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    };
    let text = text.replace(['\n', '\t'], " ");
    match text.char_indices().nth(39) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

fn print_row(columns: &[(String, usize)], cells: Vec<String>) {
    let line: Vec<String> = columns.iter().zip(cells).map(|((_, width), cell)| format!("{cell:<width$}")).collect();
    emit(line.join("  ").trim_end());
}

/// One answer as a table: an array or a page's `data` as rows, an object as name and value,
/// anything else as JSON.
fn print_table(value: &Value) {
    let rows = match value {
        Value::Array(items) => Some(items),
        Value::Object(members) => match members.get("data") {
            Some(Value::Array(items)) => Some(items),
            _ => None,
        },
        _ => None,
    };
    match value {
        _ if rows.is_some() => {
            let items = rows.expect("matched");
            let Some(first) = items.first() else {
                emit("(no items)");
                return;
            };
            let columns = columns_of(&flattened(first));
            print_row(&columns, columns.iter().map(|(name, _)| name.clone()).collect());
            for item in items {
                let item = flattened(item);
                print_row(&columns, columns.iter().map(|(name, _)| cell(item.get(name))).collect());
            }
        }
        Value::Object(members) => {
            // A one-resource envelope (`{"data": {…}}`) is shown by its resource.
            let members = match members.get("data") {
                Some(Value::Object(data)) => data,
                _ => members,
            };
            let width = members.keys().map(String::len).max().unwrap_or(0);
            for (name, value) in members {
                let text = match value {
                    Value::String(text) => text.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                emit(&format!("{name:<width$}  {text}"));
            }
        }
        other => emit(&serde_json::to_string_pretty(other).expect("a JSON value prints")),
    }
}

/// A line to standard output; a reader that went away (`squared … | head`) ends the program
/// quietly, as it does other command-line tools.
fn emit(line: &str) {
    use std::io::Write as _;
    if let Err(e) = writeln!(std::io::stdout().lock(), "{line}") {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        panic!("writing to standard output: {e}");
    }
}

/// A resource as a table row: a JSON:API-style resource (`id`, `type`, `attributes`) by its
/// id and attributes; anything else as it is.
fn flattened(item: &Value) -> Value {
    match (item.get("id"), item.get("attributes")) {
        (Some(id), Some(Value::Object(attributes))) => {
            let mut row = serde_json::Map::new();
            row.insert("id".to_owned(), id.clone());
            row.extend(attributes.iter().map(|(name, value)| (name.clone(), value.clone())));
            Value::Object(row)
        }
        _ => item.clone(),
    }
}

/// An error answer in one line, as the client's [`Failure`] reads it.
fn failure_line<T: serde::Serialize>(error: &Error<T>) -> String {
    let typed = match error {
        Error::ErrorResponse(answer) => serde_json::to_value(answer.as_ref())
            .ok()
            .and_then(|body| serde_json::from_value::<ErrorResponse>(body).ok())
            .map(|body| Error::ErrorResponse(ResponseValue::new(body, answer.status(), answer.headers().clone()))),
        _ => None,
    };
    match typed {
        Some(typed) => Failure::from(typed).to_string(),
        None => match error {
            Error::CommunicationError(cause) | Error::ResponseBodyError(cause) | Error::InvalidUpgrade(cause) => {
                format!("the request failed: {} ({cause})", squared_client::root_cause(cause))
            }
            Error::InvalidRequest(message) | Error::Custom(message) => format!("the request was not sent: {message}"),
            _ => match error.status() {
                Some(status) => format!("{status}: an answer the API does not describe"),
                None => "an answer the API does not describe".to_owned(),
            },
        },
    }
}

impl CliConfig for Printer {
    fn success_item<T>(&self, value: &ResponseValue<T>)
    where
        T: schemars::JsonSchema + serde::Serialize + std::fmt::Debug,
    {
        self.print_value(serde_json::to_value(value.as_ref()).expect("an answer is JSON"));
    }

    fn success_no_item(&self, _: &ResponseValue<()>) {}

    fn error<T>(&self, error: &Error<T>)
    where
        T: schemars::JsonSchema + serde::Serialize + std::fmt::Debug,
    {
        eprintln!("error: {}", failure_line(error));
    }

    // progenitor's own paging (dropshot's `page_token`): the API pages by number instead, which
    // `main` drives a page at a time; these are not called.
    fn list_start<T>(&self)
    where
        T: schemars::JsonSchema + serde::Serialize + std::fmt::Debug,
    {
    }

    fn list_item<T>(&self, value: &T)
    where
        T: schemars::JsonSchema + serde::Serialize + std::fmt::Debug,
    {
        self.print_value(serde_json::to_value(value).expect("an item is JSON"));
    }

    fn list_end_success<T>(&self)
    where
        T: schemars::JsonSchema + serde::Serialize + std::fmt::Debug,
    {
    }

    fn list_end_error<T>(&self, error: &Error<T>)
    where
        T: schemars::JsonSchema + serde::Serialize + std::fmt::Debug,
    {
        eprintln!("error: {}", failure_line(error));
    }
}
