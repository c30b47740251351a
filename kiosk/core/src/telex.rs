//! The on-screen keyboard's Telex composition: "Nguyeenx" becomes "Nguyễn" as it is typed.
//!
//! The composition rules come from the `vi` crate; this type only keeps the keystrokes of the
//! word being typed so that each new key recomposes the word, and backspace removes the last
//! keystroke (as Vietnamese input methods do) rather than the last composed letter.

/// A text value being typed with Telex. `committed` holds everything before the current word.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TelexEntry {
    committed: String,
    word_keys: String,
}

impl TelexEntry {
    /// Starts editing an existing value: new keys are appended after it.
    pub fn with_text(text: &str) -> TelexEntry {
        TelexEntry {
            committed: text.to_owned(),
            word_keys: String::new(),
        }
    }

    /// The text as the resident sees it.
    pub fn text(&self) -> String {
        let mut out = self.committed.clone();
        if !self.word_keys.is_empty() {
            let mut word = String::new();
            vi::transform_buffer(&vi::TELEX, self.word_keys.chars(), &mut word);
            out.push_str(&word);
        }
        out
    }

    /// One key of the on-screen keyboard. Letters take part in Telex; anything else
    /// (space, digits, punctuation) ends the current word.
    pub fn key(&mut self, ch: char) {
        if ch.is_alphabetic() {
            self.word_keys.push(ch);
        } else {
            self.commit_word();
            self.committed.push(ch);
        }
    }

    /// A key taken literally, without Telex (tracking codes).
    pub fn key_literal(&mut self, ch: char) {
        self.commit_word();
        self.committed.push(ch);
    }

    pub fn backspace(&mut self) {
        if self.word_keys.pop().is_none() {
            self.committed.pop();
        }
    }

    pub fn clear(&mut self) {
        self.committed.clear();
        self.word_keys.clear();
    }

    fn commit_word(&mut self) {
        if !self.word_keys.is_empty() {
            self.committed = self.text();
            self.word_keys.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(keys: &str) -> String {
        let mut e = TelexEntry::default();
        for c in keys.chars() {
            e.key(c);
        }
        e.text()
    }

    #[test]
    fn telex_composes_vietnamese_names() {
        assert_eq!(typed("Nguyeenx Thij Hoa"), "Nguyễn Thị Hoa");
        assert_eq!(typed("ddawng kys khai sinh"), "đăng ký khai sinh");
        assert_eq!(typed("Trungw"), "Trưng");
    }

    #[test]
    fn backspace_removes_the_last_keystroke() {
        let mut e = TelexEntry::default();
        for c in "Vieejt".chars() {
            e.key(c);
        }
        assert_eq!(e.text(), "Việt");
        e.backspace();
        assert_eq!(e.text(), "Việ");
        e.key(' ');
        e.backspace();
        assert_eq!(e.text(), "Việ");
    }
}
