//! The registry: the hub's certificate authority, enrolment codes and
//! enrolled devices, behind a backend-neutral trait ([`Registry`]) with an
//! SQLCipher implementation ([`SqliteRegistry`], `registry.db`).

use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use xaso_sync_core::enrol::DEVICE_NUMBERS;
use xaso_sync_core::{Device, Role};
use xaso_sync_store::{DatabaseKey, db};

use crate::error::{EnrolmentRefused, HubError};

/// The hub's certificate authority and its own server certificate, as PEM.
#[derive(Clone)]
pub struct Authority {
    /// CA certificate (devices trust it).
    pub ca_cert_pem: String,
    /// CA private key.
    pub ca_key_pem: String,
    /// The hub's server certificate.
    pub server_cert_pem: String,
    /// Its private key.
    pub server_key_pem: String,
    /// DNS names and addresses the server certificate is valid for.
    pub server_names: Vec<String>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("server_names", &self.server_names)
            .finish_non_exhaustive()
    }
}

/// What an enrolment code grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The device's role.
    pub role: Role,
    /// The communes it may access.
    pub communes: Vec<String>,
}

/// A certificate issued to a device being enrolled.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The device id (also the certificate's common name).
    pub device_id: String,
    /// The certificate, PEM.
    pub cert_pem: String,
    /// SHA-256 of its DER, hex (how requests are matched to the device).
    pub cert_sha256: String,
}

/// A device just enrolled.
#[derive(Debug, Clone)]
pub struct Enrolled {
    /// What the code granted.
    pub grant: Grant,
    /// The device's number in its communes.
    pub device_number: u16,
    /// Its certificate.
    pub issued: Issued,
}

/// What the hub keeps about its authority, codes and devices. Implementations
/// must make [`Registry::redeem`] atomic: a code is used at most once, and a
/// device number is never given twice in a commune, also with several hub
/// processes on one database.
pub trait Registry: Send + Sync {
    /// The authority, if created.
    fn authority(&self) -> Result<Option<Authority>, HubError>;
    /// Keep `created` as the authority unless one exists; returns the one in force.
    fn init_authority(&self, created: Authority) -> Result<Authority, HubError>;
    /// Keep a new code (only its hash) granting `grant` until `expires_ms`.
    fn add_code(&self, code_hash: &str, grant: &Grant, expires_ms: i64) -> Result<(), HubError>;
    /// Redeem a code at `now_ms`: check it, pick the lowest free device
    /// number of its communes, let `issue` make the certificate, record the
    /// device and mark the code used — all or nothing.
    fn redeem(
        &self,
        code_hash: &str,
        now_ms: i64,
        issue: &mut dyn FnMut(&Grant, u16) -> Result<Issued, HubError>,
    ) -> Result<Enrolled, HubError>;
    /// Revoke a device at `now_ms`; returns its certificate hash if it was active.
    fn revoke(&self, device_id: &str, now_ms: i64) -> Result<Option<String>, HubError>;
    /// Every enrolled device, by id.
    fn devices(&self) -> Result<Vec<Device>, HubError>;
    /// The device holding the certificate with this SHA-256 (hex).
    fn device_by_cert(&self, cert_sha256: &str) -> Result<Option<Device>, HubError>;
    /// The id of the device that has (or had: revoked devices keep their number) number
    /// `number` in `commune`: whose tracking codes those are.
    fn device_by_number(&self, commune: &str, number: u16) -> Result<Option<String>, HubError>;
}

const MIGRATIONS: &[&str] = &[
    "CREATE TABLE authority (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        ca_cert_pem TEXT NOT NULL, ca_key_pem TEXT NOT NULL,
        server_cert_pem TEXT NOT NULL, server_key_pem TEXT NOT NULL, server_names TEXT NOT NULL);
     CREATE TABLE enrolment_codes (
        code_hash TEXT PRIMARY KEY, role TEXT NOT NULL, communes TEXT NOT NULL,
        expires_ms INTEGER NOT NULL, used_by TEXT);
     CREATE TABLE devices (
        device_id TEXT PRIMARY KEY, role TEXT NOT NULL, communes TEXT NOT NULL,
        cert_sha256 TEXT NOT NULL UNIQUE, enrolled_ms INTEGER NOT NULL, revoked_ms INTEGER);",
    // Device numbers for tracking codes (devices enrolled before this have none).
    "ALTER TABLE devices ADD COLUMN device_number INTEGER;",
];

/// The registry in an SQLCipher database (`registry.db`).
pub struct SqliteRegistry {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteRegistry")
    }
}

fn communes_of(text: &str) -> Vec<String> {
    text.split(',').map(str::to_owned).collect()
}

fn device_from_row(
    device_id: String,
    role: &str,
    communes: &str,
    revoked: Option<i64>,
) -> Result<Device, HubError> {
    Ok(Device {
        device_id,
        role: role.parse()?,
        communes: communes_of(communes),
        revoked: revoked.is_some(),
    })
}

impl SqliteRegistry {
    /// Open (or create) the registry database at `path` with `key`.
    pub fn open(path: &std::path::Path, key: &DatabaseKey) -> Result<Self, HubError> {
        let mut conn = db::open_encrypted(path, key, db::PageSize::Large)?;
        db::migrate(&mut conn, MIGRATIONS)?;
        Ok(SqliteRegistry {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>, HubError> {
        self.conn
            .lock()
            .map_err(|_| HubError::LockPoisoned("registry"))
    }
}

impl Registry for SqliteRegistry {
    fn authority(&self) -> Result<Option<Authority>, HubError> {
        let conn = self.conn()?;
        Ok(conn
            .query_row(
                "SELECT ca_cert_pem, ca_key_pem, server_cert_pem, server_key_pem, server_names
                 FROM authority WHERE id = 1",
                [],
                |r| {
                    Ok(Authority {
                        ca_cert_pem: r.get(0)?,
                        ca_key_pem: r.get(1)?,
                        server_cert_pem: r.get(2)?,
                        server_key_pem: r.get(3)?,
                        server_names: communes_of(&r.get::<_, String>(4)?),
                    })
                },
            )
            .optional()?)
    }

    fn init_authority(&self, created: Authority) -> Result<Authority, HubError> {
        {
            let conn = self.conn()?;
            conn.execute(
                "INSERT OR IGNORE INTO authority
                 (id, ca_cert_pem, ca_key_pem, server_cert_pem, server_key_pem, server_names)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5)",
                params![
                    created.ca_cert_pem,
                    created.ca_key_pem,
                    created.server_cert_pem,
                    created.server_key_pem,
                    created.server_names.join(",")
                ],
            )?;
        }
        self.authority()?
            .ok_or(HubError::Registry(rusqlite::Error::QueryReturnedNoRows))
    }

    fn add_code(&self, code_hash: &str, grant: &Grant, expires_ms: i64) -> Result<(), HubError> {
        self.conn()?.execute(
            "INSERT INTO enrolment_codes (code_hash, role, communes, expires_ms) VALUES (?1, ?2, ?3, ?4)",
            params![code_hash, grant.role.as_str(), grant.communes.join(","), expires_ms],
        )?;
        Ok(())
    }

    fn redeem(
        &self,
        code_hash: &str,
        now_ms: i64,
        issue: &mut dyn FnMut(&Grant, u16) -> Result<Issued, HubError>,
    ) -> Result<Enrolled, HubError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let row: Option<(String, String, i64, Option<String>)> = tx
            .query_row(
                "SELECT role, communes, expires_ms, used_by FROM enrolment_codes WHERE code_hash = ?1",
                [code_hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((role, communes, expires, used_by)) = row else {
            return Err(EnrolmentRefused::UnknownCode.into());
        };
        if used_by.is_some() {
            return Err(EnrolmentRefused::AlreadyUsed.into());
        }
        if expires < now_ms {
            return Err(EnrolmentRefused::Expired.into());
        }
        let grant = Grant {
            role: role.parse()?,
            communes: communes_of(&communes),
        };
        let device_number = free_device_number(&tx, &grant.communes)?;
        let issued = issue(&grant, device_number)?;
        tx.execute(
            "INSERT INTO devices (device_id, role, communes, cert_sha256, enrolled_ms, device_number)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                issued.device_id,
                grant.role.as_str(),
                communes,
                issued.cert_sha256,
                now_ms,
                device_number
            ],
        )?;
        tx.execute(
            "UPDATE enrolment_codes SET used_by = ?2 WHERE code_hash = ?1",
            params![code_hash, issued.device_id],
        )?;
        tx.commit()?;
        Ok(Enrolled {
            grant,
            device_number,
            issued,
        })
    }

    fn revoke(&self, device_id: &str, now_ms: i64) -> Result<Option<String>, HubError> {
        let conn = self.conn()?;
        let n = conn.execute(
            "UPDATE devices SET revoked_ms = ?2 WHERE device_id = ?1 AND revoked_ms IS NULL",
            params![device_id, now_ms],
        )?;
        if n == 0 {
            return Ok(None);
        }
        Ok(conn
            .query_row(
                "SELECT cert_sha256 FROM devices WHERE device_id = ?1",
                [device_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn devices(&self) -> Result<Vec<Device>, HubError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT device_id, role, communes, revoked_ms FROM devices ORDER BY device_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (device_id, role, communes, revoked) = row?;
            out.push(device_from_row(device_id, &role, &communes, revoked)?);
        }
        Ok(out)
    }

    fn device_by_cert(&self, cert_sha256: &str) -> Result<Option<Device>, HubError> {
        let conn = self.conn()?;
        let row: Option<(String, String, String, Option<i64>)> = conn
            .prepare_cached(
                "SELECT device_id, role, communes, revoked_ms FROM devices WHERE cert_sha256 = ?1",
            )?
            .query_row([cert_sha256], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        row.map(|(id, role, communes, revoked)| device_from_row(id, &role, &communes, revoked))
            .transpose()
    }

    fn device_by_number(&self, commune: &str, number: u16) -> Result<Option<String>, HubError> {
        self.number_holder(commune, number)
    }
}

impl SqliteRegistry {
    fn number_holder(&self, commune: &str, number: u16) -> Result<Option<String>, HubError> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached("SELECT device_id, communes FROM devices WHERE device_number = ?1")?;
        let rows = stmt.query_map([i64::from(number)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (id, communes) = row?;
            if communes_of(&communes).iter().any(|c| c == commune) {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }
}

/// The lowest device number no device sharing a commune with `communes` has
/// ever had (revoked devices keep theirs: codes they minted stay unique).
fn free_device_number(tx: &Connection, communes: &[String]) -> Result<u16, HubError> {
    let mut used = vec![false; usize::from(DEVICE_NUMBERS)];
    let mut stmt =
        tx.prepare("SELECT communes, device_number FROM devices WHERE device_number IS NOT NULL")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (theirs, number) = row?;
        if theirs.split(',').any(|c| communes.iter().any(|w| w == c))
            && let Some(slot) = usize::try_from(number).ok().and_then(|n| used.get_mut(n))
        {
            *slot = true;
        }
    }
    used.iter()
        .position(|u| !u)
        .and_then(|n| u16::try_from(n).ok())
        .ok_or_else(|| EnrolmentRefused::NoDeviceNumber(communes.join(",")).into())
}
