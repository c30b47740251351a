//! The lessons' presenter: the lesson desk's state pushed into the window's `Lessons`
//! global. Models are created once and updated in place; pictures are decoded once.

use std::collections::HashMap;
use std::rc::Rc;

use slint::{ComponentHandle, Image, ModelRc, VecModel};
use xaso_i18n::{Lang, Translations};
use xaso_kiosk_core::lesson::LessonView;
use xaso_training::markdown::Block;
use xaso_training::{ModuleStatus, QuestionKind};

use super::LessonDesk;
use crate::present::rgba_image;
use crate::present::rows::sync_rows;
use crate::ui::{self, AppWindow, Lessons};

pub struct LessonsPresenter {
    rows: Rc<VecModel<ui::LessonRow>>,
    blocks: Rc<VecModel<ui::PageBlock>>,
    choices: Rc<VecModel<ui::QuizChoice>>,
    pictures: HashMap<(String, String), Image>,
    qr_for: Option<String>,
}

fn state(s: ModuleStatus) -> ui::ModuleState {
    match s {
        ModuleStatus::NotStarted => ui::ModuleState::NotStarted,
        ModuleStatus::InProgress => ui::ModuleState::InProgress,
        ModuleStatus::Completed => ui::ModuleState::Completed,
    }
}

impl LessonsPresenter {
    pub fn new(ui: &AppWindow) -> LessonsPresenter {
        let g = ui.global::<Lessons>();
        let rows = Rc::new(VecModel::default());
        g.set_rows(ModelRc::from(rows.clone()));
        let blocks = Rc::new(VecModel::default());
        g.set_blocks(ModelRc::from(blocks.clone()));
        let choices = Rc::new(VecModel::default());
        g.set_choices(ModelRc::from(choices.clone()));
        LessonsPresenter {
            rows,
            blocks,
            choices,
            pictures: HashMap::new(),
            qr_for: None,
        }
    }

    fn picture(&mut self, desk: &LessonDesk, module: &str, file: &str) -> Image {
        let key = (module.to_owned(), file.to_owned());
        if let Some(img) = self.pictures.get(&key) {
            return img.clone();
        }
        let img = desk
            .journey()
            .library()
            .image(module, file)
            .and_then(|bytes| image::load_from_memory(bytes).ok())
            .map(|i| {
                let rgba = i.to_rgba8();
                rgba_image(rgba.as_raw(), rgba.width(), rgba.height())
            })
            .unwrap_or_default();
        self.pictures.insert(key, img.clone());
        img
    }

    pub fn present(&mut self, ui: &AppWindow, desk: &LessonDesk, t: &Translations, lang: Lang) {
        let g = ui.global::<Lessons>();
        let journey = desk.journey();
        let library = journey.library();
        let progress = journey.progress();
        let identified = journey.learner().id.is_some();
        g.set_learner(
            journey
                .learner()
                .name
                .clone()
                .filter(|_| identified)
                .unwrap_or_default()
                .into(),
        );
        g.set_installed(
            desk.installed()
                .map(|h| {
                    t.get(
                        lang,
                        "kiosk.skills.installed",
                        &[
                            ("version", &h.version.to_string()),
                            ("date", &xaso_i18n::format_date(h.created)),
                        ],
                    )
                })
                .unwrap_or_default()
                .into(),
        );
        // The list: each track, then its modules.
        let mut rows = Vec::new();
        for track in library.tracks() {
            let finished = progress.track_completed(library, &track.id);
            rows.push(ui::LessonRow {
                track: true,
                id: track.id.as_str().into(),
                title: track.title.get(lang).into(),
                subtitle: track.summary.get(lang).into(),
                state: ui::ModuleState::NotStarted,
                finished,
                certified: progress.certificates.contains_key(&track.id),
            });
            for m in track.modules.iter().filter_map(|id| library.module(id)) {
                rows.push(ui::LessonRow {
                    track: false,
                    id: m.id.as_str().into(),
                    title: m.title.get(lang).into(),
                    subtitle: t
                        .get(
                            lang,
                            "kiosk.skills.minutes",
                            &[("minutes", &m.minutes.to_string())],
                        )
                        .into(),
                    state: state(progress.status(m)),
                    finished: false,
                    certified: false,
                });
            }
        }
        sync_rows(&self.rows, rows);
        let practising = desk.practice.is_some();
        g.set_practising(practising);
        if let Some(run) = &desk.practice {
            g.set_practice_step(i32::try_from(run.step() + 1).unwrap_or(0));
            g.set_practice_steps(i32::try_from(run.steps()).unwrap_or(0));
            let code = run.sample_code().unwrap_or_default();
            g.set_practice_hint(
                run.hint()
                    .map_or(String::new(), |s| s.hint.get(lang).replace("{code}", &code))
                    .into(),
            );
        }
        let view = journey.view().clone();
        let module_id = match &view {
            LessonView::Page { module, .. }
            | LessonView::Quiz { module, .. }
            | LessonView::Done { module }
            | LessonView::Practice { module } => Some(module.clone()),
            _ => None,
        };
        if let Some(m) = module_id.as_deref().and_then(|id| library.module(id)) {
            g.set_module_title(m.title.get(lang).into());
            g.set_page_count(i32::try_from(m.pages.len()).unwrap_or(0));
            g.set_has_practice(m.practice.is_some());
            g.set_practised(progress.practices.contains_key(&m.id));
            g.set_mastery_m(i32::try_from(m.mastery.m).unwrap_or(0));
            g.set_mastered(progress.is_mastered(&m.id));
            let (right, n) = progress.window(m);
            g.set_window_correct(i32::try_from(right).unwrap_or(0));
            g.set_window_size(i32::try_from(m.mastery.n.max(n)).unwrap_or(0));
            let track = library.track(&m.track);
            g.set_track_id(m.track.as_str().into());
            g.set_track_title(track.map_or("", |t| t.title.get(lang)).into());
            g.set_can_certify(
                progress.track_completed(library, &m.track)
                    && !progress.certificates.contains_key(&m.track),
            );
        }
        match &view {
            LessonView::Catalog | LessonView::Practice { .. } => {
                g.set_mode(ui::LessonMode::Catalog)
            }
            LessonView::Page { module, index } => {
                g.set_mode(ui::LessonMode::Page);
                g.set_page_number(i32::try_from(index + 1).unwrap_or(0));
                let page = library.module(module).and_then(|m| m.pages.get(*index));
                if let Some(page) = page.map(|p| p.get(lang).clone()) {
                    g.set_page_heading(page.heading.as_str().into());
                    let blocks = page
                        .blocks
                        .iter()
                        .map(|b| match b {
                            Block::Paragraph(spans) | Block::Item { spans, .. } => ui::PageBlock {
                                kind: if matches!(b, Block::Paragraph(_)) {
                                    ui::BlockKind::Paragraph
                                } else {
                                    ui::BlockKind::Item
                                },
                                text: spans
                                    .iter()
                                    .map(|s| s.text.as_str())
                                    .collect::<String>()
                                    .into(),
                                bold: spans.iter().all(|s| s.bold),
                                number: match b {
                                    Block::Item {
                                        number: Some(n), ..
                                    } => n.to_string().into(),
                                    _ => "".into(),
                                },
                                image: Image::default(),
                            },
                            Block::Image { file, alt } => ui::PageBlock {
                                kind: ui::BlockKind::Image,
                                text: alt.as_str().into(),
                                bold: false,
                                number: "".into(),
                                image: self.picture(desk, module, file),
                            },
                        })
                        .collect();
                    sync_rows(&self.blocks, blocks);
                }
            }
            LessonView::Quiz {
                module,
                question,
                picked,
                feedback,
            } => {
                g.set_mode(ui::LessonMode::Quiz);
                let q = library
                    .module(module)
                    .and_then(|m| m.questions.get(*question))
                    .cloned();
                if let Some(q) = q {
                    g.set_kind(match q.kind {
                        QuestionKind::Single => ui::QuestionKind::Single,
                        QuestionKind::Multiple => ui::QuestionKind::Multiple,
                        QuestionKind::Tap => ui::QuestionKind::Tap,
                    });
                    g.set_prompt(q.prompt.get(lang).into());
                    g.set_explanation(q.explanation.get(lang).into());
                    let choices = q
                        .choices
                        .iter()
                        .map(|c| ui::QuizChoice {
                            id: c.id.as_str().into(),
                            text: c.text.get(lang).into(),
                            picked: picked.contains(&c.id),
                            correct: c.correct,
                        })
                        .collect();
                    sync_rows(&self.choices, choices);
                    let picture = q
                        .picture
                        .as_deref()
                        .map(|f| self.picture(desk, module, f))
                        .unwrap_or_default();
                    g.set_picture(picture);
                    if let Some(r) = q.region {
                        let [x, y, w, h] = r.0;
                        g.set_region_x(x as f32);
                        g.set_region_y(y as f32);
                        g.set_region_w(w as f32);
                        g.set_region_h(h as f32);
                    }
                }
                g.set_answered(feedback.is_some());
                g.set_correct(feedback.is_some_and(|f| f.correct));
                if let Some(f) = feedback {
                    g.set_window_correct(i32::try_from(f.window.0).unwrap_or(0));
                }
            }
            LessonView::Done { .. } => g.set_mode(ui::LessonMode::Done),
            LessonView::Certificate { track, code, id } => {
                g.set_mode(ui::LessonMode::Certificate);
                if let Some(c) = &desk.last_certificate {
                    g.set_certificate_name(c.certificate.name.as_str().into());
                    g.set_certificate_date(xaso_i18n::format_date(c.certificate.date).into());
                }
                g.set_certificate_track(
                    library
                        .track(track)
                        .map_or("", |t| t.title.get(lang))
                        .into(),
                );
                g.set_certificate_commune(desk.commune_name().into());
                g.set_certificate_id(id.as_str().into());
                g.set_certificate_saved(desk.certificate_saved.is_some());
                if self.qr_for.as_deref() != Some(code.as_str()) {
                    match crate::receipt::qr_image(code, 6) {
                        Ok(q) => g.set_certificate_qr(rgba_image(&q.rgba, q.width, q.width)),
                        Err(e) => tracing::error!("certificate QR: {e}"),
                    }
                    self.qr_for = Some(code.clone());
                }
            }
        }
    }
}

/// The helper's classes page: the list, or the open class's table.
pub struct ClassroomPresenter {
    classes: Rc<VecModel<ui::Item>>,
    modules: Rc<VecModel<ui::Item>>,
    rows: Rc<VecModel<ui::ClassRow>>,
    totals: Rc<VecModel<slint::SharedString>>,
}

impl ClassroomPresenter {
    pub fn new(ui: &AppWindow) -> ClassroomPresenter {
        let g = ui.global::<ui::Classroom>();
        let classes = Rc::new(VecModel::default());
        g.set_classes(ModelRc::from(classes.clone()));
        let modules = Rc::new(VecModel::default());
        g.set_modules(ModelRc::from(modules.clone()));
        let rows = Rc::new(VecModel::default());
        g.set_rows(ModelRc::from(rows.clone()));
        let totals = Rc::new(VecModel::default());
        g.set_totals(ModelRc::from(totals.clone()));
        ClassroomPresenter {
            classes,
            modules,
            rows,
            totals,
        }
    }

    pub fn present(&mut self, ui: &AppWindow, shell: &crate::shell::Shell, lang: Lang) {
        use super::classroom::{Notice, status_word};
        let g = ui.global::<ui::Classroom>();
        let t = shell.translations();
        let store = shell.store();
        let commune = store.commune().to_string();
        let library = shell.lessons().journey().library();
        let mut classes = super::records::classes(store.records(), &commune).unwrap_or_default();
        classes.sort_by_key(|c| std::cmp::Reverse(c.created));
        sync_rows(
            &self.classes,
            classes
                .iter()
                .map(|c| ui::Item {
                    id: c.id.as_str().into(),
                    title: c.name.as_str().into(),
                    subtitle: t
                        .get(
                            lang,
                            "kiosk.classroom.class_subtitle",
                            &[
                                ("count", &c.learners.len().to_string()),
                                ("helper", &c.helper),
                            ],
                        )
                        .into(),
                })
                .collect(),
        );
        let Some(room) = &shell.classroom else {
            g.set_name("".into());
            return;
        };
        g.set_name(room.class.name.as_str().into());
        g.set_helper(room.class.helper.as_str().into());
        g.set_notice(
            match &room.notice {
                None => String::new(),
                Some(Notice::Enrolled(name)) => {
                    t.get(lang, "kiosk.classroom.enrolled", &[("name", name)])
                }
                Some(Notice::AlreadyEnrolled(name)) => {
                    t.get(lang, "kiosk.classroom.already", &[("name", name)])
                }
                Some(Notice::NotVerified) => t.get(lang, "kiosk.classroom.not_verified", &[]),
                Some(Notice::Failed) => t.get(lang, "kiosk.classroom.failed", &[]),
                Some(Notice::Exported { csv, pdf }) => t.get(
                    lang,
                    "kiosk.classroom.exported",
                    &[
                        ("csv", &csv.display().to_string()),
                        ("pdf", &pdf.display().to_string()),
                    ],
                ),
            }
            .into(),
        );
        let report = match room.report(store.records(), &commune, library, lang) {
            Ok(r) => r,
            Err(e) => return tracing::error!("class report: {e}"),
        };
        sync_rows(
            &self.modules,
            report
                .modules
                .iter()
                .enumerate()
                .map(|(i, (id, title))| ui::Item {
                    id: id.as_str().into(),
                    title: (i + 1).to_string().into(),
                    subtitle: title.as_str().into(),
                })
                .collect(),
        );
        let rows = report
            .rows
            .iter()
            .map(|r| ui::ClassRow {
                name: r.name.as_str().into(),
                marks: ModelRc::new(VecModel::from(
                    r.modules
                        .iter()
                        .map(|s| slint::SharedString::from(status_word(t, lang, *s)))
                        .collect::<Vec<_>>(),
                )),
                done: i32::try_from(
                    r.modules
                        .iter()
                        .filter(|s| **s == ModuleStatus::Completed)
                        .count(),
                )
                .unwrap_or(0),
            })
            .collect::<Vec<_>>();
        // Rows hold nested models: rewrite them (a class is a few dozen lines).
        self.rows.set_vec(rows);
        sync_rows(
            &self.totals,
            report
                .completed_per_module()
                .iter()
                .map(|n| n.to_string().into())
                .collect(),
        );
    }
}
