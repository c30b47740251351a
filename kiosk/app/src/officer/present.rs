//! Pushes the officer shell's state into the [`OfficerWindow`], models updated in place
//! (only rows that changed are written). Texts are translated here, dates shown as the day
//! in Viet Nam.

use std::rc::Rc;

use slint::{Image, Model, ModelRc, Rgba8Pixel, SharedPixelBuffer, SharedString, VecModel};
use xaso_i18n::format_date;
use xaso_kiosk_core::officer::DeskState;
use xaso_kiosk_core::signin::{PinProblem, SignInProblem, SignInState};
use xaso_services::calendar::vietnam_date;
use xaso_services::{Action, Dossier};

use super::attachment;
use super::charts::ChartsKey;
use super::link::LinkState as Link;
use super::shell::{OfficerShell, OfficerView, Typing as T};
use crate::present::rows::sync_rows;
use crate::ui::{
    ActionButton, Bar, ChartView, ConflictChoice, DeadLetterRow, DecisionView, DossierAction,
    FieldConflictView, FieldLine, HistoryLine, Item, LinkState, OfficerScreen, OfficerWindow,
    PageView, PinNotice, QueueRow, SignInStep, Typing, WaitingLine,
};

/// Translates a key with named arguments in the tablet's language.
type Tr<'a> = dyn Fn(&str, &[(&str, &str)]) -> SharedString + 'a;

fn model<T: Clone + 'static>(set: impl FnOnce(ModelRc<T>)) -> Rc<VecModel<T>> {
    let m = Rc::new(VecModel::default());
    set(ModelRc::from(m.clone()));
    m
}

/// The pages shown, by what they are (rebuilt only when this changes).
#[derive(PartialEq)]
struct PageSpec {
    sha256: String,
    zoom: u16,
    turns: u8,
}

pub struct OfficerPresenter {
    cards: Rc<VecModel<Item>>,
    rows: Rc<VecModel<QueueRow>>,
    fields: Rc<VecModel<FieldLine>>,
    conflicts: Rc<VecModel<FieldConflictView>>,
    decisions: Rc<VecModel<DecisionView>>,
    pages: Rc<VecModel<PageView>>,
    page_specs: Vec<PageSpec>,
    history: Rc<VecModel<HistoryLine>>,
    actions: Rc<VecModel<ActionButton>>,
    waiting: Rc<VecModel<WaitingLine>>,
    dead_letters: Rc<VecModel<DeadLetterRow>>,
    queue_bars: Rc<VecModel<Bar>>,
    procedure_bars: Rc<VecModel<Bar>>,
    charts: Rc<VecModel<ChartView>>,
    certificate_lines: Rc<VecModel<FieldLine>>,
    /// What the charts on screen were drawn from (decoded again only when it changes).
    charts_key: Option<ChartsKey>,
}

impl OfficerPresenter {
    pub fn new(ui: &OfficerWindow) -> OfficerPresenter {
        OfficerPresenter {
            cards: model(|m| ui.set_cards(m)),
            rows: model(|m| ui.set_rows(m)),
            fields: model(|m| ui.set_fields(m)),
            conflicts: model(|m| ui.set_field_conflicts(m)),
            decisions: model(|m| ui.set_decisions(m)),
            pages: model(|m| ui.set_pages(m)),
            page_specs: Vec::new(),
            history: model(|m| ui.set_history(m)),
            actions: model(|m| ui.set_actions(m)),
            waiting: model(|m| ui.set_waiting_lines(m)),
            dead_letters: model(|m| ui.set_dead_letters(m)),
            queue_bars: model(|m| ui.set_queue_bars(m)),
            procedure_bars: model(|m| ui.set_procedure_bars(m)),
            charts: model(|m| ui.set_charts(m)),
            certificate_lines: model(|m| ui.set_certificate_lines(m)),
            charts_key: None,
        }
    }

    pub fn present(&mut self, ui: &OfficerWindow, shell: &OfficerShell) {
        let t = |key: &str, args: &[(&str, &str)]| -> SharedString {
            shell.translations().get(shell.lang(), key, args).into()
        };
        ui.set_screen(match shell.view() {
            OfficerView::SignIn => OfficerScreen::SignIn,
            OfficerView::Queue => OfficerScreen::Queue,
            OfficerView::Dossier => OfficerScreen::Dossier,
            OfficerView::Sync => OfficerScreen::Sync,
            OfficerView::Dashboard => OfficerScreen::Dashboard,
            OfficerView::Certificates => OfficerScreen::Certificates,
        });
        ui.set_typing(match shell.typing() {
            T::Nothing => Typing::Nothing,
            T::Search => Typing::Search,
            T::Reason => Typing::Reason,
        });
        ui.set_person(
            shell
                .person()
                .map(|p| p.display_name.as_str())
                .unwrap_or("")
                .into(),
        );
        ui.set_idle_countdown(
            shell
                .idle_countdown()
                .map_or(-1, |c| i32::try_from(c).unwrap_or(i32::MAX)),
        );
        let waiting = shell.waiting();
        ui.set_waiting(i32::try_from(waiting.total()).unwrap_or(i32::MAX));
        self.sign_in(ui, shell);
        if !shell.sign_in().is_open() {
            return;
        }
        let today = shell.today();
        // queue
        let q = shell.queue();
        let n = |x: u64| i32::try_from(x).unwrap_or(i32::MAX);
        ui.set_overdue(n(q.counts.overdue));
        ui.set_due_today(n(q.counts.due_today));
        ui.set_open_count(n(q.counts.open));
        ui.set_conflicts(n(q.counts.conflicts));
        ui.set_search_text(shell.search_text().into());
        let rows = q
            .rows
            .iter()
            .map(|r| {
                let urgency = r.urgency(today);
                QueueRow {
                    id: format!("{}|{}", r.partition, r.record_id).into(),
                    code: r.tracking_code.as_str().into(),
                    name: r.full_name.as_str().into(),
                    procedure: shell
                        .catalog()
                        .procedure(&r.procedure)
                        .map_or(r.procedure.as_str(), |p| p.name.get(shell.lang()))
                        .into(),
                    state: t(r.state.key(), &[]),
                    due: r.due.map(format_date).unwrap_or_default().into(),
                    overdue: urgency == xaso_queue::Urgency::Overdue,
                    due_today: urgency == xaso_queue::Urgency::DueToday,
                    conflict: r.conflict,
                }
            })
            .collect();
        sync_rows(&self.rows, rows);
        self.dossier(ui, shell, &t);
        self.sync(ui, shell, &t, waiting);
        self.dashboard(ui, shell, &t);
        super::certificates_page::present(ui, shell, &t, &self.certificate_lines);
    }

    fn procedure_name(&self, shell: &OfficerShell, d: &Dossier) -> SharedString {
        shell
            .catalog()
            .procedure(d.procedure.as_str())
            .map_or(d.procedure.0.as_str(), |p| p.name.get(shell.lang()))
            .into()
    }

    fn sign_in(&mut self, ui: &OfficerWindow, shell: &OfficerShell) {
        let v = sign_in_view(shell.sign_in());
        ui.set_step(v.step);
        ui.set_pin_length(v.pin_length);
        ui.set_locked_until(v.locked_until.into());
        ui.set_pin_notice(v.notice);
        ui.set_tries_left(v.tries_left);
        let residents = shell.card_reader().residents();
        ui.set_demo(!residents.is_empty());
        sync_rows(
            &self.cards,
            residents
                .into_iter()
                .map(|r| Item {
                    id: r.id.into(),
                    title: r.name.into(),
                    subtitle: r.residence.into(),
                })
                .collect(),
        );
    }

    fn dossier(&mut self, ui: &OfficerWindow, shell: &OfficerShell, t: &Tr<'_>) {
        let Some(desk) = shell.desk() else {
            sync_rows(&self.fields, Vec::new());
            sync_rows(&self.actions, Vec::new());
            return;
        };
        let d = desk.dossier();
        let lang = shell.lang();
        let procedure = shell.catalog().procedure(d.procedure.as_str());
        let code = d
            .tracking_code
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        ui.set_dossier_title(format!("{} — {code}", self.procedure_name(shell, d)).into());
        ui.set_applicant(format!("{} · {}", d.applicant.full_name, d.applicant.id_number).into());
        ui.set_card_verified(d.applicant.card_verified);
        ui.set_dossier_state(t(d.state().key(), &[]));
        let label_of = |field: &str| -> String {
            procedure
                .and_then(|p| p.field(field))
                .map_or(field.to_owned(), |f| f.label.get(lang).to_owned())
        };
        sync_rows(
            &self.fields,
            d.values
                .iter()
                .map(|(k, v)| FieldLine {
                    label: label_of(k).into(),
                    value: v.as_str().into(),
                })
                .collect(),
        );
        let when = |ts: jiff::Timestamp| -> String {
            xaso_services::calendar::vietnam_time_zone()
                .to_datetime(ts)
                .strftime("%d/%m/%Y %H:%M")
                .to_string()
        };
        sync_rows(
            &self.conflicts,
            desk.field_conflicts()
                .iter()
                .map(|c| FieldConflictView {
                    field: c.field.as_str().into(),
                    label: label_of(&c.field).into(),
                    choices: ModelRc::new(VecModel::from(
                        c.choices
                            .iter()
                            .map(|ch| ConflictChoice {
                                value: ch.value.as_str().into(),
                                who: ch.author.as_str().into(),
                                when: when(ch.at).into(),
                            })
                            .collect::<Vec<_>>(),
                    )),
                })
                .collect(),
        );
        let decisions = desk
            .decision_conflict()
            .map(|c| {
                c.branches
                    .iter()
                    .map(|b| {
                        let last = b.entries.last().and_then(|i| d.audit().get(*i));
                        DecisionView {
                            outcome: t(b.outcome.key(), &[]),
                            who: format!("{} · {}", b.actor.id, b.device).into(),
                            when: when(b.at).into(),
                            reason: last.and_then(|e| e.reason.as_deref()).unwrap_or("").into(),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        sync_rows(&self.decisions, decisions);
        sync_rows(
            &self.history,
            d.audit()
                .iter()
                .map(|e| HistoryLine {
                    when: when(e.at).into(),
                    what: match &e.reason {
                        Some(r) => format!("{} — {r}", t(e.to.key(), &[])),
                        None => t(e.to.key(), &[]).to_string(),
                    }
                    .into(),
                    who: e.actor.id.as_str().into(),
                })
                .collect(),
        );
        sync_rows(
            &self.actions,
            desk.actions()
                .into_iter()
                .filter_map(|a| {
                    Some(ActionButton {
                        action: ui_action(a)?,
                        label: t(OfficerShell::action_key(a), &[]),
                    })
                })
                .collect(),
        );
        let (confirming, label, needs) = match desk.state() {
            DeskState::Confirming { action, .. } => (
                true,
                t(
                    "kiosk.officer.dossier.confirming",
                    &[("0", &t(OfficerShell::action_key(*action), &[]))],
                ),
                action.needs_reason(),
            ),
            _ => (false, SharedString::new(), false),
        };
        ui.set_confirming(confirming);
        ui.set_confirming_label(label);
        ui.set_needs_reason(needs);
        ui.set_reason(shell.reason_text().into());
        ui.set_saving(matches!(desk.state(), DeskState::Saving));
        ui.set_notice(shell.notice().map(|k| t(k, &[])).unwrap_or_default());
        ui.set_result(
            d.result
                .as_ref()
                .map(|r| {
                    t(
                        "kiosk.officer.dossier.result",
                        &[
                            ("0", r.signer_name.as_str()),
                            ("1", &format_date(vietnam_date(r.issued_at))),
                        ],
                    )
                })
                .unwrap_or_default(),
        );
        if let Some(p) = procedure {
            let start = d
                .audit()
                .iter()
                .find(|e| e.action == Action::Receive)
                .or_else(|| d.audit().first());
            let due = xaso_services::calendar::Holidays::bundled().due_date(
                vietnam_date(start.map_or(d.created_at, |e| e.at)),
                p.processing_days,
            );
            ui.set_dossier_due(t("kiosk.officer.dossier.due", &[("0", &format_date(due))]));
        }
        // Pages: rebuilt only when what is shown changed.
        let specs: Vec<PageSpec> = d
            .attachments
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let v = desk.page(i).unwrap_or_default();
                PageSpec {
                    sha256: a.sha256.clone(),
                    zoom: v.zoom,
                    turns: v.quarter_turns,
                }
            })
            .collect();
        if specs != self.page_specs {
            let partition_pages: Vec<PageView> = d
                .attachments
                .iter()
                .zip(&specs)
                .map(|(a, s)| {
                    let document = attachment::is_document(a);
                    PageView {
                        label: attachment::label(procedure, a, lang, &|k| t(k, &[]).into()).into(),
                        // A PDF is never drawn as a picture: named, with its size.
                        image: if document {
                            Image::default()
                        } else {
                            page_image(shell, &a.sha256)
                        },
                        zoom: i32::from(s.zoom),
                        turns: i32::from(s.turns),
                        document,
                        size: attachment::size_text(a.bytes).into(),
                    }
                })
                .collect();
            while self.pages.row_count() > 0 {
                self.pages.remove(self.pages.row_count() - 1);
            }
            for p in partition_pages {
                self.pages.push(p);
            }
            self.page_specs = specs;
        }
    }

    fn sync(
        &mut self,
        ui: &OfficerWindow,
        shell: &OfficerShell,
        t: &Tr<'_>,
        waiting: super::shell::Waiting,
    ) {
        let link = shell.link();
        ui.set_link(match link.state {
            Link::Idle => LinkState::Idle,
            Link::Syncing => LinkState::Syncing,
            Link::Offline => LinkState::Offline,
            Link::Failed => LinkState::Failed,
            Link::NoHub => LinkState::NoHub,
        });
        ui.set_last_ok(
            link.last_ok
                .map(|ts| {
                    xaso_services::calendar::vietnam_time_zone()
                        .to_datetime(ts)
                        .strftime("%d/%m/%Y %H:%M")
                        .to_string()
                })
                .unwrap_or_default()
                .into(),
        );
        ui.set_last_error(link.last_error.clone().unwrap_or_default().into());
        match (link.state, link.progress) {
            (Link::Syncing, Some(p)) => {
                let done = p.bytes_sent + p.bytes_received + p.blob_bytes_done;
                let total = p.blob_bytes_total.max(done);
                let eta = p.eta_s.map(|s| format!("{} s", s.round() as u64));
                let text = match eta {
                    Some(eta) => t(
                        "kiosk.officer.sync.progress_text",
                        &[
                            ("done", &attachment::size_text(done)),
                            ("total", &attachment::size_text(total)),
                            ("eta", &eta),
                        ],
                    ),
                    None => t(
                        "kiosk.officer.sync.progress_unknown",
                        &[("done", &attachment::size_text(done))],
                    ),
                };
                ui.set_progress(if total > 0 {
                    done as f32 / total as f32
                } else {
                    0.0
                });
                ui.set_progress_text(text);
            }
            _ => {
                ui.set_progress(-1.0);
                ui.set_progress_text(SharedString::new());
            }
        }
        let why = match link.state {
            Link::Offline | Link::NoHub => t("kiosk.officer.sync.why.no_link", &[]),
            Link::Failed => t("kiosk.officer.sync.why.failed", &[]),
            _ => t("kiosk.officer.sync.why.next", &[]),
        };
        let mut lines = Vec::new();
        for (n, key) in [
            (waiting.changes, "kiosk.officer.sync.changes"),
            (waiting.uploads, "kiosk.officer.sync.pages_up"),
            (waiting.downloads, "kiosk.officer.sync.pages_down"),
        ] {
            if n > 0 {
                lines.push(WaitingLine {
                    what: t(key, &[("n", &n.to_string())]),
                    why: why.clone(),
                });
            }
        }
        sync_rows(&self.waiting, lines);
        super::portal::present(ui, link, t, &self.dead_letters);
    }

    fn dashboard(&mut self, ui: &OfficerWindow, shell: &OfficerShell, t: &Tr<'_>) {
        let today = shell.today();
        ui.set_month(format!("{:02}/{}", today.month(), today.year()).into());
        let c = &shell.queue().counts;
        let count = |x: u64| usize::try_from(x).unwrap_or(usize::MAX);
        self_bars(
            &self.queue_bars,
            vec![
                (t("kiosk.officer.queue.overdue", &[]), count(c.overdue)),
                (t("kiosk.officer.queue.due_today", &[]), count(c.due_today)),
                (t("kiosk.officer.queue.conflicts", &[]), count(c.conflicts)),
                (t("kiosk.officer.queue.open", &[]), count(c.open)),
            ],
        );
        let mut by_procedure: Vec<(SharedString, usize)> = c
            .by_procedure
            .iter()
            .map(|(code, n)| {
                (
                    shell
                        .catalog()
                        .procedure(code)
                        .map_or(code.as_str(), |p| p.name.get(shell.lang()))
                        .into(),
                    count(*n),
                )
            })
            .collect();
        by_procedure.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        self_bars(&self.procedure_bars, by_procedure);
        let key = shell.charts().map(|c| c.key);
        if key != self.charts_key {
            let rows = shell
                .charts()
                .map(|c| {
                    c.charts
                        .iter()
                        .map(|m| ChartView {
                            title: t(chart_title(m.chart), &[]),
                            image: chart_image(&m.png),
                            height: m.height as f32,
                            summary: m.summary.as_str().into(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            sync_rows(&self.charts, rows);
            self.charts_key = key;
        }
    }
}

/// What the sign-in screen shows (the officer's and the helper's).
pub struct SignInView {
    pub step: SignInStep,
    pub pin_length: i32,
    pub locked_until: String,
    pub notice: PinNotice,
    pub tries_left: i32,
}

pub fn sign_in_view(s: &xaso_kiosk_core::signin::SignIn) -> SignInView {
    let mut locked_until = String::new();
    let (step, pin_len) = match s.state() {
        SignInState::WaitingForCard => (SignInStep::WaitingCard, 0),
        SignInState::Looking => (SignInStep::Looking, 0),
        SignInState::Refused(SignInProblem::NotOnRoster) => (SignInStep::NotOnRoster, 0),
        SignInState::Refused(_) => (SignInStep::NotVerified, 0),
        SignInState::ChoosingPin { first: None, typed } => (SignInStep::ChoosePin, typed.len()),
        SignInState::ChoosingPin {
            first: Some(_),
            typed,
        } => (SignInStep::ConfirmPin, typed.len()),
        SignInState::EnteringPin { typed } => (SignInStep::EnterPin, typed.len()),
        SignInState::Locked { until } => {
            locked_until = xaso_services::calendar::vietnam_time_zone()
                .to_datetime(*until)
                .strftime("%H:%M")
                .to_string();
            (SignInStep::Locked, 0)
        }
        SignInState::SignedIn => (SignInStep::SignedIn, 0),
        SignInState::IdleLocked { typed } => (SignInStep::IdleLocked, typed.len()),
    };
    let (notice, left) = match s.problem() {
        None => (PinNotice::None, 0),
        Some(PinProblem::BadLength) => (PinNotice::BadLength, 0),
        Some(PinProblem::Mismatch) => (PinNotice::Mismatch, 0),
        Some(PinProblem::Wrong { left }) => (PinNotice::Wrong, left),
        Some(PinProblem::DamagedRecord) => (PinNotice::Damaged, 0),
    };
    SignInView {
        step,
        pin_length: i32::try_from(pin_len).unwrap_or(0),
        locked_until,
        notice,
        tries_left: i32::try_from(left).unwrap_or(0),
    }
}

/// Bars from (label, count): lengths relative to the largest.
fn self_bars(model: &VecModel<Bar>, values: Vec<(SharedString, usize)>) {
    let largest = values.iter().map(|v| v.1).max().unwrap_or(0).max(1);
    sync_rows(
        model,
        values
            .into_iter()
            .map(|(label, n)| Bar {
                label,
                share: n as f32 / largest as f32,
                text: n.to_string().into(),
            })
            .collect(),
    );
}

fn ui_action(a: Action) -> Option<DossierAction> {
    Some(match a {
        Action::Receive => DossierAction::Receive,
        Action::StartProcessing => DossierAction::StartProcessing,
        Action::RequestSupplement => DossierAction::RequestSupplement,
        Action::Resume => DossierAction::Resume,
        Action::Approve => DossierAction::Approve,
        Action::Reject => DossierAction::Reject,
        Action::MarkResultReady => DossierAction::MarkResultReady,
        Action::ReturnResult => DossierAction::ReturnResult,
        Action::Withdraw => DossierAction::Withdraw,
        Action::Submit | Action::Supplement => return None,
    })
}

/// The lifecycle action of a button.
pub fn action_of(a: DossierAction) -> Action {
    match a {
        DossierAction::Receive => Action::Receive,
        DossierAction::StartProcessing => Action::StartProcessing,
        DossierAction::RequestSupplement => Action::RequestSupplement,
        DossierAction::Resume => Action::Resume,
        DossierAction::Approve => Action::Approve,
        DossierAction::Reject => Action::Reject,
        DossierAction::MarkResultReady => Action::MarkResultReady,
        DossierAction::ReturnResult => Action::ReturnResult,
        DossierAction::Withdraw => Action::Withdraw,
    }
}

/// The title of a chart of the month.
fn chart_title(chart: xaso_reports::charts::Chart) -> &'static str {
    use xaso_reports::charts::Chart;
    match chart {
        Chart::ByProcedure => "kiosk.officer.dashboard.submitted",
        Chart::Satisfaction => "kiosk.officer.dashboard.satisfaction",
        Chart::OnTime => "kiosk.officer.dashboard.on_time",
    }
}

/// A chart's PNG as an image for the window (empty if it does not decode).
fn chart_image(png: &[u8]) -> Image {
    match image::load_from_memory_with_format(png, image::ImageFormat::Png) {
        Ok(img) => rgba_image(&img.to_rgba8()),
        Err(e) => {
            tracing::error!("chart not decoded: {e}");
            Image::default()
        }
    }
}

fn rgba_image(img: &image::RgbaImage) -> Image {
    let mut buf = SharedPixelBuffer::<Rgba8Pixel>::new(img.width(), img.height());
    buf.make_mut_bytes().copy_from_slice(img.as_raw());
    Image::from_rgba8(buf)
}

/// A page of the open dossier as an image, from the dossier's partition (empty until its
/// bytes have arrived).
fn page_image(shell: &OfficerShell, sha256: &str) -> Image {
    let (Ok(hash), Some(partition)) = (
        sha256.parse::<xaso_sync_core::BlobHash>(),
        shell.open_partition(),
    ) else {
        return Image::default();
    };
    let Ok(Some(bytes)) = shell.store().blob(partition, &hash) else {
        return Image::default();
    };
    match image::load_from_memory(&bytes) {
        Ok(img) => rgba_image(&img.thumbnail(1200, 1200).to_rgba8()),
        Err(_) => Image::default(),
    }
}
