//! Digital-skills lessons on the kiosk: the installed content pack, the lesson journey
//! ([`xaso_kiosk_core::lesson`]), the learner's records, the practice sandbox and the
//! certificates this kiosk signs.
//!
//! The shell owns a [`LessonDesk`]; it routes the lesson screens' taps to it and performs
//! the journey's effects here: progress is written to the commune's learning partition
//! (merged with what is stored) before the answer's explanation is shown; a certificate is
//! signed with the province's certificate key this kiosk was given, if any.

pub mod classroom;
pub mod config;
pub mod packs;
pub mod practice;
pub mod present;
pub mod records;

use std::path::PathBuf;
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use jiff::Timestamp;
use xaso_kiosk_core::lesson::{Learner, LessonEffect, LessonInput, LessonJourney, LessonView};
use xaso_sync_store::Store;
use xaso_training::Library;
use xaso_training::certificate::{self, Certificate};
use xaso_training::pack::{PackHeader, TrustedKey};

/// The province's key this kiosk signs certificates with (its id in the trust list).
pub struct Issuer {
    pub kid: String,
    pub key: SigningKey,
    pub province: String,
}

/// How a kiosk's lessons are set up (from its configuration).
#[derive(Default)]
pub struct LessonsConfig {
    /// Where installed packs live (`<store>/lessons`); `None`: no shelf (nothing installed).
    pub shelf: Option<PathBuf>,
    /// The province's keys for content packs.
    pub trusted: Vec<TrustedKey>,
    /// A pack to install at start (verified like any other; an older or equal version is
    /// ignored).
    pub install: Option<PathBuf>,
    /// Signs certificates; `None`: certificates cannot be issued on this kiosk.
    pub issuer: Option<Issuer>,
    /// The commune's name as certificates show it.
    pub commune_name: String,
}

/// The last certificate issued here (for the screen, its PDF and tests).
#[derive(Debug, Clone)]
pub struct IssuedCertificate {
    pub certificate: Certificate,
    pub code: String,
    pub track_title: String,
}

pub struct LessonDesk {
    journey: LessonJourney,
    installed: Option<PackHeader>,
    issuer: Option<Issuer>,
    commune: String,
    commune_name: String,
    device_id: String,
    pub practice: Option<practice::PracticeRun>,
    pub last_certificate: Option<IssuedCertificate>,
    pub certificate_saved: Option<PathBuf>,
    /// Certificates issued on this device (part of each certificate's id).
    issued: u64,
}

impl LessonDesk {
    /// Loads the installed pack (installing `config.install` first when it is newer).
    pub fn new(config: LessonsConfig, commune: &str, device_id: &str) -> LessonDesk {
        let mut pack = None;
        if let Some(dir) = &config.shelf {
            let shelf = packs::Shelf::new(dir, config.trusted.clone());
            if let Some(file) = &config.install {
                match std::fs::read(file) {
                    Ok(bytes) => match shelf.install(&bytes) {
                        Ok(p) => pack = Some(p),
                        Err(e) => tracing::warn!("{e}"),
                    },
                    Err(e) => tracing::warn!("cannot read the lesson pack {}: {e}", file.display()),
                }
            }
            if pack.is_none() {
                match shelf.load() {
                    Ok(p) => pack = p,
                    Err(e) => tracing::error!("the installed lesson pack is not shown: {e}"),
                }
            }
        }
        let (library, installed) = match pack {
            Some(p) => (p.library, Some(p.header)),
            None => (Library::empty(), None),
        };
        LessonDesk {
            journey: LessonJourney::new(Arc::new(library), device_id),
            installed,
            issuer: config.issuer,
            commune: commune.to_owned(),
            commune_name: config.commune_name,
            device_id: device_id.to_owned(),
            practice: None,
            last_certificate: None,
            certificate_saved: None,
            issued: 0,
        }
    }

    pub fn journey(&self) -> &LessonJourney {
        &self.journey
    }
    pub fn installed(&self) -> Option<&PackHeader> {
        self.installed.as_ref()
    }
    pub fn commune_name(&self) -> &str {
        &self.commune_name
    }

    /// The session ended: forget the learner.
    pub fn reset(&mut self) {
        self.journey.reset();
        self.practice = None;
        self.last_certificate = None;
        self.certificate_saved = None;
    }

    /// The card verified in the session names the learner (a different card starts over).
    pub fn identify(&mut self, store: &mut Store, id_number: &str, name: &str, now: Timestamp) {
        let learner = LessonJourney::learner_for(id_number, name);
        if self.journey.learner() == &learner {
            return;
        }
        self.handle(store, LessonInput::Identify(learner), now);
    }

    /// One input to the lesson journey, then its effects. Returns the practice to start,
    /// if the journey asked for one.
    pub fn handle(
        &mut self,
        store: &mut Store,
        input: LessonInput,
        now: Timestamp,
    ) -> Option<String> {
        let effects = match self.journey.handle(input, now) {
            Ok(e) => e,
            Err(refusal) => {
                tracing::debug!(%refusal, "lesson input refused");
                return None;
            }
        };
        let mut practice = None;
        for effect in effects {
            match effect {
                LessonEffect::LoadProgress(learner) => {
                    match records::load_progress(store, &self.commune, &learner) {
                        Ok(Some(stored)) => {
                            let _ = self.handle(store, LessonInput::Loaded(stored), now);
                        }
                        Ok(None) => {}
                        Err(e) => tracing::error!("learning progress not loaded: {e}"),
                    }
                }
                LessonEffect::SaveProgress(progress) => {
                    if let Err(e) = records::save_progress(store, &self.commune, &progress) {
                        tracing::error!("learning progress not saved: {e}");
                    }
                }
                LessonEffect::StartPractice {
                    module,
                    practice: p,
                } => {
                    self.practice = Some(
                        practice::PracticeRun::new(&module, &p)
                            .with_sample(practice::sample_dossier(&self.commune, now)),
                    );
                    practice = Some(module);
                }
                LessonEffect::IssueCertificate { track, name } => {
                    if let Some(input) = self.issue(&track, &name, now) {
                        let _ = self.handle(store, input, now);
                    }
                }
            }
        }
        practice
    }

    fn issue(&mut self, track: &str, name: &str, now: Timestamp) -> Option<LessonInput> {
        let Some(issuer) = &self.issuer else {
            tracing::warn!("no certificate key on this kiosk: the certificate cannot be issued");
            return None;
        };
        self.issued += 1;
        let id = format!("{}-{}-{}", self.device_id, now.as_second(), self.issued);
        let certificate = Certificate {
            id: id.clone(),
            name: name.to_owned(),
            track: track.to_owned(),
            date: xaso_services::calendar::vietnam_date(now),
            commune: self.commune.clone(),
            province: issuer.province.clone(),
            issued_at: now.as_second(),
        };
        match certificate::issue(&certificate, &issuer.kid, &issuer.key) {
            Ok(code) => {
                let track_title = self
                    .journey
                    .library()
                    .track(track)
                    .map(|t| t.title.vi.clone())
                    .unwrap_or_default();
                tracing::info!(track, "certificate issued");
                self.last_certificate = Some(IssuedCertificate {
                    certificate,
                    code: code.clone(),
                    track_title,
                });
                self.certificate_saved = None;
                Some(LessonInput::CertificateIssued {
                    track: track.to_owned(),
                    id,
                    code,
                })
            }
            Err(e) => {
                tracing::error!("certificate not issued: {e}");
                None
            }
        }
    }

    /// Is the lesson journey waiting for a practice?
    pub fn practising(&self) -> bool {
        matches!(self.journey.view(), LessonView::Practice { .. })
    }

    /// What "read aloud" says on the lesson screens: the page, or the question with its
    /// choices (and, once answered, the explanation). `None` on the list.
    pub fn read_aloud(&self, lang: xaso_i18n::Lang) -> Option<String> {
        let library = self.journey.library();
        match self.journey.view() {
            LessonView::Page { module, index } => library
                .module(module)
                .and_then(|m| m.pages.get(*index))
                .map(|p| p.get(lang).plain_text()),
            LessonView::Quiz {
                module,
                question,
                feedback,
                ..
            } => {
                let q = library.module(module)?.questions.get(*question)?;
                let mut text = q.prompt.get(lang).to_owned();
                for (i, c) in q.choices.iter().enumerate() {
                    text.push_str(&format!("\n{}. {}", i + 1, c.text.get(lang)));
                }
                if feedback.is_some() {
                    text.push('\n');
                    text.push_str(q.explanation.get(lang));
                }
                Some(text)
            }
            _ => None,
        }
    }

    /// Who is learning (for the screens).
    pub fn learner(&self) -> &Learner {
        self.journey.learner()
    }
}
