#![allow(dead_code)]
//! A small content set for the crate's tests (the real modules are checked in content.rs).

use std::collections::BTreeMap;

pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\nnot really an image";

pub fn files() -> BTreeMap<String, Vec<u8>> {
    let mut f = BTreeMap::new();
    fn put(f: &mut BTreeMap<String, Vec<u8>>, path: &str, text: &str) {
        f.insert(path.to_owned(), text.as_bytes().to_vec());
    }
    put(
        &mut f,
        "tracks.toml",
        r#"[[tracks]]
id = "basics"
title = { vi = "Cơ bản", en = "Basics" }
summary = { vi = "Tóm tắt", en = "Summary" }
modules = ["wifi", "kiosk"]
"#,
    );
    for (id, order) in [("wifi", 1), ("kiosk", 2)] {
        put(
            &mut f,
            &format!("{id}/module.toml"),
            &format!(
                r#"id = "{id}"
version = 1
track = "basics"
order = {order}
languages = ["vi", "en"]
minutes = 10
title = {{ vi = "Bài {id}", en = "Lesson {id}" }}
summary = {{ vi = "Tóm tắt", en = "Summary" }}
mastery = {{ m = 2, n = 3 }}
pages = ["01", "02", "03", "04"]
"#
            ),
        );
        for page in ["01", "02", "03", "04"] {
            put(
                &mut f,
                &format!("{id}/pages/{page}.vi.md"),
                &format!("# Trang {page}\n\nNội dung **quan trọng**.\n\n![Hình](pic.png)\n"),
            );
            put(
                &mut f,
                &format!("{id}/pages/{page}.en.md"),
                &format!("# Page {page}\n\nSome **important** text.\n\n![Picture](pic.png)\n"),
            );
        }
        put(
            &mut f,
            &format!("{id}/quiz.toml"),
            r#"[[questions]]
id = "q1"
kind = "single"
prompt = { vi = "Câu 1?", en = "Question 1?" }
explanation = { vi = "Vì A.", en = "Because A." }
choices = [
  { id = "a", correct = true, text = { vi = "A", en = "A" } },
  { id = "b", correct = false, text = { vi = "B", en = "B" } },
]

[[questions]]
id = "q2"
kind = "multiple"
prompt = { vi = "Câu 2?", en = "Question 2?" }
explanation = { vi = "A và C.", en = "A and C." }
choices = [
  { id = "a", correct = true, text = { vi = "A", en = "A" } },
  { id = "b", correct = false, text = { vi = "B", en = "B" } },
  { id = "c", correct = true, text = { vi = "C", en = "C" } },
]

[[questions]]
id = "q3"
kind = "tap"
prompt = { vi = "Chạm vào nút tra cứu", en = "Tap the status button" }
explanation = { vi = "Nút ở dưới bên trái.", en = "Bottom left." }
picture = "screen.png"
screen = "home"
element = "kiosk.home.status"
region = [0.05, 0.5, 0.4, 0.4]
"#,
        );
        f.insert(format!("{id}/images/pic.png"), PNG.to_vec());
        f.insert(format!("{id}/images/screen.png"), PNG.to_vec());
    }
    f.insert(
        "kiosk/practice.toml".into(),
        r#"flow = "submit"
procedure = "marital-status-certificate"
intro = { vi = "Thử nộp hồ sơ", en = "Try submitting" }
[[steps]]
screen = "home"
element = "kiosk.home.card"
hint = { vi = "Chạm vào đây", en = "Tap here" }
"#
        .as_bytes()
        .to_vec(),
    );
    f
}
