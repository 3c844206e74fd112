"""The plugin API (cci.plugin_api) and the hooks, as a plugin author meets them.

Every hook in cci.hooks.specs has a test here named ``test_hook_<hook>`` that runs a real
implementation, and is documented in docs/plugins.md under a heading with its exact
signature; the last tests check both, so a new hook cannot land without them.
"""

from __future__ import annotations

import configparser
import inspect
import pkgutil
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from flask import Blueprint
from flask import g
from flask import jsonify
from openapi_spec_validator import validate as validate_openapi
from sqlalchemy import select

import cci
from cci import plugin_api
from cci.hooks import specs as hookspecs
from cci.hooks.manager import PluginError
from cci.plugin_api import Channel
from cci.plugin_api import IntakeError
from cci.plugin_api import QualityRule
from cci.plugin_api import Submission
from cci.plugin_api import hookimpl
from cci.plugin_api import operation
from cci.plugin_api import public_endpoint
from cci.plugin_api import ref
from cci.plugin_api import region_area_blueprint
from cci.plugin_api import submit
from conftest import PASSWORD
from conftest import ROOT
from engine_helpers import DAY
from engine_helpers import offices
from engine_helpers import work

from conftest_plugins import EXAMPLES
from test_migrations import migration_url  # noqa: F401 - a fixture

DOCS = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
HOOKS = sorted(name for name, obj in vars(hookspecs).items() if hasattr(obj, "cci_spec"))


def _submit(app, office_id, meta=None, channel=None, channel_key="test"):
    with app.app_context():
        response, _created = submit(Submission(
            office_id=office_id, respondent_type="job_seeker", answers={"usefulness": 9},
            client_key=f"probe-{uuid.uuid4()}", channel=channel_key, submitted_at=DAY,
            meta=meta), channel)
        return response.id


def _stored(app, response_id):
    from cci.foundation import tenancy
    from cci.foundation.db import db
    from cci.foundation.models import Response
    from cci.foundation.models import ResponseFlag

    with app.app_context(), tenancy.federal_scope("test"):
        row = db.get(Response, response_id)
        flags = db.scalars(select(ResponseFlag.rule)
                           .where(ResponseFlag.response_id == response_id)).all()
        answers_counted = {a.counted for a in row.answers}
        return {"meta": dict(row.meta), "comment": row.comment, "counted": row.counted,
                "quality_flags": list(row.quality_flags or []), "flags": sorted(flags),
                "answers_counted": answers_counted}


# --- register_indicator_sets ----------------------------------------------------------------


def test_hook_register_indicator_sets(install_plugin, build, app):
    """The example variant's implementation, installed from its directory, adds its set."""
    install_plugin(EXAMPLES / "cci_example_methodology")
    registry = build().extensions["cci.registry"]
    variant = registry.indicator_set("cci-2023-ii2")
    assert variant.title == "ИКЦ-2023 (II×2)"
    assert variant.validate_answers("job_seeker", {"usefulness": "9"}) == {"usefulness": 9}


# --- register_channels: mounting, a public POST, a staff page --------------------------------


def _probe_channel_plugin():
    public = Blueprint("probe_public", __name__)

    @public.post("/answer")
    @public_endpoint
    def probe_public_answer():
        return jsonify(ok=True)

    @public.post("/form")
    def probe_public_form():
        return jsonify(ok=True)

    staff = region_area_blueprint("probe_staff", __name__)

    @staff.get("/")
    def probe_staff_index():  # no login_required: the area decides for it
        return jsonify(region=g.region.code)

    class ProbeChannel:
        @hookimpl
        def register_channels(self):
            return [Channel(key="probe", label="Проба",
                            blueprints=((public, "/probe"), (staff, "/r/<region_code>/probe")),
                            metadata_fields=("device_id",))]

    return ProbeChannel()


def test_hook_register_channels(build, app):
    probe = build(plugins=(_probe_channel_plugin(),))
    assert "probe" in probe.extensions["cci.registry"].channels
    rules = {r.rule for r in probe.url_map.iter_rules()}
    assert {"/probe/answer", "/probe/form", "/r/<region_code>/probe/"} <= rules


def test_a_public_endpoint_takes_a_post_without_a_csrf_token(build, app):
    probe = build({"WTF_CSRF_ENABLED": True}, plugins=(_probe_channel_plugin(),))
    client = probe.test_client()
    assert client.post("/probe/answer", json={}).get_json() == {"ok": True}
    # the channel's other POSTs keep the session's protection
    refused = client.post("/probe/form", data={})
    assert refused.status_code == 400
    assert refused.get_json(silent=True) is None  # the CSRF error page, not the view


def test_a_staff_page_without_login_required_sends_a_visitor_to_log_in(build, app, make_user):
    probe = build(plugins=(_probe_channel_plugin(),))
    client = probe.test_client()
    anonymous = client.get("/r/RU-BRY/probe/")
    assert anonymous.status_code == 302
    assert "/login" in anonymous.headers["Location"]
    assert "next=" in anonymous.headers["Location"]
    client.post("/login", data={"email": make_user("regional_admin", "RU-KYA"),
                                "password": PASSWORD})
    assert client.get("/r/RU-BRY/probe/").status_code == 404  # another region's page
    assert client.get("/r/RU-KYA/probe/").get_json() == {"region": "RU-KYA"}


def test_a_channel_s_metadata_fields_are_enforced(build, app, campaign):
    probe = build(plugins=(_probe_channel_plugin(),))
    office = offices(probe, "RU-BRY")[0]
    stored = _submit(probe, office, meta={"device_id": 7}, channel_key="probe")
    assert _stored(probe, stored)["meta"] == {"device_id": 7}
    with pytest.raises(IntakeError) as refused:
        _submit(probe, office, meta={"device_id": 7, "devise": 8}, channel_key="probe")
    assert refused.value.field == "meta"
    assert "devise" in refused.value.message and "probe" in refused.value.message
    # a channel that declares none is not checked
    _submit(probe, office, meta={"anything": 1}, channel_key="test")


# --- register_quality_rules -------------------------------------------------------------------


def _marked(response, session, params):
    return "отмечено пробой" if response.meta.get("probe") else None


class ProbeRule:
    @hookimpl
    def register_quality_rules(self):
        return [QualityRule(key="probe.marked", label="Проба", check=_marked)]


def test_hook_register_quality_rules(build, app, campaign):
    probe = build(plugins=(ProbeRule(),))
    office = offices(probe, "RU-BRY")[0]
    flagged = _stored(probe, _submit(probe, office, meta={"probe": True}))
    assert flagged["flags"] == ["probe.marked"]
    assert flagged["counted"] is False and flagged["answers_counted"] == {False}
    clean = _stored(probe, _submit(probe, office, meta={}))
    assert clean["flags"] == [] and clean["counted"] is True


# --- register_jobs ------------------------------------------------------------------------------


def _double(number, report):
    report(0.5, "halfway")
    return {"doubled": number * 2}


class ProbeJobs:
    @hookimpl
    def register_jobs(self):
        return {"probe.double": _double}


def test_hook_register_jobs(build, app, tenants):
    from cci.foundation import jobs
    from cci.foundation import tenancy
    from cci.foundation.db import db
    from cci.foundation.models import JobRecord

    probe = build(plugins=(ProbeJobs(),))
    with probe.app_context(), tenancy.federal_scope("test"):
        record_id = jobs.enqueue("probe.double", title="Удвоить", number=21).id
    work(probe)
    with probe.app_context(), tenancy.federal_scope("test"):
        record = db.get(JobRecord, record_id)
        assert (record.status, record.result) == ("finished", {"doubled": 42})


# --- register_migrations ---------------------------------------------------------------------


def test_hook_register_migrations(migration_url, tmp_path):
    """A plugin's own branch of revisions is found through the hook and run by `cci db
    upgrade`: its table is created beside the core's (tests/test_plugin_migrations.py has the
    upgrade of existing databases, downgrades and refusals)."""
    from conftest import TEST_CONFIG
    from conftest import CommandRunner

    from test_plugin_migrations import _plugin
    from test_plugin_migrations import _tables
    from test_plugin_migrations import _throwaway_branch

    application = cci.create_app({**TEST_CONFIG, "DATABASE_URL": migration_url},
                                 plugins=(_plugin(_throwaway_branch(tmp_path)),))
    try:
        result = CommandRunner(application).invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert {"zz_things", "regions"} <= _tables(application)
    finally:
        application.extensions["cci.engine"].dispose()


# --- prepare_response -----------------------------------------------------------------------


class Stamp:
    @hookimpl
    def prepare_response(self, response, channel):
        response.meta = {**response.meta, "stamped_for": channel.key if channel else None}
        response.comment = "проверено плагином"
        if response.meta.get("suspicious"):
            response.quality_flags = [*(response.quality_flags or []),
                                      {"rule": "probe.stamp", "reason": "плагин сомневается"}]


def test_hook_prepare_response(build, app, campaign):
    probe = build(plugins=(Stamp(), _probe_channel_plugin()))
    channel = probe.extensions["cci.registry"].channels["probe"]
    office = offices(probe, "RU-BRY")[0]
    row = _stored(probe, _submit(probe, office, meta={"device_id": 1}, channel=channel,
                                 channel_key="probe"))
    # the hook's changes are in the stored row; its keys need not be the channel's
    assert row["meta"] == {"device_id": 1, "stamped_for": "probe"}
    assert row["comment"] == "проверено плагином"
    assert row["counted"] is True
    # a flag the hook adds excludes the response, as a rule's would
    flagged = _stored(probe, _submit(probe, office, meta={"suspicious": True}))
    assert flagged["meta"]["stamped_for"] is None  # stored without a channel
    assert flagged["flags"] == ["probe.stamp"]
    assert flagged["counted"] is False and flagged["answers_counted"] == {False}


# --- register_api_schemas ---------------------------------------------------------------------


def _api_plugin(schemas):
    blueprint = Blueprint("probe_things", __name__)

    @blueprint.get("/probe-things")
    @operation("Probe things", tags=["probe"], response=ref("ProbeThing"))
    def probe_things():
        return jsonify(id=1)

    class ProbeApi:
        @hookimpl
        def register_channels(self):
            return [Channel(key="probe-api", label="Проба", api_blueprints=(blueprint,))]

        @hookimpl
        def register_api_schemas(self):
            return schemas

    return ProbeApi()


THING = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}


def test_hook_register_api_schemas(build, app):
    probe = build(plugins=(_api_plugin({"ProbeThing": THING}),))
    spec = probe.test_client().get("/api/v1/openapi.json").get_json()
    assert spec["components"]["schemas"]["ProbeThing"] == THING
    assert "Error" in spec["components"]["schemas"]  # the core's are still there
    validate_openapi(spec)  # every $ref resolves
    # the kiosk's schemas arrive the same way, not by changing the core's dict
    from cci.web.api.schemas import SCHEMAS

    assert "Kiosk" in spec["components"]["schemas"] and "Kiosk" not in SCHEMAS


def test_an_api_schema_named_as_the_core_s_stops_start_up(build, app):
    with pytest.raises(PluginError, match=r"'Error'.*core"):
        build(plugins=(_api_plugin({"Error": THING}),))


def test_two_plugins_registering_one_api_schema_stop_start_up(build, app):
    class Twin:
        @hookimpl
        def register_api_schemas(self):
            return {"ProbeThing": THING}

    with pytest.raises(PluginError, match="Two plugins register the API schema 'ProbeThing'"):
        build(plugins=(_api_plugin({"ProbeThing": THING}), Twin()))


def test_api_schemas_must_be_a_dict(build, app):
    class Wrong:
        @hookimpl
        def register_api_schemas(self):
            return [THING]

    with pytest.raises(PluginError, match="expected a dict"):
        build(plugins=(Wrong(),))


# --- register_audit_vocabulary ----------------------------------------------------------------


class _ProbeWords:
    @hookimpl
    def register_audit_vocabulary(self):
        from cci.plugin_api import AuditObject
        from cci.plugin_api import AuditVocabulary

        return AuditVocabulary(actions={"probe.poke": "Проба: тычок"},
                               objects={"Probe": AuditObject("Пробный объект")},
                               fields={"depth": "Глубина"})


def test_hook_register_audit_vocabulary(build, app, tenants, make_user):
    from cci.plugin_api import db
    from cci.plugin_api import federal_scope
    from cci.plugin_api import record_audit

    probe = build(plugins=(_ProbeWords(),))
    with probe.app_context(), federal_scope("test"):
        record_audit("probe.poke", object_type="Probe", object_id="7", actor="test",
                     before={"depth": 2}, after={"depth": 3})
        db.commit()
    client = probe.test_client()
    client.post("/login", data={"email": make_user("admin"), "password": PASSWORD})
    html = client.get("/federal/admin/audit").get_data(as_text=True)
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Проба: тычок" in page and "Пробный объект №7" in page and "Глубина: 2 → 3" in page


def test_two_plugins_naming_one_audit_action_stop_start_up(build, app):
    with pytest.raises(PluginError, match=r"Two plugins name the audit action 'probe\.poke'"):
        build(plugins=(_ProbeWords(), _ProbeWords()))


# --- report_metrics ------------------------------------------------------------------------


def test_hook_report_metrics(build, app):
    class Gauges:
        @hookimpl
        def report_metrics(self):
            from cci.foundation import tenancy

            scope = tenancy.current_scope()  # the scrape reads in the federal scope
            assert scope is not None and scope.region_id is None
            return [plugin_api.Reading("cci_probe_things", "Things", 3, {"region": "RU-BRY"}),
                    plugin_api.Reading("cci_probe_things", "Things", 4, {"region": "RU-KYA"})]

    probe = build({"METRICS_TOKEN": "t"}, plugins=(Gauges(),))
    text = probe.test_client().get("/metrics", headers={"Authorization": "Bearer t"}
                                   ).get_data(as_text=True)
    assert "# HELP cci_probe_things Things" in text
    assert 'cci_probe_things{region="RU-BRY"} 3.0' in text
    assert 'cci_probe_things{region="RU-KYA"} 4.0' in text
    assert 'cci_dependency_up{dependency="plugins"} 1.0' in text


# --- register_cx_metrics -------------------------------------------------------------------


class _ProbeMetric:
    """A CX metric of a plugin's own: the share of «3» on a 1–3 question asked at the office."""

    @hookimpl
    def register_cx_metrics(self):
        from sqlalchemy import case
        from sqlalchemy import literal
        from sqlalchemy import select as sql_select

        from cci.plugin_api import CxMetric
        from cci.plugin_api import CxQuestion
        from cci.plugin_api import TouchpointAnswer as T

        def rows(window):
            return sql_select(
                T.region_id.label("region_id"), T.office_id.label("office_id"),
                T.touchpoint.label("touchpoint"), T.submitted_at.label("at"),
                literal(1).label("den"), case((T.value == 3, 1), else_=0).label("num"),
            ).where(T.question == "probe", T.counted.is_(True),
                    T.submitted_at >= window.start, T.submitted_at < window.end)

        return [CxMetric(
            code="PROBE", title="Проба", definition="Доля ответов «3», %.",
            numerator="ответы «3»", denominator="все ответы", kind="share", scale="%",
            window="month", direction="higher", min_n=2, touchpoints=("office",),
            rows=rows, sources=("touchpoint_answers",),
            question=CxQuestion("probe", "Как вам?", 1, 3))]


def test_hook_register_cx_metrics(build, app, tenants):
    import datetime as dt

    from cci.collection.touchpoints import TouchpointSubmission
    from cci.collection.touchpoints import submit as submit_touchpoint
    from cci.foundation import tenancy
    from cci.foundation.db import db
    from cci.foundation.models import CxValue
    from cci.index import cx_compute

    probe = build(plugins=(_ProbeMetric(),))
    assert "PROBE" in probe.extensions["cci.registry"].cx_metrics
    office = offices(probe, "RU-BRY")[0]
    with probe.app_context():
        for value in (3, 3, 1, "2"):
            submit_touchpoint(TouchpointSubmission(office, "office", "probe", value, "test",
                                                   submitted_at=DAY))
        with tenancy.federal_scope("test"):
            run = cx_compute.new_run(dt.date(2025, 5, 1), dt.date(2025, 6, 1), None)
            cx_compute.compute(run)
            db.commit()
            cell = db.scalar(select(CxValue).where(
                CxValue.run_id == run.id, CxValue.metric == "PROBE",
                CxValue.level == "federation", CxValue.month.is_(None)))
            assert (cell.n, cell.numerator, cell.value) == (4, 2, 50.0)


def test_two_plugins_registering_one_cx_metric_stop_start_up(build, app):
    with pytest.raises(PluginError, match="Two plugins register the CX metric 'PROBE'"):
        build(plugins=(_ProbeMetric(), _ProbeMetric()))


# --- load_sample_data --------------------------------------------------------------------------


class _ProbeSample:
    """A plugin's sample rows: a day count per office, noting how it was called."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def load_sample_data(self, region, offices, start, end, seed, staff):
        from cci.foundation import tenancy
        from cci.foundation.db import db
        from cci.foundation.models import CxCount

        scope = tenancy.current_scope()
        self.calls.append((region.code, scope.region_id == region.id, len(offices), start,
                           end, seed, staff.region_id == region.id, staff.active))
        for office in offices:
            db.add(CxCount(region_id=region.id, office_id=office.id, touchpoint="office",
                           day=start, kind="probe", count=7))
        return len(offices)


def test_hook_load_sample_data(build, app, tenants):
    import datetime as dt

    from sqlalchemy import func

    from cci.foundation import tenancy
    from cci.foundation.db import db
    from cci.foundation.models import CxCount
    from cci.index import cx_sample

    plugin = _ProbeSample()
    probe = build(plugins=(plugin,))
    today = dt.date(2026, 12, 7)
    quarter = (dt.date(2026, 7, 1), dt.date(2026, 10, 1))
    with probe.app_context():
        loaded = cx_sample.load(today=today, seed=5)
        assert cx_sample.load(today=today, seed=5).regions == {"RU-BRY": {}, "RU-KYA": {}}
        with tenancy.federal_scope("test"):
            assert db.scalar(select(func.sum(CxCount.count)).where(CxCount.kind == "probe")
                             ) == 7 * 4
    # once per sample region, in its scope, with its offices, the quarter, the seed and an
    # inactive staff member of the region; not again on the second load
    assert plugin.calls == [(code, True, 2, *quarter, 5, True, False)
                            for code in ("RU-BRY", "RU-KYA")]
    # its rows are counted with the contact centre's (the built-in plugin's calls and days)
    assert all(added["channel_rows"] > 4 for added in loaded.regions.values())


# --- every hook tested and documented --------------------------------------------------------


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test(hook):
    assert callable(globals().get(f"test_hook_{hook}")), f"no test_hook_{hook} in {__name__}"


def _documented_hooks() -> dict[str, str]:
    return dict(re.findall(r"^### `(\w+)\(([^)]*)\)`", DOCS, re.MULTILINE))


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_signature(hook):
    documented = _documented_hooks()
    assert hook in documented, f"docs/plugins.md has no heading ### `{hook}(…)`"
    parameters = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert documented[hook] == parameters, (
        f"docs/plugins.md documents {hook}({documented[hook]}), the spec is {hook}({parameters})")


def test_no_hook_is_documented_that_does_not_exist():
    documented = set(_documented_hooks())
    methods = {"compute_region", "rollup_federal", "validate_answers"}  # contract methods
    assert documented - methods <= set(HOOKS)


# --- the API module ---------------------------------------------------------------------------


def test_all_lists_every_name_and_only_those():
    public = {name for name in vars(plugin_api)
              if not name.startswith("_") and name != "annotations"}
    assert set(plugin_api.__all__) == public
    assert len(plugin_api.__all__) == len(set(plugin_api.__all__))


def test_every_api_name_is_documented():
    section = DOCS.split("## The plugin API", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`(\w+)`", section))
    missing = sorted(set(plugin_api.__all__) - listed)
    assert not missing, f"names of cci.plugin_api missing from docs/plugins.md: {missing}"


def test_installed_sets_and_channels_are_looked_up_in_the_current_app(build, app):
    blocked = build({"PLUGINS_BLOCKED": ["kiosk"]})
    with blocked.app_context():
        assert plugin_api.installed_set("cci-2023").key == "cci-2023"
        with pytest.raises(LookupError, match="cci-1999"):
            plugin_api.installed_set("cci-1999")
        assert plugin_api.installed_channel("web").key == "web"
        assert plugin_api.installed_channel("kiosk") is None
    with app.app_context():
        assert plugin_api.installed_channel("kiosk").key == "kiosk"


def test_hookimpl_is_the_same_marker_everywhere():
    assert plugin_api.hookimpl is hookspecs.hookimpl is cci.hookimpl


# --- the contract: the built-in plugins import the API only ----------------------------------

CONTRACT = ROOT / ".importlinter"


def _core_modules() -> set[str]:
    return {f"cci.{info.name}" for info in pkgutil.iter_modules(cci.__path__)}


def test_the_contract_forbids_every_core_module_but_the_api():
    config = configparser.ConfigParser()
    config.read(CONTRACT, encoding="utf-8")
    forbidden = set(config["importlinter:contract:plugins-use-the-plugin-api"]
                    ["forbidden_modules"].split())
    assert forbidden == _core_modules() - {"cci.plugin_api"}


def test_the_built_in_plugins_keep_the_contract():
    lint = Path(sys.executable).parent / "lint-imports"
    if not lint.exists():
        lint = shutil.which("lint-imports")
    assert lint, "import-linter is a dev dependency: pip install -e '.[dev]'"
    result = subprocess.run([str(lint), str(CONTRACT), "--no-cache"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    out = " ".join(result.stdout.split())  # the report wraps long names
    assert "Built-in plugins import the core through cci.plugin_api only KEPT" in out
    assert "(hookimpl is in cci.plugin_api) KEPT" in out


def test_the_example_plugin_imports_the_api_only():
    source_root = EXAMPLES / "cci_example_methodology"
    imports = set()
    for path in source_root.rglob("*.py"):
        imports |= set(re.findall(r"^\s*(?:from|import) (cci(?:\.[\w.]+)?)\b",
                                  path.read_text(), re.MULTILINE))
    assert imports == {"cci.plugin_api"}

