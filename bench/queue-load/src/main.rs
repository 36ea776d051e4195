//! Load generator for the annotator queue: N annotators each loop on
//! `GET /projects/{id}/next` and `POST /tasks/{id}/annotations` until the
//! queue is empty or the time is up, and the latencies of both calls are
//! reported. Run by `bench/queue.sh`; it is a benchmark, not a test.
//!
//! The client speaks plain HTTP/1.1 with keep-alive over one connection per
//! annotator and parses only what it needs, so that on a small machine the
//! load generator takes as little CPU from the server as possible.
//!
//! Usage: gloss-queue-load ADDR PROJECT TOKENS_FILE SECONDS [RATE]
//!   ADDR        127.0.0.1:PORT of a running `gloss serve`
//!   TOKENS_FILE one API token per line, one annotator each
//!   RATE        calls per second for all annotators together (open loop:
//!               each call starts on schedule, see `start_call`; the line
//!               "late" says how long after their slots calls were sent);
//!               without it every annotator calls as fast as answers come

use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const RESULT: &str = r#"{"result":[{"id":"c1","from_name":"class","to_name":"image","type":"choices","value":{"choices":["Cat"]}}],"lead_time":1.5}"#;

struct Connection {
    stream: BufReader<TcpStream>,
    addr: String,
    token: String,
}

impl Connection {
    async fn open(addr: &str, token: &str) -> std::io::Result<Connection> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream: BufReader::new(stream),
            addr: addr.to_string(),
            token: token.to_string(),
        })
    }

    /// Sends one request and returns the status and body.
    async fn call(
        &mut self,
        method: &str,
        path: &str,
        body: &str,
    ) -> std::io::Result<(u16, String)> {
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            self.token,
            body.len()
        );
        self.stream.get_mut().write_all(request.as_bytes()).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let mut length = 0;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

#[derive(Default)]
struct Latencies {
    next: Vec<Duration>,
    submit: Vec<Duration>,
    /// Open loop: how long after its slot each call was sent.
    late: Vec<Duration>,
    errors: Vec<String>,
}

/// When a call starts, and from when its latency counts. Open loop (with a
/// slot): it waits for the call's slot. When the previous call was still
/// running at the slot (the server fell behind), latency counts from the
/// slot; otherwise from the moment the call is sent, because the timer wakes
/// up to 1 ms after the slot (tokio's timer counts whole milliseconds),
/// which is the load generator's doing, not the server's. How late the
/// calls went out is recorded in `late` and reported on a line of its own.
async fn start_call(slot: Option<Instant>, late: &mut Vec<Duration>) -> Instant {
    let Some(slot) = slot else {
        return Instant::now();
    };
    let free_at_slot = Instant::now() <= slot;
    tokio::time::sleep_until(slot.into()).await;
    let sent = Instant::now();
    late.push(sent - slot);
    if free_at_slot {
        sent
    } else {
        slot
    }
}

async fn annotator(
    addr: String,
    project: i64,
    token: String,
    deadline: Instant,
    interval: Option<Duration>,
    offset: Duration,
) -> Latencies {
    let mut latencies = Latencies::default();
    let mut connection = match Connection::open(&addr, &token).await {
        Ok(connection) => connection,
        Err(err) => {
            latencies.errors.push(format!("connect: {err}"));
            return latencies;
        }
    };
    let next_path = format!("/api/v1/projects/{project}/next");
    // Annotators start out of step (spread evenly over one interval), as
    // people do: calls then arrive at the offered rate, not as 64 at once.
    let mut scheduled = Instant::now() + offset;
    let mut slot = || {
        interval.map(|interval| {
            scheduled += interval;
            scheduled
        })
    };
    while Instant::now() < deadline {
        let start = start_call(slot(), &mut latencies.late).await;
        let task = match connection.call("GET", &next_path, "").await {
            Ok((200, body)) => {
                latencies.next.push(start.elapsed());
                let value: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                value["task"]["id"].as_i64().unwrap_or(0)
            }
            Ok((204, _)) => {
                latencies.next.push(start.elapsed());
                break;
            }
            Ok((status, body)) => {
                latencies.errors.push(format!("next: {status} {body}"));
                break;
            }
            Err(err) => {
                latencies.errors.push(format!("next: {err}"));
                break;
            }
        };
        let start = start_call(slot(), &mut latencies.late).await;
        match connection
            .call("POST", &format!("/api/v1/tasks/{task}/annotations"), RESULT)
            .await
        {
            Ok((201, _)) => latencies.submit.push(start.elapsed()),
            Ok((status, body)) => {
                latencies.errors.push(format!("submit: {status} {body}"));
                break;
            }
            Err(err) => {
                latencies.errors.push(format!("submit: {err}"));
                break;
            }
        }
    }
    latencies
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}

fn describe(name: &str, mut latencies: Vec<Duration>) {
    latencies.sort();
    println!(
        "{name:<7} {:>8} calls  p50 {:>6.2} ms  p90 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms",
        latencies.len(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.90),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: gloss-queue-load ADDR PROJECT TOKENS_FILE SECONDS [RATE]");
        std::process::exit(2);
    }
    let addr = args[1].clone();
    let project: i64 = args[2].parse().expect("PROJECT is a number");
    let tokens: Vec<String> = std::fs::read_to_string(&args[3])
        .expect("reading TOKENS_FILE")
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.trim().to_string())
        .collect();
    let seconds: f64 = args[4].parse().expect("SECONDS is a number");
    let rate: Option<f64> = args
        .get(5)
        .map(|rate| rate.parse().expect("RATE is a number"));
    // Each annotator makes rate / annotators calls per second.
    let interval = rate.map(|rate| Duration::from_secs_f64(tokens.len() as f64 / rate));
    let annotators = tokens.len();
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let workers: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, token)| {
            // Open loop: each annotator's first call comes i/annotators of an interval later.
            let offset = interval.map_or(Duration::ZERO, |interval| {
                interval.mul_f64(i as f64 / annotators as f64)
            });
            tokio::spawn(annotator(
                addr.clone(),
                project,
                token,
                deadline,
                interval,
                offset,
            ))
        })
        .collect();
    let mut all = Latencies::default();
    for worker in workers {
        let latencies = worker.await.expect("an annotator panicked");
        all.next.extend(latencies.next);
        all.submit.extend(latencies.submit);
        all.late.extend(latencies.late);
        all.errors.extend(latencies.errors);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let calls = all.next.len() + all.submit.len();
    println!(
        "{annotators} annotators, {elapsed:.2} s, {calls} calls: {:.0} calls/s ({})",
        calls as f64 / elapsed,
        match rate {
            Some(rate) => format!("open loop at {rate:.0} calls/s offered"),
            None => "closed loop".to_string(),
        }
    );
    describe("next", all.next);
    describe("submit", all.submit);
    if rate.is_some() {
        describe("late", all.late);
    }
    if !all.errors.is_empty() {
        println!("{} errors; the first: {}", all.errors.len(), all.errors[0]);
        std::process::exit(1);
    }
}
