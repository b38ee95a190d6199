"""Trust for a whole shift, as a user meets it: the CLI as a subprocess, real files, real
SQLite, real full disks (a small tmpfs, mounted when the tests run as root).

Nothing lost or wrong (a full disk never makes a healthy history look damaged; a save that
failed is said and exits 1), no tracebacks (Ctrl+C, a data folder that cannot be made),
clear answers (model folder without config.json, a WAV cut short, six channels, a caller
file of another length/rate or silent, clipping, report paths), and privacy (0700/0600).
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import REPO, mount_small_disk, speech_path

RUN_TIMEOUT_S = 300  # s: a generous ceiling for one run
PAGE_BYTES = 4096  # tmpfs allocates in pages
SMALL_DISK = "1M"  # tmpfs size: a history file and a log fit, a second copy of them does not
REAL_CALL = "call_spokenwoz_agent_left_8k_ulaw.wav"
INTERRUPT_AFTER_CPU_S = (5.0, 9.0)  # s of CPU used: Whisper is loaded and decoding a chunk by then
LONG_CALL_REPEATS = 4  # the real call played 4 times (12 min, ~25 s of CPU): the 3-minute call alone now takes ~7 s
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")  # /proc/<pid>/stat counts CPU time in these


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a running process has used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONSTARTUP", "PYTHONWARNINGS")}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def run_poise(*args: str | Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "poise.cli", *map(str, args)], cwd=cwd, env=_env(**env),
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
    )


def assert_clean(proc: subprocess.CompletedProcess[str]) -> None:
    text = proc.stderr + proc.stdout
    assert "Traceback" not in text and "Logging error" not in text, text


def stderr_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.strip()]




def _fill(folder: Path) -> Path:
    """Fill the disk under `folder` to the last byte; returns the filler (delete it to free space)."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
        except OSError:
            pass
    return filler


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs: a real disk that fills up. Needs root (skipped otherwise)."""
    with mount_small_disk(tmp_path, SMALL_DISK) as mount:
        yield mount


# --------------------------------------------------------------------------- nothing lost or wrong


def test_full_disk_at_start_leaves_a_healthy_history_alone_and_save_says_it_failed(
    small_disk: Path, tmp_path: Path, spoken_wav: Path
) -> None:
    data = small_disk / "data"
    first = run_poise("analyze", spoken_wav, "--no-transcript", "--save", "--quiet", cwd=tmp_path, POISE_DATA_DIR=str(data))
    assert first.returncode == 0, first.stderr
    db = data / "history.sqlite"
    before = sqlite3.connect(db).execute("SELECT count(*) FROM calls").fetchone()[0]
    assert before == 1

    other = tmp_path / "second.wav"
    x, sr = sf.read(str(spoken_wav), dtype="float32")
    sf.write(str(other), x[::-1].copy(), sr)  # another recording: a new call for history
    filler = _fill(small_disk)
    full = run_poise("analyze", other, "--no-transcript", "--save", "--quiet", cwd=tmp_path, POISE_DATA_DIR=str(data))
    assert_clean(full)
    assert full.returncode == 1, f"a save that failed must not exit 0: {full.stderr}"
    lines = stderr_lines(full)
    assert len(lines) == 1 and "disk is full" in lines[0].lower() and "not saved" in lines[0], full.stderr
    assert not list(data.glob("*.corrupt*")), "a healthy history was moved aside on a full disk"

    filler.unlink()  # space freed: the history is all there, and the call can be saved now
    again = run_poise("analyze", other, "--no-transcript", "--save", "--quiet", cwd=tmp_path, POISE_DATA_DIR=str(data))
    assert again.returncode == 0, again.stderr
    assert sqlite3.connect(db).execute("SELECT count(*) FROM calls").fetchone()[0] == 2


def test_a_really_damaged_history_is_moved_aside_and_said(tmp_path: Path, spoken_wav: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "history.sqlite").write_bytes(b"this is not a database" * 200)
    proc = run_poise("analyze", spoken_wav, "--no-transcript", "--save", "--quiet", cwd=tmp_path, POISE_DATA_DIR=str(data))
    assert_clean(proc)
    assert proc.returncode == 0, proc.stderr
    assert "is damaged" in proc.stderr and "moved it to" in proc.stderr
    assert (data / "history.sqlite.corrupt").exists()


def test_log_on_a_full_disk_never_reaches_the_terminal(small_disk: Path, tmp_path: Path, spoken_wav: Path) -> None:
    """The log file is on the full disk: Poise still says one sentence, never `--- Logging error ---`."""
    data = small_disk / "data"
    run_poise("analyze", spoken_wav, "--no-transcript", "--save", "--quiet", cwd=tmp_path, POISE_DATA_DIR=str(data))
    (data / "poise.log").write_text("")
    _fill(small_disk)
    model = tmp_path / "model-without-files"
    model.mkdir()
    proc = run_poise("analyze", spoken_wav, "--save", "--model", model, cwd=tmp_path, POISE_DATA_DIR=str(data))
    assert_clean(proc)
    assert len(stderr_lines(proc)) == 1, proc.stderr


def test_a_data_folder_that_cannot_be_made_is_one_sentence(tmp_path: Path, spoken_wav: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    data = blocker / "data"
    proc = run_poise("analyze", spoken_wav, "--no-transcript", "--save", cwd=tmp_path, POISE_DATA_DIR=str(data))
    assert_clean(proc)
    assert proc.returncode == 2 and len(stderr_lines(proc)) == 1 and not proc.stdout, proc.stderr  # said before analysing
    line = stderr_lines(proc)[-1]
    assert str(data) in line and "POISE_DATA_DIR" in line, proc.stderr


# --------------------------------------------------------------------------- crashes


def test_ctrl_c_during_analyze_exits_130_with_one_sentence(tmp_path: Path) -> None:
    audio, rate = sf.read(speech_path(REAL_CALL), dtype="float32")
    call = tmp_path / "long_call.wav"
    sf.write(call, np.tile(audio, (LONG_CALL_REPEATS, 1)), rate, subtype="PCM_16")
    for cpu_s in INTERRUPT_AFTER_CPU_S:  # two moments: the crash came in 4 of 5 tries before
        proc = subprocess.Popen(
            [sys.executable, "-m", "poise.cli", "analyze", str(call), "--json", str(tmp_path / "out.json")],
            cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal, however pytest runs
        )
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while _cpu_seconds(proc.pid) < cpu_s and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)  # CPU time, not wall time: on a busy machine Whisper starts late
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, f"exit {proc.returncode} after Ctrl+C at {cpu_s} s of CPU: {err}"
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines == ["poise: stopped; nothing was written."], err
        assert not (tmp_path / "out.json").exists()


# --------------------------------------------------------------------------- unclear answers


def test_model_folder_without_config_json_names_the_flag(tmp_path: Path, spoken_wav: Path) -> None:
    from poise.audio.transcribe import default_model_path

    model = tmp_path / "model"
    shutil.copytree(default_model_path(), model)
    (model / "config.json").unlink()
    proc = run_poise("analyze", spoken_wav, "--model", model, cwd=tmp_path)
    assert_clean(proc)
    lines = stderr_lines(proc)
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr  # the folder given with --model is bad input
    assert "config.json" in lines[0] and str(model) in lines[0] and "--model" in lines[0], lines[0]
    assert "Settings" not in lines[0]


def _wav_cut_short(tmp: Path, spoken_wav: Path) -> Path:
    data = spoken_wav.read_bytes()
    path = tmp / "cut short.wav"
    path.write_bytes(data[: len(data) * 2 // 3])  # the header still promises all of it
    return path


def test_wav_cut_short_is_analysed_with_a_warning(tmp_path: Path, spoken_wav: Path) -> None:
    cut = _wav_cut_short(tmp_path, spoken_wav)
    proc = run_poise("analyze", cut, "--no-transcript", "--quiet", cwd=tmp_path)
    assert_clean(proc)
    assert proc.returncode == 0, proc.stderr
    assert "cut short" in proc.stderr and str(cut) in proc.stderr, proc.stderr


def test_six_channels_say_which_two_are_used(tmp_path: Path, spoken_wav: Path) -> None:
    x, sr = sf.read(str(spoken_wav), dtype="float32")
    path = tmp_path / "six.wav"
    sf.write(str(path), np.stack([x * (0.9 ** i) for i in range(6)], axis=1), sr)
    proc = run_poise("analyze", path, "--no-transcript", "--quiet", cwd=tmp_path)
    assert_clean(proc)
    assert proc.returncode == 0, proc.stderr
    assert "6 channels" in proc.stderr and "channel 1 as the agent" in proc.stderr and "channel 2 as the caller" in proc.stderr


def test_caller_file_of_another_length_and_rate_is_said(tmp_path: Path, spoken_wav: Path) -> None:
    x, sr = sf.read(str(spoken_wav), dtype="float32")
    caller = tmp_path / "caller.wav"
    sf.write(str(caller), x[: len(x) // 2 : 2].copy(), sr // 2)
    proc = run_poise("analyze", spoken_wav, "--caller", caller, "--no-transcript", "--quiet", cwd=tmp_path)
    assert_clean(proc)
    assert proc.returncode == 0, proc.stderr
    assert "padded" in proc.stderr and f"{sr // 2} Hz" in proc.stderr and str(caller) in proc.stderr, proc.stderr


def test_silent_caller_file_analyses_the_agent_and_says_so(tmp_path: Path, spoken_wav: Path) -> None:
    caller = tmp_path / "caller.wav"
    sf.write(str(caller), np.zeros(16000 * 5, np.float32), 16000)
    out = tmp_path / "out.json"
    proc = run_poise("analyze", spoken_wav, "--caller", caller, "--no-transcript", "--json", out, "--quiet", cwd=tmp_path)
    assert_clean(proc)
    assert proc.returncode == 0, proc.stderr
    assert "silent" in proc.stderr and str(caller) in proc.stderr and "agent alone" in proc.stderr
    assert out.exists()


def test_clipping_is_mentioned(tmp_path: Path, spoken_wav: Path) -> None:
    x, sr = sf.read(str(spoken_wav), dtype="float32")
    path = tmp_path / "hot.wav"
    sf.write(str(path), np.clip(x * 20.0, -1.0, 1.0), sr, subtype="FLOAT")  # a gain far too high
    proc = run_poise("analyze", path, "--no-transcript", "--quiet", cwd=tmp_path)
    assert_clean(proc)
    assert "clips" in proc.stderr and "full scale" in proc.stderr, proc.stderr


@pytest.mark.parametrize("where", ["missing_folder", "a_folder"])
def test_report_paths_are_checked_before_the_analysis(where: str, tmp_path: Path, spoken_wav: Path) -> None:
    out_json = tmp_path / "out.json"
    out_html = tmp_path / "no-such-folder" / "r.html" if where == "missing_folder" else tmp_path / "reports"
    if where == "a_folder":
        out_html.mkdir()
    proc = run_poise("analyze", spoken_wav, "--json", out_json, "--html", out_html, "--no-transcript", cwd=tmp_path)
    assert_clean(proc)
    lines = stderr_lines(proc)
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert "HTML report" in lines[0] and str(out_html) in lines[0], lines[0]
    assert not out_json.exists(), "the JSON report was left behind when the HTML one could not be written"
    assert "Wrote" not in proc.stdout


def test_a_report_that_fails_while_writing_names_it_and_leaves_nothing(small_disk: Path, tmp_path: Path, spoken_wav: Path) -> None:
    """The disk fills between the check and the write: the HTML fails, the JSON is removed too."""
    sizes = run_poise("analyze", spoken_wav, "--json", tmp_path / "a.json", "--html", tmp_path / "a.html",
                      "--no-transcript", "--quiet", cwd=tmp_path)
    assert sizes.returncode == 0, sizes.stderr
    json_bytes, html_bytes = (tmp_path / "a.json").stat().st_size, (tmp_path / "a.html").stat().st_size
    assert html_bytes > json_bytes + 2 * PAGE_BYTES
    out_json, out_html = small_disk / "out.json", small_disk / "out.html"
    filler = _fill(small_disk)
    room = json_bytes + PAGE_BYTES  # room for the JSON report, not for the HTML one
    with open(filler, "r+b") as f:
        f.truncate(max(0, filler.stat().st_size - room - PAGE_BYTES))
    proc = run_poise("analyze", spoken_wav, "--json", out_json, "--html", out_html, "--no-transcript", cwd=tmp_path)
    assert_clean(proc)
    if proc.returncode == 0:
        pytest.skip("both reports fitted on the small disk")
    line = stderr_lines(proc)[-1]
    assert "report" in line and (str(out_html) in line or str(out_json) in line), line
    assert not out_json.exists() and not out_html.exists()


def test_cli_messages_name_the_flag_not_the_settings(tmp_path: Path, spoken_wav: Path) -> None:
    proc = run_poise("analyze", spoken_wav, "--model", tmp_path / "nowhere", cwd=tmp_path)
    assert "--model" in proc.stderr and "Settings" not in proc.stderr, proc.stderr


def test_native_library_diagnostics_stay_off_the_terminal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = run_poise("devices", cwd=tmp_path, POISE_DATA_DIR=str(data))
    assert_clean(proc)
    assert "ALSA lib" not in proc.stderr and "PortAudio" not in proc.stderr.replace("libportaudio2", ""), proc.stderr


def test_libmpg123_notes_stay_off_the_terminal(tmp_path: Path, spoken_wav: Path) -> None:
    """An MP3 with a WAV glued to its end: libmpg123 prints resync notes straight to stderr."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    mp3 = tmp_path / "call.mp3"
    subprocess.run(["ffmpeg", "-loglevel", "quiet", "-y", "-i", str(spoken_wav), str(mp3)], check=True)
    glued = tmp_path / "glued.mp3"
    glued.write_bytes(mp3.read_bytes() + spoken_wav.read_bytes())
    proc = run_poise("analyze", glued, "--no-transcript", "--quiet", cwd=tmp_path, POISE_DATA_DIR=str(tmp_path / "data"))
    assert_clean(proc)
    assert "libmpg123" not in proc.stderr and "Warning:" not in proc.stderr, proc.stderr
    assert "libmpg123" in (tmp_path / "data" / "poise.log").read_text(errors="replace"), "the notes belong in the log"


# --------------------------------------------------------------------------- privacy


def test_data_folder_and_its_files_are_private(tmp_path: Path, spoken_wav: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    old = data / "recordings"
    old.mkdir(mode=0o755)
    (old / "call-old.wav").write_bytes(b"RIFF")
    os.chmod(old / "call-old.wav", 0o644)  # what an older Poise left
    out = tmp_path / "report.html"
    proc = run_poise("analyze", spoken_wav, "--no-transcript", "--save", "--html", out, "--quiet", cwd=tmp_path,
                     POISE_DATA_DIR=str(data))
    assert proc.returncode == 0, proc.stderr
    wide = []
    for path in [data, *data.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            wide.append(f"{path.relative_to(tmp_path)} {mode:o}")
    assert not wide, f"readable by others: {wide}"
    assert (data / "history.sqlite").exists() and (data / "poise.log").exists()
    umask = os.umask(0o077)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask, "a report elsewhere gets the user's umask (test_trust_permissions)"
