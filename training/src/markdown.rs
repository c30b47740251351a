//! Lesson pages: a restricted Markdown the kiosk can show as it is.
//!
//! A page is one `# Heading` first, then paragraphs, bullet (`- `) and numbered (`1. `)
//! lists without nesting, `**bold**` inside text, and images on their own line
//! (`![alt](file.png)`, a file of the module's `images/`). Anything else — links, tables,
//! code, HTML, sub-headings, nested lists — is refused with the line it is on, so an author
//! learns at once what the kiosk would not show.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};

/// One run of text, bold or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub text: String,
    pub bold: bool,
}

/// A block of a page, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Block {
    Paragraph(Vec<Span>),
    /// A list item; `number` is `Some(n)` in a numbered list.
    Item {
        number: Option<u64>,
        spans: Vec<Span>,
    },
    Image {
        file: String,
        alt: String,
    },
}

/// A parsed page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub heading: String,
    pub blocks: Vec<Block>,
}

impl Page {
    /// The files of the images the page shows.
    pub fn images(&self) -> impl Iterator<Item = &str> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Image { file, .. } => Some(file.as_str()),
            _ => None,
        })
    }

    /// The page as plain text (heading, then each block on its own line): for reading aloud
    /// and for word counts.
    pub fn plain_text(&self) -> String {
        let mut out = self.heading.clone();
        for block in &self.blocks {
            let line = match block {
                Block::Paragraph(spans) => join(spans),
                Block::Item {
                    number: Some(n),
                    spans,
                } => format!("{n}. {}", join(spans)),
                Block::Item {
                    number: None,
                    spans,
                } => format!("• {}", join(spans)),
                Block::Image { alt, .. } => alt.clone(),
            };
            out.push('\n');
            out.push_str(&line);
        }
        out
    }
}

fn join(spans: &[Span]) -> String {
    spans.iter().map(|s| s.text.as_str()).collect()
}

/// Why a page cannot be shown; `line` counts from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("line {line}: {what} is not allowed in a lesson page")]
    NotAllowed { line: usize, what: String },
    #[error("the page must start with one `# Heading`")]
    NoHeading,
    #[error("line {line}: a second heading (a page has exactly one `# Heading`, first)")]
    SecondHeading { line: usize },
    #[error("line {line}: an image must stand alone on its line as ![alt](file.png)")]
    ImageInText { line: usize },
    #[error("line {line}: the image `{file}` must be a plain file name ending in .png")]
    ImageName { line: usize, file: String },
    #[error("line {line}: the image `{file}` has no alt text (it is read aloud)")]
    ImageAlt { line: usize, file: String },
}

enum Open {
    None,
    Heading(String),
    Para(Vec<Span>),
    Item(Option<u64>, Vec<Span>),
    Image { file: String, alt: String },
}

/// Parses a page.
pub fn parse(source: &str) -> Result<Page, PageError> {
    let line_of = |offset: usize| source[..offset.min(source.len())].matches('\n').count() + 1;
    let mut heading: Option<String> = None;
    let mut blocks = Vec::new();
    let mut open = Open::None;
    let mut bold = false;
    let mut list: Option<Option<u64>> = None;
    let mut depth = 0usize;
    let mut in_image = false;
    for (event, range) in Parser::new_ext(source, Options::empty()).into_offset_iter() {
        let line = line_of(range.start);
        let not_allowed = |what: &str| PageError::NotAllowed {
            line,
            what: what.to_owned(),
        };
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                if level != HeadingLevel::H1 {
                    return Err(not_allowed("a sub-heading"));
                }
                if heading.is_some() {
                    return Err(PageError::SecondHeading { line });
                }
                if !blocks.is_empty() {
                    return Err(PageError::NoHeading);
                }
                open = Open::Heading(String::new());
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Open::Heading(text) = std::mem::replace(&mut open, Open::None) {
                    heading = Some(text.trim().to_owned());
                }
            }
            Event::Start(Tag::Paragraph) => {
                if heading.is_none() {
                    return Err(PageError::NoHeading);
                }
                match &mut open {
                    Open::Item(..) => {}
                    _ => open = Open::Para(Vec::new()),
                }
            }
            Event::End(TagEnd::Paragraph) => {
                match std::mem::replace(&mut open, Open::None) {
                    Open::Para(spans) if !spans.is_empty() => blocks.push(Block::Paragraph(spans)),
                    Open::Image { file, alt } => blocks.push(Block::Image { file, alt }),
                    // A paragraph inside a list item ends; the item goes on.
                    item @ Open::Item(..) => open = item,
                    _ => {}
                }
            }
            Event::Start(Tag::List(start)) => {
                if heading.is_none() {
                    return Err(PageError::NoHeading);
                }
                depth += 1;
                if depth > 1 {
                    return Err(not_allowed("a nested list"));
                }
                list = Some(start);
            }
            Event::End(TagEnd::List(_)) => {
                depth = depth.saturating_sub(1);
                list = None;
            }
            Event::Start(Tag::Item) => {
                let number = list.flatten();
                open = Open::Item(number, Vec::new());
                if let Some(Some(n)) = list.as_mut() {
                    *n += 1;
                }
            }
            Event::End(TagEnd::Item) => {
                if let Open::Item(number, spans) = std::mem::replace(&mut open, Open::None) {
                    blocks.push(Block::Item { number, spans });
                }
            }
            Event::Start(Tag::Strong) => bold = true,
            Event::End(TagEnd::Strong) => bold = false,
            Event::Start(Tag::Image { dest_url, .. }) => {
                let Open::Para(spans) = &open else {
                    return Err(PageError::ImageInText { line });
                };
                if !spans.is_empty() {
                    return Err(PageError::ImageInText { line });
                }
                let file = dest_url.to_string();
                let plain = !file.is_empty()
                    && file.ends_with(".png")
                    && file
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    && !file.starts_with('.');
                if !plain {
                    return Err(PageError::ImageName { line, file });
                }
                open = Open::Image {
                    file,
                    alt: String::new(),
                };
                in_image = true;
            }
            Event::End(TagEnd::Image) => {
                in_image = false;
                if let Open::Image { file, alt } = &open
                    && alt.trim().is_empty()
                {
                    return Err(PageError::ImageAlt {
                        line,
                        file: file.clone(),
                    });
                }
            }
            Event::Text(text) => match &mut open {
                Open::Heading(h) => h.push_str(&text),
                Open::Para(spans) | Open::Item(_, spans) => push(spans, &text, bold),
                Open::Image { alt, .. } if in_image => alt.push_str(&text),
                Open::Image { .. } => return Err(PageError::ImageInText { line }),
                Open::None => return Err(not_allowed("text outside a block")),
            },
            Event::SoftBreak | Event::HardBreak => match &mut open {
                Open::Para(spans) | Open::Item(_, spans) => push(spans, " ", bold),
                Open::Image { .. } => return Err(PageError::ImageInText { line }),
                _ => {}
            },
            Event::Start(Tag::Emphasis) | Event::End(TagEnd::Emphasis) => {
                return Err(not_allowed("italics"));
            }
            Event::Start(Tag::Link { .. }) => return Err(not_allowed("a link")),
            Event::Start(Tag::CodeBlock(_)) | Event::Code(_) => return Err(not_allowed("code")),
            Event::Start(Tag::BlockQuote(_)) => return Err(not_allowed("a quotation block")),
            Event::Start(Tag::Table(_)) => return Err(not_allowed("a table")),
            Event::Html(_) | Event::InlineHtml(_) => return Err(not_allowed("HTML")),
            Event::Rule => return Err(not_allowed("a rule")),
            Event::Start(other) => return Err(not_allowed(&format!("{other:?}"))),
            Event::End(_) => {}
            other => return Err(not_allowed(&format!("{other:?}"))),
        }
    }
    let heading = heading
        .filter(|h| !h.is_empty())
        .ok_or(PageError::NoHeading)?;
    Ok(Page { heading, blocks })
}

fn push(spans: &mut Vec<Span>, text: &str, bold: bool) {
    if let Some(last) = spans.last_mut()
        && last.bold == bold
    {
        last.text.push_str(text);
        return;
    }
    spans.push(Span {
        text: text.to_owned(),
        bold,
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_page_with_every_allowed_block() {
        let page = parse(
            "# Wi-Fi là gì\n\nWi-Fi giúp điện thoại **vào mạng** miễn phí.\n\n![Biểu tượng Wi-Fi](wifi.png)\n\n- Mở **Cài đặt**\n- Chọn Wi-Fi\n\n1. Một\n2. Hai\n",
        )
        .unwrap();
        assert_eq!(page.heading, "Wi-Fi là gì");
        assert_eq!(
            page.blocks[0],
            Block::Paragraph(vec![
                Span {
                    text: "Wi-Fi giúp điện thoại ".into(),
                    bold: false
                },
                Span {
                    text: "vào mạng".into(),
                    bold: true
                },
                Span {
                    text: " miễn phí.".into(),
                    bold: false
                },
            ])
        );
        assert_eq!(
            page.blocks[1],
            Block::Image {
                file: "wifi.png".into(),
                alt: "Biểu tượng Wi-Fi".into()
            }
        );
        assert!(matches!(&page.blocks[2], Block::Item { number: None, .. }));
        assert!(matches!(
            &page.blocks[4],
            Block::Item {
                number: Some(1),
                ..
            }
        ));
        assert!(matches!(
            &page.blocks[5],
            Block::Item {
                number: Some(2),
                ..
            }
        ));
        assert_eq!(page.images().collect::<Vec<_>>(), ["wifi.png"]);
        assert!(page.plain_text().contains("2. Hai"));
    }

    #[test]
    fn what_the_kiosk_cannot_show_is_refused_with_its_line() {
        for (source, expected_line) in [
            ("# A\n\nSee [the portal](https://x)\n", 3),
            ("# A\n\n## B\n", 3),
            ("# A\n\n```\ncode\n```\n", 3),
            ("# A\n\n- one\n  - nested\n", 4),
            ("# A\n\n<b>x</b>\n", 3),
        ] {
            match parse(source) {
                Err(PageError::NotAllowed { line, .. }) => {
                    assert_eq!(line, expected_line, "{source}")
                }
                other => panic!("{source}: {other:?}"),
            }
        }
        assert_eq!(parse("Text first\n\n# A\n"), Err(PageError::NoHeading));
        assert_eq!(
            parse("# A\n\n# B\n"),
            Err(PageError::SecondHeading { line: 3 })
        );
        assert!(matches!(
            parse("# A\n\nText ![x](a.png)\n"),
            Err(PageError::ImageInText { .. })
        ));
        assert!(matches!(
            parse("# A\n\n![x](a.png) and text\n"),
            Err(PageError::ImageInText { .. })
        ));
        assert!(matches!(
            parse("# A\n\n![x](../a.png)\n"),
            Err(PageError::ImageName { .. })
        ));
        assert!(matches!(
            parse("# A\n\n![](a.png)\n"),
            Err(PageError::ImageAlt { .. })
        ));
    }
}
