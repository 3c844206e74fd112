"""Repository layout: nothing shadows the standard library, plugins stay behind entry points."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

from conftest import ROOT

PLATFORM = ROOT / "platform"
CORE = PLATFORM / "cci"
PLUGIN_ROOTS = (ROOT / "plugins" / "indicators", ROOT / "plugins" / "channels")
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def top_level_names(directory: Path) -> set[str]:
    """Importable top-level names a source root provides: packages and modules."""
    names = set()
    for child in directory.iterdir():
        if child.name.startswith((".", "_")) or child.name.endswith(".egg-info"):
            continue
        if child.is_dir() and (child / "__init__.py").exists():
            names.add(child.name)
        elif child.is_dir() and any(child.glob("*.py")):
            names.add(child.name)  # a namespace package is importable too
        elif child.suffix == ".py":
            names.add(child.stem)
    return names


def plugin_packages() -> set[str]:
    return set().union(*(top_level_names(root) for root in PLUGIN_ROOTS if root.exists()))


def test_platform_is_not_a_package():
    assert not (PLATFORM / "__init__.py").exists(), (
        "platform/__init__.py would make a package named 'platform' that shadows the stdlib"
    )
    assert (CORE / "__init__.py").exists()


def test_no_top_level_name_shadows_the_stdlib():
    roots = [PLATFORM, *PLUGIN_ROOTS]
    provided = {name: root for root in roots if root.exists() for name in top_level_names(root)}
    assert "cci" in provided
    assert plugin_packages(), "the built-in plugins should be found under plugins/"
    shadowing = {name: str(root) for name, root in provided.items()
                 if name in sys.stdlib_module_names}
    assert shadowing == {}


def test_the_source_roots_are_the_packaging_roots():
    """Every source root is listed for setuptools, so the checks above cover what ships."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    where = pyproject["tool"]["setuptools"]["packages"]["find"]["where"]
    assert sorted(where) == sorted(
        str(p.relative_to(ROOT)) for p in (PLATFORM, *PLUGIN_ROOTS)
    )


def test_stdlib_platform_imports_from_the_repo_root():
    done = subprocess.run(
        [str(VENV_PYTHON), "-c",
         "import platform, sys; print(platform.python_implementation()); "
         "print(platform.__file__)"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    implementation, location = done.stdout.split()
    assert implementation == "CPython"
    assert not Path(location).resolve().is_relative_to(ROOT.resolve()), location


def test_stdlib_platform_imports_with_the_platform_dir_on_the_path():
    """Even with platform/'s parent on sys.path, `platform` is still the stdlib module."""
    done = subprocess.run(
        [str(VENV_PYTHON), "-c",
         f"import sys; sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(PLATFORM)!r}); "
         "import platform, cci; print(platform.python_implementation())"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "CPython"


def _imported_names(source: str) -> set[str]:
    """Top-level names a module imports, statically or through importlib by a literal."""
    tree = ast.parse(source)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", "")) in
              {"import_module", "__import__", "find_spec"}):
            names.add(node.args[0].value.split(".")[0])
    return names


def test_the_core_never_imports_a_plugin_by_name():
    plugins = plugin_packages()
    offenders = {}
    for path in sorted(CORE.rglob("*.py")):
        hit = _imported_names(path.read_text(encoding="utf-8")) & plugins
        if hit:
            offenders[str(path.relative_to(ROOT))] = sorted(hit)
        text = path.read_text(encoding="utf-8")
        for name in plugins:
            # Catch string references too (dotted paths, templates of import strings).
            if f"{name}." in text or f'"{name}"' in text or f"'{name}'" in text:
                offenders.setdefault(str(path.relative_to(ROOT)), []).append(name)
    assert offenders == {}


def test_the_import_checker_sees_imports():
    """The checker above is not vacuous: it finds each kind of import it looks for."""
    sample = (
        "import a.b\nfrom c.d import e\nfrom . import f\nimport importlib\n"
        "def g():\n    import h\n    importlib.import_module('i.j')\n    __import__('k')\n"
    )
    assert _imported_names(sample) == {"a", "c", "importlib", "h", "i", "k"}


def test_every_plugin_package_is_registered_by_entry_point():
    """The built-in plugins reach the core only through entry points declared for packaging
    (the root pyproject.toml, or a plugin's own), in the groups the core loads."""
    from cci.hooks.manager import ENTRY_POINT_GROUPS

    declared: dict[str, dict[str, str]] = {}
    for pyproject in [ROOT / "pyproject.toml", *ROOT.glob("plugins/*/*/pyproject.toml")]:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        for group, eps in data.get("project", {}).get("entry-points", {}).items():
            if group in ENTRY_POINT_GROUPS:
                declared.setdefault(group, {}).update(eps)
    targets = {value.split(":")[0].split(".")[0]
               for eps in declared.values() for value in eps.values()}
    missing = plugin_packages() - targets
    assert missing == set(), f"plugin packages without an entry point: {sorted(missing)}"
    # And the installed metadata agrees (run `pip install -e .` after adding a plugin).
    installed = {ep.value.split(":")[0].split(".")[0]
                 for group in ENTRY_POINT_GROUPS for ep in entry_points(group=group)}
    assert targets <= installed, f"declared but not installed: {sorted(targets - installed)}"


ARCHITECTURE = ROOT / "docs" / "architecture.md"


def _core_modules() -> list[str]:
    """Every module of the core, as its path in platform/cci/ (packages' empty __init__.py
    files are the packages themselves, named by their folder)."""
    found = []
    for path in sorted(CORE.rglob("*.py")):
        relative = path.relative_to(CORE).as_posix()
        if path.name == "__init__.py" and path.parent != CORE:
            body = ast.parse(path.read_text(encoding="utf-8")).body
            if all(isinstance(node, ast.Expr) for node in body):  # only a docstring
                relative = path.parent.relative_to(CORE).as_posix() + "/"
        found.append(relative)
    return found


def test_the_architecture_page_describes_every_core_module():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    missing = [module for module in _core_modules() if f"`{module}`" not in text]
    assert missing == [], f"add these to docs/architecture.md's Layout: {missing}"


def test_the_architecture_page_names_no_module_that_is_gone():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    layout = text[text.index("## Layout"):text.index("\n## ", text.index("## Layout") + 1)]
    # the table's first column: `module` or **`package/`**, several per cell at most
    first_cells = [line.split("|")[1] for line in layout.splitlines() if line.startswith("| ")]
    named = {name for cell in first_cells for name in re.findall(r"`([\w/]+(?:\.py|/))`", cell)}
    gone = sorted(name for name in named if not (CORE / name).exists())
    assert gone == [], f"docs/architecture.md names modules that do not exist: {gone}"


def test_the_module_list_is_not_vacuous():
    modules = _core_modules()
    assert "foundation/tenancy.py" in modules and "collection/intake.py" in modules
    assert "foundation/" in modules  # a package whose __init__ is only its docstring


def _lint_imports(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "lint-imports"), str(config), "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )


def test_the_layers_hold_and_the_checker_would_see_a_breach(tmp_path):
    """.importlinter's contracts pass on the tree, and fail on a copy of the core where a
    lower layer imports an upper one (so the check is not vacuous)."""
    done = _lint_imports(ROOT / ".importlinter")
    assert done.returncode == 0, done.stdout + done.stderr
    assert " BROKEN" not in done.stdout
    # A breach in a scratch copy: the foundation importing the web layer.
    copy = tmp_path / "src"
    shutil.copytree(CORE, copy / "cci", ignore=shutil.ignore_patterns("templates", "static",
                                                                         "translations"))
    with (copy / "cci" / "foundation" / "config.py").open("a", encoding="utf-8") as f:
        f.write("\nfrom cci.web import app as _breach  # noqa\n")
    config = tmp_path / "importlinter.ini"
    text = (ROOT / ".importlinter").read_text(encoding="utf-8")
    core_contracts = text[:text.index("[importlinter:contract:plugins-")]  # the core's own
    config.write_text(re.sub(r"root_packages =\n(?:    .*\n)+", "root_package = cci\n",
                             core_contracts), encoding="utf-8")
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "lint-imports"), str(config), "--no-cache"],
        cwd=copy, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(copy)},
    )
    assert done.returncode != 0
    assert "cci.foundation is not allowed to import cci.web" in done.stdout
