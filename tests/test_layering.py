"""The engine (`poise.audio`) and the application layer (`poise.app`) never import Qt, and never
the desktop package; the engine never reaches up into the application layer either.

Checked twice: by importing every module of the package in a fresh interpreter and
looking at what ended up in `sys.modules`, and statically, by reading the sources
(an import inside a function would escape the first check until it runs).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
AUDIO_DIR = REPO / "poise" / "audio"
APP_DIR = REPO / "poise" / "app"
QT_PREFIXES = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6", "qtpy")  # any Qt binding or Qt-based plotting
FORBIDDEN_PREFIXES = QT_PREFIXES + ("poise.desktop",)  # neither layer reaches up into the UI
# What each Qt-free package may not import (the engine is below the application layer).
LAYERS = {
    "poise.audio": (AUDIO_DIR, FORBIDDEN_PREFIXES + ("poise.app",)),
    "poise.app": (APP_DIR, FORBIDDEN_PREFIXES),
    "poise.report": (REPO / "poise" / "report", FORBIDDEN_PREFIXES + ("poise.app",)),  # output, below the app layer
}

# Imports every module under a package (walk_packages) and prints what it loaded that is forbidden.
PROBE = r"""
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
prefixes = tuple(sys.argv[2:])
imported, failed = [package.__name__], {}
if hasattr(package, "__path__"):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        try:
            importlib.import_module(info.name)
            imported.append(info.name)
        except Exception as exc:
            failed[info.name] = f"{type(exc).__name__}: {exc}"
bad = sorted(m for m in sys.modules if m.split(".")[0] in prefixes or any(m == p or m.startswith(p + ".") for p in prefixes))
print(json.dumps({"imported": imported, "failed": failed, "forbidden": bad}))
"""


def _probe(package: str, forbidden: tuple[str, ...] = FORBIDDEN_PREFIXES) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"}
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, package, *forbidden],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_importing_every_module_loads_no_qt(package: str) -> None:
    folder, forbidden = LAYERS[package]
    report = _probe(package, forbidden)
    assert report["failed"] == {}, f"modules of {package} that do not import: {report['failed']}"
    expected = {f"{package}.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__"}
    assert expected <= set(report["imported"]), f"not imported: {sorted(expected - set(report['imported']))}"
    assert report["forbidden"] == [], f"{package} pulled in: {report['forbidden']}"


def test_probe_detects_qt_when_it_is_imported() -> None:
    """The probe itself works: the desktop package does load Qt, and the probe sees it."""
    pytest.importorskip("PySide6")
    report = _probe("poise.desktop")
    assert any(m.startswith("PySide6") for m in report["forbidden"]), report


_IMPORT_RE = re.compile(
    r"^\s*(?:from\s+(?P<from>[\w.]+)\s+import|import\s+(?P<imp>[^\n#;]+))", re.MULTILINE
)
_DYNAMIC_RE = re.compile(r"""(?:import_module|__import__)\(\s*['"](?P<name>[\w.]+)['"]""")


def _imported_names(m: re.Match[str]) -> list[str]:
    """Module names of one import statement (`import a as b, c` gives a and c)."""
    if m.group("from"):
        return [m.group("from")]
    return [part.split()[0] for part in m.group("imp").split(",") if part.split()]


def _forbidden(name: str, module_package: str, forbidden: tuple[str, ...] = FORBIDDEN_PREFIXES) -> bool:
    if name.startswith("."):  # relative import: resolve against the module's package
        dots = len(name) - len(name.lstrip("."))
        base = module_package.split(".")[: len(module_package.split(".")) - (dots - 1)]
        name = ".".join(base + ([name.lstrip(".")] if name.lstrip(".") else []))
    return any(name == p or name.startswith(p + ".") for p in forbidden)


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_sources_do_not_mention_forbidden_imports(package: str) -> None:
    folder, forbidden = LAYERS[package]
    files = sorted(folder.rglob("*.py"))
    assert files, f"no sources found in {folder}"
    offending = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        module_package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
        for m in _IMPORT_RE.finditer(text):
            names = _imported_names(m)
            offending += [f"{path.relative_to(REPO)}: {n}" for n in names if _forbidden(n, module_package, forbidden)]
        offending += [
            f"{path.relative_to(REPO)}: {m.group('name')}"
            for m in _DYNAMIC_RE.finditer(text) if _forbidden(m.group("name"), module_package, forbidden)
        ]
    assert offending == [], f"{package} imports what it may not:\n" + "\n".join(offending)


def test_static_check_catches_a_qt_import() -> None:
    """The patterns above match the ways Qt could be imported (guards against a check that cannot fail)."""
    samples = ["from PySide6.QtCore import QObject", "import pyqtgraph as pg", "    import os, shiboken6", "from ..desktop import app"]
    for line in samples:
        m = _IMPORT_RE.search(line)
        assert m is not None, line
        names = _imported_names(m)
        assert any(_forbidden(n, "poise.audio") for n in names), line
    engine = LAYERS["poise.audio"][1]
    m = _IMPORT_RE.search("from ..app.history import History")
    assert m is not None and _forbidden(_imported_names(m)[0], "poise.audio", engine)  # the engine below the app layer
    assert not _forbidden("..audio.session", "poise.app", LAYERS["poise.app"][1])  # the app layer uses the engine
    assert _DYNAMIC_RE.search('importlib.import_module("PySide6.QtGui")')
