//! Running the real `xaso-lessons` binary in a test's directory.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The value of the first `name<TAB>value` line of standard output.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('\t'))
    }
}

/// `xaso-lessons ARGS` with `dir` as its working directory.
pub fn run(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_xaso-lessons"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("xaso-lessons runs");
    Run {
        status: out.status.code().expect("an exit status"),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 output"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 errors"),
    }
}

/// `keygen --out FILE --kid KID`; the public key in hex.
pub fn keygen(dir: &Path, file: &str, kid: &str) -> String {
    let run = run(dir, &["keygen", "--out", file, "--kid", kid]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.field("kid"), Some(kid));
    run.field("public_key").expect("a public key").to_owned()
}

/// A kiosk's lessons configuration trusting one pack key, as `xaso-kiosk --lessons` reads it.
pub fn lessons_config(dir: &Path, file: &str, key_id: &str, public_key: &str) -> PathBuf {
    let path = dir.join(file);
    std::fs::write(
        &path,
        format!(
            "province = \"79\"\ncommune_name = \"Xã Tân Thới Nhì\"\n\n\
             [[pack_keys]]\nkey_id = \"{key_id}\"\npublic_key = \"{public_key}\"\n"
        ),
    )
    .unwrap();
    path
}

/// The secret key `keygen` wrote.
pub fn signing_key(path: &Path) -> ed25519_dalek::SigningKey {
    let text = std::fs::read_to_string(path).unwrap();
    let seed: [u8; 32] = hex::decode(text.trim()).unwrap().try_into().unwrap();
    ed25519_dalek::SigningKey::from_bytes(&seed)
}
