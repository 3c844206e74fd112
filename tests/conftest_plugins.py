"""``install_plugin``: a plugin distribution installed from its own directory, as an operator
would with ``pip install <dir>``, for the app built after it.

    def test_it(install_plugin, build):
        install_plugin(EXAMPLES / "cci_example_channel")
        app = build()            # the entry points of the installed distribution are found

The directory (with its ``pyproject.toml``) is copied and installed once per test session
with pip (``--no-deps --no-build-isolation --no-index --target``: no network, the source
tree stays clean); each test that asks for it gets the installation on ``sys.path``, so
``importlib.metadata`` finds its entry points, and its modules are forgotten afterwards.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

#: The example plugins' directories, each a distribution of its own.
EXAMPLES = Path(__file__).parent / "example_plugins"


@pytest.fixture(scope="session")
def _plugin_installations(tmp_path_factory):
    done: dict[Path, Path] = {}

    def installed(directory: Path) -> Path:
        directory = Path(directory).resolve()
        if directory not in done:
            work = tmp_path_factory.mktemp(directory.name)
            source = work / "source"
            shutil.copytree(directory, source, ignore=shutil.ignore_patterns(
                "build", "*.egg-info", "__pycache__"))
            target = work / "site-packages"
            result = subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 "--no-deps", "--no-build-isolation", "--no-index", "--target", str(target),
                 str(source)],
                capture_output=True, text=True, check=False)
            if result.returncode != 0:
                pytest.fail(f"pip could not install {directory.name}:\n{result.stderr}")
            done[directory] = target
        return done[directory]

    return installed


@pytest.fixture
def install_plugin(_plugin_installations, monkeypatch):
    """``install_plugin(directory) -> site-packages path``: see the module's docstring."""
    top_level: set[str] = set()

    def install(directory: Path) -> Path:
        target = _plugin_installations(directory)
        monkeypatch.syspath_prepend(str(target))
        top_level.update(path.name for path in target.iterdir()
                         if path.is_dir() and not path.name.endswith((".dist-info", "__pycache__")))
        importlib.invalidate_caches()
        return target

    yield install
    for name in list(sys.modules):
        if name.split(".")[0] in top_level:
            del sys.modules[name]
