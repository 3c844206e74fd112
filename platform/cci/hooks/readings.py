"""What a plugin reports to the metrics endpoint: readings of a gauge, taken at each scrape."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field


@dataclass(frozen=True)
class Reading:
    """One value of a gauge: ``name`` (``cci_`` and the plugin's prefix, e.g.
    ``cci_kiosks_online``), ``help`` (one line, in English), the ``value`` now and its
    ``labels`` (few distinct values: a region's code, never an id per device)."""

    name: str
    help: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)
