//! `cargo xtask bench officer`: the officer's tablet.
//!
//! (a) A tablet store (encrypted, on disk) holding `--tablet` dossiers
//!     (100,000 by default; varied Vietnamese names, procedures of the
//!     bundled catalog, states by age, dates over a year, in 20 kiosk
//!     partitions). The queue index is built from the store's change feed
//!     (`index_build_s`), then the first queue screen — 50 rows and the
//!     counters — is timed over several runs (`queue_ms` = p50,
//!     `queue_p95_ms`), and 200 realistic searches (folded name prefixes,
//!     full names, ID number fragments, tracking codes, shown or in part)
//!     (`search_p50_ms`, `search_p95_ms`).
//! (b) The first sync of an officer tablet onto a hub holding a commune of
//!     `--dossiers` dossiers (20,000 by default, over 20 kiosk partitions),
//!     through the link emulator (64 kbit/s, 300 ms RTT, 2 % loss by
//!     default): `officer_first_sync_s`, `officer_first_sync_bytes` (all
//!     bytes the link carried), `reconnects` (must be 0). Before the link
//!     run, the exact sync bytes are computed in memory (the same protocol
//!     and frames, no network) and broken down: Automerge changes, saved
//!     documents, frames after zstd.
//!
//! Options: `--tablet N`, `--dossiers N`, `--kbit K`, `--rtt-ms MS`,
//! `--loss P`, `--skip-tablet`, `--skip-sync`. The last stdout line is the
//! JSON of figures.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use jiff::civil::{Date, date};
use jiff::{Span, Timestamp};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;
use xaso_hub::{Hub, HubConfig};
use xaso_queue::{QueueFilter, QueueIndex};
use xaso_services::calendar::{Holidays, vietnam_date};
use xaso_services::catalog::{Catalog, FieldKind, Procedure, Submitter};
use xaso_services::dossier::{
    Action, Actor, Applicant, AttachmentRef, Channel, Consent, Dossier, Role,
};
use xaso_services::tracking::{CommuneCode, TrackingCode};
use xaso_sync_client::{self as client, CancellationToken, Progress, SyncClient};
use xaso_sync_core::Partition;
use xaso_sync_core::frame::encode_frame;
use xaso_sync_core::protocol::{ClientSession, KIND_REPLY, KIND_REQUEST, answer};
use xaso_sync_store::Store;
use xaso_sync_testkit::link::{Link, LinkConfig};

#[derive(Parser, Debug)]
#[command(about = "Benchmark of the officer's tablet: queue, search, first sync")]
struct Args {
    /// Dossiers on the tablet for the queue and search figures.
    #[arg(long, default_value_t = 100_000)]
    tablet: u32,
    /// Dossiers of the commune on the hub for the first sync.
    #[arg(long, default_value_t = 20_000)]
    dossiers: u32,
    /// Link rate, kbit/s each way.
    #[arg(long, default_value_t = 64)]
    kbit: u64,
    /// Link round-trip time.
    #[arg(long, default_value_t = 300)]
    rtt_ms: u64,
    /// Segment loss probability.
    #[arg(long, default_value_t = 0.02)]
    loss: f64,
    /// Skip (a).
    #[arg(long)]
    skip_tablet: bool,
    /// Skip (b).
    #[arg(long)]
    skip_sync: bool,
}

const COMMUNE: &str = "79001";
const KIOSKS: u32 = 20;
/// "Today" of the benchmark: the data spans the year before it.
const TODAY: Date = date(2026, 12, 1);

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
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
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("xaso-bench-officer-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run(&dir, &args).await;
    let _ = std::fs::remove_dir_all(&dir);
    println!("{}", serde_json::Value::Object(result?));
    Ok(())
}

async fn run(
    dir: &std::path::Path,
    args: &Args,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let catalog = Catalog::bundled()?;
    let mut figures = serde_json::Map::new();
    if !args.skip_tablet {
        tablet(dir, args, &catalog, &mut figures)?;
    }
    if !args.skip_sync {
        first_sync(dir, args, &catalog, &mut figures).await?;
    }
    Ok(figures)
}

/// (a) Queue and search on a tablet store of `args.tablet` dossiers.
fn tablet(
    dir: &std::path::Path,
    args: &Args,
    catalog: &Catalog,
    figures: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let key = dir.join("tablet.key");
    xaso_sync_store::ensure_key_file(&key)?;
    let mut store = Store::open(&dir.join("tablet.db"), &key)?;
    store.set_cache_mib(64)?;
    let mut generator = Generator::new(catalog, 1);
    eprintln!(
        "(a) writing {} dossiers into the tablet store…",
        args.tablet
    );
    let start = Instant::now();
    let mut samples = Samples::default();
    fill(&mut store, &mut generator, args.tablet, Some(&mut samples))?;
    let generate_s = start.elapsed().as_secs_f64();
    eprintln!("    {generate_s:.1} s");

    eprintln!("(a) building the queue index…");
    let mut index = QueueIndex::open_for_device(&dir.join("queue.db"), &key)?;
    let start = Instant::now();
    let built = index.catch_up(&store, catalog, Holidays::bundled())?;
    let index_build_s = start.elapsed().as_secs_f64();
    anyhow::ensure!(
        built.indexed == u64::from(args.tablet),
        "indexed {} of {}",
        built.indexed,
        args.tablet
    );
    eprintln!("    {index_build_s:.1} s");
    drop(index);
    // Timed from a freshly opened index (as after starting the app).
    let index = QueueIndex::open_for_device(&dir.join("queue.db"), &key)?;

    let mut queue = Vec::new();
    let mut first_rows = 0;
    let mut counts = None;
    for _ in 0..30 {
        let start = Instant::now();
        let page = index.page(&QueueFilter::default(), TODAY, 0, 50)?;
        let c = index.counts(TODAY)?;
        queue.push(start.elapsed().as_secs_f64() * 1000.0);
        first_rows = page.len();
        counts = Some(c);
    }
    let counts = counts.context("counts")?;
    anyhow::ensure!(first_rows == 50, "a first page of 50 rows");
    queue.sort_by(f64::total_cmp);

    let queries = samples.queries(200);
    let mut search = Vec::new();
    let mut found = 0usize;
    let mut empty = 0usize;
    for query in &queries {
        let start = Instant::now();
        let rows = index.search(query, 50)?;
        search.push(start.elapsed().as_secs_f64() * 1000.0);
        found += rows.len();
        empty += usize::from(rows.is_empty());
    }
    search.sort_by(f64::total_cmp);
    let index_bytes = std::fs::metadata(dir.join("queue.db"))?.len();
    let store_bytes = std::fs::metadata(dir.join("tablet.db"))?.len();

    for (k, v) in [
        ("tablet_dossiers", json!(args.tablet)),
        ("tablet_generate_s", json!(generate_s)),
        ("index_build_s", json!(index_build_s)),
        ("index_bytes", json!(index_bytes)),
        ("tablet_store_bytes", json!(store_bytes)),
        ("queue_ms", json!(percentile(&queue, 50.0))),
        ("queue_p95_ms", json!(percentile(&queue, 95.0))),
        ("queue_open", json!(counts.open)),
        ("queue_overdue", json!(counts.overdue)),
        ("queue_due_today", json!(counts.due_today)),
        ("queue_conflicts", json!(counts.conflicts)),
        ("search_queries", json!(queries.len())),
        ("search_p50_ms", json!(percentile(&search, 50.0))),
        ("search_p95_ms", json!(percentile(&search, 95.0))),
        (
            "search_max_ms",
            json!(search.last().copied().unwrap_or(0.0)),
        ),
        (
            "search_rows_mean",
            json!(found as f64 / queries.len().max(1) as f64),
        ),
        ("search_without_result", json!(empty)),
    ] {
        figures.insert(k.to_owned(), v);
    }
    Ok(())
}

/// (b) First sync of an officer tablet onto a commune of `args.dossiers`.
async fn first_sync(
    dir: &std::path::Path,
    args: &Args,
    catalog: &Catalog,
    figures: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let hub = Hub::open(HubConfig::new(dir.join("hub")))?;
    let (addr, _handle) = hub.clone().spawn("127.0.0.1:0".parse()?).await?;
    let url = |port: u16| format!("https://127.0.0.1:{port}");
    let code = hub.create_enrolment_code(
        xaso_sync_core::Role::Officer,
        &[COMMUNE],
        Duration::from_secs(600),
    )?;
    let identity = client::enrol(&url(addr.port()), hub.ca_pem(), &code).await?;

    eprintln!(
        "(b) loading a commune of {} dossiers into the hub…",
        args.dossiers
    );
    let mut generator = Generator::new(catalog, 2);
    hub.with_store(|s| fill(s, &mut generator, args.dossiers, None))??;

    // Where the bytes go, computed in memory with the same protocol and frames.
    let breakdown = hub.with_store(bytes_breakdown)??;
    let rate = (args.kbit * 1000 / 8) as f64;
    eprintln!(
        "    sync bodies {} B ({:.0} B per dossier; changes {} B raw, saved documents {} B): about {:.0} s at {} kbit/s",
        breakdown.frame_bytes,
        breakdown.frame_bytes as f64 / f64::from(args.dossiers.max(1)),
        breakdown.change_bytes,
        breakdown.document_bytes,
        breakdown.frame_bytes as f64 / rate,
        args.kbit
    );

    let slow = LinkConfig::slow(
        args.kbit * 1000,
        Duration::from_millis(args.rtt_ms),
        args.loss,
    );
    let link = Link::start(addr, slow).await?;
    let key = dir.join("officer.key");
    xaso_sync_store::ensure_key_file(&key)?;
    let mut store = Store::open(&dir.join("officer.db"), &key)?;
    let client = SyncClient::new(&url(link.addr().port()), &identity)?;
    let progress = Progress::default();
    let watch = progress.clone();
    let reporter = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            let s = watch.snapshot();
            eprintln!(
                "    … {} B received, {} changes, {} left, {:.0} B/s, eta {:?} s",
                s.bytes_received,
                s.changes_received,
                s.changes_remaining,
                s.rate_bytes_per_s,
                s.eta_s.map(|e| e.round())
            );
        }
    });
    eprintln!("(b) first sync of the officer tablet…");
    let start = Instant::now();
    let mut errors = 0u64;
    let report = loop {
        match client
            .sync_once(&mut store, &progress, &CancellationToken::new())
            .await
        {
            Ok(report) => break report,
            Err(e) => {
                errors += 1;
                eprintln!("    sync error: {e}");
                anyhow::ensure!(errors < 5, "too many errors");
            }
        }
    };
    let sync_s = start.elapsed().as_secs_f64();
    reporter.abort();
    let mut held = 0u64;
    for partition in store.partitions_under(COMMUNE)? {
        held += store
            .list(&partition)?
            .iter()
            .filter(|id| id.starts_with(xaso_queue::DOSSIER_PREFIX))
            .count() as u64;
    }
    anyhow::ensure!(
        held == u64::from(args.dossiers),
        "the tablet holds {held} of {} dossiers",
        args.dossiers
    );
    let connections = link.stats().connections.load(Ordering::Relaxed);
    let link_bytes = link.stats().total_bytes();

    // The queue of the freshly synced tablet.
    let start = Instant::now();
    let mut index = QueueIndex::open_for_device(&dir.join("officer-queue.db"), &key)?;
    let built = index.catch_up(&store, catalog, Holidays::bundled())?;
    let officer_index_s = start.elapsed().as_secs_f64();
    anyhow::ensure!(built.indexed == u64::from(args.dossiers));

    for (k, v) in [
        ("officer_dossiers", json!(args.dossiers)),
        ("link_kbit", json!(args.kbit)),
        ("link_rtt_ms", json!(args.rtt_ms)),
        ("link_loss", json!(args.loss)),
        ("officer_first_sync_s", json!(sync_s)),
        ("officer_first_sync_bytes", json!(link_bytes)),
        (
            "officer_first_sync_body_bytes",
            json!(report.bytes_received + report.bytes_sent),
        ),
        ("officer_first_sync_rounds", json!(report.rounds)),
        ("officer_first_sync_changes", json!(report.changes_received)),
        (
            "officer_first_sync_link_utilisation",
            json!(link.stats().bytes_down.load(Ordering::Relaxed) as f64 / sync_s / rate),
        ),
        ("officer_index_build_s", json!(officer_index_s)),
        ("reconnects", json!(connections.saturating_sub(1) + errors)),
        ("sync_errors", json!(errors)),
        (
            "loss_stalls",
            json!(link.stats().stalls.load(Ordering::Relaxed)),
        ),
        (
            "bytes_per_dossier_frames",
            json!(breakdown.frame_bytes as f64 / f64::from(args.dossiers.max(1))),
        ),
        (
            "bytes_per_dossier_changes",
            json!(breakdown.change_bytes as f64 / f64::from(args.dossiers.max(1))),
        ),
        (
            "bytes_per_dossier_documents",
            json!(breakdown.document_bytes as f64 / f64::from(args.dossiers.max(1))),
        ),
        (
            "bytes_per_dossier_json",
            json!(breakdown.json_bytes as f64 / f64::from(args.dossiers.max(1))),
        ),
        (
            "changes_per_dossier",
            json!(breakdown.changes as f64 / f64::from(args.dossiers.max(1))),
        ),
    ] {
        figures.insert(k.to_owned(), v);
    }
    Ok(())
}

/// What a first sync of the whole commune carries, computed in memory.
struct Breakdown {
    /// Sync reply and request frames (postcard, zstd) — the HTTP bodies.
    frame_bytes: u64,
    /// Automerge changes, raw.
    change_bytes: u64,
    /// Number of changes.
    changes: u64,
    /// Saved documents (`save_nocompress`), for comparison.
    document_bytes: u64,
    /// The dossiers as JSON, for comparison.
    json_bytes: u64,
}

fn bytes_breakdown(hub: &mut Store) -> Result<Breakdown> {
    let mut fresh = Store::open_in_memory()?;
    let wanted = hub.partitions_under(COMMUNE)?;
    let mut session = ClientSession::new("hub", wanted.iter().cloned());
    let mut frame_bytes = 0u64;
    let mut change_bytes = 0u64;
    let mut changes = 0u64;
    while let Some(request) = session.poll_request(&fresh)? {
        frame_bytes += encode_frame(KIND_REQUEST, &request)?.len() as u64;
        let reply = answer(
            hub,
            &request,
            |_| true,
            xaso_sync_core::protocol::DEFAULT_PAGE_BYTES,
        )?;
        for a in &reply.answers {
            if let xaso_sync_core::protocol::AnswerBody::Changes { entries, .. } = &a.body {
                changes += entries.len() as u64;
                change_bytes += entries.iter().map(|e| e.change.len() as u64).sum::<u64>();
            }
        }
        frame_bytes += encode_frame(KIND_REPLY, &reply)?.len() as u64;
        session.handle_reply(&mut fresh, reply)?;
    }
    let mut document_bytes = 0u64;
    let mut json_bytes = 0u64;
    for partition in &wanted {
        for id in hub.list(partition)? {
            document_bytes += hub
                .document_bytes(partition, &id)?
                .map_or(0, |d| d.len() as u64);
            if let Some(value) = hub.get_json(partition, &id)? {
                json_bytes += serde_json::to_vec(&value)?.len() as u64;
            }
        }
    }
    Ok(Breakdown {
        frame_bytes,
        change_bytes,
        changes,
        document_bytes,
        json_bytes,
    })
}

/// Write `count` dossiers over the commune's kiosk partitions, one
/// transaction per thousand.
fn fill(
    store: &mut Store,
    generator: &mut Generator<'_>,
    count: u32,
    mut samples: Option<&mut Samples>,
) -> Result<()> {
    let per_kiosk = count.div_ceil(KIOSKS);
    for kiosk in 0..KIOSKS {
        let partition = Partition::submissions(COMMUNE, &format!("kiosk-{:02}", kiosk + 1))?;
        let first = kiosk * per_kiosk;
        let last = ((kiosk + 1) * per_kiosk).min(count);
        let mut n = first;
        while n < last {
            let end = (n + 1000).min(last);
            let batch: Vec<(String, Dossier)> = (n..end)
                .map(|i| generator.dossier(kiosk, i - first, per_kiosk))
                .collect::<Result<_>>()?;
            if let Some(samples) = samples.as_deref_mut() {
                for (_, d) in batch.iter().step_by(50) {
                    samples.add(d);
                }
            }
            store.put_batch(&partition, batch)?;
            n = end;
        }
    }
    Ok(())
}

const SURNAMES: &[(&str, u32)] = &[
    ("Nguyễn", 38),
    ("Trần", 11),
    ("Lê", 9),
    ("Phạm", 7),
    ("Hoàng", 4),
    ("Huỳnh", 4),
    ("Phan", 4),
    ("Vũ", 3),
    ("Võ", 3),
    ("Đặng", 2),
    ("Bùi", 2),
    ("Đỗ", 2),
    ("Hồ", 2),
    ("Ngô", 2),
    ("Dương", 1),
    ("Lý", 1),
    ("Đinh", 1),
    ("Trương", 1),
    ("Lâm", 1),
    ("Mai", 1),
];
const MIDDLE_MALE: &[&str] = &[
    "Văn", "Hữu", "Đức", "Minh", "Quốc", "Thành", "Công", "Xuân", "Hoàng", "Thanh", "Gia", "Anh",
];
const MIDDLE_FEMALE: &[&str] = &[
    "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Minh", "Bích", "Phương", "Hồng", "Mỹ", "Khánh", "Thùy",
];
const GIVEN_MALE: &[&str] = &[
    "An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy", "Khang", "Khoa",
    "Kiên", "Long", "Lộc", "Minh", "Nam", "Nghĩa", "Phát", "Phúc", "Quân", "Quang", "Sơn", "Tài",
    "Thắng", "Thịnh", "Toàn", "Trí", "Trung", "Tuấn", "Việt", "Vinh", "Vũ",
];
const GIVEN_FEMALE: &[&str] = &[
    "Anh", "Châu", "Chi", "Diệp", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Huyền",
    "Lan", "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Nhung", "Oanh", "Phương", "Quyên", "Tâm",
    "Thảo", "Thủy", "Trang", "Trinh", "Tuyết", "Uyên", "Vân", "Vy", "Yến",
];
const STREETS: &[&str] = &[
    "Lê Lợi",
    "Trần Hưng Đạo",
    "Nguyễn Huệ",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Phan Đình Phùng",
    "Quang Trung",
    "Võ Thị Sáu",
    "Điện Biên Phủ",
    "Cách Mạng Tháng Tám",
];
const HAMLETS: &[&str] = &[
    "Ấp Bình Minh",
    "Ấp Tân Hòa",
    "Khu phố 3",
    "Khu phố 5",
    "Thôn Đông",
    "Thôn Tây",
    "Tổ 12",
];

/// Dossiers as kiosks make them: a deterministic stream.
struct Generator<'a> {
    rng: StdRng,
    procedures: Vec<&'a Procedure>,
    surnames: Vec<&'static str>,
}

impl<'a> Generator<'a> {
    fn new(catalog: &'a Catalog, seed: u64) -> Generator<'a> {
        let surnames = SURNAMES
            .iter()
            .flat_map(|(name, weight)| std::iter::repeat_n(*name, *weight as usize))
            .collect();
        Generator {
            rng: StdRng::seed_from_u64(seed),
            procedures: catalog.procedures().collect(),
            surnames,
        }
    }

    fn name(&mut self) -> (String, bool) {
        let female = self.rng.random_bool(0.5);
        let pick = |rng: &mut StdRng, list: &[&'static str]| -> &'static str {
            list.choose(rng).copied().unwrap_or("An")
        };
        let surname = pick(&mut self.rng, &self.surnames);
        let (middle, given) = if female {
            (MIDDLE_FEMALE, GIVEN_FEMALE)
        } else {
            (MIDDLE_MALE, GIVEN_MALE)
        };
        let middle = pick(&mut self.rng, middle);
        let given = pick(&mut self.rng, given);
        (format!("{surname} {middle} {given}"), female)
    }

    fn id_number(&mut self, female: bool) -> String {
        let province = ["079", "001", "036", "038", "040", "052", "064", "089"]
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("079");
        let year = self.rng.random_range(1950..2006u32);
        let century = if year >= 2000 { 2 } else { 0 } + u32::from(female);
        format!(
            "{province}{century}{:02}{:06}",
            year % 100,
            self.rng.random_range(0..1_000_000u32)
        )
    }

    fn value(&mut self, kind: FieldKind, id: &str, choices: &[String]) -> String {
        match kind {
            FieldKind::Text if id.contains("name") => self.name().0,
            FieldKind::Text => [
                "Kinh",
                "Bệnh viện Đa khoa tỉnh",
                "Việt Nam",
                "Nông dân",
                "Công nhân",
            ]
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("Kinh")
            .to_owned(),
            FieldKind::IdNumber => {
                let female = self.rng.random_bool(0.5);
                self.id_number(female)
            }
            FieldKind::Date => format!(
                "{}-{:02}-{:02}",
                self.rng.random_range(1950..2026),
                self.rng.random_range(1..=12),
                self.rng.random_range(1..=28)
            ),
            FieldKind::Choice | FieldKind::Sex => choices
                .choose(&mut self.rng)
                .cloned()
                .unwrap_or_else(|| "male".to_owned()),
            FieldKind::Address => format!(
                "Số {} đường {}, {}, xã Tân Phú",
                self.rng.random_range(1..400),
                STREETS.choose(&mut self.rng).copied().unwrap_or("Lê Lợi"),
                HAMLETS.choose(&mut self.rng).copied().unwrap_or("Tổ 12")
            ),
            FieldKind::Phone => format!("09{:08}", self.rng.random_range(0..100_000_000u32)),
            FieldKind::Number => self.rng.random_range(1..5).to_string(),
            FieldKind::Email => format!("nguoidan{}@example.vn", self.rng.random_range(1..99_999)),
            FieldKind::Boolean => "true".to_owned(),
        }
    }

    /// Dossier `i` of kiosk `kiosk` (of `per_kiosk`, spread over the year
    /// before [`TODAY`]).
    fn dossier(&mut self, kiosk: u32, i: u32, per_kiosk: u32) -> Result<(String, Dossier)> {
        let procedure = *self
            .procedures
            .choose(&mut self.rng)
            .context("procedures")?;
        let days_ago = i64::from(365 - (i * 365 / per_kiosk.max(1)).min(364));
        let day = TODAY.checked_sub(Span::new().days(days_ago))?;
        let minutes = self.rng.random_range(7 * 60..17 * 60);
        let submitted = xaso_services::calendar::vietnam_time_zone()
            .to_timestamp(day.at(0, 0, 0, 0))?
            .checked_add(Span::new().minutes(minutes))?;
        let (full_name, female) = self.name();
        let id_number = self.id_number(female);
        let device = format!("kiosk-{:02}", kiosk + 1);
        let mut d = Dossier::new(
            format!(
                "{:016x}{:016x}",
                self.rng.random::<u64>(),
                self.rng.random::<u64>()
            ),
            procedure.code.clone(),
            Applicant {
                id_number,
                full_name,
                submitter: Submitter::Oneself,
                card_verified: self.rng.random_bool(0.9),
            },
            if self.rng.random_bool(0.8) {
                Channel::Kiosk
            } else {
                Channel::Helper
            },
            submitted,
        );
        for field in &procedure.fields {
            let choices: Vec<String> = field.choices.iter().map(|c| c.value.clone()).collect();
            let value = self.value(field.kind, &field.id, &choices);
            d.values.insert(field.id.clone(), value);
        }
        for paper in procedure.papers.iter().filter(|p| p.min > 0) {
            let mut hash = [0u8; 32];
            self.rng.fill(&mut hash);
            d.attachments.push(AttachmentRef {
                paper: paper.id.clone(),
                sha256: hex(&hash),
                media_type: "image/jpeg".to_owned(),
                bytes: self.rng.random_range(120_000..420_000),
            });
        }
        d.tracking_code = Some(TrackingCode::new(
            CommuneCode::new(COMMUNE)?,
            vietnam_date(submitted),
            u16::try_from(kiosk + 1)?,
            u16::try_from(i)?,
        )?);
        d.consent = Some(Consent {
            given_at: submitted,
            text_version: "consent.v1".to_owned(),
            reuse_for_later: self.rng.random_bool(0.6),
            assisted_by: None,
            fetch_earlier_results: false,
        });
        let resident = Actor::on_device(Role::Resident, device.clone(), device);
        d.apply(Action::Submit, resident.clone(), None, submitted)?;
        // How far it got: older dossiers are mostly finished.
        let steps: u32 = if days_ago > 45 {
            if self.rng.random_bool(0.9) {
                9
            } else {
                self.rng.random_range(1..9)
            }
        } else {
            self.rng.random_range(0..=9)
        };
        let officer = Actor::on_device(Role::Officer, "officer:79001:1", "tablet-1");
        let mut at = submitted;
        let mut next = |rng: &mut StdRng| -> Result<Timestamp> {
            at = at.checked_add(Span::new().hours(rng.random_range(2..40)))?;
            Ok(at)
        };
        if steps > 0 && self.rng.random_bool(0.02) {
            let t = next(&mut self.rng)?;
            d.apply(Action::Withdraw, resident, Some("không cần nữa"), t)?;
        } else {
            let supplement = self.rng.random_bool(0.1);
            let approve = self.rng.random_bool(0.92);
            let mut path = vec![(Action::Receive, None), (Action::StartProcessing, None)];
            if supplement {
                path.push((
                    Action::RequestSupplement,
                    Some("bổ sung bản sao giấy khai sinh"),
                ));
                path.push((Action::Supplement, None));
                path.push((Action::Resume, None));
            }
            if approve {
                path.push((Action::Approve, None));
                path.push((Action::MarkResultReady, None));
            } else {
                path.push((Action::Reject, Some("không đủ điều kiện")));
            }
            path.push((Action::ReturnResult, None));
            for (action, reason) in path.into_iter().take(steps as usize) {
                let t = next(&mut self.rng)?;
                let actor = if action == Action::Supplement {
                    Actor::on_device(Role::Resident, "kiosk", "kiosk")
                } else {
                    officer.clone()
                };
                d.apply(action, actor, reason, t)?;
            }
        }
        let id = format!("dossier-{}", d.tracking_code.as_ref().context("code")?);
        Ok((id, d))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Names, ID numbers and codes of some dossiers, to search for.
#[derive(Default)]
struct Samples {
    names: Vec<String>,
    id_numbers: Vec<String>,
    codes: Vec<TrackingCode>,
}

impl Samples {
    fn add(&mut self, d: &Dossier) {
        self.names.push(d.applicant.full_name.clone());
        self.id_numbers.push(d.applicant.id_number.clone());
        if let Some(code) = &d.tracking_code {
            self.codes.push(code.clone());
        }
    }

    /// `n` queries as an officer types them: a fifth each of surname and
    /// middle-name prefixes, whole names without accents, the given name
    /// and surname, six digits of an ID number, a tracking code (shown, or
    /// its last eight characters).
    fn queries(&self, n: usize) -> Vec<String> {
        let mut rng = StdRng::seed_from_u64(7);
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let name = self.names.choose(&mut rng).cloned().unwrap_or_default();
            let words: Vec<&str> = name.split(' ').collect();
            let query = match i % 5 {
                0 => {
                    // "nguyen van h"
                    let given: String = words.get(2).map_or(String::new(), |w| {
                        xaso_i18n::fold(w).chars().take(1).collect()
                    });
                    xaso_i18n::fold(&format!(
                        "{} {} {given}",
                        words.first().unwrap_or(&""),
                        words.get(1).unwrap_or(&"")
                    ))
                }
                1 => xaso_i18n::fold(&name),
                2 => format!(
                    "{} {}",
                    words.first().unwrap_or(&""),
                    words.last().unwrap_or(&"")
                ),
                3 => {
                    let id = self
                        .id_numbers
                        .choose(&mut rng)
                        .cloned()
                        .unwrap_or_default();
                    let from = rng.random_range(0..=id.len().saturating_sub(6));
                    id.get(from..from + 6).unwrap_or(&id).to_owned()
                }
                _ => {
                    let code = self.codes.choose(&mut rng).context("codes");
                    match code {
                        Ok(code) if rng.random_bool(0.5) => code.to_string(),
                        Ok(code) => {
                            let c = code.compact();
                            c[c.len() - 8..].to_owned()
                        }
                        Err(_) => String::new(),
                    }
                }
            };
            out.push(query);
        }
        out
    }
}
