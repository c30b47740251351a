//! `xaso-kiosk`: the resident's touch kiosk. `xaso-kiosk --help` lists the options.
//!
//! ```text
//! xaso-kiosk [--store DIR] [--commune CODE] [--device N] [--papers DIR] [--qr-images DIR]
//!            [--camera DEV|none] [--printer DEV] [--receipts DIR]   run on the display
//! xaso-kiosk --demo [--headless] [--screenshots DIR]  demo: synthetic residents and papers;
//!                                                      headless runs the scripted journey
//! xaso-kiosk --screenshots DIR                         render every screen to PNG and exit
//! xaso-kiosk --officer-screenshots DIR                 the officer tablet's screens on a
//!                                                       sample commune, at 1280×800 and 1920×1200
//!
//! A device enrolled as an officer's tablet (role `officer` in its hub identity) opens the
//! officer's window instead of the resident's; with `--trust-list FILE` (the province's keys,
//! TOML) it checks learners' certificates offline.
//! xaso-kiosk [--demo] --card pcsc [--reader NAME] [--mrz DOCNO,DOB,EXPIRY | --identity FILE]
//!            [--csca FILE]                              read cards through pcscd (without a
//!                                                       key: scan the card's QR code first)
//! ```

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use xaso_idcard::testpki::TestPki;
use xaso_idcard::{AccessKey, TrustStore};
use xaso_kiosk::card_reader::CardReader;
use xaso_kiosk::chipcard::{
    PcscCardReader, SoftCardReader, identity_key, mrz_key_from_arg, pcsc_reader_available,
};
use xaso_kiosk::clock::{Clock, ManualClock, SystemClock};
use xaso_kiosk::demo::{write_sample_card_qr, write_sample_papers};
use xaso_kiosk::link;
use xaso_kiosk::officer::link::OfficerLink;
use xaso_kiosk::officer::shell::OfficerParts;
use xaso_kiosk::officer::signing::SigningSetup;
use xaso_kiosk::qr_pictures::{QrPictureDirectory, QrPictures};
use xaso_kiosk::setup::{KioskConfig, build};
use xaso_kiosk::shell::ReceiptOutput;
use xaso_kiosk::tour::DEMO_RESIDENT;
use xaso_kiosk::tour::{Camera, Headless, scripted_journey};
use xaso_kiosk::ui::{AppWindow, OfficerWindow};
use xaso_kiosk_core::IdlePolicy;
use xaso_kiosk_core::signin::PinPolicy;
use xaso_sync_client::Identity;
use xaso_training::certificate::TrustList;

/// The resident's touch kiosk of Xã Số.
///
/// Without a display, `--demo` runs the scripted resident's journey headless and
/// `--screenshots DIR` renders every screen to PNG.
#[derive(Parser)]
#[command(name = "xaso-kiosk")]
struct Args {
    /// Demo mode: synthetic residents on the software card, sample papers.
    #[arg(long)]
    demo: bool,
    /// With --demo: run the scripted journey without a window.
    #[arg(long)]
    headless: bool,
    /// Render every screen to DIR/{portrait,landscape}/NN-*.png (and exit, without --demo).
    #[arg(long, value_name = "DIR")]
    screenshots: Option<PathBuf>,
    /// Render the officer tablet's screens on a sample commune to DIR/<size>/NN-*.png and exit.
    #[arg(long, value_name = "DIR")]
    officer_screenshots: Option<PathBuf>,
    /// The commune's name on result documents (officer tablets).
    #[arg(long, value_name = "NAME", default_value = "Xã Tân Thới Nhì")]
    commune_name: String,
    /// The officer's title under the signature on result documents.
    #[arg(
        long,
        value_name = "TITLE",
        default_value = "CÔNG CHỨC TƯ PHÁP - HỘ TỊCH"
    )]
    officer_title: String,
    /// Directory of the record store and local files (default: a fresh temporary directory).
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// The commune's code (default: the hub identity's first commune, else 09904).
    #[arg(long, value_name = "CODE")]
    commune: Option<String>,
    /// The device number in tracking codes, for a kiosk without a hub (0–1023).
    #[arg(long, value_name = "N")]
    device: Option<u16>,
    /// Image files offered by "choose an image file".
    #[arg(long, value_name = "DIR")]
    papers: Option<PathBuf>,
    /// Where pictures of a QR code arrive (the newest is read): a card's at the kiosk, a
    /// certificate's on an officer tablet (default there: `<store>/qr`).
    #[arg(long, value_name = "DIR")]
    qr_images: Option<PathBuf>,
    /// The V4L2 document camera, or `none` (default: the first capture device).
    #[arg(long, value_name = "DEV|none")]
    camera: Option<String>,
    /// ESC/POS receipt printer device or file.
    #[arg(long, value_name = "DEV")]
    printer: Option<PathBuf>,
    /// Directory for saved receipts, PNG and PDF.
    #[arg(long, value_name = "DIR")]
    receipts: Option<PathBuf>,
    /// The commune hub to sync with.
    #[arg(long, value_name = "URL")]
    hub: Option<String>,
    /// The hub's CA certificate, for the first enrolment.
    #[arg(long, value_name = "PEM")]
    hub_ca: Option<PathBuf>,
    /// One-time enrolment code shown on the hub.
    #[arg(long, value_name = "CODE")]
    enrol: Option<String>,
    /// Where cards are read.
    #[arg(long, value_enum, default_value_t = CardChoice::Auto)]
    card: CardChoice,
    /// The PC/SC reader to use (default: any).
    #[arg(long, value_name = "NAME")]
    reader: Option<String>,
    /// The chip's access key: document number or 12-digit ID number, date of birth, expiry
    /// (dates YYYY-MM-DD).
    #[arg(long, value_name = "DOCNO,DOB,EXPIRY")]
    mrz: Option<String>,
    /// The chip's access key from an idcard identity TOML file or built-in name.
    #[arg(long, value_name = "FILE|NAME")]
    identity: Option<String>,
    /// CSCA certificates passive authentication trusts (master list, PEM or DER).
    #[arg(long, value_name = "FILE")]
    csca: Option<PathBuf>,
    /// The lessons' configuration: the province's keys for lesson packs and the
    /// certificate key of this device (see `lessons::config`).
    #[arg(long, value_name = "FILE")]
    lessons: Option<PathBuf>,
    /// A lesson pack to install (kept only when it is newer and signed by the province).
    #[arg(long, value_name = "FILE", requires = "lessons")]
    install_pack: Option<PathBuf>,
    /// Officer tablets: the province's trust list (TOML) learners' certificates are checked
    /// against, offline. Without it the tablet cannot check certificates.
    #[arg(long, value_name = "FILE")]
    trust_list: Option<PathBuf>,
}

/// `--card`: where the kiosk reads cards.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CardChoice {
    /// PC/SC when pcscd lists a reader, except with --demo and no --mrz/--identity (the
    /// resident picker stays); otherwise the software card.
    Auto,
    /// idcard's software card in this process.
    Software,
    /// A PC/SC reader through pcscd.
    Pcsc,
}

fn has_display() -> bool {
    std::env::var_os("DISPLAY").is_some_and(|v| !v.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|v| !v.is_empty())
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "xaso_kiosk=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut args = Args::parse();
    if let Some(dir) = args.officer_screenshots.clone() {
        return officer_tour(&args, &dir);
    }
    let tour_only = args.screenshots.is_some() && !args.demo;
    if args.demo && !args.headless && !has_display() {
        let mut err = std::io::stderr().lock();
        writeln!(
            err,
            "No display here (neither DISPLAY nor WAYLAND_DISPLAY is set): running the demo \
             headless — a scripted resident session through the real kiosk logic."
        )?;
        args.headless = true;
    }
    if tour_only || args.headless {
        if args.card == CardChoice::Pcsc {
            bail!(
                "--card pcsc needs the touch app on a display; the headless demo and the \
                 screenshot tour use the software card"
            );
        }
        return run_headless(args);
    }
    if !has_display() {
        bail!(
            "no display: neither DISPLAY nor WAYLAND_DISPLAY is set. Use --demo --headless or \
             --screenshots DIR to run without one."
        );
    }
    run_windowed(args)
}

fn work_dir(args: &Args) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("xaso-kiosk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if args.papers.is_none() {
        write_sample_papers(&dir.join("papers")).context("cannot write the sample papers")?;
    }
    if args.demo && args.qr_images.is_none() {
        write_sample_card_qr(&dir.join("qr"), DEMO_RESIDENT)
            .context("cannot write the demo card's QR picture")?;
    }
    Ok(dir)
}

fn store_dir(args: &Args, dir: &std::path::Path) -> PathBuf {
    args.store.clone().unwrap_or_else(|| dir.join("store"))
}

/// The hub identity: saved from an earlier enrolment, or enrolled now with `--enrol`.
fn hub_identity(args: &Args, dir: &std::path::Path) -> anyhow::Result<Option<Identity>> {
    let Some(hub) = &args.hub else {
        return Ok(None);
    };
    let store = store_dir(args, dir);
    let path = link::identity_path(&store);
    if path.exists() {
        return Ok(Some(
            Identity::load(&path).context("cannot read the hub identity")?,
        ));
    }
    let (Some(ca), Some(code)) = (&args.hub_ca, &args.enrol) else {
        bail!("--hub needs --hub-ca PEM and --enrol CODE the first time (enrolment)");
    };
    let ca =
        std::fs::read_to_string(ca).with_context(|| format!("cannot read {}", ca.display()))?;
    let identity = link::enrol(&store, hub, &ca, code).context("enrolment with the hub failed")?;
    Ok(Some(identity))
}

/// The device number in tracking codes: the one the hub gave at enrolment; `--device`
/// only for a kiosk without a hub (or enrolled before hubs gave numbers).
fn device_number(args: &Args, identity: Option<&Identity>) -> u16 {
    match (identity.and_then(|i| i.device_number), args.device) {
        (Some(given), Some(asked)) if given != asked => {
            tracing::warn!(
                given,
                asked,
                "--device ignored: the hub gave this kiosk its number"
            );
            given
        }
        (Some(given), _) => given,
        (None, asked) => asked.unwrap_or(1),
    }
}

fn config(
    args: &Args,
    dir: &std::path::Path,
    identity: Option<&Identity>,
) -> anyhow::Result<KioskConfig> {
    let lessons = match &args.lessons {
        Some(path) => {
            xaso_kiosk::lessons::config::load(path, args.install_pack.clone(), &args.commune_name)?
        }
        None => xaso_kiosk::lessons::LessonsConfig::default(),
    };
    Ok(KioskConfig {
        store: Some(store_dir(args, dir)),
        device_id: identity.map_or_else(
            || format!("kiosk-{}", args.device.unwrap_or(1)),
            |i| i.device_id.clone(),
        ),
        commune: args
            .commune
            .clone()
            .or_else(|| identity.and_then(|i| i.communes.first().cloned()))
            .unwrap_or_else(|| "09904".into()),
        device: device_number(args, identity),
        papers_dir: args.papers.clone().unwrap_or_else(|| dir.join("papers")),
        qr_images: Some(args.qr_images.clone().unwrap_or_else(|| dir.join("qr"))),
        camera: None,
        receipt: ReceiptOutput {
            printer: args.printer.clone(),
            save_dir: Some(args.receipts.clone().unwrap_or_else(|| dir.to_owned())),
        },
        idle: IdlePolicy::default(),
        speech: true,
        hub: args.hub.clone().zip(identity.cloned()),
        helper: identity
            .is_some_and(|i| i.role == xaso_sync_core::Role::Helper)
            .then(PinPolicy::default),
        lessons,
    })
}

fn run_headless(args: Args) -> anyhow::Result<()> {
    let dir = work_dir(&args)?;
    let headless = Headless::install().context("cannot set up the headless renderer")?;
    let ui = AppWindow::new().context("cannot create the kiosk window")?;
    // The tour uses a fixed date so its pictures do not change from day to day.
    let tour_clock = ManualClock::new("2026-11-23T02:30:00Z".parse().context("tour date")?);
    let clock: Box<dyn Clock> = if args.demo {
        Box::new(SystemClock)
    } else {
        Box::new(tour_clock.clone())
    };
    let identity = hub_identity(&args, &dir)?;
    let mut cfg = config(&args, &dir, identity.as_ref())?;
    cfg.speech = false;
    tracing::info!("card source: in-process software card (scripted journey)");
    let app = build(ui, cfg, clock, Box::new(SoftCardReader::new()?))?;
    headless.render(1080, 1920);
    let mut camera = Camera {
        headless: &headless,
        dir: args.screenshots.clone(),
        count: 0,
        written: Vec::new(),
    };
    let code = scripted_journey(&app, &mut camera, (!args.demo).then_some(&tour_clock))
        .context("cannot write a screenshot")?;
    let mut out = std::io::stdout().lock();
    if let Some(d) = &args.screenshots {
        writeln!(
            out,
            "Screenshot tour: {} PNG files in {}",
            camera.written.len(),
            xaso_kiosk::tour::describe(d)
        )?;
    }
    if code.is_empty() {
        bail!("the scripted journey did not reach the receipt");
    }
    let parsed = xaso_services::TrackingCode::parse(&code)
        .context("the receipt shows an invalid tracking code")?;
    let dossier = app
        .with_store(|s| s.dossier_by_code(&parsed))?
        .context("the dossier is not in the store")?;
    writeln!(
        out,
        "Dossier stored in {} (partition {}):",
        store_dir(&args, &dir).display(),
        app.with_store(|s| s.partition().to_string())
    )?;
    writeln!(out, "{}", serde_json::to_string_pretty(&dossier)?)?;
    let ratings = app.with_store(|s| s.ratings())?;
    writeln!(out, "Ratings stored: {}", ratings.len())?;
    match (&args.hub, &identity) {
        (Some(hub), Some(identity)) => {
            let (report, pages) = app
                .with_store_mut(|s| link::sync_once(s.records_mut(), hub, identity))
                .context("sync with the hub failed (the dossier stays stored here)")?;
            writeln!(
                out,
                "Synced with the hub {hub}: {} changes sent, {} received; {} page images uploaded ({} bytes)",
                report.changes_sent, report.changes_received, pages.uploaded, pages.bytes_sent
            )?;
        }
        _ => writeln!(
            out,
            "No hub configured: the dossier waits in the local store for a link."
        )?,
    }
    let (png, pdf) = app.last_receipts();
    if let Some(png) = png {
        writeln!(out, "Receipt saved as {}", png.display())?;
    }
    if let Some(pdf) = pdf {
        writeln!(out, "Receipt PDF saved as {}", pdf.display())?;
    }
    writeln!(out, "Tracking code: {code}")?;
    Ok(())
}

/// The officer's parts: the store in `store`, the hub link if enrolled.
fn officer_parts(
    args: &Args,
    store: PathBuf,
    commune: String,
    device_id: String,
    link: OfficerLink,
    signing: Option<SigningSetup>,
    card: Box<dyn CardReader>,
) -> anyhow::Result<OfficerParts> {
    let translations = xaso_i18n::Translations::bundled()?;
    let catalog = xaso_services::Catalog::bundled_with(&translations)?;
    let trust_list = match &args.trust_list {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the trust list {}", path.display()))?;
            Some(
                TrustList::from_toml(&text)
                    .with_context(|| format!("the trust list {}", path.display()))?,
            )
        }
        None => None,
    };
    let library = officer_library(args, &store);
    let qr_dir = args.qr_images.clone().unwrap_or_else(|| store.join("qr"));
    let qr_pictures: Box<dyn QrPictures> = Box::new(QrPictureDirectory::new(&qr_dir));
    Ok(OfficerParts {
        store_dir: store,
        commune,
        device_id,
        translations,
        catalog,
        clock: Box::new(SystemClock),
        card,
        link,
        policy: PinPolicy::default(),
        commune_name: args.commune_name.clone(),
        officer_title: args.officer_title.clone(),
        signing,
        trust_list,
        library,
        qr_pictures,
    })
}

/// The lessons that name certificates' tracks on an officer tablet: the pack installed in its
/// store (checked with the `--lessons` keys), else the lessons built into the program.
fn officer_library(args: &Args, store: &std::path::Path) -> xaso_training::Library {
    let installed = args.lessons.as_ref().and_then(|path| {
        let config = xaso_kiosk::lessons::config::load(path, None, &args.commune_name)
            .map_err(|e| tracing::warn!("{e}"))
            .ok()?;
        xaso_kiosk::lessons::packs::Shelf::new(&store.join("lessons"), config.trusted)
            .load()
            .map_err(|e| tracing::warn!("the installed lesson pack is not used: {e}"))
            .ok()
            .flatten()
    });
    match installed {
        Some(pack) => pack.library,
        None => xaso_training::Library::from_files(&xaso_training::bundled_files()).unwrap_or_else(
            |e| {
                tracing::warn!("the built-in lessons do not load: tracks are shown by id ({e})");
                xaso_training::Library::empty()
            },
        ),
    }
}

/// `--officer-screenshots DIR`: the sample commune, every officer screen, both sizes.
fn officer_tour(args: &Args, dir: &std::path::Path) -> anyhow::Result<()> {
    let headless = Headless::install().context("cannot set up the headless renderer")?;
    let work = tempfile_dir()?;
    let commune = args.commune.clone().unwrap_or_else(|| "79001".into());
    let now = jiff::Timestamp::now();
    xaso_kiosk::officer::tour::seed(&work, &commune, now)
        .context("cannot write the sample commune")?;
    let parts = officer_parts(
        args,
        work.clone(),
        commune.clone(),
        "tablet-1".into(),
        xaso_kiosk::officer::tour::sample_link(&commune, now)
            .context("cannot make the sample link")?,
        None,
        Box::new(SoftCardReader::new()?),
    )?;
    let mut parts = parts;
    parts.policy.argon2_memory_kib = 1024;
    parts.trust_list = Some(
        xaso_kiosk::officer::tour::sample_trust_list(xaso_services::calendar::vietnam_date(now))
            .context("cannot make the sample trust list")?,
    );
    let app = xaso_kiosk::officer::build(OfficerWindow::new()?, parts)?;
    headless.render(1280, 800);
    let written = xaso_kiosk::officer::tour::screenshots(&app, &headless, dir)?;
    writeln!(
        std::io::stdout().lock(),
        "Officer screenshot tour: {} PNG files in {}/{{1280x800,1920x1200}}",
        written.len(),
        dir.display()
    )?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("xaso-officer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// An officer's tablet on a display: the officer's window over its own store and link.
fn run_officer(args: &Args, dir: &std::path::Path, identity: Identity) -> anyhow::Result<()> {
    let hub = args.hub.clone().context("an officer tablet needs --hub")?;
    let store = store_dir(args, dir);
    let link = OfficerLink::start(
        store.clone(),
        hub.clone(),
        identity.clone(),
        std::time::Duration::from_secs(60),
    )?;
    let parts = officer_parts(
        args,
        store,
        identity.communes.first().cloned().unwrap_or_default(),
        identity.device_id.clone(),
        link,
        Some(SigningSetup {
            hub_url: hub,
            identity,
        }),
        card_reader(args)?,
    )?;
    let app = xaso_kiosk::officer::build(OfficerWindow::new()?, parts)?;
    let _timer = app.start_timer();
    slint::ComponentHandle::run(&app.ui)?;
    Ok(())
}

fn run_windowed(args: Args) -> anyhow::Result<()> {
    let dir = work_dir(&args)?;
    if let Some(identity) = hub_identity(&args, &dir)?
        && identity.role == xaso_sync_core::Role::Officer
    {
        return run_officer(&args, &dir, identity);
    }
    let ui = AppWindow::new().context("cannot open the kiosk window")?;
    let card = card_reader(&args)?;
    let identity = hub_identity(&args, &dir)?;
    let mut cfg = config(&args, &dir, identity.as_ref())?;
    cfg.camera = document_camera(&args);
    let app = build(ui, cfg, Box::new(SystemClock), card)?;
    let _timer = app.start_timer();
    let sync = match (&args.hub, identity) {
        (Some(hub), Some(identity)) => Some(
            link::spawn_sync_loop(&store_dir(&args, &dir), hub.clone(), identity)
                .context("cannot start syncing")?,
        ),
        _ => None,
    };
    slint::ComponentHandle::run(&app.ui).context("the kiosk window failed")?;
    if let Some(cancel) = sync {
        cancel.cancel();
    }
    Ok(())
}

/// The access key for PC/SC cards: `--mrz`, `--identity`, or with `--demo` the scripted demo
/// resident's (the identity `cargo xtask demo` puts on the software card with
/// `xaso-card emulate --identity`).
fn access_key(args: &Args) -> anyhow::Result<Option<AccessKey>> {
    if let Some(mrz) = &args.mrz {
        return Ok(Some(mrz_key_from_arg(mrz)?));
    }
    if let Some(identity) = &args.identity {
        return Ok(Some(
            identity_key(identity).with_context(|| format!("--identity {identity}"))?,
        ));
    }
    if args.demo {
        return Ok(Some(identity_key(DEMO_RESIDENT)?));
    }
    Ok(None)
}

/// CSCA certificates passive authentication trusts: `--csca FILE` (ICAO master list, PEM or
/// DER), and in demo mode also the test CSCA the synthetic cards are signed with.
fn trust_store(args: &Args) -> anyhow::Result<TrustStore> {
    let mut trust = if args.demo {
        TestPki::default_test()
            .context("the test PKI")?
            .trust_store()
    } else {
        TrustStore::new()
    };
    if let Some(csca) = &args.csca {
        trust
            .add_file(csca)
            .with_context(|| format!("cannot load the CSCA file {}", csca.display()))?;
    }
    Ok(trust)
}

fn card_reader(args: &Args) -> anyhow::Result<Box<dyn CardReader>> {
    let software = || -> anyhow::Result<Box<dyn CardReader>> {
        tracing::info!("card source: in-process software card (demo residents)");
        Ok(Box::new(SoftCardReader::new()?))
    };
    let key = access_key(args)?;
    let explicit_key = args.mrz.is_some() || args.identity.is_some();
    let pcsc = |key: Option<AccessKey>| -> anyhow::Result<Box<dyn CardReader>> {
        if key.is_none() {
            tracing::info!(
                "no --mrz/--identity: a card is read after its QR code is scanned at the kiosk"
            );
        }
        Ok(Box::new(
            PcscCardReader::start(args.reader.clone(), key, trust_store(args)?)
                .context("cannot reach pcscd (is it running?)")?,
        ))
    };
    match args.card {
        CardChoice::Software => software(),
        // Auto: a PC/SC reader when pcscd lists one, except in the demo without an explicit
        // key, where the resident picker stays (unless --card pcsc is asked for).
        CardChoice::Auto => {
            if (explicit_key || !args.demo) && pcsc_reader_available(args.reader.as_deref()) {
                pcsc(if explicit_key { key } else { None })
            } else {
                software()
            }
        }
        CardChoice::Pcsc => {
            if !pcsc_reader_available(args.reader.as_deref()) {
                tracing::warn!(
                    "no PC/SC reader {} yet: the kiosk waits for one to be connected",
                    args.reader.as_deref().unwrap_or("")
                );
            }
            pcsc(key)
        }
    }
}

/// `--camera DEV` or `none`; by default the first V4L2 capture device, if any (the headless
/// demo and the screenshot tour never use a camera).
fn document_camera(args: &Args) -> Option<PathBuf> {
    let camera = match args.camera.as_deref() {
        Some("none") => None,
        Some(device) => Some(PathBuf::from(device)),
        None => xaso_kiosk::camera::capture_devices().into_iter().next(),
    };
    match &camera {
        Some(d) => tracing::info!("document camera: {}", d.display()),
        None => tracing::info!("no document camera: papers come from image files"),
    }
    camera
}
