"""A batch rerun skips a call only when nothing its result depends on changed (poise/batch/fingerprint.py):
each setting on its own, then through `poise batch` as a subprocess on a real stereo call."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import speech_path
from poise.app.spec import CallKind, CallSpec
from poise.audio.coach import CoachConfig
from poise.audio.store import HistoryStore
from poise.audio.types import Baseline
from poise.batch.discover import PairRule
from poise.batch.fingerprint import batch_settings, code_fingerprint
from poise.batch.manifest import settings_hash

REPO = Path(__file__).resolve().parents[1]
CLI_TIMEOUT_S = 120  # s: a 6 s call without Whisper, worker start-up included, on 2 shared cores


def _hash(spec: CallSpec, keep_numbers: bool = False, rule: PairRule | None = None) -> str:
    return settings_hash(batch_settings(spec, keep_numbers, rule))


def test_every_input_of_a_result_changes_the_settings_hash(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.bin").write_bytes(b"weights")
    (model / "config.json").write_text("{}")
    spec = CallSpec(CallKind.REVIEW, model_dir=str(model))
    base = _hash(spec)
    assert _hash(spec) == base  # nothing changed: the same hash
    assert _hash(replace(spec, config=CoachConfig(dead_air_s=3.0))) != base
    assert _hash(replace(spec, config=CoachConfig(enabled={**CoachConfig().enabled, "dead_air": False}))) != base
    assert _hash(spec, keep_numbers=True) != base
    assert _hash(replace(spec, agent_channel="right")) != base
    assert _hash(replace(spec, agent="sam")) != base
    assert _hash(replace(spec, transcribe=False)) != base
    assert _hash(spec, rule=PairRule.parse("*-a.*,*-c.*")) != base
    assert _hash(spec, rule=PairRule.parse("*_agent.*,*_caller.*")) == base  # the default rule, spelt out
    other = tmp_path / "other-model"
    other.mkdir()
    (other / "model.bin").write_bytes(b"weights")
    assert _hash(replace(spec, model_dir=str(other))) != base  # another folder
    (model / "config.json").write_text('{"changed": true}')
    assert _hash(spec) != base  # the same folder, a file of it changed
    # the agent's saved voice profile is where a review's cues start from
    before = _hash(replace(spec, agent="sam"))
    with HistoryStore() as store:
        store.update_profile("sam", Baseline(180.0, -22.0, 4.2, 120.0))
    assert _hash(replace(spec, agent="sam")) != before


def test_the_code_fingerprint_is_stable_and_covers_the_analysis() -> None:
    assert code_fingerprint() == code_fingerprint.__wrapped__()  # read twice from disk: the same
    assert re.fullmatch(r"[0-9a-f]{32}", code_fingerprint())


# ------------------------------------------------------------------------- through `poise batch`


def _poise(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "poise.cli", *args], cwd=REPO, capture_output=True, text=True,
        timeout=CLI_TIMEOUT_S, env=env,
    )


def _counts(done: subprocess.CompletedProcess) -> tuple[int, int]:
    """(analysed now, done before) from the batch's last line."""
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(r"(\d+) analysed now, (\d+) done before", done.stdout)
    assert found, done.stdout
    return int(found.group(1)), int(found.group(2))


@pytest.fixture
def stereo_call(tmp_path: Path) -> Path:
    """A real two-sided call: one LibriVox reader on the left (agent), another clip on the right, after."""
    agent, sr = sf.read(speech_path("ps_goforward.wav"), dtype="float32")
    caller, sr2 = sf.read(speech_path("ps_librivox_sense_and_sensibility_01_austen_64kb-0880.wav"), dtype="float32")
    assert sr == sr2
    x = np.zeros((len(agent) + len(caller), 2), np.float32)
    x[: len(agent), 0] = agent
    x[len(agent):, 1] = caller
    folder = tmp_path / "calls"
    folder.mkdir()
    sf.write(folder / "call1.wav", x, sr)
    return folder


def test_a_changed_setting_reanalyses_and_an_unchanged_rerun_skips(stereo_call: Path, tmp_path: Path) -> None:
    env = {**os.environ}  # conftest's isolated POISE_DATA_DIR and XDG_CONFIG_HOME: never the user's
    out = tmp_path / "out"
    run = ["batch", str(stereo_call), "--out", str(out), "--workers", "1", "--no-transcript"]
    assert _counts(_poise(*run, env=env)) == (1, 0)
    assert _counts(_poise(*run, env=env)) == (0, 1)  # nothing changed: skipped

    # the cue rules in the user's settings file (as the settings dialog saves them)
    settings = Path(env["XDG_CONFIG_HOME"]) / "poise" / "settings.json"
    data = json.loads(settings.read_text()) if settings.exists() else {}
    data["coach"] = {**CoachConfig().to_dict(), "dead_air_s": 2.5}
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(json.dumps(data))
    assert _counts(_poise(*run, env=env)) == (1, 0)
    assert _counts(_poise(*run, env=env)) == (0, 1)

    # --keep-numbers, then the agent's voice profile changing under the same flags
    assert _counts(_poise(*run, "--keep-numbers", "--agent", "sam", env=env)) == (1, 0)
    report = out / "call1.json"
    written = report.stat().st_mtime_ns
    with HistoryStore() as store:
        store.update_profile("sam", Baseline(150.0, -25.0, 4.0, 90.0))
    assert _counts(_poise(*run, "--keep-numbers", "--agent", "sam", env=env)) == (1, 0)
    assert report.stat().st_mtime_ns != written  # the report was written again
    written = report.stat().st_mtime_ns
    assert _counts(_poise(*run, "--keep-numbers", "--agent", "sam", env=env)) == (0, 1)
    assert report.stat().st_mtime_ns == written  # and left alone when skipped
