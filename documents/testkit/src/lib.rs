//! Test helpers for result documents: poppler's `pdfsig` and `pdftotext` run on a real
//! file, with a throwaway NSS certificate database that trusts exactly one CA.
//!
//! Used as a dev-dependency only (by `xaso-documents`' tests, and by the officer acceptance
//! test of the kiosk app). Needs the Debian packages `poppler-utils` and `libnss3-tools`
//! (listed in `xtask/packages.txt`).

use std::path::Path;
use std::process::Command;

/// What `pdfsig` said about the (single) signature of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfsigReport {
    /// "Signature Validation: Signature is Valid."
    pub valid: bool,
    /// "Certificate Validation: Certificate is Trusted."
    pub trusted: bool,
    /// Everything pdfsig printed (stdout, then stderr).
    pub raw: String,
}

/// A tool could not be run or failed.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("cannot run `{tool}` (is it installed?): {source}")]
    Run {
        tool: &'static str,
        source: std::io::Error,
    },
    #[error("`{tool}` failed: {output}")]
    Failed { tool: &'static str, output: String },
    #[error("cannot prepare the NSS database: {0}")]
    Io(#[from] std::io::Error),
}

fn run(tool: &'static str, command: &mut Command) -> Result<(bool, String), ToolError> {
    let out = command
        .output()
        .map_err(|source| ToolError::Run { tool, source })?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok((out.status.success(), text))
}

/// Runs `pdfsig -nssdir sql:DIR pdf_path`, where DIR is a new NSS database trusting the CA
/// `ca_pem` (as `CT,C,C`) and nothing else. pdfsig's exit code is not an error: an invalid
/// signature is a report with `valid == false`.
pub fn pdfsig_report(pdf_path: &Path, ca_pem: &str) -> Result<PdfsigReport, ToolError> {
    let dir = tempfile::tempdir()?;
    let db = format!("sql:{}", dir.path().display());
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ca_pem)?;
    for (tool, args) in [
        (
            "certutil",
            vec!["-N", "-d", db.as_str(), "--empty-password"],
        ),
        (
            "certutil",
            vec![
                "-A",
                "-d",
                db.as_str(),
                "-n",
                "ca",
                "-t",
                "CT,C,C",
                "-i",
                ca.to_str().unwrap_or_default(),
            ],
        ),
    ] {
        let (ok, output) = run(tool, Command::new(tool).args(args))?;
        if !ok {
            return Err(ToolError::Failed { tool, output });
        }
    }
    let (_, raw) = run(
        "pdfsig",
        Command::new("pdfsig")
            .args(["-nssdir", db.as_str()])
            .arg(pdf_path),
    )?;
    Ok(PdfsigReport {
        valid: raw.contains("Signature Validation: Signature is Valid."),
        trusted: raw.contains("Certificate Validation: Certificate is Trusted."),
        raw,
    })
}

/// The text of a PDF as `pdftotext -layout FILE -` extracts it.
pub fn pdftotext(pdf_path: &Path) -> Result<String, ToolError> {
    let (ok, output) = run(
        "pdftotext",
        Command::new("pdftotext")
            .arg("-layout")
            .arg(pdf_path)
            .arg("-"),
    )?;
    if !ok {
        return Err(ToolError::Failed {
            tool: "pdftotext",
            output,
        });
    }
    Ok(output)
}
