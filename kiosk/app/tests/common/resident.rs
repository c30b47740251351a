//! The resident's steps every journey test takes: typing on the on-screen keyboard, the
//! birth registration form with the card, papers, review and submit.

use xaso_kiosk::ui::{AppWindow, CardState, Screen};

use super::{elements, tap, value_of};

/// Types on the on-screen keyboard, key by key.
pub fn type_keys(ui: &impl slint::ComponentHandle, text: &str) {
    for ch in text.chars() {
        match ch {
            ' ' => tap(ui, "Dấu cách"),
            c if c.is_uppercase() => {
                tap(ui, "Chữ hoa");
                tap(ui, &c.to_lowercase().to_string());
            }
            c => tap(ui, &c.to_string()),
        }
    }
}

/// Home → tap card → birth of a child → birth registration: the form, pre-filled.
pub fn open_birth_form_with_card(ui: &AppWindow) {
    assert_eq!(ui.get_screen(), Screen::Home);
    tap(ui, "Chạm thẻ căn cước");
    assert_eq!(ui.get_screen(), Screen::Identify);
    assert_eq!(ui.get_card_state(), CardState::Waiting);
    tap(ui, "Thẻ mẫu: Nguyễn Thị Mai Anh");
    assert_eq!(ui.get_card_state(), CardState::Verified);
    tap(ui, "Tiếp tục");
    assert_eq!(ui.get_screen(), Screen::Services);
    tap(ui, "Sinh con");
    assert_eq!(ui.get_screen(), Screen::LifeEvent);
    tap(ui, "Đăng ký khai sinh");
    assert_eq!(ui.get_screen(), Screen::Form);
}

pub fn fill_birth_form(ui: &AppWindow) {
    tap(ui, "Quan hệ với trẻ: Mẹ");
    tap(ui, "Họ, chữ đệm, tên của trẻ");
    type_keys(ui, "Nguyeenx Minh Khang");
    assert_eq!(
        value_of(ui, "Họ, chữ đệm, tên của trẻ"),
        "Nguyễn Minh Khang"
    );
    tap(ui, "Ngày, tháng, năm sinh của trẻ");
    type_keys(ui, "20/11/2026");
    tap(ui, "Giới tính của trẻ: Nam");
    tap(ui, "Nơi sinh (cơ sở y tế hoặc địa chỉ)");
    type_keys(ui, "Trajm y tees xax Taan Laapj");
    tap(ui, "Dân tộc của trẻ");
    type_keys(ui, "Kinh");
    tap(ui, "Họ, chữ đệm, tên người mẹ");
    type_keys(ui, "Nguyeenx Thij Mai Anh");
    tap(ui, "Số định danh cá nhân người mẹ");
    type_keys(ui, "079303001234");
    tap(ui, "Xong");
}

/// Form (filled) → two photos → review → consent → submit → receipt. Returns the code.
pub fn papers_review_submit(ui: &AppWindow) -> String {
    papers_review_submit_with(ui, false)
}

/// The papers, review and consent; `fetch_earlier`: also tick "let the commune fetch my
/// earlier results from the national portal" (optional, unticked until ticked).
pub fn papers_review_submit_with(ui: &AppWindow, fetch_earlier: bool) -> String {
    tap(ui, "Tiếp theo: giấy tờ");
    assert_eq!(ui.get_screen(), Screen::Papers);
    // No document camera on this kiosk: no "Chụp" button, only files.
    assert!(elements(ui, "Chụp Giấy chứng sinh").is_empty());
    tap(ui, "Chọn tệp ảnh cho Giấy chứng sinh");
    tap(ui, "Chọn tệp ảnh cho Giấy chứng sinh");
    assert_eq!(elements(ui, "Ảnh 1 của Giấy chứng sinh").len(), 1);
    assert_eq!(elements(ui, "Ảnh 2 của Giấy chứng sinh").len(), 1);
    tap(ui, "Tiếp theo: xem lại");
    assert_eq!(ui.get_screen(), Screen::Review);
    // Without consent nothing is submitted.
    tap(ui, "Gửi hồ sơ");
    assert_eq!(ui.get_screen(), Screen::Review);
    assert!(ui.get_consent_missing());
    let fetch = "Cho phép xã lấy kết quả đã cấp trước đây từ Cổng Dịch vụ công quốc gia";
    assert_eq!(elements(ui, fetch)[0].accessible_checked(), Some(false));
    if fetch_earlier {
        tap(ui, fetch);
        assert!(ui.get_fetch_earlier());
        assert_eq!(elements(ui, fetch)[0].accessible_checked(), Some(true));
    }
    tap(
        ui,
        "Tôi đồng ý cho cơ quan giải quyết thủ tục sử dụng thông tin trên",
    );
    tap(ui, "Gửi hồ sơ");
    assert_eq!(ui.get_screen(), Screen::Receipt);
    value_of(ui, "Mã hồ sơ")
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}
