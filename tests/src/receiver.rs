//! A webhook receiver on loopback for the engine's tests of Http destinations: it takes POSTs of
//! JSON arrays of records, answers each after a set delay, and remembers what it saw.
//!
//! - It counts requests in flight and the most there ever were at once, so a test can show that
//!   a run never sends two requests at the same time (fencing).
//! - Optionally it honours `Idempotency-Key` as Stripe-style APIs do: a key seen before is
//!   answered from its cache, and the rows of that request are not processed again.
//! - Every wait is on events: [`Receiver::wait_for_rows`] wakes on each processed request.
//!
//! It speaks just enough HTTP/1.1 for reqwest (keep-alive, `Content-Length` bodies); it is a
//! test peer, not a server. Shared by `squared-tests` and `squared-server`'s process tests.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use serde_json::value::RawValue;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;

#[derive(Default)]
struct State {
    in_flight: usize,
    most_in_flight: usize,
    requests: usize,
    /// Keys already answered, for a receiver that honours them.
    seen_keys: HashSet<String>,
    /// How many times each record was processed, by the value of its key field.
    processed: BTreeMap<String, usize>,
    /// Every record processed, as its JSON text (numbers with every digit sent).
    records: Vec<Box<RawValue>>,
}

/// A running receiver; it stops when dropped.
pub struct Receiver {
    pub url: String,
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

/// How a receiver behaves.
#[derive(Clone)]
pub struct Behaviour {
    /// How long it takes to answer each request.
    pub delay: Duration,
    /// Whether a repeated `Idempotency-Key` is answered from the cache, unprocessed.
    pub honour_idempotency: bool,
    /// The record field that names a record.
    pub key_field: String,
}

impl Receiver {
    pub async fn start(behaviour: Behaviour) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let changed = Arc::new(Notify::new());
        let (shared, notify) = (state.clone(), changed.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (state, notify, behaviour) = (shared.clone(), notify.clone(), behaviour.clone());
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut read = BufReader::new(read);
                    while let Some((key, body)) = read_request(&mut read).await {
                        {
                            let mut state = state.lock().unwrap();
                            state.in_flight += 1;
                            state.most_in_flight = state.most_in_flight.max(state.in_flight);
                        }
                        tokio::time::sleep(behaviour.delay).await;
                        {
                            let mut state = state.lock().unwrap();
                            state.in_flight -= 1;
                            state.requests += 1;
                            let cached = behaviour.honour_idempotency
                                && key.as_ref().is_some_and(|key| !state.seen_keys.insert(key.clone()));
                            if !cached {
                                for record in body {
                                    let parsed: Value = serde_json::from_str(record.get()).unwrap_or(Value::Null);
                                    let name = match &parsed[&behaviour.key_field] {
                                        Value::String(text) => text.clone(),
                                        other => other.to_string(),
                                    };
                                    *state.processed.entry(name).or_default() += 1;
                                    state.records.push(record);
                                }
                            }
                        }
                        notify.notify_waiters();
                        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
                        if write.write_all(answer).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Receiver { url, state, changed, task }
    }

    /// The most requests that were ever in flight at once.
    pub fn most_in_flight(&self) -> usize {
        self.state.lock().unwrap().most_in_flight
    }

    /// How many requests were answered.
    pub fn requests(&self) -> usize {
        self.state.lock().unwrap().requests
    }

    /// How many times each record was processed, by its key.
    pub fn processed(&self) -> BTreeMap<String, usize> {
        self.state.lock().unwrap().processed.clone()
    }

    /// Every record processed, in order, each field's value as the JSON text received.
    pub fn records(&self) -> Vec<BTreeMap<String, Box<RawValue>>> {
        let state = self.state.lock().unwrap();
        state.records.iter().map(|record| serde_json::from_str(record.get()).expect("a JSON object")).collect()
    }

    /// Waits until at least `rows` distinct records were processed, or `limit` passes.
    pub async fn wait_for_rows(&self, rows: usize, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let changed = self.changed.notified();
            if self.state.lock().unwrap().processed.len() >= rows {
                return;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!("the receiver got {} of {rows} rows in {limit:?}", self.state.lock().unwrap().processed.len());
            }
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One request: its `Idempotency-Key` and the records of its JSON array body; `None` when the
/// connection closed.
async fn read_request<R: tokio::io::AsyncBufRead + Unpin>(
    read: &mut R,
) -> Option<(Option<String>, Vec<Box<RawValue>>)> {
    let mut line = String::new();
    let (mut length, mut key) = (0usize, None);
    if read.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    loop {
        line.clear();
        if read.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "idempotency-key" => key = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    read.read_exact(&mut body).await.ok()?;
    Some((key, serde_json::from_slice(&body).unwrap_or_default()))
}
