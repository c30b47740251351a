//! Opening encrypted SQLite databases (SQLCipher): the one place that does
//! it, for the record store, the hub's registry and the kiosk's drafts.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

use crate::{DatabaseKey, Error};

/// SQLCipher page sizes: the record store uses 8 KiB pages (a dossier
/// document fits one), other databases SQLCipher's default of 4 KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageSize {
    /// 4 KiB, SQLCipher's default.
    Default,
    /// 8 KiB.
    Large,
}

/// Open (or create) the encrypted database at `path` with `key` and check the
/// key at once: the first read decrypts page 1, so a wrong key is
/// [`Error::WrongKey`] before anything is written. The connection is in WAL
/// mode with `synchronous = FULL`: a write is durable when its transaction
/// commits.
pub fn open_encrypted(path: &Path, key: &DatabaseKey, page: PageSize) -> Result<Connection, Error> {
    let conn = Connection::open(path)?;
    conn.execute_batch(&format!("PRAGMA key = {};", key.pragma_literal()))?;
    if page == PageSize::Large {
        conn.execute_batch("PRAGMA cipher_page_size = 8192;")?;
    }
    let check: Result<i64, rusqlite::Error> =
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0));
    if let Err(e) = check {
        return Err(match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => Error::WrongKey {
                path: path.to_owned(),
            },
            _ => Error::Sqlite(e),
        });
    }
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
    )?;
    Ok(conn)
}

/// Bring a database's schema up to `migrations.len()`: `migrations[i]` moves
/// it from version `i` to `i + 1`, each in its own transaction. A database
/// written by newer code is refused ([`Error::SchemaTooNew`]) and not touched.
pub fn migrate(conn: &mut Connection, migrations: &[&str]) -> Result<u32, Error> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let target = migrations.len() as u32;
    if current > target {
        return Err(Error::SchemaTooNew {
            found: current,
            supported: target,
        });
    }
    for (index, sql) in migrations.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as u32 + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "database schema migrated");
    }
    Ok(target)
}

/// The first 16 bytes of every unencrypted SQLite file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// True if `path` starts with the header of an unencrypted SQLite file (an
/// SQLCipher file starts with its random salt instead).
pub fn is_plain_sqlite(path: &Path) -> Result<bool, Error> {
    use std::io::Read;
    let io = |source| Error::Io {
        context: format!("read {}", path.display()),
        source,
    };
    let mut head = [0u8; 16];
    match std::fs::File::open(path) {
        Ok(mut f) => match f.read_exact(&mut head) {
            Ok(()) => Ok(&head == SQLITE_HEADER),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(io(e)),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io(e)),
    }
}

/// Encrypt an unencrypted SQLite file in place with `key` (SQLCipher's
/// default page size): its WAL is checkpointed, `sqlcipher_export` copies
/// everything into `<path>.encrypting`, which is synced and renamed over
/// `path` (atomic on one file system), the old `-wal`/`-shm` files are removed
/// and the directory is synced. If anything fails the old file stays as it
/// was and the error says so. (The old plaintext may survive in free blocks
/// of the disk; only full-disk encryption covers that.)
pub fn encrypt_in_place(path: &Path, key: &DatabaseKey) -> Result<(), Error> {
    let migration = |source: rusqlite::Error| Error::Migration {
        path: path.to_owned(),
        source,
    };
    let io = |context: &str, source| Error::Io {
        context: format!("{context} {}", path.display()),
        source,
    };
    let tmp = sidecar(path, ".encrypting");
    remove_if_present(&tmp).map_err(|e| io("remove the leftover of an earlier attempt for", e))?;
    {
        let plain = Connection::open(path).map_err(migration)?;
        plain
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(migration)?;
        plain
            .execute(
                "ATTACH DATABASE ?1 AS encrypted KEY ?2",
                params![tmp.to_string_lossy(), key.attach_literal()],
            )
            .map_err(migration)?;
        plain
            .query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))
            .map_err(migration)?;
        plain
            .execute_batch("DETACH DATABASE encrypted")
            .map_err(migration)?;
        plain.close().map_err(|(_, e)| migration(e))?;
    }
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("sync the encrypted copy of", e))?;
    std::fs::rename(&tmp, path).map_err(|e| io("replace", e))?;
    for suffix in ["-wal", "-shm"] {
        remove_if_present(&sidecar(path, suffix))
            .map_err(|e| io("remove the old journal of", e))?;
    }
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io("sync the directory of", e))?;
    }
    tracing::info!("an unencrypted database was encrypted in place");
    Ok(())
}

fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
