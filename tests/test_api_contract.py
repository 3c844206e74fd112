"""The API keeps its contract under generated requests: schemathesis over the whole OpenAPI
document, every operation, the same generated requests sent with a token of every role.

Asserted for each answer: no 5xx, a status the document lists for the operation, its content
type, and a body that matches the document's schema. Bounded (a few examples an operation,
derandomized so CI sees the same requests every run); ``CCI_API_EXAMPLES`` raises the
number for a longer run by hand.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.specs.openapi.checks import status_code_conformance
from sqlalchemy import select

from cci.foundation import tenancy
from cci.foundation import tokens
from cci.foundation.db import db
from cci.foundation.models import User

ROLES = {"admin": None, "federal_analyst": None, "methodology_owner": None,
         "regional_admin": "RU-BRY", "auditor": "RU-BRY", "operator": "RU-BRY"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES = int(os.environ.get("CCI_API_EXAMPLES", "8"))


@pytest.fixture
def role_tokens(app, make_user, live_campaign, monkeypatch) -> dict[str, str]:
    """A token of every role (the regional ones in RU-BRY, a region of the live campaign).
    The batch's rate limit is raised: past it, every batch would be a 429 (tested elsewhere)
    and its items never read."""
    monkeypatch.setitem(app.config, "RATELIMIT_API_BATCH", "100000/minute")
    issued = {}
    for role, region in ROLES.items():
        email = make_user(role, region)
        with app.app_context(), tenancy.federal_scope("test token"):
            user = db.scalar(select(User).where(User.email == email))
            _row, issued[role] = tokens.issue(user, "contract")
            db.commit()
    return issued


def _document() -> dict:
    """The document, from an app of its own: schemathesis makes the tests when this module is
    collected, before any fixture (its lazy, fixture-based loader does not run on this
    pytest). The requests go to the test's ``app``."""
    from cci import create_app
    from cci.web.api.docs import build_spec
    from conftest import TEST_CONFIG

    application = create_app(TEST_CONFIG)
    try:
        with application.app_context():
            return build_spec(application)
    finally:
        application.extensions["cci.engine"].dispose()


schema = schemathesis.openapi.from_dict(_document())
# valid requests and invalid ones (a wrong type, a missing field, a list for an object)
schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE,
                                       schemathesis.GenerationMode.NEGATIVE])


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_contract_for_every_role(app, case, role_tokens):
    for role, token in role_tokens.items():
        headers = {"Authorization": f"Bearer {token}"}
        response = case.call(headers=headers, app=app)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except Exception as exc:
            exc.add_note(f"role: {role}")
            raise
