"""Shared test fixtures: where the real speech lives, and generated audio."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # windows are tested offscreen unless told otherwise

REPO = Path(__file__).resolve().parents[1]
SPEECH_DIR = Path(os.environ.get("POISE_SPEECH_DIR", REPO.parent / "shared" / "speech"))


def speech_path(name: str) -> Path:
    """Path of a real recording in ../shared/speech; skips the test when it is absent."""
    path = SPEECH_DIR / name
    if not path.exists():
        pytest.skip(f"real speech not available: {path} (set POISE_SPEECH_DIR)")
    return path


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Keep settings, history and recordings of tests out of the real user's folders."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("POISE_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("QT_QPA_PLATFORM", os.environ.get("QT_QPA_PLATFORM", "offscreen"))
