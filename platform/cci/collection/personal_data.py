"""Personal data a respondent may type into a comment (phone numbers, e-mail addresses, people's
names), found so that it is masked where comments are shown. The stored text stays as given.

Phones and e-mails are found by patterns; names by Russian morphology (pymorphy3's tags
``Name``, ``Surn``, ``Patr``), so «Ивановой Марии Петровны» is found in any case. A word that
is also a common noun (Вера, Надежда, Роман) counts as a name when capitalised inside a
sentence or beside another name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from cci.collection.comment_themes import analyzer

PHONE = "phone"
EMAIL = "email"
NAME = "name"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# +7 (912) 345-67-89, 8 912 345 67 89, 89123456789, 8-800-555-35-35, (4832) 64-12-34: seven
# to fifteen digits with the usual separators; and a town's short 12-34-56.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\s?)?\(?\d(?:[\s\-\u2010-\u2015()]{0,3}\d){6,14}(?![\w])"
    r"|(?<![\w-])\d{2,3}-\d{2}-\d{2}(?![\w-])"
)
_WORD = re.compile(r"[А-ЯЁа-яё]+(?:-[А-ЯЁа-яё]+)?")
_INITIALS = re.compile(r"(?<!\w)[А-ЯЁ]\.\s?[А-ЯЁ]\.")
_SENTENCE_END = re.compile(r"[.!?…]\s*$")
_NAME_TAGS = ("Name", "Surn", "Patr")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str


def _name_tagged(parse) -> bool:
    return any(tag in parse.tag for tag in _NAME_TAGS)


def _name_word(word: str) -> tuple[bool, bool]:
    """(surely a name: the likeliest reading is one; maybe one: some reading is)."""
    parses = analyzer().parse(word)
    return _name_tagged(parses[0]), any(_name_tagged(p) for p in parses)


def _names(text: str) -> list[Span]:
    words = list(_WORD.finditer(text))
    verdicts = []
    for match in words:
        word = match.group()
        sure, maybe = _name_word(word)
        capital = word[0].isupper()
        starts_sentence = not text[:match.start()].strip() or bool(
            _SENTENCE_END.search(text[:match.start()]))
        verdicts.append("sure" if sure or (maybe and capital and not starts_sentence)
                        else "maybe" if maybe and capital else "")
    names = [v == "sure" for v in verdicts]
    # a capitalised word that may be a name, beside a name: «Вера Петровна»
    for i, verdict in enumerate(verdicts):
        if verdict == "maybe" and ((i > 0 and names[i - 1]) or
                                   (i + 1 < len(names) and names[i + 1])):
            names[i] = True
    spans = [Span(m.start(), m.end(), NAME) for m, is_name in zip(words, names, strict=True)
             if is_name]
    spans += [Span(m.start(), m.end(), NAME) for m in _INITIALS.finditer(text)]
    return spans


def spans(text: str) -> list[Span]:
    """The personal data in a text, in order, overlaps merged; neighbouring parts of one
    name («Ивановой Марии Петровны», «Иванова М. П.») make one span."""
    found = [Span(m.start(), m.end(), EMAIL) for m in _EMAIL.finditer(text)]
    taken = [(s.start, s.end) for s in found]

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    for m in _PHONE.finditer(text):
        if free(m.start(), m.end()):
            found.append(Span(m.start(), m.end(), PHONE))
            taken.append((m.start(), m.end()))
    found += [s for s in _names(text) if free(s.start, s.end)]
    found.sort(key=lambda s: (s.start, -s.end))
    merged: list[Span] = []
    for span in found:
        last = merged[-1] if merged else None
        if last and span.start < last.end:
            merged[-1] = Span(last.start, max(last.end, span.end), last.kind)
        elif (last and last.kind == span.kind == NAME
              and not text[last.end:span.start].strip(" \t")):
            merged[-1] = Span(last.start, span.end, NAME)
        else:
            merged.append(span)
    return merged


def mask(text: str | None, labels: Mapping[str, str]) -> str:
    """The text with each piece of personal data replaced by its kind's label (``labels``:
    kind → what the reader sees, e.g. «[телефон]»)."""
    if not text:
        return ""
    out, position = [], 0
    for span in spans(text):
        out.append(text[position:span.start])
        out.append(labels[span.kind])
        position = span.end
    out.append(text[position:])
    return "".join(out)
