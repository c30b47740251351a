//! Putting a kiosk together from its configuration (used by the binary, the tour and tests).

use std::path::PathBuf;

use xaso_i18n::Translations;
use xaso_kiosk_core::{IdlePolicy, Moment, ResidentJourney};
use xaso_services::{Catalog, CommuneCode};

use crate::app::App;
use crate::camera::V4l2Camera;
use crate::card_reader::CardReader;
use crate::clock::Clock;
use crate::counter::{HubCounter, NoCounter};
use crate::image_files::DirectoryImages;
use crate::printer::{DevicePrinter, ReceiptPrinter};
use crate::qr_pictures::{NoQrPictures, QrPictureDirectory, QrPictures};
use crate::shell::{ReceiptOutput, ShellParts};
use crate::store::KioskStore;
use crate::ui::AppWindow;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the procedure catalog is broken: {0}")]
    Catalog(#[from] xaso_services::CatalogError),
    #[error("the translations are broken: {0}")]
    Translations(#[from] xaso_i18n::TranslationError),
    #[error("commune code: {0}")]
    Commune(#[from] xaso_services::TrackingError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Pins(#[from] crate::officer::pins::PinStoreError),
    #[error("a helper's tablet needs a store directory")]
    HelperWithoutStore,
}

pub struct KioskConfig {
    /// Directory of the store; `None` keeps it in memory.
    pub store: Option<PathBuf>,
    /// This kiosk's device id at the commune hub (from enrolment).
    pub device_id: String,
    pub commune: String,
    pub device: u16,
    /// Directory image files are imported from.
    pub papers_dir: PathBuf,
    /// Directory where pictures of the card's QR code arrive (`None`: scanner only).
    pub qr_images: Option<PathBuf>,
    /// The V4L2 document camera (`None`: papers only from image files).
    pub camera: Option<PathBuf>,
    pub receipt: ReceiptOutput,
    pub idle: IdlePolicy,
    pub speech: bool,
    /// The commune hub (its URL and this device's identity), for the resident's counter:
    /// dossiers handed in at other kiosks. `None`: only this kiosk's dossiers.
    pub hub: Option<(String, xaso_sync_client::Identity)>,
    /// A helper's tablet: the journey runs inside assisted sessions (needs `store`).
    pub helper: Option<xaso_kiosk_core::signin::PinPolicy>,
    /// Digital-skills lessons: the province's keys, a pack to install, the certificate key.
    /// The shelf of installed packs is `<store>/lessons` (set here when there is a store).
    pub lessons: crate::lessons::LessonsConfig,
}

pub fn build(
    ui: AppWindow,
    mut config: KioskConfig,
    clock: Box<dyn Clock>,
    card: Box<dyn CardReader>,
) -> Result<App, SetupError> {
    let translations = Translations::bundled()?;
    let catalog = Catalog::bundled_with(&translations)?;
    let commune = CommuneCode::new(&config.commune)?;
    let store = match &config.store {
        Some(dir) => KioskStore::open(dir, commune, config.device, &config.device_id)?,
        None => KioskStore::in_memory(commune, config.device, &config.device_id)?,
    };
    let at = Moment {
        now: clock.now(),
        today: clock.today(),
    };
    let journey = ResidentJourney::new(catalog, at).with_idle_policy(config.idle);
    let helper = match (&config.helper, &config.store) {
        (None, _) => None,
        (Some(_), None) => return Err(SetupError::HelperWithoutStore),
        (Some(policy), Some(dir)) => {
            let pins = crate::officer::pins::PinStore::open(
                &dir.join("pins.db"),
                &dir.join("device.key"),
            )?;
            Some(crate::helper::HelperDesk::new(
                &config.commune,
                &config.device_id,
                pins,
                *policy,
                at.now,
            ))
        }
    };
    if config.lessons.shelf.is_none() {
        config.lessons.shelf = config.store.as_ref().map(|dir| dir.join("lessons"));
    }
    let lessons = crate::lessons::LessonDesk::new(
        std::mem::take(&mut config.lessons),
        &config.commune,
        &config.device_id,
    );
    let qr_pictures: Box<dyn QrPictures> = match &config.qr_images {
        Some(dir) => Box::new(QrPictureDirectory::new(dir)),
        None => Box::new(NoQrPictures),
    };
    let printer = config
        .receipt
        .printer
        .as_deref()
        .map(|path| Box::new(DevicePrinter::new(path)) as Box<dyn ReceiptPrinter>);
    Ok(App::new(
        ui,
        ShellParts {
            journey,
            store,
            device: config.device,
            translations,
            clock,
            card,
            images: match &config.camera {
                Some(device) => Box::new(V4l2Camera::new(device, &config.papers_dir)),
                None => Box::new(DirectoryImages::new(&config.papers_dir)),
            },
            qr_pictures,
            printer,
            receipts_dir: config.receipt.save_dir,
            speech: config.speech,
            counter: match &config.hub {
                Some((url, identity)) => match HubCounter::new(url, identity) {
                    Ok(c) => Box::new(c),
                    Err(e) => {
                        tracing::warn!("no counter at the hub: {e}");
                        Box::new(NoCounter)
                    }
                },
                None => Box::new(NoCounter),
            },
            helper,
            lessons,
        },
    ))
}
