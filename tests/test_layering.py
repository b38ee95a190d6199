"""The engine (`poise.audio`) never imports Qt, and never the desktop package.

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
QT_PREFIXES = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6", "qtpy")  # any Qt binding or Qt-based plotting
FORBIDDEN_PREFIXES = QT_PREFIXES + ("poise.desktop",)  # the engine never reaches up into the UI either

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


def _probe(package: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"}
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, package, *FORBIDDEN_PREFIXES],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_importing_every_audio_module_loads_no_qt() -> None:
    report = _probe("poise.audio")
    assert report["failed"] == {}, f"modules of poise.audio that do not import: {report['failed']}"
    expected = {f"poise.audio.{p.stem}" for p in AUDIO_DIR.glob("*.py") if p.stem != "__init__"}
    assert expected <= set(report["imported"]), f"not imported: {sorted(expected - set(report['imported']))}"
    assert report["forbidden"] == [], f"poise.audio pulled in: {report['forbidden']}"


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


def _forbidden(name: str, module_package: str) -> bool:
    if name.startswith("."):  # relative import: resolve against the module's package
        dots = len(name) - len(name.lstrip("."))
        base = module_package.split(".")[: len(module_package.split(".")) - (dots - 1)]
        name = ".".join(base + ([name.lstrip(".")] if name.lstrip(".") else []))
    return any(name == p or name.startswith(p + ".") for p in FORBIDDEN_PREFIXES)


def test_audio_sources_do_not_mention_qt_imports() -> None:
    files = sorted(AUDIO_DIR.rglob("*.py"))
    assert files, f"no sources found in {AUDIO_DIR}"
    offending = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
        for m in _IMPORT_RE.finditer(text):
            names = _imported_names(m)
            offending += [f"{path.relative_to(REPO)}: {n}" for n in names if _forbidden(n, package)]
        offending += [f"{path.relative_to(REPO)}: {m.group('name')}" for m in _DYNAMIC_RE.finditer(text) if _forbidden(m.group("name"), package)]
    assert offending == [], "poise/audio imports Qt or the desktop package:\n" + "\n".join(offending)


def test_static_check_catches_a_qt_import() -> None:
    """The patterns above match the ways Qt could be imported (guards against a check that cannot fail)."""
    samples = ["from PySide6.QtCore import QObject", "import pyqtgraph as pg", "    import os, shiboken6", "from ..desktop import app"]
    for line in samples:
        m = _IMPORT_RE.search(line)
        assert m is not None, line
        names = _imported_names(m)
        assert any(_forbidden(n, "poise.audio") for n in names), line
    assert _DYNAMIC_RE.search('importlib.import_module("PySide6.QtGui")')
