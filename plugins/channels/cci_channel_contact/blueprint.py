"""The console's blueprint, mounted by the core under a region: ``/r/<region_code>/contact``.

It enters the region the same way the core's region pages do: the region code in the URL,
visible to the logged-in user or 404, and the request's tenant scope set to that region. The
pages then look like any region page (``g.area == "region"``: the region's menu applies).
"""

from __future__ import annotations

from pathlib import Path

from cci.plugin_api import region_area_blueprint

URL_PREFIX = "/r/<region_code>/contact"

bp = region_area_blueprint("contact_center", __name__,
                           template_folder=str(Path(__file__).parent / "templates"))


