//! Receivers of alerts on loopback, for the alert tests: a webhook receiver that records each
//! POST (headers and body) and answers statuses from a script, and an SMTP server that records
//! each message. Both are test peers that speak just enough of their protocol for the server's
//! clients (reqwest; lettre without TLS); every wait is on events, with a limit.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// One request a receiver got, and the status it answered.
#[derive(Clone, Debug)]
pub struct Received {
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    pub answered: u16,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct HookState {
    /// Statuses to answer, in order; 200 once they run out.
    script: VecDeque<u16>,
    received: Vec<Received>,
}

/// A webhook receiver; it stops when dropped.
pub struct HookReceiver {
    pub url: String,
    state: Arc<Mutex<HookState>>,
    changed: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl HookReceiver {
    /// A receiver on 127.0.0.1 that answers `script`'s statuses in order, then 200.
    pub async fn start(script: &[u16]) -> HookReceiver {
        Self::start_on("127.0.0.1", script).await
    }

    /// A receiver on `address` (a loopback address) that answers `script`'s statuses in order,
    /// then 200.
    pub async fn start_on(address: &str, script: &[u16]) -> HookReceiver {
        let listener = TcpListener::bind((address, 0)).await.unwrap();
        let url = format!("http://{}/alerts", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(HookState { script: script.iter().copied().collect(), received: Vec::new() }));
        let changed = Arc::new(Notify::new());
        let (shared, notify) = (state.clone(), changed.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (state, notify) = (shared.clone(), notify.clone());
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut read = BufReader::new(read);
                    while let Some((headers, body)) = read_request(&mut read).await {
                        let answered = {
                            let mut state = state.lock().unwrap();
                            let answered = state.script.pop_front().unwrap_or(200);
                            state.received.push(Received { headers, body, answered });
                            answered
                        };
                        notify.notify_waiters();
                        let answer = format!("HTTP/1.1 {answered} X\r\ncontent-length: 0\r\n\r\n");
                        if write.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        HookReceiver { url, state, changed, task }
    }

    /// From now on, answer `status` to every request.
    pub fn answer_always(&self, status: u16) {
        let mut state = self.state.lock().unwrap();
        state.script = std::iter::repeat_n(status, 10_000).collect();
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Waits until `count` requests answered 2xx have arrived, and returns every request.
    pub async fn wait_for_accepted(&self, count: usize, limit: Duration) -> Vec<Received> {
        self.wait_until(limit, |received| received.iter().filter(|r| r.answered < 300).count() >= count).await
    }

    /// Waits until `count` requests have arrived, whatever they were answered.
    pub async fn wait_for_requests(&self, count: usize, limit: Duration) -> Vec<Received> {
        self.wait_until(limit, |received| received.len() >= count).await
    }

    async fn wait_until(&self, limit: Duration, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let changed = self.changed.notified();
            {
                let state = self.state.lock().unwrap();
                if done(&state.received) {
                    return state.received.clone();
                }
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!("the receiver did not get what was awaited in {limit:?}: {:#?}", self.received());
            }
        }
    }
}

impl Drop for HookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn read_request<R: tokio::io::AsyncBufRead + Unpin>(read: &mut R) -> Option<(BTreeMap<String, String>, Vec<u8>)> {
    let mut line = String::new();
    if read.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut headers = BTreeMap::new();
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
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    let length: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    read.read_exact(&mut body).await.ok()?;
    Some((headers, body))
}

/// One message an SMTP peer got.
#[derive(Clone, Debug)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent after DATA (headers and body), dot-unstuffed.
    pub data: String,
}

/// A plain SMTP server (no TLS, no authentication): the `security: none` an operator uses
/// for a local relay.
pub struct SmtpPeer {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
    changed: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpPeer {
    pub async fn start() -> SmtpPeer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let changed = Arc::new(Notify::new());
        let (shared, notify) = (mails.clone(), changed.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (mails, notify) = (shared.clone(), notify.clone());
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut read = BufReader::new(read);
                    let _ = write.write_all(b"220 peer ESMTP\r\n").await;
                    let (mut from, mut to) = (String::new(), Vec::new());
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let command = line.trim_end().to_owned();
                        let upper = command.to_ascii_uppercase();
                        let answer: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                            b"250 peer\r\n"
                        } else if upper.starts_with("MAIL FROM:") {
                            from = command[10..].trim().trim_matches(['<', '>']).to_owned();
                            b"250 OK\r\n"
                        } else if upper.starts_with("RCPT TO:") {
                            to.push(command[8..].trim().trim_matches(['<', '>']).to_owned());
                            b"250 OK\r\n"
                        } else if upper == "DATA" {
                            let _ = write.write_all(b"354 go on\r\n").await;
                            let mut data = String::new();
                            loop {
                                line.clear();
                                if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                                    return;
                                }
                                if line == ".\r\n" {
                                    break;
                                }
                                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                            }
                            mails.lock().unwrap().push(Mail { from: from.clone(), to: std::mem::take(&mut to), data });
                            notify.notify_waiters();
                            b"250 queued\r\n"
                        } else if upper == "QUIT" {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        } else if upper == "RSET" || upper == "NOOP" {
                            b"250 OK\r\n"
                        } else {
                            b"502 not here\r\n"
                        };
                        if write.write_all(answer).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        SmtpPeer { port, mails, changed, task }
    }

    /// Waits until `count` messages have arrived, and returns them.
    pub async fn wait_for_mails(&self, count: usize, limit: Duration) -> Vec<Mail> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let changed = self.changed.notified();
            {
                let mails = self.mails.lock().unwrap();
                if mails.len() >= count {
                    return mails.clone();
                }
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!("the SMTP peer got {} of {count} messages in {limit:?}", self.mails.lock().unwrap().len());
            }
        }
    }
}

impl Drop for SmtpPeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
