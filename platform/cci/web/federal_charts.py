"""The federal overview's charts (cci.web.charts), each shown beside its table: the stars
distribution, centralized against decentralized networks, and the movement since the previous
campaign (the largest rises and falls)."""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import ngettext

from cci.index.reports import FederalOverview
from cci.index.reports import RegionLine
from cci.web import charts
from cci.web.numbers import number

#: the movement chart shows this many of the largest rises and as many falls
MOVEMENT_SHOWN = 10


def whole(value: float) -> str:
    return number(value, 0)


def signed(value: float) -> str:
    return number(value, 1, signed=True)


def stars(o: FederalOverview) -> charts.Chart:
    counts = o.stars_distribution()
    return charts.bars(_("Regions by stars"),
                       [ngettext("%(num)d star", "%(num)d stars", n) for n in counts],
                       [float(v) for v in counts.values()], value_format=whole)


def networks(o: FederalOverview) -> charts.Chart:
    means = o.by_network()
    labels = [_("centralized networks"), _("decentralized networks")]
    return charts.bars(_("Mean index by network type"), labels,
                       [means["centralized"][0], means["decentralized"][0]], range_=(0, 100))


def movement_lines(o: FederalOverview) -> list[RegionLine]:
    """The largest rises then the largest falls since the previous campaign."""
    moved = [line for line in o.lines if line.change is not None]
    rises = sorted((line for line in moved if line.change and line.change > 0),
                   key=lambda line: -(line.change or 0.0))[:MOVEMENT_SHOWN]
    falls = sorted((line for line in moved if line.change is not None and line.change <= 0),
                   key=lambda line: line.change or 0.0)[:MOVEMENT_SHOWN]
    return rises + falls[::-1]


def movement(o: FederalOverview) -> charts.Chart | None:
    lines = movement_lines(o)
    if not lines:
        return None
    return charts.bars(_("Change of the index since the previous campaign"),
                       [line.name for line in lines], [line.change for line in lines],
                       value_format=signed)


#: charts drawn already, by what they draw (a run's figures never change, so the same
#: overview asks for the same pictures; drawing one with pygal takes tens of milliseconds)
_DRAWN: OrderedDict[tuple, dict[str, charts.Chart | None]] = OrderedDict()
_DRAWN_MAX = 64
_LOCK = threading.Lock()


def overview_charts(o: FederalOverview) -> dict[str, charts.Chart | None]:
    key = (get_locale_name(), tuple(o.stars_distribution().items()),
           tuple(o.by_network().items()),
           tuple((line.name, line.change) for line in movement_lines(o)) if o.previous else None)
    with _LOCK:
        if key in _DRAWN:
            _DRAWN.move_to_end(key)
            return _DRAWN[key]
    drawn = {"stars": stars(o), "networks": networks(o),
             "movement": movement(o) if o.previous else None}
    with _LOCK:
        _DRAWN[key] = drawn
        while len(_DRAWN) > _DRAWN_MAX:
            _DRAWN.popitem(last=False)
    return drawn


def get_locale_name() -> str:
    return str(get_locale())
