"""Photo evidence for a checklist's parameters, as an auditor takes it with a phone: JPEG, PNG
or HEIC, checked for what it really is (not its name) and for its size, turned upright, resized
and re-encoded as JPEG by Pillow (a well-kept imaging library; HEIC through pillow-heif), which
also drops the camera's metadata (the place a photo was taken is not evidence the platform
needs). Stored in the database with a thumbnail, so a backup carries it."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import IO

from flask_babel import gettext as _
from PIL import Image
from PIL import ImageOps
from PIL import UnidentifiedImageError
from pillow_heif import register_heif_opener

register_heif_opener()

MAX_BYTES = 15 * 1024 * 1024  # a phone's photo is a few MB
MAX_PIXELS = 60_000_000  # beyond any phone camera: a larger image is a decompression bomb
MAX_PER_PARAMETER = 5
LONG_SIDE = 1600  # sharp enough to read a sign on a wall
THUMB_SIDE = 320
ACCEPTED = {"JPEG", "PNG", "HEIF"}
ACCEPT_ATTRIBUTE = "image/jpeg,image/png,image/heic,image/heif,.heic,.heif"


class PhotoError(ValueError):
    """A file that cannot be evidence; the message says why, in Russian."""


@dataclass(frozen=True)
class Photo:
    filename: str
    content: bytes
    thumbnail: bytes
    width: int
    height: int


def prepare(filename: str, stream: IO[bytes]) -> Photo:
    """Check, turn upright and resize one uploaded photo; raises :class:`PhotoError`."""
    name = (filename or "photo").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255]
    raw = stream.read(MAX_BYTES + 1)
    if not raw:
        raise PhotoError(_("The file «%(name)s» is empty.", name=name))
    if len(raw) > MAX_BYTES:
        raise PhotoError(_("The photo «%(name)s» is larger than %(mb)d MB.", name=name,
                           mb=MAX_BYTES // (1024 * 1024)))
    try:
        with warnings.catch_warnings():  # Pillow warns of a possible bomb: refuse it instead
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
        with image:
            if image.format not in ACCEPTED:
                raise PhotoError(_("«%(name)s» is not a JPEG, PNG or HEIC photo.", name=name))
            if image.width * image.height > MAX_PIXELS:
                raise PhotoError(_("The photo «%(name)s» is too large in pixels.", name=name))
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, OSError, ValueError, SyntaxError) as exc:
        if isinstance(exc, PhotoError):
            raise
        raise PhotoError(_("«%(name)s» is not a JPEG, PNG or HEIC photo.", name=name)) from None
    content, width, height = _jpeg(upright, LONG_SIDE)
    thumbnail, _w, _h = _jpeg(upright, THUMB_SIDE)
    return Photo(name, content, thumbnail, width, height)


def _jpeg(image: Image.Image, side: int) -> tuple[bytes, int, int]:
    copy = image.copy()
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=85, optimize=True)  # no exif= argument: no metadata kept
    return out.getvalue(), copy.width, copy.height
