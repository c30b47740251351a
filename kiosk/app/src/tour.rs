//! Rendering without a display: a Slint platform whose only window is a
//! `MinimalSoftwareWindow` drawn by the software renderer into a buffer. Used by the
//! screenshot tour (`xaso-kiosk --screenshots DIR`) and the headless demo, which drive the real
//! window and shell exactly as taps would.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};
use slint::{PhysicalSize, Rgb8Pixel};

use xaso_kiosk_core::{CardEvent, CardProblem};

use crate::app::App;
use crate::clock::ManualClock;
use crate::ui::{Language, RatingLevel, Screen};

struct HeadlessPlatform {
    window: Rc<MinimalSoftwareWindow>,
    start: Instant,
}

impl Platform for HeadlessPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        Ok(self.window.clone())
    }
    fn duration_since_start(&self) -> Duration {
        self.start.elapsed()
    }
}

/// The headless window; create it before any Slint component.
pub struct Headless {
    window: Rc<MinimalSoftwareWindow>,
}

impl Headless {
    pub fn install() -> Result<Headless, slint::PlatformError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        slint::platform::set_platform(Box::new(HeadlessPlatform {
            window: window.clone(),
            start: Instant::now(),
        }))
        .map_err(|e| slint::PlatformError::Other(e.to_string()))?;
        Ok(Headless { window })
    }

    /// Renders the window at `width`×`height` into an RGB image.
    pub fn render(&self, width: u32, height: u32) -> image::RgbImage {
        self.window.set_size(PhysicalSize::new(width, height));
        slint::platform::update_timers_and_animations();
        self.window.request_redraw();
        let mut buf = vec![Rgb8Pixel::default(); (width * height) as usize];
        self.window.draw_if_needed(|renderer| {
            renderer.render(&mut buf, width as usize);
        });
        let raw: Vec<u8> = buf.iter().flat_map(|p| [p.r, p.g, p.b]).collect();
        image::RgbImage::from_raw(width, height, raw)
            .unwrap_or_else(|| image::RgbImage::new(width, height))
    }
}

/// Writes a PNG with the best compression (the tour's pictures are kept in git).
pub fn save_png(img: &image::RgbImage, path: &Path) -> Result<(), image::ImageError> {
    use image::ImageEncoder;
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let file = std::fs::File::create(path).map_err(image::ImageError::IoError)?;
    PngEncoder::new_with_quality(
        std::io::BufWriter::new(file),
        CompressionType::Best,
        FilterType::Adaptive,
    )
    .write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    )
}

/// Portrait and landscape sizes of the kiosk screens.
pub const SIZES: [(&str, u32, u32); 2] = [("portrait", 1080, 1920), ("landscape", 1920, 1080)];

/// What the scripted journey does at each screen it reaches.
pub trait Shots {
    /// The journey reached the screen `name` (`home`, `card-waiting`…).
    fn shot(&mut self, app: &App, name: &str) -> Result<(), image::ImageError>;
}

/// Saves each screen it is shown in both orientations.
pub struct Camera<'a> {
    pub headless: &'a Headless,
    pub dir: Option<PathBuf>,
    pub count: usize,
    pub written: Vec<PathBuf>,
}

impl Shots for Camera<'_> {
    fn shot(&mut self, _app: &App, name: &str) -> Result<(), image::ImageError> {
        let Some(dir) = self.dir.clone() else {
            return Ok(());
        };
        self.count += 1;
        for (orientation, w, h) in SIZES {
            let sub = dir.join(orientation);
            std::fs::create_dir_all(&sub).map_err(image::ImageError::IoError)?;
            let path = sub.join(format!("{:02}-{name}.png", self.count));
            save_png(&self.headless.render(w, h), &path)?;
            self.written.push(path);
        }
        // leave the window at the portrait size
        self.headless.render(SIZES[0].1, SIZES[0].2);
        Ok(())
    }
}

fn type_text(app: &App, text: &str) {
    for ch in text.chars() {
        app.ui.invoke_key(ch.to_string().into());
    }
}

/// The demo's resident: idcard's synthetic identity `nguyen-thi-mai-anh` (the scripted
/// journey places her software card; with `--card pcsc --demo` her card's access key is used).
pub const DEMO_RESIDENT: &str = "nguyen-thi-mai-anh";

/// The scripted resident: Nguyễn Thị Mai Anh (a synthetic identity on the software chip
/// card) registers the birth of her son through the "birth of
/// a child" life event, attaching two photos of the birth certificate, then rates the
/// service and looks the dossier up. Shows every screen to `camera`.
/// With a `clock` the resident also pauses long enough to see the idle warning.
pub fn scripted_journey(
    app: &App,
    shots: &mut dyn Shots,
    clock: Option<&ManualClock>,
) -> Result<String, image::ImageError> {
    let ui = &app.ui;
    let mut shot = |name: &str| shots.shot(app, name);
    phase("start");
    shot("home")?;
    ui.invoke_open(Screen::Identify);
    shot("card-waiting")?;
    app.card_event(CardEvent::Present);
    shot("card-reading")?;
    app.card_event(CardEvent::Failed(CardProblem::RemovedTooEarly));
    shot("card-error")?;
    // The card's QR code through the scanner: the chip is then opened with its keys.
    ui.invoke_qr_scan();
    shot("card-qr-scan")?;
    match xaso_idcard::softcard::Identity::builtin_named(DEMO_RESIDENT) {
        Ok(identity) => ui.invoke_qr_text(identity.qr_text().into()),
        Err(e) => tracing::error!("demo resident: {e}"),
    }
    shot("card-qr-read")?;
    ui.invoke_choose_resident(DEMO_RESIDENT.into());
    shot("card-verified")?;
    ui.invoke_card_continue();
    shot("services")?;
    type_text(app, "khai sinh");
    shot("search")?;
    ui.invoke_clear_text();
    ui.invoke_choose_life_event("birth".into());
    shot("life-event")?;
    phase("before form");
    ui.invoke_choose_procedure("birth-registration".into());
    shot("form-prefilled")?;
    ui.invoke_form_next();
    shot("form-errors")?;
    ui.invoke_choose_value("requester_relationship".into(), "mother".into());
    ui.invoke_focus_field("child_full_name".into());
    type_text(app, "Nguyeenx Minh Khang");
    shot("form-keyboard")?;
    if let Some(clock) = clock {
        clock.advance(std::time::Duration::from_secs(100));
        app.tick();
        shot("idle-warning")?;
        ui.invoke_still_here();
    }
    let today = app.journey(|k| k.today());
    let born = today
        .checked_sub(jiff::Span::new().days(3))
        .unwrap_or(today);
    ui.invoke_focus_field("child_date_of_birth".into());
    type_text(app, &born.strftime("%d/%m/%Y").to_string());
    ui.invoke_choose_value("child_sex".into(), "male".into());
    ui.invoke_focus_field("child_place_of_birth".into());
    type_text(app, "Trajm y tees xax Taan Laapj");
    ui.invoke_focus_field("child_ethnicity".into());
    type_text(app, "Kinh");
    ui.invoke_focus_field("mother_full_name".into());
    type_text(app, "Nguyeenx Thij Mai Anh");
    ui.invoke_focus_field("mother_id_number".into());
    type_text(app, "079303001234");
    ui.invoke_keyboard_done();
    ui.invoke_form_next();
    shot("papers-empty")?;
    phase("before papers");
    ui.invoke_paper_import("birth_certificate".into());
    ui.invoke_paper_import("birth_certificate".into());
    phase("after papers");
    shot("papers")?;
    ui.invoke_papers_next();
    shot("review")?;
    ui.invoke_set_consent(true);
    phase("before submit");
    ui.invoke_submit();
    phase("after submit");
    shot("receipt")?;
    ui.invoke_receipt_save();
    ui.invoke_receipt_save_pdf();
    let code = ui.get_tracking_code().to_string();
    ui.invoke_to_rating();
    ui.invoke_choose_rating(RatingLevel::VerySatisfied);
    type_text(app, "nhanh, de dung");
    shot("rating")?;
    ui.invoke_send_rating();
    shot("thanks")?;
    ui.invoke_go_home();
    ui.invoke_open(Screen::Status);
    type_text(app, &code);
    ui.invoke_status_lookup();
    shot("status")?;
    ui.invoke_clear_text();
    type_text(app, "01234-261123-00000-00");
    ui.invoke_status_lookup();
    shot("error")?;
    phase("end");
    ui.invoke_go_home();
    ui.invoke_set_lang(Language::En);
    shot("home-english")?;
    ui.invoke_set_lang(Language::Vi);
    Ok(code)
}

/// Where the tour writes, for messages.
pub fn describe(dir: &Path) -> String {
    format!("{}/{{portrait,landscape}}/NN-screen.png", dir.display())
}

/// Resident set size at a phase of the journey, logged when `XASO_KIOSK_PHASES` is set
/// (for finding where memory goes).
fn phase(name: &str) {
    if std::env::var_os("XASO_KIOSK_PHASES").is_none() {
        return;
    }
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let _ = std::io::Write::write_fmt(
        &mut std::io::stderr(),
        format_args!("phase {name}: {rss}\n"),
    );
}
