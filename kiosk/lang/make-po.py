#!/usr/bin/env python3
"""Writes lang/en/LC_MESSAGES/xaso-kiosk.po from lang/en.tsv (Vietnamese source<TAB>English).
The .slint source strings are Vietnamese; `cargo test -p xaso-kiosk --test translations`
checks that every @tr string has an English entry."""
import os
here = os.path.dirname(os.path.abspath(__file__))
out = ['msgid ""', 'msgstr ""', '"Content-Type: text/plain; charset=UTF-8\\n"', '"Language: en\\n"', '']
for line in open(os.path.join(here, "en.tsv"), encoding="utf-8"):
    line = line.rstrip("\n")
    if not line:
        continue
    vi, en = line.split("\t")
    out += [f'msgid "{vi}"', f'msgstr "{en}"', '']
open(os.path.join(here, "en/LC_MESSAGES/xaso-kiosk.po"), "w", encoding="utf-8").write("\n".join(out))
