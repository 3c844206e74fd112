"""The federal bench's generated results (bench.federal) have the shape of a real run's: every
metric the compute engine stores per office, and no other, for both versions (which respondent
types a metric has depends on the answers; the bench gives each subjective one all three)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cci.foundation import tenancy
from cci.foundation.db import db
from cci.foundation.models import RunResult
from engine_helpers import answer
from engine_helpers import campaign  # noqa: F401 (a fixture)
from engine_helpers import offices
from engine_helpers import start
from engine_helpers import work

from bench import federal


@pytest.mark.parametrize("version", ["cci-2022", "cci-2023"])
def test_the_bench_generates_the_rows_a_run_stores(app, campaign, version):
    office = offices(app, "RU-BRY")[0]
    answer(app, office, {"usefulness": 10})
    answer(app, office, {"usefulness": 9}, rtype="employer")
    run_id, _ = start(app, campaign, methodology_key=version)
    work(app)
    with app.app_context(), tenancy.federal_scope("test"):
        stored = set(db.execute(select(RunResult.metric, RunResult.respondent_type).where(
            RunResult.run_id == run_id, RunResult.office_id == office)).all())
    generated = set(federal._metrics(app.extensions["cci.registry"].indicator_set(version)))
    assert {metric for metric, _rtype in generated} == {metric for metric, _rtype in stored}
    pooled = {metric for metric, rtype in stored if rtype is None}
    assert pooled <= {metric for metric, rtype in generated if rtype is None}
