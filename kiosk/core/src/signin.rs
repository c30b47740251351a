//! Signing a commune officer (or a community helper) in on a tablet: their own chip card,
//! read and verified as a resident's is, then a PIN chosen at the first sign-in.
//!
//! ```text
//! WaitingForCard ──card read, verified, on the roster──▶ (PIN record asked of the app)
//!      ▲                                                   │ none          │ found
//!      │                                                   ▼               ▼
//!      │                                        ChoosingPin ──twice──▶ EnteringPin ──right──▶ SignedIn
//!      │                                                                 │ wrong ×N                │ idle
//!      └──── card removed / sign out ◀──────────── Locked{until} ◀──────┘          Idle-locked ◀──┘
//! ```
//!
//! The PIN is never kept: the tablet stores only an argon2id hash (PHC string) with the
//! count of wrong attempts and the end of a lock-out ([`PinRecord`]), written by the app
//! each time it changes (a [`SignInEffect::SavePin`]). Wrong PINs are limited: the
//! [`PinPolicy::free_failures`]-th wrong PIN in a row locks the PIN for
//! [`PinPolicy::first_lockout`], each further one for twice as long, up to
//! [`PinPolicy::max_lockout`]. The lock-out is kept as a
//! wall-clock time so a restart does not lift it. A signed-in session locks itself when left
//! alone ([`PinPolicy::idle`], with a visible countdown first) and opens again only with the
//! PIN.
//!
//! Pure: the salt for a new hash and every moment come in as arguments; hashing is
//! computation, not I/O.

use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use jiff::Timestamp;

use crate::card::CardIdentity;
use crate::idle::{IdlePolicy, IdleTimer};

/// The rules of a PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinPolicy {
    /// Fewest digits.
    pub min_digits: usize,
    /// Most digits.
    pub max_digits: usize,
    /// The wrong PIN that locks: this many in a row lock the PIN for
    /// [`first_lockout`](Self::first_lockout), each further one for twice as long.
    pub free_failures: u32,
    /// The first lock-out; each further wrong PIN doubles it.
    pub first_lockout: Duration,
    /// The longest lock-out.
    pub max_lockout: Duration,
    /// A signed-in session left alone locks after this, the last part with a countdown.
    pub idle: IdlePolicy,
    /// argon2id memory in KiB (tablets: 19 MiB, OWASP's minimum for argon2id).
    pub argon2_memory_kib: u32,
    /// argon2id passes.
    pub argon2_passes: u32,
}

impl Default for PinPolicy {
    fn default() -> Self {
        PinPolicy {
            min_digits: 6,
            max_digits: 12,
            free_failures: 5,
            first_lockout: Duration::from_secs(5 * 60),
            max_lockout: Duration::from_secs(24 * 3600),
            idle: IdlePolicy {
                timeout: Duration::from_secs(5 * 60),
                warning: Duration::from_secs(30),
            },
            argon2_memory_kib: 19 * 1024,
            argon2_passes: 2,
        }
    }
}

/// What a tablet keeps about one person's PIN (in its encrypted local store).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PinRecord {
    /// argon2id hash of the PIN, PHC string format (algorithm, parameters, salt, hash).
    pub phc: String,
    /// Wrong PINs since the last right one.
    pub failures: u32,
    /// Until when the PIN is locked after too many wrong ones.
    pub locked_until: Option<Timestamp>,
}

/// Someone who may sign in on this tablet: from the commune's roster (kept by the hub).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterEntry {
    /// How the person is named on screen and in audit entries (never the ID number).
    pub display_name: String,
    /// Their id in audit entries (e.g. `officer:79001:3`).
    pub actor_id: String,
}

/// Where signing in stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInState {
    /// Waiting for the person's own chip card.
    WaitingForCard,
    /// The card was read; the app is looking up the roster and the PIN record.
    Looking,
    /// The card cannot sign in here.
    Refused(SignInProblem),
    /// First sign-in on this tablet: choose a PIN, then type it again.
    ChoosingPin {
        /// The first entry, once typed (the second must match it).
        first: Option<String>,
        /// What is typed now.
        typed: String,
    },
    /// Type the PIN.
    EnteringPin { typed: String },
    /// Too many wrong PINs.
    Locked { until: Timestamp },
    /// Signed in.
    SignedIn,
    /// Signed in, but left alone: the PIN opens the session again.
    IdleLocked { typed: String },
}

/// Why a card cannot sign in, in terms of what the person can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInProblem {
    /// The card's data does not carry a valid signature of the issuing authority.
    NotVerified,
    /// The card holder is not on this commune's roster for this tablet's role.
    NotOnRoster,
    /// The card has no ID number.
    NoIdNumber,
}

/// Why a PIN entry was not accepted (shown on screen; nothing else changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinProblem {
    /// Too short or too long, or not only digits.
    BadLength,
    /// The second entry of a new PIN differs from the first.
    Mismatch,
    /// Wrong PIN; `left` more tries before a lock-out.
    Wrong { left: u32 },
    /// The stored hash cannot be read (a damaged record): choose a new PIN with the card.
    DamagedRecord,
}

/// What the app must do for sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInEffect {
    /// Look up the roster entry and the PIN record of this ID number; answer with
    /// [`SignIn::looked_up`].
    LookUp { id_number: String },
    /// Keep this PIN record for this ID number (durably, before answering anything else).
    SavePin {
        id_number: String,
        record: PinRecord,
    },
    /// Signed in (or unlocked again).
    SignedIn,
    /// The session ended: forget everything about the person.
    SignedOut,
}

/// The sign-in of one person on one tablet.
#[derive(Debug, Clone)]
pub struct SignIn {
    policy: PinPolicy,
    state: SignInState,
    id_number: Option<String>,
    person: Option<RosterEntry>,
    record: Option<PinRecord>,
    problem: Option<PinProblem>,
    idle: IdleTimer,
}

/// The argon2id hasher for `policy`.
fn argon2(policy: &PinPolicy) -> Option<Argon2<'static>> {
    let params = Params::new(policy.argon2_memory_kib, policy.argon2_passes, 1, None).ok()?;
    Some(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn is_pin(policy: &PinPolicy, text: &str) -> bool {
    (policy.min_digits..=policy.max_digits).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_digit())
}

impl SignIn {
    /// A tablet waiting for someone to sign in.
    pub fn new(policy: PinPolicy, now: Instant) -> SignIn {
        SignIn {
            policy,
            state: SignInState::WaitingForCard,
            id_number: None,
            person: None,
            record: None,
            problem: None,
            idle: IdleTimer::new(policy.idle, now),
        }
    }

    pub fn state(&self) -> &SignInState {
        &self.state
    }

    /// The signed-in person (also while idle-locked).
    pub fn person(&self) -> Option<&RosterEntry> {
        match self.state {
            SignInState::SignedIn | SignInState::IdleLocked { .. } => self.person.as_ref(),
            _ => None,
        }
    }

    /// Is someone signed in and the session open?
    pub fn is_open(&self) -> bool {
        self.state == SignInState::SignedIn
    }

    /// The last PIN entry's problem, shown until the next key.
    pub fn problem(&self) -> Option<PinProblem> {
        self.problem
    }

    /// Seconds left before an open session locks, once inside the warning.
    pub fn idle_countdown(&self, now: Instant) -> Option<u64> {
        if self.state == SignInState::SignedIn {
            self.idle.countdown(now)
        } else {
            None
        }
    }

    /// Any touch while signed in keeps the session open.
    pub fn touch(&mut self, now: Instant) {
        self.idle.touch(now);
    }

    /// The passage of time: an open session left alone locks.
    pub fn tick(&mut self, now: Instant, at: Timestamp) {
        match &self.state {
            SignInState::SignedIn if self.idle.expired(now) => {
                self.state = SignInState::IdleLocked {
                    typed: String::new(),
                };
            }
            SignInState::Locked { until } if at >= *until => {
                self.state = SignInState::EnteringPin {
                    typed: String::new(),
                };
            }
            _ => {}
        }
    }

    /// The person's card was read. Only a verified card with an ID number signs in.
    pub fn card_read(&mut self, identity: &CardIdentity, verified: bool) -> Vec<SignInEffect> {
        if matches!(
            self.state,
            SignInState::SignedIn | SignInState::IdleLocked { .. }
        ) {
            // Another card on a signed-in tablet: the session is not handed over.
            if identity.id_number() != self.id_number.as_deref() {
                return self.sign_out();
            }
            return Vec::new();
        }
        self.reset();
        if !verified {
            self.state = SignInState::Refused(SignInProblem::NotVerified);
            return Vec::new();
        }
        let Some(id) = identity.id_number() else {
            self.state = SignInState::Refused(SignInProblem::NoIdNumber);
            return Vec::new();
        };
        self.id_number = Some(id.to_owned());
        self.state = SignInState::Looking;
        vec![SignInEffect::LookUp {
            id_number: id.to_owned(),
        }]
    }

    /// The card was taken away: whatever was going on ends.
    pub fn card_removed(&mut self) -> Vec<SignInEffect> {
        if self.state == SignInState::WaitingForCard {
            return Vec::new();
        }
        self.sign_out()
    }

    /// The app's answer to [`SignInEffect::LookUp`].
    pub fn looked_up(
        &mut self,
        person: Option<RosterEntry>,
        record: Option<PinRecord>,
        at: Timestamp,
    ) -> Vec<SignInEffect> {
        if self.state != SignInState::Looking {
            return Vec::new();
        }
        let Some(person) = person else {
            self.state = SignInState::Refused(SignInProblem::NotOnRoster);
            return Vec::new();
        };
        self.person = Some(person);
        self.state = match &record {
            None => SignInState::ChoosingPin {
                first: None,
                typed: String::new(),
            },
            Some(PinRecord {
                locked_until: Some(until),
                ..
            }) if at < *until => SignInState::Locked { until: *until },
            Some(_) => SignInState::EnteringPin {
                typed: String::new(),
            },
        };
        self.record = record;
        Vec::new()
    }

    /// One digit of the PIN pad.
    pub fn digit(&mut self, d: char) {
        if !d.is_ascii_digit() {
            return;
        }
        let max = self.policy.max_digits;
        if let Some(typed) = self.typed_mut()
            && typed.len() < max
        {
            typed.push(d);
        }
        self.problem = None;
    }

    /// Remove the last digit.
    pub fn backspace(&mut self) {
        if let Some(typed) = self.typed_mut() {
            typed.pop();
        }
        self.problem = None;
    }

    fn typed_mut(&mut self) -> Option<&mut String> {
        match &mut self.state {
            SignInState::ChoosingPin { typed, .. }
            | SignInState::EnteringPin { typed }
            | SignInState::IdleLocked { typed } => Some(typed),
            _ => None,
        }
    }

    /// "OK" on the PIN pad. `salt` is fresh randomness for a new PIN's hash (at least 16
    /// bytes; used only when a PIN is being chosen); `at` is the wall-clock time.
    pub fn submit(&mut self, salt: &[u8], now: Instant, at: Timestamp) -> Vec<SignInEffect> {
        self.idle.touch(now);
        let Some(id_number) = self.id_number.clone() else {
            return Vec::new();
        };
        match std::mem::replace(&mut self.state, SignInState::WaitingForCard) {
            SignInState::ChoosingPin { first, typed } => self.choose(id_number, first, typed, salt),
            SignInState::EnteringPin { typed } => self.check_pin(id_number, typed, at, false),
            SignInState::IdleLocked { typed } => self.check_pin(id_number, typed, at, true),
            other => {
                self.state = other;
                Vec::new()
            }
        }
    }

    /// "Sign out".
    pub fn sign_out(&mut self) -> Vec<SignInEffect> {
        self.reset();
        vec![SignInEffect::SignedOut]
    }

    fn reset(&mut self) {
        self.state = SignInState::WaitingForCard;
        self.id_number = None;
        self.person = None;
        self.record = None;
        self.problem = None;
    }

    fn choose(
        &mut self,
        id_number: String,
        first: Option<String>,
        typed: String,
        salt: &[u8],
    ) -> Vec<SignInEffect> {
        if !is_pin(&self.policy, &typed) {
            self.problem = Some(PinProblem::BadLength);
            self.state = SignInState::ChoosingPin {
                first,
                typed: String::new(),
            };
            return Vec::new();
        }
        let Some(first) = first else {
            self.state = SignInState::ChoosingPin {
                first: Some(typed),
                typed: String::new(),
            };
            return Vec::new();
        };
        if first != typed {
            self.problem = Some(PinProblem::Mismatch);
            self.state = SignInState::ChoosingPin {
                first: None,
                typed: String::new(),
            };
            return Vec::new();
        }
        let phc = SaltString::encode_b64(salt).ok().and_then(|salt| {
            argon2(&self.policy)?
                .hash_password(typed.as_bytes(), &salt)
                .ok()
                .map(|h| h.to_string())
        });
        let Some(phc) = phc else {
            // Only a salt shorter than argon2 allows gets here: a defect of the app.
            self.problem = Some(PinProblem::DamagedRecord);
            self.state = SignInState::ChoosingPin {
                first: None,
                typed: String::new(),
            };
            return Vec::new();
        };
        let record = PinRecord {
            phc,
            failures: 0,
            locked_until: None,
        };
        self.record = Some(record.clone());
        self.state = SignInState::SignedIn;
        vec![
            SignInEffect::SavePin { id_number, record },
            SignInEffect::SignedIn,
        ]
    }

    fn check_pin(
        &mut self,
        id_number: String,
        typed: String,
        at: Timestamp,
        idle_locked: bool,
    ) -> Vec<SignInEffect> {
        let retry = |typed: String| {
            if idle_locked {
                SignInState::IdleLocked { typed }
            } else {
                SignInState::EnteringPin { typed }
            }
        };
        let Some(mut record) = self.record.clone() else {
            self.state = retry(String::new());
            return Vec::new();
        };
        if let Some(until) = record.locked_until
            && at < until
        {
            self.state = SignInState::Locked { until };
            return Vec::new();
        }
        let verified = match (PasswordHash::new(&record.phc), argon2(&self.policy)) {
            (Ok(hash), Some(a)) => a.verify_password(typed.as_bytes(), &hash).is_ok(),
            _ => {
                self.problem = Some(PinProblem::DamagedRecord);
                self.state = retry(String::new());
                return Vec::new();
            }
        };
        if verified {
            let changed = record.failures != 0 || record.locked_until.is_some();
            record.failures = 0;
            record.locked_until = None;
            self.record = Some(record.clone());
            self.state = SignInState::SignedIn;
            let mut effects = Vec::new();
            if changed {
                effects.push(SignInEffect::SavePin { id_number, record });
            }
            effects.push(SignInEffect::SignedIn);
            return effects;
        }
        record.failures = record.failures.saturating_add(1);
        if record.failures >= self.policy.free_failures {
            let over = record.failures - self.policy.free_failures;
            let factor = 2u32.saturating_pow(over);
            let lockout = self
                .policy
                .first_lockout
                .saturating_mul(factor)
                .min(self.policy.max_lockout);
            let until = at
                .checked_add(jiff::SignedDuration::try_from(lockout).unwrap_or_default())
                .unwrap_or(at);
            record.locked_until = Some(until);
            self.state = SignInState::Locked { until };
        } else {
            self.problem = Some(PinProblem::Wrong {
                left: self.policy.free_failures - record.failures,
            });
            self.state = retry(String::new());
        }
        self.record = Some(record.clone());
        vec![SignInEffect::SavePin { id_number, record }]
    }
}

#[cfg(test)]
mod tests;
