"""Set-up scripts, CI entry, desktop entry, icon and the bundled demo call.

The shell scripts are run for real in a scratch copy of the repository, with the
system tools they drive (dpkg-query, apt-get, pip, pytest, poise) replaced by small
recorders, so their decisions can be checked without touching this machine.
"""

from __future__ import annotations

import configparser
import csv
import os
import shutil
import stat
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "poise" / "assets"
DEMO_OGG = ASSETS / "demo_call.ogg"
DEMO_TXT = ASSETS / "demo_call.txt"
SHELL_SCRIPTS = ["scripts/setup.sh", "scripts/start.sh", "scripts/test.sh", ".ci/run"]
SITUATIONS = {"normal", "fast", "high", "loud", "interrupt", "backchannel", "dead_air"}

SPEECH_DBFS = -45.0  # a speaking channel is far above this (espeak speech is ~-29 dBFS RMS)
QUIET_DBFS = -50.0  # a silent channel is the -66 dBFS hiss; crosstalk would be ~-35
BACKCHANNEL_MAX_S = 0.6  # design.md: shorter is "mm-hm", not taking the floor


# --- helpers --------------------------------------------------------------------------

def _write_exec(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _run(cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)


def _apt_packages() -> list[str]:
    """The APT_PACKAGES array of setup.sh, as bash reads it."""
    out = subprocess.run(
        ["bash", "-c", 'eval "$(sed -n "/^APT_PACKAGES=(/,/^)/p" "$1")"; printf "%s\\n" "${APT_PACKAGES[@]}"',
         "_", str(REPO / "scripts" / "setup.sh")],
        capture_output=True, text=True, check=True,
    ).stdout
    return out.split()


def _rows() -> list[dict[str, str]]:
    with DEMO_TXT.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _dbfs(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12))


@pytest.fixture(scope="module")
def demo() -> tuple[np.ndarray, int]:
    audio, rate = sf.read(DEMO_OGG, dtype="float32", always_2d=True)
    return audio, rate


def _span(audio: np.ndarray, rate: int, row: dict[str, str]) -> np.ndarray:
    return audio[int(float(row["start_s"]) * rate): int(float(row["end_s"]) * rate)]


# --- scripts and CI -------------------------------------------------------------------

@pytest.mark.parametrize("script", SHELL_SCRIPTS)
def test_shell_script_syntax(script: str) -> None:
    path = REPO / script
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert path.read_text().startswith("#!/usr/bin/env bash\n")


def test_ci_run_runs_the_test_script() -> None:
    text = (REPO / ".ci" / "run").read_text()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#!")]
    assert lines[0] == "set -euo pipefail"
    assert lines[1].startswith("cd ")
    assert lines[-1].split()[:3] == ["exec", "bash", "scripts/test.sh"]
    assert os.access(REPO / ".ci" / "run", os.X_OK)


def test_setup_lists_the_debian_packages_the_code_needs() -> None:
    packages = set(_apt_packages())
    needed = {"libportaudio2", "libsndfile1", "pulseaudio", "pulseaudio-utils", "libasound2-plugins",
              "xvfb", "espeak-ng", "ffmpeg", "libxcb-cursor0", "libxkbcommon-x11-0", "libegl1"}
    assert needed <= packages, f"missing from setup.sh: {sorted(needed - packages)}"
    assert "chromium" not in packages


@pytest.fixture
def setup_sandbox(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """A copy of setup.sh in a scratch repo whose apt, dpkg and pip only record their calls."""
    repo = tmp_path / "repo"
    calls = tmp_path / "calls.log"
    calls.touch()
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "setup.sh", repo / "scripts" / "setup.sh")
    (repo / "pyproject.toml").write_text('[project]\nname = "sandbox"\n')
    _write_exec(repo / ".venv" / "bin" / "python",
                f'#!/bin/sh\nif [ "$1" = -m ] && [ "$2" = pip ]; then echo "pip $*" >>"{calls}"; exit 0; fi\n'
                f'exec "{sys.executable}" "$@"\n')
    _write_exec(repo / ".venv" / "bin" / "poise", "#!/bin/sh\nexit 0\n")
    shims = tmp_path / "shims"
    _write_exec(shims / "dpkg-query",
                '#!/bin/bash\nshift 2\nfor p in "$@"; do\n'
                '  case " $FAKE_MISSING " in *" $p "*) echo "dpkg-query: no packages found matching $p" >&2 ;;\n'
                '  *) echo "$p install ok installed" ;; esac\ndone\n')
    _write_exec(shims / "apt-get", f'#!/bin/sh\necho "apt-get $*" >>"{calls}"\n')
    _write_exec(shims / "sudo", '#!/bin/sh\n[ "$1" = -n ] && shift\nexec "$@"\n')
    env = {**os.environ, "PATH": f"{shims}:{os.environ['PATH']}", "CI": "true", "FAKE_MISSING": ""}
    return repo, calls, env


def test_setup_installs_only_what_is_missing_and_skips_pip_when_unchanged(setup_sandbox) -> None:
    repo, calls, env = setup_sandbox
    setup = ["bash", str(repo / "scripts" / "setup.sh")]

    first = _run(setup, env, repo)
    assert first.returncode == 0, first.stderr
    assert f"all {len(_apt_packages())} present" in first.stdout
    log = calls.read_text().splitlines()
    assert not [c for c in log if c.startswith("apt-get")]
    assert any("install" in c and "-e" in c and "[test]" in c for c in log)

    calls.write_text("")
    again = _run(setup, env, repo)
    assert again.returncode == 0, again.stderr
    assert calls.read_text() == "", "a second run on a ready machine must not run apt-get or pip"
    assert "up to date" in again.stdout

    env["FAKE_MISSING"] = "libportaudio2 xvfb"
    missing = _run(setup, env, repo)
    assert missing.returncode == 0, missing.stderr
    apt = [_apt_words(c) for c in calls.read_text().splitlines() if c.startswith("apt-get")]
    assert [c[1] for c in apt] == ["update", "install"]
    assert apt[1][-2:] == ["libportaudio2", "xvfb"] and "-y" in apt[1]

    calls.write_text("")
    env["FAKE_MISSING"] = ""
    (repo / "pyproject.toml").write_text('[project]\nname = "sandbox"\nversion = "2"\n')
    changed = _run(setup, env, repo)
    assert changed.returncode == 0, changed.stderr
    assert any("[test]" in c for c in calls.read_text().splitlines()), "pyproject.toml changed: pip must run"


def _apt_words(call: str) -> list[str]:
    """An apt-get call as recorded, without its `-o Option=value` pairs."""
    words = call.split()
    out: list[str] = []
    skip = False
    for w in words:
        if skip:
            skip = False
        elif w == "-o":
            skip = True
        else:
            out.append(w)
    return out


def test_setup_waits_for_the_apt_lock_and_says_so(setup_sandbox) -> None:
    """Another program holding the dpkg lock: setup.sh waits (saying so) and then installs."""
    repo, calls, env = setup_sandbox
    tries = calls.parent / "apt-tries"
    shims = Path(env["PATH"].split(":")[0])
    _write_exec(shims / "apt-get",  # busy for its first two runs, as when unattended-upgrades holds the lock
                f'#!/bin/sh\necho x >>"{tries}"\nif [ "$(wc -l <"{tries}")" -le 2 ]; then\n'
                '  echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (unattended-upgr)" >&2\n'
                f'  exit 100\nfi\necho "apt-get $*" >>"{calls}"\n')
    env.update(FAKE_MISSING="xvfb", POISE_APT_LOCK_POLL_S="1", POISE_APT_LOCK_WAIT_S="60")
    done = _run(["bash", str(repo / "scripts" / "setup.sh")], env, repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "waiting for it" in done.stdout and "apt/dpkg" in done.stdout
    apt = [_apt_words(c) for c in calls.read_text().splitlines() if c.startswith("apt-get")]
    assert [c[1] for c in apt] == ["update", "install"] and apt[1][-1] == "xvfb"


def test_setup_gives_up_on_a_lock_that_is_never_released(setup_sandbox) -> None:
    repo, calls, env = setup_sandbox
    shims = Path(env["PATH"].split(":")[0])
    _write_exec(shims / "apt-get", '#!/bin/sh\necho "E: Could not get lock /var/lib/apt/lists/lock" >&2\nexit 100\n')
    env.update(FAKE_MISSING="xvfb", POISE_APT_LOCK_POLL_S="1", POISE_APT_LOCK_WAIT_S="2")
    done = _run(["bash", str(repo / "scripts" / "setup.sh")], env, repo)
    assert done.returncode == 1
    assert "still holds the apt/dpkg lock" in done.stdout + done.stderr


def _script_sandbox(tmp_path: Path, script: str) -> tuple[Path, Path]:
    """A scratch repo with the real `script` and recorders for setup, pulse, python and poise."""
    repo = tmp_path / "repo"
    calls = tmp_path / "calls.log"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / script, repo / "scripts" / script)
    _write_exec(repo / "scripts" / "setup.sh", "#!/bin/bash\necho setup-ran\n")
    _write_exec(repo / "scripts" / "pulse_null_sinks.sh", "#!/bin/bash\nexit 1\n")
    _write_exec(repo / ".venv" / "bin" / "python",
                f'#!/bin/sh\necho "$QT_QPA_PLATFORM $*" >>"{calls}"\nexit "${{FAKE_STATUS:-0}}"\n')
    _write_exec(repo / ".venv" / "bin" / "poise", f'#!/bin/sh\necho "poise $*" >>"{calls}"\n')
    return repo, calls


@pytest.mark.parametrize("pytest_status, expected", [(0, 0), (1, 1), (2, 2), (5, 1)])
def test_test_script_runs_pytest_offscreen_and_fails_when_nothing_is_collected(
        tmp_path: Path, pytest_status: int, expected: int) -> None:
    repo, calls = _script_sandbox(tmp_path, "test.sh")
    env = {**os.environ, "FAKE_STATUS": str(pytest_status)}
    env.pop("QT_QPA_PLATFORM", None)
    result = _run(["bash", str(repo / "scripts" / "test.sh"), "-k", "demo"], env, tmp_path)
    assert result.returncode == expected, result.stdout + result.stderr
    assert "setup-ran" in result.stdout
    assert "live-capture tests will be skipped" in result.stdout  # pulse set-up failed, run went on
    assert calls.read_text().split() == ["offscreen", "-m", "pytest", "-q", "-ra", "-n", "2", "--dist", "loadgroup", "-k", "demo"]
    if pytest_status == 5:
        assert "no tests" in result.stderr


def test_start_script_without_display_analyses_the_demo_call(tmp_path: Path) -> None:
    repo, calls = _script_sandbox(tmp_path, "start.sh")
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = _run(["bash", str(repo / "scripts" / "start.sh")], env, work)
    assert result.returncode == 0, result.stderr
    assert calls.read_text().split() == [
        "poise", "analyze", str(repo / "poise" / "assets" / "demo_call.ogg"), "--html", "demo_report.html"]
    assert "No display" in result.stdout and str(work / "demo_report.html") in result.stdout

    calls.write_text("")
    result = _run(["bash", str(repo / "scripts" / "start.sh"), "--demo"], {**env, "DISPLAY": ":99"}, work)
    assert result.returncode == 0, result.stderr
    assert calls.read_text().split() == ["poise", "--demo"]


# --- desktop entry and icon -----------------------------------------------------------

def test_desktop_entry() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(REPO / "packaging" / "poise.desktop", encoding="utf-8")
    section = entry["Desktop Entry"]
    assert (section["Type"], section["Name"], section["Exec"], section["Icon"]) == (
        "Application", "Poise", "poise", "poise")
    assert {"AudioVideo", "Office"} <= set(filter(None, section["Categories"].split(";")))


def test_icon_exists_in_both_forms() -> None:
    png = (ASSETS / "poise.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (256, 256)
    root = ET.parse(ASSETS / "poise.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


# --- the demo call --------------------------------------------------------------------

def test_demo_call_is_small_stereo_16k_and_decodes(demo) -> None:
    audio, rate = demo
    assert DEMO_OGG.stat().st_size < 300_000
    assert audio.shape[1] == 2 and rate == 16000
    assert 60 <= len(audio) / rate <= 105  # under two minutes: a demo, not a call
    assert np.abs(audio).max() < 1.0


def test_demo_call_transcript_table_is_well_formed() -> None:
    rows = _rows()
    assert rows and list(rows[0]) == ["start_s", "end_s", "role", "situation", "text"]
    for r in rows:
        assert r["situation"] in SITUATIONS
        assert r["role"] in ({"none"} if r["situation"] == "dead_air" else {"agent", "caller"})
        assert float(r["start_s"]) < float(r["end_s"])
        assert bool(r["text"]) == (r["situation"] != "dead_air")
    assert {r["situation"] for r in rows} == SITUATIONS


def test_demo_call_has_speech_where_the_table_says(demo) -> None:
    audio, rate = demo
    rows = _rows()
    speech = [r for r in rows if r["role"] in ("agent", "caller")]
    for r in speech:
        channel = 0 if r["role"] == "agent" else 1
        level = _dbfs(_span(audio, rate, r)[:, channel])
        assert level > SPEECH_DBFS, f"{r['role']} silent at {r['start_s']}-{r['end_s']} ({level:.1f} dBFS)"

    def overlaps(a: dict[str, str], b: dict[str, str]) -> bool:
        return float(a["start_s"]) < float(b["end_s"]) and float(b["start_s"]) < float(a["end_s"])

    # Where only one role speaks, the other channel is quiet: no crosstalk from the codec.
    solo = [r for r in speech if not any(o["role"] != r["role"] and overlaps(r, o) for o in speech)]
    assert len(solo) >= 10
    for r in solo:
        other = 1 if r["role"] == "agent" else 0
        level = _dbfs(_span(audio, rate, r)[:, other])
        assert level < QUIET_DBFS, f"crosstalk at {r['start_s']}-{r['end_s']} ({level:.1f} dBFS)"

    dead = [r for r in rows if r["situation"] == "dead_air"]
    for r in dead:
        assert float(r["end_s"]) - float(r["start_s"]) >= 6.5
        span = _span(audio, rate, r)
        assert _dbfs(span[:, 0]) < QUIET_DBFS and _dbfs(span[:, 1]) < QUIET_DBFS


def test_demo_call_situations_are_timed_as_poise_needs() -> None:
    rows = _rows()
    t = {k: [(float(r["start_s"]), float(r["end_s"]), r) for r in rows if r["situation"] == k] for k in SITUATIONS}
    first_special = min(s for k in ("fast", "high", "loud", "interrupt") for s, _, _ in t[k])
    calm_agent = sum(e - s for s, e, r in t["normal"] if r["role"] == "agent" and e <= first_special)
    assert calm_agent >= 25, "the agent needs ~30 s of normal speech first, for calibration"
    assert sum(e - s for s, e, _ in t["fast"]) >= 10
    assert all(e - s < BACKCHANNEL_MAX_S for s, e, _ in t["backchannel"])
    assert {r["role"] for _, _, r in t["backchannel"]} == {"agent", "caller"}
    for s, _, r in t["interrupt"]:
        callers = [(cs, ce) for cs, ce, c in t["normal"] if c["role"] == "caller" and cs < s < ce]
        assert callers, "an interruption must start inside a caller turn"
        cs, ce = callers[0]
        assert 0.5 <= s - cs <= 1.5 and ce - s > 2.0, "about 1 s into a long caller turn"

    def wpm(items) -> float:
        return sum(len(r["text"].split()) for *_, r in items) / sum(e - s for s, e, _ in items) * 60

    normal_agent = [x for x in t["normal"] if x[2]["role"] == "agent"]
    assert wpm(t["fast"]) > 1.3 * wpm(normal_agent)


def test_demo_call_raised_stretches_are_higher_and_louder(demo) -> None:
    parselmouth = pytest.importorskip("parselmouth")
    audio, rate = demo
    rows = _rows()

    def measure(situation: str) -> tuple[float, float]:
        spans = [_span(audio, rate, r)[:, 0] for r in rows if r["role"] == "agent" and r["situation"] == situation]
        x = np.concatenate(spans).astype(np.float64)
        f0 = parselmouth.Sound(x, sampling_frequency=rate).to_pitch().selected_array["frequency"]
        return float(np.median(f0[f0 > 0])), _dbfs(x)

    normal_hz, normal_db = measure("normal")
    high_hz, high_db = measure("high")
    loud_hz, loud_db = measure("loud")
    assert 12 * np.log2(high_hz / normal_hz) >= 3.5  # the lower_tone cue needs 3 semitones
    assert abs(high_db - normal_db) <= 3.0  # raised pitch alone: Soften your voice has nothing to say
    assert 6.0 <= loud_db - normal_db <= 12.0  # generated with +9 dB
    assert abs(12 * np.log2(loud_hz / normal_hz)) <= 2.0  # louder alone


def test_demo_call_script_regenerates_the_same_call(tmp_path: Path) -> None:
    if not (shutil.which("espeak-ng") and shutil.which("ffmpeg")):
        pytest.skip("espeak-ng or ffmpeg is not installed (scripts/setup.sh installs them)")
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "make_demo_call.py"), "--out-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "demo_call.ogg").stat().st_size < 300_000
    with (tmp_path / "demo_call.txt").open(encoding="utf-8", newline="") as f:
        fresh = list(csv.DictReader(f, delimiter="\t"))
    key = ("role", "situation", "text")
    assert [[r[k] for k in key] for r in fresh] == [[r[k] for k in key] for r in _rows()], \
        "demo_call.txt is out of date: run scripts/make_demo_call.py"
