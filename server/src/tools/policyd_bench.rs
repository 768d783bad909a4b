//! A load generator for the policy daemon: `carteiro policyd-bench`.
//! [`bench`] is the command: it measures the daemon at `--addr`, or one
//! of its own with synthetic blocks.
//!
//! Opens `connections` connections, each sending a typical Postfix RCPT
//! request (about 25 attributes; one in ten from a blocked client), waiting
//! for the answer and sending the next, for `duration`. Reports requests
//! per second and latency percentiles, measured per request from the first
//! byte sent to the end of the answer.

use crate::cli::args::PolicydBench;
use crate::config::Config;
use anyhow::{Context, Result, bail};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A Postfix 3.x `smtpd_access_policy` request at RCPT time.
pub fn request(client: &str, sasl_username: &str) -> String {
    format!(
        "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n\
         helo_name=mail.example.net\nqueue_id=\nsender=news@example.net\n\
         recipient=cliente@example.com.br\nrecipient_count=0\n\
         client_address={client}\nclient_name=mail.example.net\n\
         reverse_client_name=mail.example.net\ninstance=123.456.7.8\n\
         sasl_method=\nsasl_username={sasl_username}\nsasl_sender=\nsize=12345\n\
         ccert_subject=\nccert_issuer=\nccert_fingerprint=\nccert_pubkey_fingerprint=\n\
         encryption_protocol=TLSv1.3\nencryption_cipher=TLS_AES_256_GCM_SHA384\n\
         encryption_keysize=256\netrn_domain=\nstress=\nserver_address=192.0.2.1\n\
         server_port=25\npolicy_context=\ncompatibility_level=3.6\nmail_version=3.7.11\n\n"
    )
}

#[derive(Debug)]
pub struct Report {
    pub requests: u64,
    pub rejected: u64,
    pub seconds: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

impl Report {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds.max(1e-9)
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} requests in {:.1} s: {:.0} requests/s; latency p50 {} µs, p99 {} µs, max {} µs; {} rejected",
            self.requests,
            self.seconds,
            self.per_second(),
            self.p50_us,
            self.p99_us,
            self.max_us,
            self.rejected
        )
    }
}

/// Runs the load against `addr`. `blocked_client` is sent in one request
/// of ten (the others come from addresses under 203.0.113.0/24).
pub async fn run(
    addr: SocketAddr,
    connections: usize,
    duration: Duration,
    blocked_client: &str,
) -> Result<Report> {
    if connections == 0 {
        bail!("at least one connection is needed");
    }
    let started = Instant::now();
    let until = started + duration;
    let mut tasks = Vec::new();
    for c in 0..connections {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("cannot connect to the policy daemon at {addr}"))?;
        let blocked = request(blocked_client, "");
        let normal = request(&format!("203.0.113.{}", c % 250 + 1), "");
        tasks.push(tokio::spawn(client(stream, until, normal, blocked)));
    }
    let mut latencies = Vec::new();
    let mut rejected = 0;
    for t in tasks {
        let (lat, rej) = t.await.context("a load task failed")??;
        latencies.extend(lat);
        rejected += rej;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| -> u64 {
        if latencies.is_empty() {
            return 0;
        }
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        u64::from(latencies[i])
    };
    Ok(Report {
        requests: latencies.len() as u64,
        rejected,
        seconds,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        max_us: pct(1.0),
    })
}

/// One connection's loop: latencies in µs, and how many were rejected.
async fn client(
    stream: TcpStream,
    until: Instant,
    normal: String,
    blocked: String,
) -> Result<(Vec<u32>, u64)> {
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut line = String::new();
    let (mut latencies, mut rejected) = (Vec::with_capacity(1 << 16), 0);
    let mut n = 0u64;
    while Instant::now() < until {
        let req = if n % 10 == 9 { &blocked } else { &normal };
        n += 1;
        let sent = Instant::now();
        write.write_all(req.as_bytes()).await?;
        line.clear();
        if read.read_line(&mut line).await? == 0 {
            bail!("the policy daemon closed the connection");
        }
        if line.starts_with("action=REJECT") {
            rejected += 1;
        } else if !line.starts_with("action=") {
            bail!("not a policy answer: {line:?}");
        }
        let mut blank = String::new();
        read.read_line(&mut blank).await?;
        if blank != "\n" {
            bail!("the answer did not end with an empty line");
        }
        latencies.push(sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
    }
    Ok((latencies, rejected))
}

/// `carteiro policyd-bench`: see its `--help`.
pub async fn bench(cfg: &Config, args: PolicydBench) -> Result<()> {
    use crate::defence::{blocks, policyd};
    let addr = match args.addr {
        Some(addr) => addr,
        None => {
            // Synthetic blocks: 10.x.y.z addresses from 10.0.0.1 up.
            let list = (0..args.blocks)
                .map(|i| blocks::ActiveBlock {
                    id: i64::from(i) + 1,
                    subject: mailflow::SubjectKind::Ip,
                    target: std::net::Ipv4Addr::from(0x0a00_0001 + i).to_string(),
                })
                .collect();
            let shared = std::sync::Arc::new(blocks::Shared::new(blocks::Snapshot::new(list)));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            tokio::spawn(policyd::serve(
                listener,
                shared,
                policyd::Options {
                    max_connections: args.connections.max(cfg.defence.max_connections),
                    max_per_client: args.connections.max(cfg.defence.max_connections_per_client),
                    ..policyd::Options::from_config(&cfg.defence)
                },
            ));
            eprintln!(
                "policy daemon with {} blocks on {addr} (this process)",
                args.blocks
            );
            addr
        }
    };
    eprintln!(
        "{} connections for {} s against {addr} …",
        args.connections, args.seconds
    );
    let report = run(
        addr,
        args.connections,
        Duration::from_secs(args.seconds.max(1)),
        &args.blocked_client,
    )
    .await?;
    println!("{report}");
    Ok(())
}
