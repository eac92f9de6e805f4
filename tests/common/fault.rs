//! A fault-injecting HTTP/1.1 server on 127.0.0.1, written on raw sockets so
//! it can misbehave at the connection level: answer any status, hang, answer
//! late, close mid-request, reset the connection, or refuse (a closed port).
//! It records every event id it accepted (the `eid` field of each NDJSON
//! line) and the ids of each accepted request, in order.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What to do with one request.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Answer this status (2xx counts the events as delivered).
    Status(u16),
    /// Answer 429 with this `Retry-After`.
    TooManyRequests(Option<&'static str>),
    /// Answer after a delay.
    Delay(Duration, u16),
    /// Read the headers, then never answer.
    Hang,
    /// Close the connection after reading half the body.
    CloseMidRequest,
    /// Reset the connection (RST) after reading the headers.
    Reset,
    /// 413 when the body is larger than this many bytes, else 201.
    TooLargeOver(usize),
}

type Plan = Box<dyn Fn(usize) -> Fault + Send + Sync>;

#[derive(Default)]
struct Record {
    /// Times each id was accepted.
    delivered: HashMap<String, usize>,
    /// The ids of each accepted request, in body order.
    batches: Vec<Vec<String>>,
    requests: usize,
    connections: usize,
}

struct State {
    plan: Mutex<Plan>,
    record: Mutex<Record>,
    changed: Condvar,
}

pub struct FaultServer {
    pub addr: SocketAddr,
    pub url: String,
    state: Arc<State>,
    _server: super::Loopback,
}

/// A URL where nothing listens (connections are refused).
pub fn closed_port_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

impl FaultServer {
    /// `plan(i)` decides what to do with the i-th request (from 0).
    pub fn start(plan: impl Fn(usize) -> Fault + Send + Sync + 'static) -> Self {
        let state = Arc::new(State {
            plan: Mutex::new(Box::new(plan)),
            record: Mutex::new(Record::default()),
            changed: Condvar::new(),
        });
        let st = state.clone();
        let server = super::Loopback::start(move |listener| async move {
            while let Ok((sock, _)) = listener.accept().await {
                st.record.lock().unwrap().connections += 1;
                tokio::spawn(serve(st.clone(), sock));
            }
        });
        FaultServer {
            addr: server.addr,
            url: server.url.clone(),
            state,
            _server: server,
        }
    }

    /// A script: the listed faults first, then `then` for every request.
    pub fn scripted(script: Vec<Fault>, then: Fault) -> Self {
        Self::start(move |i| script.get(i).cloned().unwrap_or_else(|| then.clone()))
    }

    /// Replaces the plan (e.g. the backend comes back after an outage).
    pub fn set_plan(&self, plan: impl Fn(usize) -> Fault + Send + Sync + 'static) {
        *self.state.plan.lock().unwrap() = Box::new(plan);
    }

    /// Each id accepted, with how many times.
    pub fn delivered(&self) -> HashMap<String, usize> {
        self.state.record.lock().unwrap().delivered.clone()
    }

    pub fn batches(&self) -> Vec<Vec<String>> {
        self.state.record.lock().unwrap().batches.clone()
    }

    pub fn requests(&self) -> usize {
        self.state.record.lock().unwrap().requests
    }

    /// Waits until `n` requests were seen, or `timeout`.
    pub fn wait_requests(&self, n: usize, timeout: Duration) -> bool {
        super::wait_until(&self.state.record, &self.state.changed, timeout, |r| {
            r.requests >= n
        })
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn serve(st: Arc<State>, mut sock: TcpStream) {
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        // Headers.
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 16 * 1024];
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let header = |name: &str| {
            head.lines().find_map(|l| {
                l.strip_prefix(&format!("{name}:"))
                    .map(|v| v.trim().to_owned())
            })
        };
        let len: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let encoding = header("content-encoding");
        let fault = {
            let mut r = st.record.lock().unwrap();
            let i = r.requests;
            r.requests += 1;
            st.changed.notify_all();
            drop(r);
            (st.plan.lock().unwrap())(i)
        };
        match fault {
            Fault::Hang => {
                std::future::pending::<()>().await;
            }
            Fault::Reset => {
                #[allow(deprecated)] // linger 0 resets at once; nothing blocks
                let _ = sock.set_linger(Some(Duration::ZERO));
                return;
            }
            Fault::CloseMidRequest => {
                let want = head_end + len / 2;
                while buf.len() < want {
                    let mut chunk = [0u8; 16 * 1024];
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                return;
            }
            _ => {}
        }
        // Body.
        while buf.len() < head_end + len {
            let mut chunk = [0u8; 64 * 1024];
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let raw: Vec<u8> = buf[head_end..head_end + len].to_vec();
        buf.drain(..head_end + len);
        let (status, extra) = match fault {
            Fault::Status(s) => (s, String::new()),
            Fault::TooManyRequests(Some(ra)) => (429, format!("retry-after: {ra}\r\n")),
            Fault::TooManyRequests(None) => (429, String::new()),
            Fault::Delay(d, s) => {
                tokio::time::sleep(d).await;
                (s, String::new())
            }
            Fault::TooLargeOver(max) => (if raw.len() > max { 413 } else { 201 }, String::new()),
            Fault::Hang | Fault::Reset | Fault::CloseMidRequest => unreachable!(),
        };
        // Record before answering: once the client has the answer, the
        // test may look.
        if (200..300).contains(&status) {
            let body = super::decode(encoding.as_deref(), &raw);
            let ids: Vec<String> = body
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let v: serde_json::Value =
                        serde_json::from_slice(l).expect("each line is JSON");
                    v.get("eid").map(|e| e.to_string()).unwrap_or_default()
                })
                .collect();
            let mut r = st.record.lock().unwrap();
            for id in &ids {
                *r.delivered.entry(id.clone()).or_default() += 1;
            }
            r.batches.push(ids);
            st.changed.notify_all();
        }
        let resp = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n{extra}\r\n");
        if sock.write_all(resp.as_bytes()).await.is_err() {
            return;
        }
    }
}
