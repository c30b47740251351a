//! `xaso-lessons`: the province's tool for the digital-skills lessons.
//!
//! ```text
//! xaso-lessons keygen --out FILE [--kid ID]             a new ed25519 key (64 hex digits, mode 0600)
//! xaso-lessons public-key FILE [--kid ID]               the public key of a key file
//! xaso-lessons pack --key FILE --key-id ID --province CODE --version N
//!                   [--modules DIR] [--created DATE] --out FILE
//!                                                       build and sign a lesson pack
//! xaso-lessons inspect FILE [--keys CONFIG] [--installed N]
//!                                                       what a pack claims; with a kiosk's lessons
//!                                                       configuration, whether that kiosk installs it
//! xaso-lessons trust-list --out FILE --issued DATE KID:PROVINCE:PUBLICHEX:FROM[:UNTIL]...
//!                                                       the certificate trust list for officers
//! xaso-lessons verify-certificate --trust-list FILE [--today DATE] CODE|-
//!                                                       verify a learner's certificate offline
//! ```
//!
//! Results go to standard output as `name<TAB>value` lines. Exit status: 0 done (the pack
//! would be installed, the certificate is valid), 1 refused (invalid lessons, a pack a kiosk
//! would refuse, a certificate that is not valid), 2 the work could not be done (a file that
//! cannot be read or written, a wrong argument).

mod ids;
mod inspect;
mod keyfile;
mod kiosk_config;
mod modules_dir;
mod output;
mod publish;
mod trust_list;
mod verify;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use jiff::civil::Date;

/// The province's tool for Xã Số lessons: keys, signed lesson packs, the certificate trust
/// list, and certificate checks.
#[derive(Parser)]
#[command(
    name = "xaso-lessons",
    version,
    after_help = "Exit status: 0 done (accepted, valid), 1 refused (invalid lessons, a pack a \
                  kiosk would refuse, a certificate that is not valid), 2 could not be done."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make a new ed25519 key: the secret seed as 64 hex digits in FILE (mode 0600, never
    /// overwritten); prints its key id and public key.
    Keygen {
        /// Where the secret key goes (must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The key's id in kiosk configurations and trust lists (default: FILE's name
        /// without its extension).
        #[arg(long, value_name = "ID")]
        kid: Option<String>,
    },
    /// Print the key id and public key of a key file made by `keygen`.
    PublicKey {
        /// The secret key file.
        file: PathBuf,
        /// The key's id (default: FILE's name without its extension).
        #[arg(long, value_name = "ID")]
        kid: Option<String>,
    },
    /// Build a lesson pack and sign it with the province's pack key.
    Pack {
        /// The province's pack key (made by `keygen`).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The key's id, as kiosks list it under [[pack_keys]].
        #[arg(long, value_name = "ID")]
        key_id: String,
        /// The province's two-digit code.
        #[arg(long, value_name = "CODE")]
        province: String,
        /// The pack's version: kiosks install only a version newer than theirs.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        version: u64,
        /// A directory laid out like training/modules (default: the lessons built into this
        /// program).
        #[arg(long, value_name = "DIR")]
        modules: Option<PathBuf>,
        /// The day of publication shown with the pack (default: today in Viet Nam).
        #[arg(long, value_name = "YYYY-MM-DD")]
        created: Option<Date>,
        /// Where the pack goes (replaced if it exists).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Show what a pack claims; with a kiosk's lessons configuration, whether that kiosk
    /// would install it, and if not why.
    Inspect {
        /// The pack.
        file: PathBuf,
        /// A kiosk's lessons configuration (the file given to `xaso-kiosk --lessons`).
        #[arg(long, value_name = "CONFIG")]
        keys: Option<PathBuf>,
        /// The version the kiosk has installed (default: none installed).
        #[arg(long, value_name = "N", requires = "keys")]
        installed: Option<u64>,
    },
    /// Write the trust list officers' tablets verify certificates with.
    TrustList {
        /// Where the trust list goes (replaced if it exists).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The day the list is published.
        #[arg(long, value_name = "YYYY-MM-DD")]
        issued: Date,
        /// One certificate key each: KID:PROVINCE:PUBLICHEX:VALID_FROM[:VALID_UNTIL] (the
        /// first and last day the key may sign).
        #[arg(value_name = "KEY", required = true)]
        keys: Vec<String>,
    },
    /// Verify a learner's certificate code (XSC1:…) offline against a trust list.
    VerifyCertificate {
        /// The trust list (made by `trust-list`).
        #[arg(long, value_name = "FILE")]
        trust_list: PathBuf,
        /// The day of the check, for the trust list's age (default: today in Viet Nam).
        #[arg(long, value_name = "YYYY-MM-DD")]
        today: Option<Date>,
        /// The code read from the certificate's QR, or `-` to read it from standard input.
        code: String,
    },
}

/// How a command ended, when it could do its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Refused,
}

/// Today's date in Viet Nam (UTC+07:00, no daylight saving).
pub fn vietnam_today() -> Date {
    jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::offset(7)))
        .date()
}

fn run(command: Command) -> Result<Outcome> {
    match command {
        Command::Keygen { out, kid } => keyfile::keygen(&out, kid.as_deref()),
        Command::PublicKey { file, kid } => keyfile::show_public(&file, kid.as_deref()),
        Command::Pack {
            key,
            key_id,
            province,
            version,
            modules,
            created,
            out,
        } => publish::pack(&publish::PackRequest {
            key: &key,
            key_id: &key_id,
            province: &province,
            version,
            modules: modules.as_deref(),
            created: created.unwrap_or_else(vietnam_today),
            out: &out,
        }),
        Command::Inspect {
            file,
            keys,
            installed,
        } => inspect::inspect(&file, keys.as_deref(), installed),
        Command::TrustList { out, issued, keys } => trust_list::write(&out, issued, &keys),
        Command::VerifyCertificate {
            trust_list,
            today,
            code,
        } => verify::verify(&trust_list, today.unwrap_or_else(vietnam_today), &code),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Refused) => ExitCode::from(1),
        Err(e) => {
            let _ = writeln!(std::io::stderr().lock(), "xaso-lessons: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
