"""Reports respect the user's umask (issue 9): Poise runs under umask 077 so its data folder is
private, but a report or export the user writes elsewhere gets the user's own umask (0644 under
022, 0640 under 027), never wider; inside the data folder it stays 0600, and the data folder's
files stay 0600 whatever the user's umask.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from poise import paths

RUN_TIMEOUT_S = 300  # s: a generous ceiling for one `poise analyze --no-transcript`


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _analyze_under_umask(umask: int, tmp_path: Path, wav: Path, *outputs: str) -> tuple[Path, subprocess.CompletedProcess[str]]:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONSTARTUP", "PYTHONWARNINGS")}
    env.update(PYTHONPATH=str(REPO), POISE_DATA_DIR=str(data))
    proc = subprocess.run(
        [sys.executable, "-m", "poise.cli", "analyze", str(wav), "--no-transcript", "--save", "--quiet", *outputs],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
        preexec_fn=lambda: os.umask(umask),  # noqa: PLW1509 - the user's shell umask, set in the child only
    )
    return data, proc


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_reports_elsewhere_get_the_users_umask_and_the_data_folder_stays_private(
    umask: int, tmp_path: Path, spoken_wav: Path
) -> None:
    html, js = tmp_path / "report.html", tmp_path / "report.json"
    data, proc = _analyze_under_umask(umask, tmp_path, spoken_wav, "--html", str(html), "--json", str(js))
    assert proc.returncode == 0, proc.stderr
    expected = 0o666 & ~umask  # 0644 under 022, 0640 under 027: like any file the user makes
    assert (_mode(html), _mode(js)) == (expected, expected), (oct(_mode(html)), oct(_mode(js)))
    wide = [f"{p.relative_to(tmp_path)} {_mode(p):o}" for p in [data, *data.rglob("*")] if _mode(p) & 0o077]
    assert not wide, f"data folder readable by others: {wide}"
    assert (data / "history.sqlite").exists()


def test_a_report_inside_the_data_folder_stays_private(tmp_path: Path, spoken_wav: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    inside = data / "mine.json"
    _, proc = _analyze_under_umask(0o022, tmp_path, spoken_wav, "--json", str(inside))
    assert proc.returncode == 0, proc.stderr
    assert _mode(inside) == 0o600


def test_review_exports_get_the_users_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The review window's CSV exports, written in a process that runs under Poise's umask 077."""
    from poise.app.review import write_cues_csv, write_segments_csv
    from poise.audio.types import AnalysisResult, Cue, Segment

    monkeypatch.setattr(paths, "_user_umask", 0o022)  # as if the user started Poise under umask 022
    monkeypatch.setenv("POISE_DATA_DIR", str(tmp_path / "data"))
    result = AnalysisResult.__new__(AnalysisResult)
    result.cues = [Cue(1.0, "slow_down", "Slow down", {})]
    result.segments = [Segment(role="agent", start=0.0, end=1.0, text="hello", words=[])]
    previous = os.umask(paths.PRIVATE_UMASK)
    try:
        cues, segments = tmp_path / "cues.csv", tmp_path / "segments.csv"
        write_cues_csv(result, cues)
        write_segments_csv(result, segments)
        assert (_mode(cues), _mode(segments)) == (0o644, 0o644)
        os.chmod(cues, 0o600)  # a file the user already had keeps its own mode
        write_cues_csv(result, cues)
        assert _mode(cues) == 0o600
    finally:
        os.umask(previous)


def test_user_file_mode_is_never_wider_than_the_users_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POISE_DATA_DIR", str(tmp_path / "data"))
    for umask in (0o000, 0o002, 0o022, 0o077, 0o277):
        monkeypatch.setattr(paths, "_user_umask", umask)
        assert paths.user_file_mode(tmp_path / "r.html") == 0o666 & ~umask
        assert paths.user_file_mode(tmp_path / "data" / "sub" / "r.html") == 0o600


def test_a_batch_folder_and_its_reports_get_the_users_umask(tmp_path: Path, spoken_wav: Path) -> None:
    """`poise batch --out`: the folders it makes and every file in them (reports, summary, manifest)."""
    calls = tmp_path / "calls"
    calls.mkdir()
    (calls / "one.wav").write_bytes(spoken_wav.read_bytes())
    out = tmp_path / "out" / "batch"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONSTARTUP", "PYTHONWARNINGS")}
    env.update(PYTHONPATH=str(REPO), POISE_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.run(
        [sys.executable, "-m", "poise.cli", "batch", str(calls), "--out", str(out), "--no-transcript", "--workers", "1", "--quiet"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
        preexec_fn=lambda: os.umask(0o022),  # noqa: PLW1509
    )
    assert proc.returncode == 0, proc.stderr
    made = [out.parent, out, *out.rglob("*")]
    assert len(made) >= 5, made  # the two folders, the call's report, the summary, the manifest
    wrong = [f"{p.relative_to(tmp_path)} {_mode(p):o}" for p in made if _mode(p) != (0o755 if p.is_dir() else 0o644)]
    assert not wrong, wrong
