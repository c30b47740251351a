//! `xaso-card`: read a chip ID card (any ICAO 9303 card or emulator on any PC/SC reader), or
//! connect the software card to a running vpcd.

use anyhow::{Context, Result, anyhow, bail};
use clap::{Parser, Subcommand};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use xaso_idcard::lds::Mrz;
use xaso_idcard::softcard::{CardFiles, Identity, SoftCard};
use xaso_idcard::testpki::TestPki;
use xaso_idcard::transport::{CardWatcher, InProcess, PcscTransport, Transport};
use xaso_idcard::{CardRead, MrzKey, ReadOptions, TrustStore, qr, read_card_trying, vpcd};
use xaso_services::CardField;

#[derive(Parser)]
#[command(
    name = "xaso-card",
    about = "Đọc và xác thực thẻ căn cước gắn chip / Read and verify chip ID cards"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Read a card and print its data (masked unless --show) and the verification result.
    Read {
        /// PC/SC reader name (default: wait for a card in any reader).
        #[arg(long)]
        reader: Option<String>,
        /// MRZ data: "DOCUMENT_NUMBER,YYMMDD_BIRTH,YYMMDD_EXPIRY" (a 12-digit ID number is
        /// accepted as document number), or the whole MRZ text.
        #[arg(long, conflicts_with = "qr")]
        mrz: Option<String>,
        /// Image (PNG/JPEG) of the QR code on the card; the access key is derived from it.
        #[arg(long)]
        qr: Option<PathBuf>,
        /// CSCA certificates: ICAO master list, PEM bundle or DER certificate (repeatable).
        #[arg(long)]
        csca: Vec<PathBuf>,
        /// Also trust the project's TEST CSCA (for the software card only).
        #[arg(long)]
        test_csca: bool,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Show personal data unmasked.
        #[arg(long)]
        show: bool,
        /// Do not read the face image.
        #[arg(long)]
        no_face: bool,
        /// Read a synthetic identity's software card in process instead of over PC/SC.
        #[arg(long)]
        in_process: Option<String>,
        /// Seconds to wait for a card.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
    },
    /// Connect the software card to a running vpcd so any PC/SC application can read it.
    Emulate {
        /// Identity file (TOML) or the name of a built-in synthetic identity.
        #[arg(long, required_unless_present = "list_identities")]
        identity: Option<String>,
        /// List the built-in synthetic identities with their MRZ data.
        #[arg(long)]
        list_identities: bool,
        /// vpcd address.
        #[arg(long, default_value = vpcd::DEFAULT_ADDR)]
        addr: String,
        /// Write the test CSCA here, for readers that verify: an ICAO master list if the
        /// name ends in .ml, else a PEM certificate.
        #[arg(long)]
        write_csca: Option<PathBuf>,
        /// Refuse extended-length APDUs.
        #[arg(long)]
        short_only: bool,
    },
    /// List PC/SC readers.
    Readers,
}

fn out() -> std::io::StdoutLock<'static> {
    std::io::stdout().lock()
}

fn mask_id(s: &str) -> String {
    let n = s.chars().count();
    s.chars()
        .enumerate()
        .map(|(i, c)| if i + 3 < n { '*' } else { c })
        .collect()
}

fn mask_name(s: &str) -> String {
    s.split_whitespace()
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| format!("{f}{}", "*".repeat(c.count())))
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn mask_date(s: &str) -> String {
    match s.get(..4) {
        Some(y) if s.len() == 10 => format!("{y}-**-**"),
        _ => "***".into(),
    }
}

fn mask_place(s: &str) -> String {
    match s.rsplit_once(',') {
        Some((_, last)) => format!("***, {}", last.trim()),
        None => "***".into(),
    }
}

fn shown(field: CardField, v: &str, show: bool) -> String {
    if show {
        return v.to_owned();
    }
    match field {
        CardField::IdNumber | CardField::OldIdNumber => mask_id(v),
        CardField::FullName
        | CardField::FatherName
        | CardField::MotherName
        | CardField::SpouseName => mask_name(v),
        CardField::DateOfBirth | CardField::IssueDate | CardField::ExpiryDate => mask_date(v),
        CardField::PlaceOfOrigin | CardField::PlaceOfResidence => mask_place(v),
        CardField::IdentifyingMarks => "***".into(),
        CardField::Sex | CardField::Nationality | CardField::Ethnicity | CardField::Religion => {
            v.to_owned()
        }
    }
}

fn label(f: CardField) -> &'static str {
    match f {
        CardField::IdNumber => "Số định danh / ID number",
        CardField::FullName => "Họ và tên / Full name",
        CardField::DateOfBirth => "Ngày sinh / Date of birth",
        CardField::Sex => "Giới tính / Sex",
        CardField::Nationality => "Quốc tịch / Nationality",
        CardField::Ethnicity => "Dân tộc / Ethnicity",
        CardField::Religion => "Tôn giáo / Religion",
        CardField::PlaceOfOrigin => "Quê quán / Place of origin",
        CardField::PlaceOfResidence => "Nơi thường trú / Residence",
        CardField::IdentifyingMarks => "Đặc điểm nhận dạng / Identifying marks",
        CardField::IssueDate => "Ngày cấp / Issue date",
        CardField::ExpiryDate => "Có giá trị đến / Expiry date",
        CardField::FatherName => "Họ tên cha / Father",
        CardField::MotherName => "Họ tên mẹ / Mother",
        CardField::SpouseName => "Vợ/chồng / Spouse",
        CardField::OldIdNumber => "Số CMND cũ / Old ID number",
    }
}

#[derive(Serialize)]
struct JsonOut<'a> {
    fields: serde_json::Map<String, serde_json::Value>,
    masked: bool,
    mrz_document_number: String,
    verification: &'a xaso_idcard::PassiveAuth,
    verified: bool,
    faces: &'a [xaso_idcard::lds::FaceImage],
    data_groups: &'a [u8],
    pace_advertised: bool,
    access: xaso_idcard::reader::AccessProtocol,
    stats: &'a xaso_idcard::reader::ReadStats,
}

fn print_read(r: &CardRead, json: bool, show: bool) -> Result<()> {
    let mut o = out();
    if json {
        let mut fields = serde_json::Map::new();
        for f in CardField::ALL {
            if let Some(v) = r.get(f) {
                fields.insert(f.as_str().into(), shown(f, &v, show).into());
            }
        }
        let j = JsonOut {
            fields,
            masked: !show,
            mrz_document_number: shown(CardField::IdNumber, &r.mrz.document_number, show),
            verification: &r.passive_auth,
            verified: r.passive_auth.verified,
            faces: &r.faces,
            data_groups: &r.com.data_groups,
            pace_advertised: r.pace_advertised,
            access: r.access,
            stats: &r.stats,
        };
        writeln!(o, "{}", serde_json::to_string_pretty(&j)?)?;
        return Ok(());
    }
    if r.passive_auth.verified {
        writeln!(
            o,
            "✔ Thẻ đã được xác thực / Card verified (passive authentication)"
        )?;
    } else {
        writeln!(o, "✘ Chưa xác thực / {}", r.passive_auth.summary())?;
        writeln!(
            o,
            "  Dữ liệu vẫn dùng được nhưng được đánh dấu / data is usable but marked"
        )?;
    }
    for f in CardField::ALL {
        if let Some(v) = r.get(f) {
            writeln!(o, "{:<40} {}", label(f), shown(f, &v, show))?;
        }
    }
    if r.personal.is_none() {
        writeln!(
            o,
            "MRZ: {} (no DG13)",
            if show {
                r.mrz.lines.join(" / ")
            } else {
                "***".into()
            }
        )?;
    }
    for face in &r.faces {
        writeln!(
            o,
            "{:<40} {:?} {}x{}, {} bytes (not stored)",
            "Ảnh / Face image",
            face.kind,
            face.width,
            face.height,
            face.data.len()
        )?;
    }
    writeln!(
        o,
        "APDUs: {} ({} sent, {} received bytes), read size {}",
        r.stats.apdus, r.stats.bytes_sent, r.stats.bytes_received, r.stats.read_size
    )?;
    if !show {
        writeln!(o, "(masked; --show to display everything)")?;
    }
    Ok(())
}

fn parse_mrz_arg(s: &str) -> Result<MrzKey> {
    let s = s.trim();
    if let Some((doc, rest)) = s.split_once(',') {
        let (dob, doe) = rest
            .split_once(',')
            .ok_or_else(|| anyhow!("--mrz needs DOCUMENT,BIRTH,EXPIRY"))?;
        let doc = doc.trim();
        if doc.len() == 12 && doc.chars().all(|c| c.is_ascii_digit()) {
            return Ok(MrzKey::from_id_number(doc, dob, doe)?);
        }
        return Ok(MrzKey::new(doc, dob, doe)?);
    }
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    Ok(Mrz::parse(&compact).context("MRZ text")?.key()?)
}

#[allow(clippy::too_many_arguments)]
fn cmd_read(
    reader: Option<String>,
    mrz: Option<String>,
    qr_path: Option<PathBuf>,
    csca: Vec<PathBuf>,
    test_csca: bool,
    json: bool,
    show: bool,
    no_face: bool,
    in_process: Option<String>,
    timeout: u64,
) -> Result<()> {
    let keys: Vec<MrzKey> = match (mrz, qr_path) {
        (Some(m), _) => vec![parse_mrz_arg(&m)?],
        (None, Some(p)) => {
            let q =
                qr::decode_image_file(&p).with_context(|| format!("QR code in {}", p.display()))?;
            let k = q.key_candidates();
            if k.is_empty() {
                bail!("this card has no expiry date; enter the MRZ data with --mrz");
            }
            k
        }
        (None, None) => bail!("give --mrz or --qr (the card's data is protected by its MRZ key)"),
    };
    let mut trust = TrustStore::new();
    for p in &csca {
        trust
            .add_file(p)
            .with_context(|| format!("CSCA file {}", p.display()))?;
    }
    if test_csca {
        trust.add(TestPki::default_test()?.csca);
    }
    let opts = ReadOptions {
        read_face: !no_face,
        ..Default::default()
    };
    let mut transport: Box<dyn Transport> = match in_process {
        Some(name) => {
            let id = load_identity(&name)?;
            Box::new(InProcess {
                card: SoftCard::new(CardFiles::build(&id, &TestPki::default_test()?)?),
            })
        }
        None => {
            let reader = match reader {
                Some(r) => r,
                None => {
                    eprintln!("Đặt thẻ lên đầu đọc / Place the card on the reader…");
                    CardWatcher::new()?
                        .wait_for_card(None, Some(Duration::from_secs(timeout)))
                        .context("waiting for a card")?
                }
            };
            Box::new(
                PcscTransport::connect(&reader)
                    .with_context(|| format!("connecting to the card in {reader}"))?,
            )
        }
    };
    let (read, _) =
        read_card_trying(&mut transport, &keys, &trust, &opts).context("reading the card")?;
    print_read(&read, json, show)
}

fn load_identity(s: &str) -> Result<Identity> {
    let p = std::path::Path::new(s);
    if p.exists() {
        return Ok(Identity::load(p)?);
    }
    Ok(Identity::builtin_named(s)?)
}

fn cmd_emulate(
    identity: Option<String>,
    list: bool,
    addr: String,
    write_csca: Option<PathBuf>,
    short_only: bool,
) -> Result<()> {
    let pki = TestPki::default_test()?;
    if let Some(p) = &write_csca {
        let bytes = if p.extension().is_some_and(|x| x == "ml") {
            pki.master_list()?
        } else {
            pki.csca_pem()?.into_bytes()
        };
        std::fs::write(p, bytes).with_context(|| format!("writing {}", p.display()))?;
    }
    if list {
        let mut o = out();
        writeln!(
            o,
            "{:<22} {:<24} {:<10} {:<7} {:<7} {:<6} QR text",
            "name", "full name", "doc no.", "birth", "expiry", "PACE"
        )?;
        for (name, id) in Identity::builtin()? {
            let k = id.mrz_key()?;
            writeln!(
                o,
                "{:<22} {:<24} {:<10} {:<7} {:<7} {:<6} {}",
                name,
                id.full_name,
                k.document_number,
                k.date_of_birth,
                k.date_of_expiry,
                if id.pace { "yes" } else { "no" },
                id.qr_text()
            )?;
        }
        return Ok(());
    }
    let id = load_identity(identity.as_deref().unwrap_or_default())?;
    let mut card = SoftCard::new(CardFiles::build(&id, &pki)?);
    card.extended_length = !short_only;
    let opts = vpcd::VpcdOptions {
        addr,
        connect_timeout: Duration::from_secs(3600),
        remove_after_apdus: None,
    };
    let stop = AtomicBool::new(false);
    eprintln!(
        "software card inserted into vpcd at {} (Ctrl-C to remove)",
        opts.addr
    );
    loop {
        match vpcd::serve(&mut card, &opts, &stop)? {
            vpcd::ServeEnd::VpcdClosed => {
                tracing::info!("vpcd closed the connection; reconnecting");
                std::thread::sleep(Duration::from_secs(1));
            }
            _ => return Ok(()),
        }
    }
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Read {
            reader,
            mrz,
            qr,
            csca,
            test_csca,
            json,
            show,
            no_face,
            in_process,
            timeout,
        } => cmd_read(
            reader, mrz, qr, csca, test_csca, json, show, no_face, in_process, timeout,
        ),
        Cmd::Emulate {
            identity,
            list_identities,
            addr,
            write_csca,
            short_only,
        } => cmd_emulate(identity, list_identities, addr, write_csca, short_only),
        Cmd::Readers => xaso_idcard::transport::list_readers()
            .map_err(anyhow::Error::from)
            .and_then(|r| {
                let mut o = out();
                for n in r {
                    writeln!(o, "{n}")?;
                }
                Ok(())
            }),
    };
    match r {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lỗi / error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
