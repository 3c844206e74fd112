"""The form of a derived version, generated from what its base set declares
(:func:`cci.methodology.parameters.tunables`): a field per number (several for a list, a pair
per band, one per weight), checkboxes per option of a mapping, a text box per wording. The
fields take what people type («0,5»); :func:`cci.methodology.parameters.check` reads and checks
it, and its refusals are shown at the field they concern."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs 3.2
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms import widgets
from wtforms.validators import DataRequired
from wtforms.validators import Length

from cci.methodology.contract import IndicatorSet
from cci.methodology.parameters import Tunable
from cci.methodology.parameters import tunables

SCORE = _l("score")


@dataclass
class Row:
    """One declared thing on the form: its declaration and the names of its fields."""

    tunable: Tunable
    names: list[str]
    #: the label of each field when there are several (a list's place, a weight's key)
    parts: list[str]


def _range(t: Tunable) -> str:
    if t.minimum is None or t.maximum is None:
        return ""
    return str(_l("from %(low)s to %(high)s", low=_typed(t.minimum), high=_typed(t.maximum)))


def _typed(value: Any) -> str:
    """A number as people type it in Russian (decimal comma)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace(".", ",")


def build(base: IndicatorSet, values: dict[str, Any], *, title: str = "",
          formdata: Any = None) -> tuple[FlaskForm, list[Row]]:
    """The form for a derived version of ``base`` showing ``values`` (its changes so far;
    the base's value elsewhere). ``formdata`` None reads the request (Flask-WTF)."""

    class VersionForm(FlaskForm):
        title_ = StringField(_l("Name of the version"),
                             validators=[DataRequired(), Length(max=200)])

    rows: list[Row] = []
    defaults: dict[str, Any] = {"title_": title}
    for n, t in enumerate(tunables(base)):
        value = values.get(t.key, t.value)
        unit = ", ".join(part for part in (_range(t), t.unit) if part)
        names: list[str] = []
        parts: list[str] = []

        def add(name: str, field: Field, default: Any, part: str = "",
                names: list[str] = names, parts: list[str] = parts) -> None:
            setattr(VersionForm, name, field)
            defaults[name] = default
            names.append(name)
            parts.append(part)

        if t.kind in ("integer", "number"):
            add(f"f{n}", StringField(t.label, description=unit,
                                     render_kw={"inputmode": "decimal"}), _typed(value))
        elif t.kind == "numbers":
            for i, number in enumerate(value):
                add(f"f{n}_{i}", StringField(f"{t.label} · {t.word(str(i)) if t.words else i + 1}",
                                             description=unit,
                                             render_kw={"inputmode": "decimal"}),
                    _typed(number), str(i + 1))
        elif t.kind == "weights":
            for i, part in enumerate(t.parts):
                add(f"f{n}_{i}", StringField(f"{t.label} · {t.word(part)}", description=unit,
                                             render_kw={"inputmode": "decimal"}),
                    _typed(value[part]), part)
        elif t.kind == "bands":
            for i, (threshold, score) in enumerate(value):
                add(f"f{n}_{i}_t", StringField(f"{t.label} · {i + 1}: r ≥",
                                               render_kw={"inputmode": "decimal"}),
                    _typed(threshold), f"{i + 1}")
                add(f"f{n}_{i}_s", StringField(f"{t.label} · {i + 1}: {SCORE}",
                                               render_kw={"inputmode": "decimal"}),
                    _typed(score), f"{i + 1}")
        elif t.kind == "mapping":
            for i, part in enumerate(t.parts):
                add(f"f{n}_{i}", SelectMultipleField(
                    f"{t.label} · {t.word(part)}",
                    choices=[SelectChoice(c, t.word(c)) for c in t.choices],
                    widget=widgets.ListWidget(prefix_label=False),
                    option_widget=widgets.CheckboxInput()), list(value[part]), part)
        elif t.kind == "text":
            field_class = TextAreaField if len(str(value)) > 80 else StringField
            add(f"f{n}", field_class(t.label), value)
        rows.append(Row(t, names, parts))
    form = VersionForm(formdata=formdata, data=defaults) if formdata is not None else (
        VersionForm(data=defaults))
    return form, rows


def changes(form: FlaskForm, rows: list[Row]) -> dict[str, Any]:
    """The raw value of every declared thing on the submitted form, by its key."""
    raw: dict[str, Any] = {}
    for row in rows:
        t = row.tunable
        data = [form[name].data for name in row.names]
        if t.kind in ("integer", "number", "text"):
            raw[t.key] = data[0] if data[0] is not None else ""
        elif t.kind == "numbers":
            raw[t.key] = list(data)
        elif t.kind in ("weights", "mapping"):
            raw[t.key] = dict(zip(row.parts, data, strict=True))
        elif t.kind == "bands":
            raw[t.key] = [[data[i], data[i + 1]] for i in range(0, len(data), 2)]
    return raw


def show_errors(form: FlaskForm, rows: list[Row], errors: dict[str, str]) -> None:
    """Put each refusal at the first field of the thing it concerns."""
    for row in rows:
        message = errors.get(row.tunable.key)
        if message and row.names:
            field = form[row.names[0]]
            field.errors = [*field.errors, message]
