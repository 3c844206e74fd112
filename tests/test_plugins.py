"""Plugin contracts: methodology sets and channels arrive through entry points, exactly as a
separately installed package would, and a broken or conflicting plugin stops start-up with
an error that names it."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from cci import hookimpl
from cci.collection.channels import Channel
from cci.collection.channels import QualityRule
from cci.hooks.manager import PluginError
from cci.methodology.contract import AnswerError
from cci.methodology.contract import Indicator
from cci.methodology.contract import IndicatorSet
from cci.methodology.contract import Item
from cci.methodology.contract import Parameter

# A methodology set as a third-party package would write it. ``KEY``/``BASED_ON`` are
# substituted so that several copies can be installed side by side.
INDICATORS_SOURCE = '''
from cci.plugin_api import Indicator, IndicatorSet, Item, Option, Parameter, hookimpl

BOTH = {"job_seeker": "Сколько вы ждали?", "employer": "Сколько вы ждали?"}


def build():
    return IndicatorSet(
        key=KEY,
        version="2099.1",
        title="Тестовая методика",
        groups={"I": "Группа I"},
        based_on=BASED_ON,
        indicators=[
            Indicator(code="T-1", key="wait", group="I", kind="subjective",
                      title="Ожидание", items=("q_wait",)),
        ],
        items=[
            Item("q_wait", "scale", BOTH),
            Item("q_helped", "yesno", {"job_seeker": "Вам помогли?"}, allows_na=False),
            Item("q_why", "choice", {"job_seeker": "Почему нет?"},
                 options=(Option("slow", "Долго"), Option("rude", "Невежливо")),
                 follows=("q_helped", 0)),
            Item("q_vacancies", "scale", {"employer": "Вакансии?"}, scale_min=1, scale_max=5),
            Item("p_age", "choice", {"job_seeker": "Возраст"}, section="profile",
                 options=(Option("18-29", "18–29"), Option("30+", "30 и старше"))),
        ],
        parameters={
            "positive_min": Parameter("positive_min", "Положительный ответ от", 8),
            "star_bands": Parameter("star_bands", "Звёзды", [90, 80, 70, 60]),
        },
    )


@hookimpl
def register_indicator_sets():
    return [build()]
'''

CHANNEL_SOURCE = '''
from flask import Blueprint, jsonify

from cci.plugin_api import Channel, QualityRule, hookimpl

bp = Blueprint(BLUEPRINT, __name__)


@bp.route("/ping")
def ping():
    return jsonify(channel=KEY, pong=True)


def too_fast(response, session, params):
    seconds = response.meta.get("seconds")
    if seconds is not None and seconds < params["min_seconds"]:
        return f"answered in {seconds} s"
    return None


TOO_FAST = QualityRule(key=KEY + ".too_fast", label="Слишком быстро", check=too_fast,
                       params={"min_seconds": 20})


@hookimpl
def register_channels():
    return [Channel(key=KEY, label="Тестовый киоск", blueprints=((bp, PREFIX),),
                    metadata_fields=("device", "seconds"), quality_rules=(TOO_FAST,))]


@hookimpl
def register_jobs():
    return {KEY + ".noop": lambda report: {"ok": True}}
'''


def indicators_module(key: str = "tst-2099", based_on: str | None = None) -> str:
    return f"KEY = {key!r}\nBASED_ON = {based_on!r}\n" + INDICATORS_SOURCE


def channel_module(key: str = "tst-kiosk", prefix: str = "/tst-kiosk") -> str:
    blueprint = key.replace("-", "_")
    return f"KEY = {key!r}\nPREFIX = {prefix!r}\nBLUEPRINT = {blueprint!r}\n" + CHANNEL_SOURCE


@pytest.fixture
def install(tmp_path: Path, monkeypatch):
    """``install(dist, modules, entry_points)``: put a distribution on sys.path as pip would.

    ``modules`` maps dotted module names to source; ``entry_points`` maps a group to
    ``{name: "module"}``. The modules are forgotten again after the test.
    """
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    top_level: set[str] = set()

    def do(dist: str, modules: dict[str, str], entry_points: dict[str, dict[str, str]],
           version: str = "0.1") -> Path:
        for dotted, source in modules.items():
            parts = dotted.split(".")
            top_level.add(parts[0])
            folder = site.joinpath(*parts[:-1])
            folder.mkdir(parents=True, exist_ok=True)
            for depth in range(1, len(parts)):
                init = site.joinpath(*parts[:depth], "__init__.py")
                if not init.exists():
                    init.write_text("")
            (folder / f"{parts[-1]}.py").write_text(textwrap.dedent(source))
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
        )
        lines = []
        for group, points in entry_points.items():
            lines.append(f"[{group}]")
            lines.extend(f"{name} = {value}" for name, value in points.items())
            lines.append("")
        (info / "entry_points.txt").write_text("\n".join(lines))
        import importlib

        importlib.invalidate_caches()
        return info

    yield do
    for name in list(sys.modules):
        if name.split(".")[0] in top_level:
            del sys.modules[name]


@pytest.fixture
def third_party(install):
    """A package «cci-tst-plugin» 0.1 with one methodology set and one channel."""
    install(
        "cci-tst-plugin",
        {
            "cci_tst_plugin.indicators": indicators_module(),
            "cci_tst_plugin.kiosk": channel_module(),
        },
        {
            "cci.indicators": {"tst-2099": "cci_tst_plugin.indicators"},
            "cci.channels": {"tst-kiosk": "cci_tst_plugin.kiosk"},
        },
    )


@pytest.fixture
def indicator_set(third_party, build) -> IndicatorSet:
    return build().extensions["cci.registry"].indicator_set("tst-2099")


# --- a third-party package through entry points ------------------------------------------


def test_entry_point_plugins_are_registered(third_party, build):
    registry = build().extensions["cci.registry"]
    assert "tst-2099" in registry.indicator_sets
    assert "tst-kiosk" in registry.channels
    # the built-in sets travel the same path and are still there
    assert {"cci-2022", "cci-2023"} <= set(registry.indicator_sets)
    assert "tst-kiosk.noop" in registry.jobs


def test_indicator_set_is_stamped_with_its_distribution(third_party, build):
    indicator_set = build().extensions["cci.registry"].indicator_set("tst-2099")
    assert indicator_set.package == "cci-tst-plugin"
    assert indicator_set.package_version == "0.1"
    assert indicator_set.version == "2099.1"
    assert indicator_set.parameter("positive_min") == 8


def test_without_the_package_nothing_is_registered(build):
    registry = build().extensions["cci.registry"]
    assert "tst-2099" not in registry.indicator_sets
    assert "tst-kiosk" not in registry.channels
    with pytest.raises(LookupError, match="tst-2099"):
        registry.indicator_set("tst-2099")


def test_channel_blueprint_is_mounted_and_answers(third_party, build):
    client = build().test_client()
    response = client.get("/tst-kiosk/ping")
    assert response.status_code == 200
    assert response.get_json() == {"channel": "tst-kiosk", "pong": True}
    assert client.get("/tst-kiosk/nothing-here").status_code == 404


def test_channel_blueprint_is_absent_without_the_package(build):
    assert build().test_client().get("/tst-kiosk/ping").status_code == 404


def test_channel_quality_rule_is_reachable_and_works(third_party, build):
    channel = build().extensions["cci.registry"].channels["tst-kiosk"]
    assert isinstance(channel, Channel)
    assert channel.metadata_fields == ("device", "seconds")
    (rule,) = channel.quality_rules
    assert isinstance(rule, QualityRule)
    assert rule.key == "tst-kiosk.too_fast"

    class FakeResponse:
        def __init__(self, meta):
            self.meta = meta

    assert rule.check(FakeResponse({"seconds": 3}), None, rule.params) == "answered in 3 s"
    assert rule.check(FakeResponse({"seconds": 60}), None, rule.params) is None
    assert rule.check(FakeResponse({"seconds": 30}), None, {"min_seconds": 45}) is not None


def test_one_module_may_be_listed_in_both_groups(install, build):
    """A package may keep its set and its channel in one module, listed under both groups."""
    install(
        "cci-tst-combined",
        {"cci_tst_combined": indicators_module("tst-combo")
         + channel_module("tst-combo-kiosk", "/combo").replace("KEY", "CHANNEL_KEY")},
        {"cci.indicators": {"tst-combo": "cci_tst_combined"},
         "cci.channels": {"tst-combo-kiosk": "cci_tst_combined"}},
    )
    app = build()
    registry = app.extensions["cci.registry"]
    assert registry.indicator_set("tst-combo").package == "cci-tst-combined"
    assert "tst-combo-kiosk" in registry.channels
    assert app.test_client().get("/combo/ping").status_code == 200


# --- validate_answers through the installed set ----------------------------------------------


def test_valid_answers_are_normalised(indicator_set):
    clean = indicator_set.validate_answers(
        "job_seeker", {"q_wait": "7", "q_helped": "да", "q_why": None}
    )
    assert clean == {"q_wait": 7, "q_helped": 1, "q_why": None}
    clean = indicator_set.validate_answers("job_seeker", {"q_helped": "нет", "q_why": "slow"})
    assert clean == {"q_helped": 0, "q_why": "slow"}
    assert indicator_set.validate_answers("job_seeker", {"q_wait": ""}) == {"q_wait": None}
    assert indicator_set.validate_answers("employer", {"q_vacancies": 5}) == {"q_vacancies": 5}


def test_unknown_item_is_rejected(indicator_set):
    with pytest.raises(AnswerError) as caught:
        indicator_set.validate_answers("job_seeker", {"q_wait": 5, "q_nope": 1})
    assert caught.value.item == "q_nope"


def test_item_of_the_other_respondent_type_is_rejected(indicator_set):
    with pytest.raises(AnswerError) as caught:
        indicator_set.validate_answers("job_seeker", {"q_vacancies": 3})
    assert caught.value.item == "q_vacancies"
    with pytest.raises(AnswerError) as caught:
        indicator_set.validate_answers("employer", {"q_helped": "да"})
    assert caught.value.item == "q_helped"


def test_unknown_respondent_type_is_rejected(indicator_set):
    with pytest.raises(AnswerError) as caught:
        indicator_set.validate_answers("tourist", {"q_wait": 5})
    assert caught.value.item == "respondent_type"


def test_profile_items_are_checked_in_their_own_section(indicator_set):
    with pytest.raises(AnswerError):
        indicator_set.validate_answers("job_seeker", {"p_age": "30+"})
    assert indicator_set.validate_answers("job_seeker", {"p_age": "30+"}, section="profile") == {
        "p_age": "30+"
    }
    with pytest.raises(AnswerError):
        indicator_set.validate_answers("job_seeker", {"q_wait": 5}, section="profile")


@pytest.mark.parametrize("value", ["0", 0, "11", 11, -3, "7.5", "семь", True, [7]])
def test_out_of_range_or_non_numeric_scale_is_rejected(indicator_set, value):
    with pytest.raises(AnswerError) as caught:
        indicator_set.validate_answers("job_seeker", {"q_wait": value})
    assert caught.value.item == "q_wait"


@pytest.mark.parametrize("value, expected", [(1, 1), ("10", 10), (" 4 ", 4)])
def test_scale_bounds_are_inclusive(indicator_set, value, expected):
    assert indicator_set.validate_answers("job_seeker", {"q_wait": value}) == {"q_wait": expected}


def test_each_item_has_its_own_scale(indicator_set):
    assert indicator_set.validate_answers("employer", {"q_vacancies": 5})["q_vacancies"] == 5
    with pytest.raises(AnswerError, match="between 1 and 5"):
        indicator_set.validate_answers("employer", {"q_vacancies": 6})


@pytest.mark.parametrize("word", ["да", "Да", "yes", "1", 1, True])
def test_yes_words(indicator_set, word):
    assert indicator_set.validate_answers("job_seeker", {"q_helped": word}) == {"q_helped": 1}


@pytest.mark.parametrize("word", ["нет", "Нет", "no", "0", 0, False])
def test_no_words(indicator_set, word):
    assert indicator_set.validate_answers("job_seeker", {"q_helped": word}) == {"q_helped": 0}


@pytest.mark.parametrize("word", ["может быть", "2", 2, "ДА!"])
def test_other_words_are_not_yes_or_no(indicator_set, word):
    with pytest.raises(AnswerError) as caught:
        indicator_set.validate_answers("job_seeker", {"q_helped": word})
    assert caught.value.item == "q_helped"


def test_required_item_refuses_no_answer(indicator_set):
    with pytest.raises(AnswerError, match="required"):
        indicator_set.validate_answers("job_seeker", {"q_helped": ""})


def test_unknown_option_is_rejected(indicator_set):
    with pytest.raises(AnswerError, match=r"(?i)unknown option"):
        indicator_set.validate_answers("job_seeker", {"q_helped": "нет", "q_why": "late"})


@pytest.mark.parametrize("answers", [
    {"q_helped": "да", "q_why": "slow"},   # condition not met
    {"q_why": "slow"},                     # condition item not answered
    {"q_helped": "1", "q_why": "rude"},
])
def test_follow_up_whose_condition_is_unmet_is_rejected(indicator_set, answers):
    with pytest.raises(AnswerError) as caught:
        indicator_set.validate_answers("job_seeker", answers)
    assert caught.value.item == "q_why"
    assert "q_helped" in caught.value.message


# --- start-up errors -------------------------------------------------------------------------


def test_plugin_failing_on_import_stops_start_up(install, build):
    install(
        "cci-tst-broken",
        {"cci_tst_broken": "raise RuntimeError('kaboom at import')\n"},
        {"cci.indicators": {"tst-broken": "cci_tst_broken"}},
    )
    with pytest.raises(PluginError) as caught:
        build()
    message = str(caught.value)
    assert "'tst-broken'" in message
    assert "cci.indicators" in message
    assert "RuntimeError: kaboom at import" in message


def test_plugin_with_a_missing_dependency_stops_start_up(install, build):
    install(
        "cci-tst-needy",
        {"cci_tst_needy": "import cci_no_such_dependency_anywhere\n"},
        {"cci.channels": {"tst-needy": "cci_tst_needy"}},
    )
    with pytest.raises(PluginError, match=r"'tst-needy'.*cci_no_such_dependency_anywhere"):
        build()


def test_entry_point_to_a_missing_module_stops_start_up(install, build):
    install("cci-tst-ghost", {}, {"cci.plugins": {"tst-ghost": "cci_tst_ghost_module"}})
    with pytest.raises(PluginError, match=r"'tst-ghost'.*ModuleNotFoundError"):
        build()


def test_two_plugins_with_the_same_indicator_set_key(install, build):
    for suffix in ("a", "b"):
        install(
            f"cci-tst-dup-{suffix}",
            {f"cci_tst_dup_{suffix}": indicators_module("tst-dup")},
            {"cci.indicators": {f"tst-dup-{suffix}": f"cci_tst_dup_{suffix}"}},
        )
    with pytest.raises(PluginError) as caught:
        build()
    message = str(caught.value)
    assert "'tst-dup'" in message
    assert "'tst-dup-a'" in message and "'tst-dup-b'" in message


def test_a_plugin_cannot_take_over_a_built_in_key(install, build):
    install(
        "cci-tst-impostor",
        {"cci_tst_impostor": indicators_module("cci-2023")},
        {"cci.indicators": {"tst-impostor": "cci_tst_impostor"}},
    )
    with pytest.raises(PluginError) as caught:
        build()
    message = str(caught.value)
    assert "'cci-2023'" in message and "'tst-impostor'" in message


def test_two_plugins_with_the_same_channel_key(install, build):
    for suffix in ("a", "b"):
        install(
            f"cci-tst-chan-{suffix}",
            {f"cci_tst_chan_{suffix}": channel_module("tst-chan", f"/chan-{suffix}")},
            {"cci.channels": {f"tst-chan-{suffix}": f"cci_tst_chan_{suffix}"}},
        )
    with pytest.raises(PluginError) as caught:
        build()
    message = str(caught.value)
    assert "channel 'tst-chan'" in message
    assert "'tst-chan-a'" in message and "'tst-chan-b'" in message


def test_two_packages_with_the_same_entry_point_name(install, build):
    for suffix in ("a", "b"):
        install(
            f"cci-tst-same-{suffix}",
            {f"cci_tst_same_{suffix}": indicators_module(f"tst-same-{suffix}")},
            {"cci.indicators": {"tst-same": f"cci_tst_same_{suffix}"}},
        )
    with pytest.raises(PluginError, match="'tst-same'"):
        build()


def test_plugin_implementing_an_unknown_hook(install, build):
    install(
        "cci-tst-stranger",
        {"cci_tst_stranger": """
            from cci import hookimpl

            @hookimpl
            def register_widgets():
                return []
        """},
        {"cci.plugins": {"tst-stranger": "cci_tst_stranger"}},
    )
    with pytest.raises(PluginError) as caught:
        build()
    message = str(caught.value)
    assert "'tst-stranger'" in message
    assert "register_widgets" in message


def test_plugin_hook_with_an_unknown_argument(install, build):
    install(
        "cci-tst-badargs",
        {"cci_tst_badargs": """
            from cci import hookimpl

            @hookimpl
            def prepare_response(response, channel, weather):
                pass
        """},
        {"cci.plugins": {"tst-badargs": "cci_tst_badargs"}},
    )
    with pytest.raises(PluginError, match=r"(?s)'tst-badargs'.*weather"):
        build()


def test_plugin_failing_inside_its_hook(install, build):
    install(
        "cci-tst-failing",
        {"cci_tst_failing": """
            from cci import hookimpl

            @hookimpl
            def register_channels():
                raise KeyError("no config")
        """},
        {"cci.channels": {"tst-failing": "cci_tst_failing"}},
    )
    with pytest.raises(PluginError, match="'tst-failing' failed in register_channels: KeyError"):
        build()


def test_plugin_returning_the_wrong_kind_of_thing(install, build):
    install(
        "cci-tst-wrong",
        {"cci_tst_wrong": """
            from cci import hookimpl

            @hookimpl
            def register_indicator_sets():
                return [{"key": "tst-dict"}]
        """},
        {"cci.indicators": {"tst-wrong": "cci_tst_wrong"}},
    )
    with pytest.raises(PluginError, match=r"'tst-wrong' returned dict.*expected IndicatorSet"):
        build()


def test_indicator_set_based_on_a_missing_set(install, build):
    install(
        "cci-tst-orphan",
        {"cci_tst_orphan": indicators_module("tst-orphan", based_on="cci-1999")},
        {"cci.indicators": {"tst-orphan": "cci_tst_orphan"}},
    )
    with pytest.raises(PluginError) as caught:
        build()
    message = str(caught.value)
    assert "'tst-orphan'" in message and "'cci-1999'" in message
    assert "cci-tst-orphan" in message  # the package to uninstall or fix


def test_indicator_set_based_on_an_installed_set(install, build):
    install(
        "cci-tst-child",
        {"cci_tst_child": indicators_module("tst-child", based_on="cci-2023")},
        {"cci.indicators": {"tst-child": "cci_tst_child"}},
    )
    child = build().extensions["cci.registry"].indicator_set("tst-child")
    assert child.based_on == "cci-2023"


# --- blocking ----------------------------------------------------------------------------------


def test_blocked_broken_plugin_lets_the_app_start(install, build):
    install(
        "cci-tst-broken",
        {"cci_tst_broken": "raise RuntimeError('kaboom at import')\n"},
        {"cci.indicators": {"tst-broken": "cci_tst_broken"}},
    )
    app = build({"PLUGINS_BLOCKED": ["tst-broken"]})
    assert "cci-2023" in app.extensions["cci.registry"].indicator_sets
    assert "cci_tst_broken" not in sys.modules  # blocked plugins are not even imported


def test_blocked_plugins_register_nothing(third_party, build):
    app = build({"PLUGINS_BLOCKED": ["tst-2099", "tst-kiosk"]})
    registry = app.extensions["cci.registry"]
    assert "tst-2099" not in registry.indicator_sets
    assert "tst-kiosk" not in registry.channels
    assert app.test_client().get("/tst-kiosk/ping").status_code == 404


def test_blocking_one_plugin_of_a_package_keeps_the_other(third_party, build):
    registry = build({"PLUGINS_BLOCKED": ["tst-kiosk"]}).extensions["cci.registry"]
    assert "tst-kiosk" not in registry.channels
    assert "tst-2099" in registry.indicator_sets


def test_plugins_blocked_through_the_environment(third_party, build, monkeypatch):
    monkeypatch.setenv("CCI_PLUGINS_BLOCKED", " tst-kiosk , tst-2099,")
    app = build()
    assert app.config["PLUGINS_BLOCKED"] == ["tst-kiosk", "tst-2099"]
    registry = app.extensions["cci.registry"]
    assert "tst-kiosk" not in registry.channels and "tst-2099" not in registry.indicator_sets


def test_blocking_a_set_that_another_is_based_on_stops_start_up(build):
    with pytest.raises(PluginError, match=r"'cci-2023'.*based on 'cci-2022'"):
        build({"PLUGINS_BLOCKED": ["cci-2022"]})


# --- plugins passed to create_app -----------------------------------------------------------


def _quick_set(key: str) -> IndicatorSet:
    return IndicatorSet(
        key=key, version="1", title="Быстрый тест", groups={"I": "I"},
        indicators=[Indicator(code="Q-1", key="q", group="I", kind="subjective", title="Q",
                              items=("q1",))],
        items=[Item("q1", "scale", {"job_seeker": "?"}, scale_max=5)],
        parameters={"star_bands": Parameter("star_bands", "", [4, 3, 2, 1])},
    )


def test_create_app_registers_extra_plugin_objects(build):
    from flask import Blueprint

    quick_bp = Blueprint("quick_channel", __name__)
    quick_bp.add_url_rule("/hello", "hello", lambda: "привет")

    class QuickPlugin:
        @hookimpl
        def register_indicator_sets(self):
            return [_quick_set("tst-quick")]

        @hookimpl
        def register_channels(self):
            return [Channel(key="tst-quick-channel", label="Q", blueprints=((quick_bp, "/quick"),))]

        @hookimpl
        def register_quality_rules(self):
            return [QualityRule(key="tst.always", label="A", check=lambda r, s, p: "always")]

    app = build(plugins=(QuickPlugin(),))
    registry = app.extensions["cci.registry"]
    assert registry.indicator_set("tst-quick").validate_answers("job_seeker", {"q1": 5}) == {
        "q1": 5
    }
    with pytest.raises(AnswerError):
        registry.indicator_set("tst-quick").validate_answers("job_seeker", {"q1": 6})
    assert registry.quality_rules["tst.always"].check(None, None, {}) == "always"
    response = app.test_client().get("/quick/hello")
    assert response.status_code == 200 and response.get_data(as_text=True) == "привет"
    # the registry is per app: another app without the plugin does not have it
    assert "tst-quick" not in build().extensions["cci.registry"].indicator_sets


def test_extra_plugin_conflicting_with_an_installed_one(build):
    class Clash:
        @hookimpl
        def register_indicator_sets(self):
            return [_quick_set("cci-2022")]

    with pytest.raises(PluginError, match="'cci-2022'"):
        build(plugins=(Clash(),))


def test_the_same_extra_plugin_twice_is_a_plugin_error(build):
    class Once:
        @hookimpl
        def register_quality_rules(self):
            return []

    plugin = Once()
    with pytest.raises(PluginError, match="create_app"):
        build(plugins=(plugin, plugin))
