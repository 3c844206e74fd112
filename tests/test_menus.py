"""A menu shows only what its reader may open: every link of every menu a role meets (its own
landing page, a region's pages, the account box) opens for that role, with no 403 and no 404,
and pages the role may not open are not offered."""

from __future__ import annotations

import re

import pytest

from cci.foundation.roles import Role

NAV = re.compile(r'<nav class="mainnav".*?</nav>|<div class="userbox">.*?</div>', re.S)
HREF = re.compile(r'href="([^"#]+)"')

# where each role lands and which region's pages it reads
LANDINGS = {
    Role.ADMIN: ["/federal/", "/r/RU-BRY/"],
    Role.FEDERAL_ANALYST: ["/federal/", "/r/RU-BRY/"],
    Role.METHODOLOGY_OWNER: ["/federal/", "/r/RU-BRY/"],
    Role.REGIONAL_ADMIN: ["/r/RU-BRY/"],
    Role.AUDITOR: ["/r/RU-BRY/"],
    Role.OPERATOR: ["/r/RU-BRY/"],
}


def menu_links(html: str) -> set[str]:
    return {link for block in NAV.findall(html) for link in HREF.findall(block)}


@pytest.mark.parametrize("role", list(LANDINGS), ids=str)
def test_every_menu_link_opens_for_its_reader(app, client, make_user, login, role):
    login(make_user(role.value, None if role in (Role.ADMIN, Role.FEDERAL_ANALYST,
                                                 Role.METHODOLOGY_OWNER) else "RU-BRY"))
    seen: set[str] = set()
    for landing in ["/", *LANDINGS[role]]:
        page = client.get(landing, follow_redirects=True)
        assert page.status_code == 200, landing
        seen |= menu_links(page.get_data(as_text=True))
    assert seen, "no menu found"
    refused = {link: client.get(link).status_code for link in sorted(seen)}
    refused = {link: status for link, status in refused.items() if status in (403, 404)}
    assert refused == {}


@pytest.mark.parametrize(("role", "hidden"), [
    (Role.FEDERAL_ANALYST, ["/r/RU-BRY/kiosks/", "/r/RU-BRY/imports/", "/r/RU-BRY/review"]),
    (Role.METHODOLOGY_OWNER, ["/r/RU-BRY/kiosks/", "/federal/admin/users"]),
    (Role.AUDITOR, ["/r/RU-BRY/kiosks/", "/r/RU-BRY/admin/users"]),
    (Role.OPERATOR, ["/r/RU-BRY/kiosks/", "/r/RU-BRY/imports/", "/r/RU-BRY/checklists/"]),
], ids=str)
def test_pages_a_role_may_not_open_are_not_offered(app, client, make_user, login, role, hidden):
    federal = role in (Role.FEDERAL_ANALYST, Role.METHODOLOGY_OWNER)
    login(make_user(role.value, None if federal else "RU-BRY"))
    offered = menu_links(client.get("/r/RU-BRY/").get_data(as_text=True))
    if federal:
        offered |= menu_links(client.get("/federal/").get_data(as_text=True))
    for link in hidden:
        assert link not in offered
        assert client.get(link).status_code == 403, link


@pytest.mark.parametrize("role", [Role.REGIONAL_ADMIN, Role.AUDITOR, Role.OPERATOR], ids=str)
def test_the_region_menu_offers_respondents_against_auditors(client, make_user, login, role):
    login(make_user(role.value, "RU-BRY"))
    offered = menu_links(client.get("/r/RU-BRY/").get_data(as_text=True))
    assert "/r/RU-BRY/agreement" in offered
    assert client.get("/r/RU-BRY/agreement").status_code == 200
