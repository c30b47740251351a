//! `cargo xtask bench sync`: our change-index sync against per-document
//! Automerge sync, side by side, over the same emulated link
//! (64 kbit/s, 300 ms RTT, 2% loss by default).
//!
//! (a) no-change check over 10,000 dossiers: bytes and round trips;
//! (b) 100 of 10,000 changed: bytes and seconds;
//! (c) first sync of 1,000 dossiers: goodput as a share of the link rate.
//!
//! Environment: XASO_BENCH_DOCS (10000), XASO_BENCH_CHANGED (100),
//! XASO_BENCH_INITIAL (1000), XASO_BENCH_KBIT (64), XASO_BENCH_RTT_MS (300),
//! XASO_BENCH_LOSS (0.02). The last stdout line is the JSON of figures.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use automerge::AutoCommit;
use automerge::sync::{Message, State, SyncDoc};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use xaso_hub::{Hub, HubConfig};
use xaso_sync_client::{self as client, CancellationToken, Progress, SyncClient};
use xaso_sync_core::{Partition, Role};
use xaso_sync_store::Store;
use xaso_sync_testkit::link::{Link, LinkConfig};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn link_bytes(link: &Link) -> u64 {
    link.stats().total_bytes()
}

// The benchmark convention: figures go to stdout as the last line.
#[allow(clippy::print_stdout)]
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let docs: u64 = env_or("XASO_BENCH_DOCS", 10_000);
    let changed: u64 = env_or("XASO_BENCH_CHANGED", 100);
    let initial: u64 = env_or("XASO_BENCH_INITIAL", 1_000);
    let kbit: u64 = env_or("XASO_BENCH_KBIT", 64);
    let rtt_ms: u64 = env_or("XASO_BENCH_RTT_MS", 300);
    let loss: f64 = env_or("XASO_BENCH_LOSS", 0.02);
    let slow = LinkConfig::slow(kbit * 1000, Duration::from_millis(rtt_ms), loss);
    let rate = slow.rate_bytes_per_s as f64;

    let dir = std::env::temp_dir().join(format!("xaso-bench-sync-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run(&dir, docs, changed, initial, slow, rate).await;
    let _ = std::fs::remove_dir_all(&dir);
    let figures = result?;
    println!("{figures}");
    Ok(())
}

async fn run(
    dir: &std::path::Path,
    docs: u64,
    changed: u64,
    initial: u64,
    slow: LinkConfig,
    rate: f64,
) -> Result<serde_json::Value> {
    let hub = Hub::open(HubConfig::new(dir.join("hub")))?;
    let (addr, _handle) = hub.clone().spawn("127.0.0.1:0".parse()?).await?;
    let url = |a: SocketAddr| format!("https://127.0.0.1:{}", a.port());
    let enrol = |communes: &'static [&'static str]| {
        let hub = hub.clone();
        async move {
            let code =
                hub.create_enrolment_code(Role::Officer, communes, Duration::from_secs(600))?;
            anyhow::Ok(client::enrol(&url(addr), hub.ca_pem(), &code).await?)
        }
    };
    let id_d = enrol(&["79001"]).await?;
    let id_o = enrol(&["79001"]).await?;
    let id_n = enrol(&["79002"]).await?;
    let commune = Partition::new("79001")?;
    let other = Partition::new("79002")?;
    eprintln!("loading {docs} + {initial} dossiers into the hub…");
    hub.with_store(|s| -> Result<()> {
        s.put_batch(
            &commune,
            (0..docs).map(|r| (format!("HS-{r:06}"), xaso_sync_testkit::sample::dossier(r))),
        )?;
        s.put_batch(
            &other,
            (0..initial).map(|r| {
                (
                    format!("HS-{r:06}"),
                    xaso_sync_testkit::sample::dossier(100_000 + r),
                )
            }),
        )?;
        Ok(())
    })??;

    // Device D: a real encrypted store, first filled over an unshaped link.
    xaso_sync_store::ensure_key_file(&dir.join("d.key"))?;
    let mut store_d = Store::open(&dir.join("d.db"), &dir.join("d.key"))?;
    let fast = Link::start(addr, LinkConfig::unlimited()).await?;
    SyncClient::new(&url(fast.addr()), &id_d)?
        .sync_once(
            &mut store_d,
            &Progress::default(),
            &CancellationToken::new(),
        )
        .await?;
    let mut store_o = Store::open_in_memory()?;
    SyncClient::new(&url(fast.addr()), &id_o)?
        .sync_once(
            &mut store_o,
            &Progress::default(),
            &CancellationToken::new(),
        )
        .await?;
    anyhow::ensure!(
        store_d.list(&commune)?.len() as u64 == docs,
        "device D holds every dossier"
    );

    // Baseline set-up: the same documents, with per-document sync states
    // established in memory (as after an earlier full sync), then persisted.
    eprintln!("baseline: establishing {docs} per-document sync states…");
    let ids = store_d.list(&commune)?;
    let mut client_docs = Vec::with_capacity(ids.len());
    let mut server_docs = Vec::with_capacity(ids.len());
    for id in &ids {
        let mut c = AutoCommit::load(&store_d.document_bytes(&commune, id)?.context("doc")?)?;
        let hub_bytes = hub
            .with_store(|s| s.document_bytes(&commune, id))??
            .context("hub doc")?;
        let mut s = AutoCommit::load(&hub_bytes)?;
        let (mut cs, mut ss) = (State::new(), State::new());
        sync_in_memory(&mut c, &mut cs, &mut s, &mut ss)?;
        client_docs.push((c, State::decode(&cs.encode())?));
        server_docs.push((s, State::decode(&ss.encode())?));
    }
    let baseline_server = BaselineServer::start(server_docs).await?;

    // (a) No change.
    eprintln!("(a) no-change check over {docs} dossiers…");
    let link_a = Link::start(addr, slow.clone()).await?;
    let client_d = SyncClient::new(&url(link_a.addr()), &id_d)?;
    let start = Instant::now();
    let cold = client_d
        .sync_once(
            &mut store_d,
            &Progress::default(),
            &CancellationToken::new(),
        )
        .await?;
    let nochange_cold_s = start.elapsed().as_secs_f64();
    let nochange_cold_bytes = link_bytes(&link_a);
    let before = link_bytes(&link_a);
    let start = Instant::now();
    let warm = client_d
        .sync_once(
            &mut store_d,
            &Progress::default(),
            &CancellationToken::new(),
        )
        .await?;
    let nochange_s = start.elapsed().as_secs_f64();
    let nochange_bytes = link_bytes(&link_a) - before;
    anyhow::ensure!(warm.changes_received == 0 && cold.changes_received == 0);

    let link_ba = Link::start(baseline_server.addr, slow.clone()).await?;
    let start = Instant::now();
    let base_a = baseline_sync(link_ba.addr(), &mut client_docs).await?;
    let baseline_nochange_s = start.elapsed().as_secs_f64();
    let baseline_nochange_bytes = link_bytes(&link_ba);

    // (b) 100 changed of 10,000 (by officer O, already on the hub).
    eprintln!("(b) {changed} changed of {docs}…");
    for r in 0..changed {
        let id = format!("HS-{:06}", r * (docs / changed.max(1)).max(1));
        let mut doc = store_o.get_json(&commune, &id)?.context("doc")?;
        doc["status"] = json!("accepted");
        doc["fields"]["notes"] = json!(format!("Đã tiếp nhận hồ sơ {id}."));
        store_o.put(&commune, &id, &doc)?;
        let bytes = store_o.document_bytes(&commune, &id)?.context("doc")?;
        let index = ids.binary_search(&id).map_err(|_| anyhow::anyhow!("id"))?;
        baseline_server.replace(index, &bytes)?;
    }
    SyncClient::new(&url(fast.addr()), &id_o)?
        .sync_once(
            &mut store_o,
            &Progress::default(),
            &CancellationToken::new(),
        )
        .await?;
    let before = link_bytes(&link_a);
    let start = Instant::now();
    let inc = client_d
        .sync_once(
            &mut store_d,
            &Progress::default(),
            &CancellationToken::new(),
        )
        .await?;
    let incremental_s = start.elapsed().as_secs_f64();
    let incremental_bytes = link_bytes(&link_a) - before;
    anyhow::ensure!(
        inc.changes_received == changed,
        "received {} changes",
        inc.changes_received
    );

    let before = link_bytes(&link_ba);
    let start = Instant::now();
    let base_b = baseline_sync(link_ba.addr(), &mut client_docs).await?;
    let baseline_incremental_s = start.elapsed().as_secs_f64();
    let baseline_incremental_bytes = link_bytes(&link_ba) - before;
    for (r, (doc, _)) in client_docs.iter().enumerate().step_by(97) {
        let ours = store_d.get_json(&commune, &ids[r])?;
        let theirs = serde_json::to_value(automerge::AutoSerde::from(doc))?;
        anyhow::ensure!(
            ours.as_ref() == Some(&theirs),
            "baseline and ours agree on {}: {ours:?} vs {theirs}",
            ids[r]
        );
    }

    // (c) First sync of 1,000 dossiers on a fresh device.
    eprintln!("(c) first sync of {initial} dossiers…");
    let link_c = Link::start(addr, slow.clone()).await?;
    xaso_sync_store::ensure_key_file(&dir.join("n.key"))?;
    let mut store_n = Store::open(&dir.join("n.db"), &dir.join("n.key"))?;
    let client_n = SyncClient::new(&url(link_c.addr()), &id_n)?;
    let start = Instant::now();
    let mut errors = 0u64;
    let first = loop {
        match client_n
            .sync_once(
                &mut store_n,
                &Progress::default(),
                &CancellationToken::new(),
            )
            .await
        {
            Ok(report) => break report,
            Err(e) => {
                errors += 1;
                eprintln!("initial sync error: {e}");
                anyhow::ensure!(errors < 5, "too many errors");
            }
        }
    };
    let initial_s = start.elapsed().as_secs_f64();
    anyhow::ensure!(store_n.list(&other)?.len() as u64 == initial);
    let down = link_c.stats().bytes_down.load(Ordering::Relaxed) as f64;
    let raw_doc_bytes: u64 = hub.with_store(|s| -> Result<u64> {
        let mut total = 0;
        for id in s.list(&other)? {
            total += s.document_bytes(&other, &id)?.map_or(0, |d| d.len() as u64);
        }
        Ok(total)
    })??;

    Ok(json!({
        "docs": docs,
        "link_kbit": rate * 8.0 / 1000.0,
        "nochange_bytes": nochange_bytes,
        "nochange_round_trips": warm.rounds,
        "nochange_s": nochange_s,
        "nochange_cold_bytes": nochange_cold_bytes,
        "nochange_cold_s": nochange_cold_s,
        "baseline_nochange_bytes": baseline_nochange_bytes,
        "baseline_nochange_round_trips": base_a,
        "baseline_nochange_s": baseline_nochange_s,
        "changed": changed,
        "incremental_bytes": incremental_bytes,
        "incremental_s": incremental_s,
        "incremental_round_trips": inc.rounds,
        "baseline_incremental_bytes": baseline_incremental_bytes,
        "baseline_incremental_s": baseline_incremental_s,
        "baseline_incremental_round_trips": base_b,
        "initial_docs": initial,
        "initial_s": initial_s,
        "initial_body_bytes": first.bytes_received + first.bytes_sent,
        "initial_link_bytes_down": down,
        "initial_goodput_ratio": first.bytes_received as f64 / initial_s / rate,
        "initial_link_utilisation": down / initial_s / rate,
        // Derived, not measured directly: connection set-up time taken as the
        // cold minus warm no-change time of (a) (TCP + TLS 1.3 handshakes).
        "initial_goodput_ratio_after_connect": first.bytes_received as f64
            / (initial_s - (nochange_cold_s - nochange_s)).max(0.001)
            / rate,
        "initial_doc_bytes_per_s": raw_doc_bytes as f64 / initial_s,
        "initial_connections": link_c.stats().connections.load(Ordering::Relaxed),
        "initial_errors": errors,
        "initial_rounds": first.rounds,
        "loss_stalls": link_a.stats().stalls.load(Ordering::Relaxed) + link_ba.stats().stalls.load(Ordering::Relaxed) + link_c.stats().stalls.load(Ordering::Relaxed),
    }))
}

/// Run Automerge's sync protocol between two in-memory documents until quiet.
fn sync_in_memory(
    a: &mut AutoCommit,
    sa: &mut State,
    b: &mut AutoCommit,
    sb: &mut State,
) -> Result<()> {
    for _ in 0..20 {
        let m1 = a.sync().generate_sync_message(sa);
        if let Some(m) = &m1 {
            b.sync()
                .receive_sync_message(sb, Message::decode(&m.clone().encode())?)?;
        }
        let m2 = b.sync().generate_sync_message(sb);
        if let Some(m) = &m2 {
            a.sync()
                .receive_sync_message(sa, Message::decode(&m.clone().encode())?)?;
        }
        if m1.is_none() && m2.is_none() {
            return Ok(());
        }
    }
    anyhow::bail!("in-memory sync did not settle")
}

const END: u32 = u32::MAX;

/// The baseline hub: per-document Automerge sync over plain TCP (no TLS, no
/// HTTP — which favours the baseline). Frames: u32 document index, u32
/// length, Automerge sync message; index u32::MAX ends a batch.
struct BaselineServer {
    addr: SocketAddr,
    docs: Arc<std::sync::Mutex<Vec<(AutoCommit, State)>>>,
}

impl BaselineServer {
    async fn start(docs: Vec<(AutoCommit, State)>) -> Result<BaselineServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let docs = Arc::new(std::sync::Mutex::new(docs));
        let shared = docs.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let docs = shared.clone();
                tokio::spawn(async move {
                    if let Err(e) = serve_baseline(stream, docs).await {
                        eprintln!("baseline server: {e}");
                    }
                });
            }
        });
        Ok(BaselineServer { addr, docs })
    }

    fn replace(&self, index: usize, bytes: &[u8]) -> Result<()> {
        let mut docs = self.docs.lock().map_err(|_| anyhow::anyhow!("lock"))?;
        let (doc, _) = docs.get_mut(index).context("index")?;
        doc.load_incremental(bytes)?;
        Ok(())
    }
}

async fn read_frame(stream: &mut (impl AsyncReadExt + Unpin)) -> Result<Option<(u32, Vec<u8>)>> {
    let mut header = [0u8; 8];
    if stream.read_exact(&mut header).await.is_err() {
        return Ok(None);
    }
    let index = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await?;
    Ok(Some((index, body)))
}

fn frame(index: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + body.len());
    out.extend_from_slice(&index.to_be_bytes());
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

async fn serve_baseline(
    stream: TcpStream,
    docs: Arc<std::sync::Mutex<Vec<(AutoCommit, State)>>>,
) -> Result<()> {
    stream.set_nodelay(true)?;
    // A new connection is a new sync session: keep only what a peer persists.
    {
        let mut docs = docs.lock().map_err(|_| anyhow::anyhow!("lock"))?;
        for (_, state) in docs.iter_mut() {
            *state = State::decode(&state.encode())?;
        }
    }
    let (read, mut write) = stream.into_split();
    let mut read = tokio::io::BufReader::with_capacity(64 * 1024, read);
    let mut out = Vec::new();
    while let Some((index, body)) = read_frame(&mut read).await? {
        if index == END {
            out.extend_from_slice(&frame(END, &[]));
            write.write_all(&out).await?;
            out.clear();
            continue;
        }
        let reply = {
            let mut docs = docs.lock().map_err(|_| anyhow::anyhow!("lock"))?;
            let (doc, state) = docs.get_mut(index as usize).context("index")?;
            doc.sync()
                .receive_sync_message(state, Message::decode(&body)?)?;
            doc.sync().generate_sync_message(state).map(|m| m.encode())
        };
        if let Some(reply) = reply {
            out.extend_from_slice(&frame(index, &reply));
            if out.len() >= 16 * 1024 {
                write.write_all(&out).await?;
                out.clear();
            }
        }
    }
    Ok(())
}

/// The baseline client: pipelined rounds over all documents until quiet.
/// Returns the number of round trips.
async fn baseline_sync(addr: SocketAddr, docs: &mut [(AutoCommit, State)]) -> Result<u32> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut read = tokio::io::BufReader::with_capacity(64 * 1024, read);
    for (_, state) in docs.iter_mut() {
        *state = State::decode(&state.encode())?;
    }
    let mut active: Vec<usize> = (0..docs.len()).collect();
    let mut rounds = 0;
    loop {
        let mut batch = Vec::new();
        for &i in &active {
            let (doc, state) = &mut docs[i];
            if let Some(message) = doc.sync().generate_sync_message(state) {
                batch.extend_from_slice(&frame(i as u32, &message.encode()));
            }
        }
        if batch.is_empty() {
            return Ok(rounds);
        }
        rounds += 1;
        batch.extend_from_slice(&frame(END, &[]));
        let writer = tokio::spawn(async move {
            write.write_all(&batch).await?;
            anyhow::Ok(write)
        });
        let mut next = Vec::new();
        loop {
            let (index, body) = read_frame(&mut read)
                .await?
                .context("baseline connection closed")?;
            if index == END {
                break;
            }
            let (doc, state) = docs.get_mut(index as usize).context("index")?;
            doc.sync()
                .receive_sync_message(state, Message::decode(&body)?)?;
            next.push(index as usize);
        }
        write = writer.await??;
        active = next;
    }
}
