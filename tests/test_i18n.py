"""Every interface string has a Russian translation, and the catalog compiles."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "platform/cci/web/translations/ru/LC_MESSAGES/messages.po"


def test_every_interface_string_is_translated(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as handle:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="ru")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and "fuzzy" not in m.flags
        and (m.string if isinstance(m.string, str) else all(m.string))
    }
    assert sorted(wanted - translated) == []


def test_plural_forms_follow_russian_grammar():
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="ru")
    assert catalog.num_plurals == 3
    for message in catalog:
        if message.id and not isinstance(message.id, str):
            assert len(message.string) == 3 and all(message.string), message.id
