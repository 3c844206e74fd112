"""QR codes (the segno library) for survey links: SVG for posters and invitation slips."""

from __future__ import annotations

import io

import segno
from flask import Response


def svg(url: str, title: str = "") -> bytes:
    """The link as a QR code in SVG: black on white, a quiet zone of four modules, error
    correction M (a poster may get a little dirty)."""
    code = segno.make(url, error="m", micro=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", scale=10, border=4, dark="#000", light="#fff",
              xmldecl=True, svgns=True, title=title or None, nl=True)
    return buffer.getvalue()


def svg_response(url: str, title: str = "") -> Response:
    response = Response(svg(url, title), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
