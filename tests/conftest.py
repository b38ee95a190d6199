"""Shared test fixtures: where the real speech lives, and generated audio."""

from __future__ import annotations

import poise  # noqa: F401 - first: poise/__init__.py bounds NumPy's BLAS threads before NumPy loads

import contextlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # windows are tested offscreen unless told otherwise

# scripts/test.sh runs the suite on two pytest-xdist workers (`--dist loadgroup`). Tests that share one
# machine-wide thing run on one worker, one after the other: the PulseAudio harness (its daemon, its null
# sinks and the ALSA PCMs it writes into ~/.asoundrc; a capture test must not hear another test's
# playback) and Ray's local cluster (its test counts the Ray processes left on the machine).
SERIAL_GROUPS = {
    "pulse": {"test_capture_live", "test_desktop_live", "test_headless_live", "test_review_player",
              "test_review_window", "test_trust_faults", "test_trust_live"},
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put the tests of SERIAL_GROUPS' modules, and Ray's, in their xdist group."""
    for item in items:
        module = getattr(item, "module", None)
        module = module.__name__.rsplit(".", 1)[-1] if module is not None else ""
        for group, modules in SERIAL_GROUPS.items():
            if module in modules:
                item.add_marker(pytest.mark.xdist_group(group))
        if "ray" in item.name:
            item.add_marker(pytest.mark.xdist_group("ray"))

REPO = Path(__file__).resolve().parents[1]
SPEECH_DIR = Path(os.environ.get("POISE_SPEECH_DIR", REPO.parent / "shared" / "speech"))


def speech_path(name: str) -> Path:
    """Path of a real recording in ../shared/speech; skips the test when it is absent."""
    path = SPEECH_DIR / name
    if not path.exists():
        pytest.skip(f"real speech not available: {path} (set POISE_SPEECH_DIR)")
    return path


@pytest.fixture(autouse=True, scope="session")
def _isolated_user_dirs_for_the_session(tmp_path_factory):
    """The same for module- and session-scoped fixtures, which run before any function's monkeypatch: a
    module fixture analysing a call otherwise read the real user's settings (a pace ceiling of 240 wpm
    left by an earlier run made the booking call earn two `slow_down`)."""
    home = tmp_path_factory.mktemp("session-home")
    saved = {k: os.environ.get(k) for k in ("POISE_DATA_DIR", "XDG_CONFIG_HOME", "POISE_CACHE_DIR")}
    os.environ["POISE_DATA_DIR"], os.environ["XDG_CONFIG_HOME"] = str(home / "data"), str(home / "config")
    os.environ["POISE_CACHE_DIR"] = str(home / "cache")  # one for the whole session: the phrase model is trained once
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Keep settings, history and recordings of tests out of the real user's folders."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("POISE_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("QT_QPA_PLATFORM", os.environ.get("QT_QPA_PLATFORM", "offscreen"))


@contextlib.contextmanager
def mount_small_disk(tmp_path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` (e.g. "1M"): a real disk that fills up. Needs root (skips otherwise)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


@pytest.fixture(scope="module")
def spoken_wav(tmp_path_factory) -> Path:
    """A few seconds of synthetic speech (espeak-ng), mono 22.05 kHz WAV."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    path = tmp_path_factory.mktemp("speech") / "agent.wav"
    text = "Thank you for calling. How can I help you today? I can see two payments on your account this month."
    subprocess.run(["espeak-ng", "-w", str(path), "-s", "150", text], check=True, capture_output=True)
    return path
