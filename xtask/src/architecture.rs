//! The architecture check: `ARCHITECTURE.md` states, in a fenced block
//! tagged `crates`, every workspace crate, its kind and the workspace crates
//! it may depend on; this module checks the real dependency graph against it.
//!
//! Rules (each violation is reported, and `cargo xtask test` fails):
//! - every workspace crate is in the table, and every crate in the table exists;
//! - a crate's normal dependencies on workspace crates are among the ones
//!   the table allows it (the direction of the map; dev-dependencies are free);
//! - a `pure` crate's whole normal dependency tree holds none of the I/O,
//!   network, database or UI crates of [`IO_CRATES`], and its sources use no
//!   file, network, process, thread or clock API of [`IO_PATTERNS`];
//! - a crate's whole normal dependency tree holds none of the crates its
//!   row forbids (`!name`, or `!name/feature` for a crate with a feature):
//!   the kiosk app links no hub, no axum, no hyper server, no rcgen, no mimalloc.
//!
//! The graph comes from `cargo metadata` (direct dependencies) and `cargo tree
//! -p CRATE -e normal` (the tree and features as building that crate alone
//! would resolve them). The rules are pure functions over that graph, tested
//! with graphs that break them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};

/// Crates that do I/O (files, sockets, databases, devices, UI) or bring a
/// runtime: none may appear in the tree of a pure crate.
pub const IO_CRATES: &[&str] = &[
    "tokio",
    "mio",
    "socket2",
    "async-std",
    "rusqlite",
    "libsqlite3-sys",
    "reqwest",
    "hyper",
    "hyper-util",
    "axum",
    "tower",
    "rustls",
    "tokio-rustls",
    "pcsc",
    "pcsc-sys",
    "slint",
    "i-slint-core",
    "winit",
    "linuxvideo",
    "tokio-postgres",
    "postgres",
    "sqlx",
    "mimalloc",
];

/// Source text that means I/O, threads or a clock in a pure crate.
pub const IO_PATTERNS: &[&str] = &[
    "std::fs",
    "std::net",
    "std::process",
    "std::thread",
    "std::env",
    "File::open",
    "File::create",
    "Instant::now",
    "SystemTime::now",
    "Timestamp::now",
    "Zoned::now",
    "ZonedDateTime::now",
];

/// What a crate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// No I/O, no clock, no threads: data in, data out.
    Pure,
    /// A library that does I/O.
    Io,
    /// An application (library and binaries for people).
    App,
    /// Only for tests and benchmarks.
    Dev,
    /// Build and test automation.
    Tool,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        match s {
            "pure" => Some(Kind::Pure),
            "io" => Some(Kind::Io),
            "app" => Some(Kind::App),
            "dev" => Some(Kind::Dev),
            "tool" => Some(Kind::Tool),
            _ => None,
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The crate's kind.
    pub kind: Kind,
    /// Workspace crates it may depend on.
    pub may_use: BTreeSet<String>,
    /// Crates (optionally `crate/feature`) that must not be in its tree.
    pub forbidden: BTreeSet<String>,
}

/// The table of `ARCHITECTURE.md`.
pub type Rules = BTreeMap<String, Rule>;

/// Parse the fenced block tagged `crates` of `markdown`: one crate a line,
/// `name kind [dep…] [!forbidden…]`, `#` starts a comment.
pub fn parse_rules(markdown: &str) -> Result<Rules> {
    let mut lines = markdown.lines();
    if !lines.any(|l| l.trim() == "```crates") {
        bail!("ARCHITECTURE.md has no ```crates block");
    }
    let mut rules = Rules::new();
    for line in lines {
        if line.trim() == "```" {
            return Ok(rules);
        }
        let line = line.split('#').next().unwrap_or("").trim();
        let mut words = line.split_whitespace();
        let Some(name) = words.next() else { continue };
        let kind = words
            .next()
            .and_then(Kind::parse)
            .with_context(|| format!("crate {name}: kind must be pure, io, app, dev or tool"))?;
        let mut rule = Rule {
            kind,
            may_use: BTreeSet::new(),
            forbidden: BTreeSet::new(),
        };
        for word in words {
            match word.strip_prefix('!') {
                Some(bad) => rule.forbidden.insert(bad.to_owned()),
                None => rule.may_use.insert(word.to_owned()),
            };
        }
        if rules.insert(name.to_owned(), rule).is_some() {
            bail!("crate {name} is listed twice");
        }
    }
    bail!("the ```crates block of ARCHITECTURE.md is not closed")
}

/// A workspace crate as the check sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrateFacts {
    /// Workspace crates it depends on (normal dependencies).
    pub uses: BTreeSet<String>,
    /// Every crate of its normal tree, with the features enabled.
    pub tree: BTreeMap<String, BTreeSet<String>>,
    /// Source lines that match an [`IO_PATTERNS`] entry: `file:line: text`.
    pub io_lines: Vec<String>,
}

/// Every rule `facts` breaks, as sentences.
pub fn violations(rules: &Rules, facts: &BTreeMap<String, CrateFacts>) -> Vec<String> {
    let mut out = Vec::new();
    for name in facts.keys() {
        if !rules.contains_key(name) {
            out.push(format!(
                "crate {name} is not in the table of ARCHITECTURE.md: add it with its kind and what it may depend on"
            ));
        }
    }
    for (name, rule) in rules {
        let Some(fact) = facts.get(name) else {
            out.push(format!(
                "ARCHITECTURE.md lists crate {name}, which is not in the workspace"
            ));
            continue;
        };
        for used in &fact.uses {
            if !rule.may_use.contains(used) {
                out.push(format!(
                    "{name} depends on {used}, against the direction ARCHITECTURE.md states"
                ));
            }
        }
        if rule.kind == Kind::Pure {
            for io in IO_CRATES {
                if fact.tree.contains_key(*io) {
                    out.push(format!(
                        "{name} is pure but its dependency tree contains {io} (I/O)"
                    ));
                }
            }
            for line in &fact.io_lines {
                out.push(format!(
                    "{name} is pure but does I/O or reads a clock: {line}"
                ));
            }
        }
        for bad in &rule.forbidden {
            let (krate, feature) = match bad.split_once('/') {
                Some((k, f)) => (k, Some(f)),
                None => (bad.as_str(), None),
            };
            let hit = fact
                .tree
                .get(krate)
                .is_some_and(|features| feature.is_none_or(|f| features.contains(f)));
            if hit {
                out.push(format!("{name} must not link {bad}, but its tree does"));
            }
        }
    }
    out
}

/// The source lines of `dir` (recursively, `.rs` files) matching [`IO_PATTERNS`],
/// outside comments and test modules (a file's `#[cfg(test)]` module at its end, or a
/// module file named `tests.rs`).
pub fn io_lines(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && path.file_name().is_none_or(|n| n != "tests.rs")
            {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                out.extend(io_lines_of(&path.display().to_string(), &text));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// [`io_lines`] for one file's text. A file's `#[cfg(test)]` module (the
/// convention here: at its end) is not looked at.
pub fn io_lines_of(file: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        if IO_PATTERNS.iter().any(|p| code.contains(p)) {
            out.push(format!("{file}:{}: {}", n + 1, code.trim_end()));
        }
    }
    out
}

/// Read the real workspace: `cargo metadata` for crates and their direct
/// dependencies, `cargo tree` for each crate's normal tree.
pub fn workspace_facts(
    root: &Path,
    cargo: &dyn Fn() -> std::process::Command,
) -> Result<BTreeMap<String, CrateFacts>> {
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("reading cargo metadata")?;
    let packages = meta["packages"]
        .as_array()
        .context("cargo metadata: no packages")?;
    let names: BTreeSet<String> = packages
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    let mut facts = BTreeMap::new();
    for package in packages {
        let Some(name) = package["name"].as_str() else {
            continue;
        };
        let mut fact = CrateFacts::default();
        for dep in package["dependencies"].as_array().into_iter().flatten() {
            let normal = dep["kind"].is_null();
            if let Some(dep_name) = dep["name"].as_str()
                && normal
                && names.contains(dep_name)
            {
                fact.uses.insert(dep_name.to_owned());
            }
        }
        let tree = cargo()
            .args([
                "tree", "-p", name, "-e", "normal", "--prefix", "none", "-f", "{p}|{f}",
            ])
            .output()
            .with_context(|| format!("running cargo tree -p {name}"))?;
        if !tree.status.success() {
            bail!(
                "cargo tree -p {name} failed: {}",
                String::from_utf8_lossy(&tree.stderr)
            );
        }
        for line in String::from_utf8_lossy(&tree.stdout).lines() {
            let (package, features) = line.split_once('|').unwrap_or((line, ""));
            let Some(krate) = package.split_whitespace().next() else {
                continue;
            };
            fact.tree.entry(krate.to_owned()).or_default().extend(
                features
                    .split(',')
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned),
            );
        }
        // The crate itself is not its own dependency.
        fact.tree.remove(name);
        if let Some(manifest) = package["manifest_path"].as_str()
            && let Some(dir) = Path::new(manifest).parent()
        {
            let src = dir.join("src");
            if src.is_dir() {
                fact.io_lines = io_lines(&src)?
                    .into_iter()
                    .map(|l| {
                        l.strip_prefix(&format!("{}/", root.display()))
                            .map(str::to_owned)
                            .unwrap_or(l)
                    })
                    .collect();
            }
        }
        facts.insert(name.to_owned(), fact);
    }
    Ok(facts)
}

/// The whole check against the workspace at `root`.
pub fn check(root: &Path, cargo: &dyn Fn() -> std::process::Command) -> Result<()> {
    let doc = root.join("ARCHITECTURE.md");
    let rules = parse_rules(
        &std::fs::read_to_string(&doc).with_context(|| format!("reading {}", doc.display()))?,
    )?;
    let facts = workspace_facts(root, cargo)?;
    let found = violations(&rules, &facts);
    if found.is_empty() {
        eprintln!(
            "xtask: architecture: {} crates follow the map in ARCHITECTURE.md",
            facts.len()
        );
        return Ok(());
    }
    for v in &found {
        eprintln!("xtask: architecture: {v}");
    }
    bail!(
        "{} architecture rule(s) broken (see ARCHITECTURE.md)",
        found.len()
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    const MAP: &str = "text before\n```crates\n\
        # name  kind  may use  forbidden\n\
        core    pure\n\
        store   io    core\n\
        hub     io    core store\n\
        app     app   core store  !hub !axum !hyper/server\n\
        ```\nafter\n";

    fn tree(crates: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
        crates
            .iter()
            .map(|(k, f)| ((*k).to_owned(), f.iter().map(|s| (*s).to_owned()).collect()))
            .collect()
    }

    fn uses(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    /// A workspace that follows `MAP`.
    fn good() -> BTreeMap<String, CrateFacts> {
        let mut f = BTreeMap::new();
        f.insert(
            "core".into(),
            CrateFacts {
                tree: tree(&[("serde", &["derive"]), ("automerge", &[])]),
                ..CrateFacts::default()
            },
        );
        f.insert(
            "store".into(),
            CrateFacts {
                uses: uses(&["core"]),
                tree: tree(&[("core", &[]), ("rusqlite", &[])]),
                ..CrateFacts::default()
            },
        );
        f.insert(
            "hub".into(),
            CrateFacts {
                uses: uses(&["core", "store"]),
                tree: tree(&[("axum", &[]), ("hyper", &["server", "http1"])]),
                ..CrateFacts::default()
            },
        );
        f.insert(
            "app".into(),
            CrateFacts {
                uses: uses(&["core", "store"]),
                tree: tree(&[("hyper", &["client", "http1"]), ("reqwest", &[])]),
                ..CrateFacts::default()
            },
        );
        f
    }

    #[test]
    fn the_table_is_read_from_its_fenced_block() {
        let rules = parse_rules(MAP).unwrap();
        assert_eq!(rules.len(), 4);
        assert_eq!(rules["core"].kind, Kind::Pure);
        assert_eq!(rules["hub"].may_use, uses(&["core", "store"]));
        assert_eq!(
            rules["app"].forbidden,
            uses(&["hub", "axum", "hyper/server"])
        );
        assert!(parse_rules("no block here").is_err());
        assert!(parse_rules("```crates\ncore wobbly\n```").is_err());
        assert!(parse_rules("```crates\ncore pure\ncore io\n```").is_err());
        assert!(parse_rules("```crates\ncore pure\n").is_err());
    }

    #[test]
    fn a_workspace_that_follows_the_map_passes() {
        let rules = parse_rules(MAP).unwrap();
        assert_eq!(violations(&rules, &good()), Vec::<String>::new());
    }

    #[test]
    fn a_pure_crate_that_gains_an_io_dependency_fails() {
        let rules = parse_rules(MAP).unwrap();
        let mut facts = good();
        facts
            .get_mut("core")
            .unwrap()
            .tree
            .insert("tokio".into(), BTreeSet::new());
        let found = violations(&rules, &facts);
        assert_eq!(
            found,
            ["core is pure but its dependency tree contains tokio (I/O)"]
        );
    }

    #[test]
    fn a_pure_crate_that_reads_files_or_the_clock_fails() {
        let rules = parse_rules(MAP).unwrap();
        let mut facts = good();
        facts.get_mut("core").unwrap().io_lines = io_lines_of(
            "core/src/lib.rs",
            "// std::fs in a comment is fine\nfn f() { let t = jiff::Timestamp::now(); }\n#[cfg(test)]\nmod tests { fn g() { std::fs::read(\"x\"); } }\n",
        );
        let found = violations(&rules, &facts);
        assert_eq!(
            found,
            [
                "core is pure but does I/O or reads a clock: core/src/lib.rs:2: fn f() { let t = jiff::Timestamp::now(); }"
            ]
        );
    }

    #[test]
    fn the_kiosk_app_linking_the_hub_or_a_server_fails() {
        let rules = parse_rules(MAP).unwrap();
        let mut facts = good();
        let app = facts.get_mut("app").unwrap();
        app.uses.insert("hub".into());
        app.tree.insert("hub".into(), BTreeSet::new());
        app.tree.get_mut("hyper").unwrap().insert("server".into());
        let found = violations(&rules, &facts);
        assert_eq!(
            found,
            [
                "app depends on hub, against the direction ARCHITECTURE.md states",
                "app must not link hub, but its tree does",
                "app must not link hyper/server, but its tree does",
            ]
        );
    }

    #[test]
    fn a_dependency_against_the_direction_fails() {
        let rules = parse_rules(MAP).unwrap();
        let mut facts = good();
        facts.get_mut("store").unwrap().uses.insert("hub".into());
        let found = violations(&rules, &facts);
        assert_eq!(
            found,
            ["store depends on hub, against the direction ARCHITECTURE.md states"]
        );
    }

    #[test]
    fn crates_missing_from_the_map_or_the_workspace_fail() {
        let rules = parse_rules(MAP).unwrap();
        let mut facts = good();
        facts.remove("hub");
        facts.insert("newcomer".into(), CrateFacts::default());
        let found = violations(&rules, &facts);
        assert_eq!(
            found,
            [
                "crate newcomer is not in the table of ARCHITECTURE.md: add it with its kind and what it may depend on",
                "ARCHITECTURE.md lists crate hub, which is not in the workspace",
            ]
        );
    }
}
