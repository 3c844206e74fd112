"""Photo evidence on a checklist: a phone's JPEG, PNG or HEIC is checked for what it is and its
size, turned upright, resized and stored without the camera's metadata; thumbnails show to
whoever may read the checklist and to no other region; a refused photo saves nothing; removal
is for who may change the checklist; all of it audited."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pillow_heif import from_pillow
from sqlalchemy import select

from cci.collection import photos
from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import ChecklistPhoto
from cci.web.views import checklist_photos
from conftest import Statements

from test_checklists import audit_entries
from test_checklists import bry_admin  # noqa: F401 - fixture
from test_checklists import campaigns  # noqa: F401 - fixture
from test_checklists import form_url
from test_checklists import offices
from test_checklists import relogin
from test_checklists import stored
from test_checklists import transport_answers


def image_bytes(fmt: str, size=(4000, 3000), exif_orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if fmt == "HEIF":
        from_pillow(image).save(out, quality=50)
        return out.getvalue()
    kwargs = {}
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation  # Orientation
        exif[0x8825] = {2: (55.0, 45.0, 0.0)}  # GPS latitude: must not survive
        kwargs["exif"] = exif
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def photos_of(app) -> list[ChecklistPhoto]:
    with app.app_context(), tenancy.federal_scope("test"):
        found = list(db.scalars(select(ChecklistPhoto).order_by(ChecklistPhoto.id)))
        for photo in found:
            db.expunge(photo)
        return found


def test_prepare_turns_upright_resizes_and_drops_metadata():
    photo = photos.prepare("IMG_0001.jpg", io.BytesIO(image_bytes("JPEG", exif_orientation=6)))
    # rotated 90° by its orientation tag, the long side brought to 1600
    assert (photo.width, photo.height) == (1200, 1600)
    stored_image = Image.open(io.BytesIO(photo.content))
    assert stored_image.format == "JPEG" and not stored_image.getexif()
    assert max(Image.open(io.BytesIO(photo.thumbnail)).size) == photos.THUMB_SIDE


@pytest.mark.parametrize(("name", "data", "message"), [
    ("notes.jpg", b"not an image at all", "не фотография"),
    ("scan.gif", None, "не фотография"),
    ("empty.jpg", b"", "пуст"),
])
def test_what_is_not_a_photo_is_refused(app, name, data, message):
    if data is None:
        out = io.BytesIO()
        Image.new("RGB", (10, 10)).save(out, "GIF")
        data = out.getvalue()
    with app.test_request_context(), pytest.raises(photos.PhotoError, match=message):
        photos.prepare(name, io.BytesIO(data))


def test_a_decompression_bomb_is_refused(app):
    out = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(out, "PNG")  # 144 megapixels in a small file
    assert len(out.getvalue()) < 1_000_000
    with app.test_request_context(), pytest.raises(photos.PhotoError):
        photos.prepare("bomb.png", io.BytesIO(out.getvalue()))


def _upload(client, url, files):
    data = transport_answers()
    for field, (name, content) in files:
        data.setdefault(field, [])
        data[field].append((io.BytesIO(content), name))
    return client.post(url, data=data, content_type="multipart/form-data")


def test_photos_attached_shown_and_removed(app, client, campaigns, bry_admin):
    office = offices(app, "RU-BRY")[0]
    url = form_url("RU-BRY", campaigns["cci-2022"], office, "O-V.2")
    reply = _upload(client, url, [("photos__stop_nearby", ("остановка.heic",
                                                           image_bytes("HEIF", (800, 600)))),
                                  ("photos__stop_nearby", ("табличка.png",
                                                           image_bytes("PNG", (640, 480))))])
    assert reply.status_code == 302, reply.get_data(as_text=True)[:300]
    saved = photos_of(app)
    assert [(p.parameter, p.filename) for p in saved] == [
        ("stop_nearby", "остановка.heic"), ("stop_nearby", "табличка.png")]
    page = client.get(url).get_data(as_text=True)
    assert page.count('class="cl-photos"') == 1 and "Фото: остановка.heic" in page
    thumb = client.get(f"/r/RU-BRY/checklists/photos/{saved[0].id}/thumbnail.jpg")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.data)).size == (320, 240)
    assert [e.action for e in audit_entries(app)].count("checklist.photo_add") == 2
    log = client.get("/r/RU-BRY/admin/audit").get_data(as_text=True)
    assert "К чек-листу добавлено фото" in log
    assert "Фото · ЦЗН в пешей доступности от остановки:</span> остановка.heic" \
        in log  # the parameter by its label

    removed = client.post(f"/r/RU-BRY/checklists/photos/{saved[0].id}/remove")
    assert removed.status_code == 302
    assert [p.filename for p in photos_of(app)] == ["табличка.png"]
    assert [e.action for e in audit_entries(app)][-1] == "checklist.photo_remove"


def test_the_photos_of_many_checklists_are_read_in_one_statement(app, client, campaigns,
                                                                 bry_admin):
    """An office page shows a checklist per objective indicator, each with its photos: one
    statement for all of them, each checklist's photos under its own parameters."""
    first, second = offices(app, "RU-BRY")[:2]
    for office, files in ((first, [("photos__stop_nearby", ("a.png", image_bytes("PNG", (64, 48)))),
                                   ("photos__parking", ("b.png", image_bytes("PNG", (64, 48))))]),
                          (second, [("photos__stop_nearby",
                                     ("c.png", image_bytes("PNG", (64, 48))))])):
        reply = _upload(client, form_url("RU-BRY", campaigns["cci-2022"], office, "O-V.2"), files)
        assert reply.status_code == 302, reply.get_data(as_text=True)[:300]
    with app.test_request_context(), tenancy.federal_scope("test"):
        rows = stored(app)
        names = {row.office_id: row.id for row in rows}
        with Statements(app) as seen:
            found = checklist_photos.listings(rows)
        assert len(seen.sql) == 1
        shown = {checklist: {parameter: [p.filename for p in items]
                             for parameter, items in by_parameter.items()}
                 for checklist, by_parameter in found.items()}
        assert shown == {names[first]: {"stop_nearby": ["a.png"], "parking": ["b.png"]},
                         names[second]: {"stop_nearby": ["c.png"]}}
        assert all(checklist_photos.listing(row) == found[row.id] for row in rows)
        assert checklist_photos.listings([]) == {} and checklist_photos.listing(None) == {}


def test_a_refused_photo_saves_nothing(app, client, campaigns, bry_admin):
    office = offices(app, "RU-BRY")[0]
    url = form_url("RU-BRY", campaigns["cci-2022"], office, "O-V.2")
    reply = _upload(client, url, [("photos__parking", ("ok.jpg", image_bytes("JPEG", (50, 50)))),
                                  ("photos__parking", ("virus.exe", b"MZ\x90\x00binary"))])
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert "«virus.exe» — не фотография в формате JPEG, PNG или HEIC." in html
    assert stored(app) == [] and photos_of(app) == []  # neither the checklist nor a photo


def test_another_region_never_sees_a_photo(app, client, campaigns, bry_admin, make_user,
                                           login):
    office = offices(app, "RU-BRY")[0]
    url = form_url("RU-BRY", campaigns["cci-2022"], office, "O-V.2")
    _upload(client, url, [("photos__city_signs", ("знак.jpg", image_bytes("JPEG", (64, 48))))])
    [photo] = photos_of(app)
    relogin(client, login, make_user("regional_admin", "RU-KYA"))
    for path in (f"/r/RU-KYA/checklists/photos/{photo.id}.jpg",
                 f"/r/RU-KYA/checklists/photos/{photo.id}/thumbnail.jpg",
                 f"/r/RU-BRY/checklists/photos/{photo.id}.jpg"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/r/RU-KYA/checklists/photos/{photo.id}/remove").status_code == 404
    assert len(photos_of(app)) == 1
    # a federal analyst reads it; an operator of the region does not
    relogin(client, login, make_user("federal_analyst"))
    assert client.get(f"/r/RU-BRY/checklists/photos/{photo.id}.jpg").status_code == 200
    assert client.post(f"/r/RU-BRY/checklists/photos/{photo.id}/remove").status_code == 403
    relogin(client, login, make_user("operator", "RU-BRY"))
    assert client.get(f"/r/RU-BRY/checklists/photos/{photo.id}.jpg").status_code == 403


def test_at_most_five_photos_a_parameter(app, client, campaigns, bry_admin):
    office = offices(app, "RU-BRY")[0]
    url = form_url("RU-BRY", campaigns["cci-2022"], office, "O-V.2")
    small = image_bytes("JPEG", (20, 20))
    reply = _upload(client, url, [("photos__barrier_free", (f"{n}.jpg", small))
                                  for n in range(photos.MAX_PER_PARAMETER + 1)])
    assert reply.status_code == 400 and "Не больше 5 фото на параметр" in reply.get_data(
        as_text=True)
