//! Accent-insensitive folding.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds one character: lowercase, Vietnamese `đ`/`Đ` to `d`. Combining marks are dropped by
/// [`fold`], not here.
pub fn fold_char(c: char) -> char {
    match c {
        'đ' | 'Đ' => 'd',
        _ => c.to_lowercase().next().unwrap_or(c),
    }
}

/// Lowercases, removes diacritics (tone and vowel marks), maps `đ` to `d` and collapses runs
/// of whitespace to one space. Used on both sides of every search.
///
/// ```
/// assert_eq!(xaso_i18n::fold("  Đăng ký   KHAI SINH "), "dang ky khai sinh");
/// assert_eq!(xaso_i18n::fold("Thừa Thiên Huế"), "thua thien hue");
/// ```
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        for lower in c.to_lowercase() {
            out.push(fold_char(lower));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folds_every_vietnamese_vowel_with_every_tone() {
        let groups = [
            ("aàáảãạăằắẳẵặâầấẩẫậ", 'a'),
            ("eèéẻẽẹêềếểễệ", 'e'),
            ("iìíỉĩị", 'i'),
            ("oòóỏõọôồốổỗộơờớởỡợ", 'o'),
            ("uùúủũụưừứửữự", 'u'),
            ("yỳýỷỹỵ", 'y'),
            ("dđ", 'd'),
        ];
        for (letters, base) in groups {
            for c in letters.chars() {
                assert_eq!(fold(&c.to_string()), base.to_string(), "lower {c}");
                let upper: String = c.to_uppercase().collect();
                assert_eq!(fold(&upper), base.to_string(), "upper {upper}");
            }
        }
    }

    #[test]
    fn precomposed_and_decomposed_input_fold_alike() {
        let composed = "Nguyễn Thị Hường";
        let decomposed: String = composed.nfd().collect();
        assert_ne!(composed, decomposed);
        assert_eq!(fold(composed), fold(&decomposed));
        assert_eq!(fold(composed), "nguyen thi huong");
    }

    proptest! {
        #[test]
        fn fold_is_idempotent(s in "\\PC{0,40}") {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once.clone());
        }
    }
}
