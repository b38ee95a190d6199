"""`poise batch`: real and generated calls through the CLI, a bad file, a rerun that skips done
work, Ctrl+C and a rerun that continues, results equal to `poise analyze --json`, and Ray."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import speech_path
from poise.audio.coach import CUE_KINDS
from poise.batch.discover import DiscoveryError, PairRule, discover
from poise.batch.manifest import MANIFEST_NAME, Entry, Manifest

REPO = Path(__file__).resolve().parents[1]
CLI_TIMEOUT_S = 120  # s: a batch of a few seconds of audio on 2 shared cores, worker start-up included
BAD_SENTENCE = "is not an audio file Poise can read"  # poise.audio.sources' sentence for a non-audio file


def poise(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "poise.cli", *args], cwd=REPO, capture_output=True, text=True,
        timeout=CLI_TIMEOUT_S, env=env or os.environ.copy(),
    )


def read_summary(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "summary.csv", newline="", encoding="utf-8") as f:
        return {row["call"]: row for row in csv.DictReader(f)}


def link(src: Path, dst: Path) -> Path:
    """The real recording read in place (a link in the test's folder, never a copy in the repo)."""
    dst.symlink_to(src)
    return dst


@pytest.fixture(scope="module")
def calls(tmp_path_factory, spoken_wav: Path) -> Path:
    """Real and generated calls: a real stereo call, an agent/caller pair (synthetic agent, real
    caller), a bad file and a caller file without its agent."""
    folder = tmp_path_factory.mktemp("batch") / "calls"
    folder.mkdir()
    link(speech_path("fw_stereo_diarization.wav"), folder / "stereo.wav")
    link(spoken_wav, folder / "p1_agent.wav")
    link(speech_path("ps_librivox_sense_and_sensibility_01_austen_64kb-0880.wav"), folder / "p1_caller.wav")
    (folder / "broken.wav").write_bytes(np.random.default_rng(1).bytes(4000))
    x, sr = sf.read(speech_path("ps_goforward.wav"), dtype="float32")
    sf.write(folder / "lonely_caller.flac", x, sr)
    return folder


@pytest.fixture(scope="module")
def pool_batch(calls: Path) -> tuple[Path, subprocess.CompletedProcess]:
    """`poise batch` over `calls` on 2 worker processes, once for the module."""
    out, home = calls.parent / "out", calls.parent / "home"
    # module-scoped, so set up before the per-test isolated folders: its own, never the user's
    env = {**os.environ, "POISE_DATA_DIR": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config")}
    return out, poise("batch", str(calls), "--out", str(out), "--workers", "2", env=env)


# ------------------------------------------------------------------------- no Whisper


def test_pair_rule_parses_and_refuses_in_one_sentence() -> None:
    rule = PairRule.parse("agent_*.wav,caller_*.wav")
    assert rule.agent_key("agent_007.wav") == ("007",)
    assert rule.caller_key("caller_007.wav") == ("007",)
    assert rule.agent_key("caller_007.wav") is None
    for bad in ("*_agent.*", "*_agent.*,caller.wav", "x/*_a.*,*_c.*", "*.wav,*.wav"):
        with pytest.raises(DiscoveryError) as err:
            PairRule.parse(bad)
        assert str(err.value).endswith(".") and "\n" not in str(err.value)


def test_discover_pairs_by_the_rule_and_keeps_other_files_as_calls(tmp_path: Path) -> None:
    (tmp_path / "week1").mkdir()
    for name in ("week1/a_agent.wav", "week1/a_caller.flac", "week1/b.wav", "week1/c_agent.wav",
                 "week1/d_caller.wav", "week1/notes.txt", "e.mp3"):
        (tmp_path / name).write_bytes(b"x")
    found = {c.name: c for c in discover([str(tmp_path)])}
    assert sorted(found) == ["e", "week1/a", "week1/b", "week1/c", "week1/d_caller"]
    assert found["week1/a"].caller == (tmp_path / "week1/a_caller.flac").absolute()
    assert found["week1/b"].caller is None and found["week1/b"].problem is None
    assert found["week1/c"].caller is None and "no caller file" in (found["week1/c"].note or "")
    assert "no agent file" in (found["week1/d_caller"].problem or "")
    custom = {c.name for c in discover([str(tmp_path / "week1")], PairRule.parse("*_caller.*,*_agent.*"))}
    assert "a" in custom and "d" in custom  # the rule reversed: d_caller.wav is now an "agent" file
    with pytest.raises(DiscoveryError, match="nothing matches"):
        discover([str(tmp_path / "*.ogg")])
    with pytest.raises(DiscoveryError, match="does not exist; check the path"):
        discover([str(tmp_path / "missing")])


def test_manifest_survives_a_torn_line_and_knows_what_is_done(tmp_path: Path) -> None:
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"abc")
    manifest = Manifest(tmp_path)
    content = manifest.content_hash([audio])
    manifest.add(Entry("k", "s1", content, True, {"call": "a"}, saved=False, final=True), [audio])
    manifest.close()
    with open(tmp_path / MANIFEST_NAME, "a", encoding="utf-8") as f:
        f.write('{"v": 1, "key": "k2", "sett')  # a kill in the middle of a line
    again = Manifest(tmp_path)
    assert again.is_done("k", "s1", content, need_saved=False) is not None
    assert again.is_done("k", "s2", content, need_saved=False) is None  # other settings
    assert again.is_done("k", "s1", content, need_saved=True) is None  # --save now: not in history yet
    audio.write_bytes(b"abcd")
    assert again.content_hash([audio]) != content  # the file changed: analysed again
    assert "k2" not in again.entries


# ------------------------------------------------------------------------- Whisper


@pytest.mark.slow
def test_batch_cli_analyses_reports_bad_files_and_skips_done_work(calls: Path, pool_batch, tmp_path: Path) -> None:
    out, done = pool_batch
    assert done.returncode == 1, done.stderr  # some calls failed: each has its row
    assert "Traceback" not in done.stderr
    rows = read_summary(out)
    assert sorted(rows) == ["broken", "lonely_caller", "p1", "stereo"]
    assert rows["stereo"]["status"] == rows["p1"]["status"] == "ok"
    assert rows["broken"]["status"] == "error" and BAD_SENTENCE in rows["broken"]["error"]
    assert "no agent file" in rows["lonely_caller"]["error"]
    assert f"broken: {rows['broken']['error']}" in done.stderr
    assert float(rows["stereo"]["duration_s"]) == pytest.approx(sf.info(calls / "stereo.wav").duration, abs=0.01)
    assert rows["p1"]["caller_file"].endswith("p1_caller.wav")
    for kind in CUE_KINDS:
        assert f"cue_{kind}" in rows["stereo"]
    for name in ("stereo", "p1"):
        row = rows[name]
        assert int(row["cues"]) == sum(int(row[f"cue_{k}"]) for k in CUE_KINDS)
        assert 0 < float(row["agent_talk_share"]) < 1 and float(row["agent_wpm"]) > 0
        doc = json.loads((out / row["json"]).read_text())
        assert doc["conversation"]["agent_talk_share"] == float(row["agent_talk_share"])
        assert len(doc["cues"]) == int(row["cues"])

    # the same call through `poise analyze --json`: the same cues and numbers
    ref = tmp_path / "analyze.json"
    single = poise("analyze", str(calls / "stereo.wav"), "--json", str(ref), "--quiet")
    assert single.returncode == 0, single.stderr
    mine, theirs = json.loads((out / "stereo.json").read_text()), json.loads(ref.read_text())
    for part in ("agent", "caller", "conversation", "cues", "segments", "baseline"):
        assert mine[part] == theirs[part], part

    # rerun: nothing analysed again (the bad file is refused from its manifest line)
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*.json")}
    again = poise("batch", str(calls), "--out", str(out), "--workers", "2")
    # the counts add up to the calls: the file refused last time is failed (not tried again), not "done"
    assert again.returncode == 1 and "4 calls: 0 analysed now, 2 done before, 2 failed (1 refused before, not tried again)" \
        in again.stdout, again.stdout + again.stderr
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.json")} == stamps
    assert read_summary(out) == rows



def _children(pid: int) -> set[int]:
    """All descendants of `pid` (Linux /proc)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                continue
            for k in kids:
                if k not in found:
                    found.add(k)
                    todo.append(k)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc to find the worker processes")
def test_ctrl_c_stops_cleanly_with_130_and_a_rerun_continues(tmp_path: Path) -> None:
    folder = tmp_path / "calls"
    folder.mkdir()
    for i in range(3):
        link(speech_path("ps_librivox_sense_and_sensibility_01_austen_64kb-0870.wav"), folder / f"read{i}.wav")
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "poise.cli", "batch", str(folder), "--out", str(out), "--workers", "1"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    workers: set[int] = set()
    deadline = time.monotonic() + CLI_TIMEOUT_S
    manifest = out / MANIFEST_NAME
    while time.monotonic() < deadline and proc.poll() is None:  # one call done: the next one is running
        workers |= _children(proc.pid)
        if manifest.exists() and manifest.read_text().count("\n") >= 1:
            break
        time.sleep(0.1)
    assert proc.poll() is None, "the batch ended before it could be interrupted"
    workers |= _children(proc.pid)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "Run the same command again to continue" in stderr
    end = time.monotonic() + 10
    while time.monotonic() < end and any(_alive(p) for p in workers):
        time.sleep(0.1)
    assert workers and not any(_alive(p) for p in workers), "worker processes were left behind"
    first = read_summary(out)
    assert 1 <= len(first) < 3 and all(r["status"] == "ok" for r in first.values())

    again = poise("batch", str(folder), "--out", str(out), "--workers", "2")
    assert again.returncode == 0, again.stderr
    assert f"{3 - len(first)} analysed now, {len(first)} done before" in again.stdout
    rows = read_summary(out)
    assert sorted(rows) == [f"read{i}" for i in range(3)]
    assert len({r["cues"] + r["agent_wpm"] for r in rows.values()}) == 1  # the same recording, the same numbers

    # a changed file is analysed again; the others stay done
    (folder / "read0.wav").unlink()
    link(speech_path("ps_librivox_sense_and_sensibility_01_austen_64kb-0920.wav"), folder / "read0.wav")
    third = poise("batch", str(folder), "--out", str(out), "--workers", "1")
    assert third.returncode == 0 and "1 analysed now, 2 done before" in third.stdout, third.stdout + third.stderr
    changed = sf.info(speech_path("ps_librivox_sense_and_sensibility_01_austen_64kb-0920.wav")).duration
    assert float(read_summary(out)["read0"]["duration_s"]) == pytest.approx(changed, abs=0.01)


@pytest.mark.slow
def test_ray_local_cluster_gives_the_same_results_and_leaves_no_processes(calls: Path, pool_batch, tmp_path: Path) -> None:
    try:
        import ray  # noqa: F401
    except ImportError:
        pytest.skip("Ray is not installed (pip install 'poise[cluster]'): the Ray path is not tested")
    before = _ray_processes()
    out_ray = tmp_path / "ray"
    with_ray = poise("batch", str(calls), "--out", str(out_ray), "--workers", "2", "--ray", "local", "--save")
    assert with_ray.returncode == 1, with_ray.stderr  # the bad file and the lone caller file, as on the pool
    assert "2 analysed now" in with_ray.stdout and "2 saved to history" in with_ray.stdout
    assert "on 2 Ray workers" in with_ray.stdout
    rows = {k: r for k, r in read_summary(out_ray).items() if r["status"] == "ok"}
    assert sorted(rows) == ["p1", "stereo"]
    out_pool, _ = pool_batch
    for name in rows:  # the same analysis as the process pool (itself checked against `poise analyze`)
        a, b = (json.loads((o / f"{name}.json").read_text()) for o in (out_pool, out_ray))
        for part in ("agent", "caller", "conversation", "cues", "segments"):
            assert a[part] == b[part], (name, part)
    listed = poise("history", "--json")
    assert listed.returncode == 0, listed.stderr
    history = {c["id"]: c for c in json.loads(listed.stdout)}  # written by the driver, the one writer
    assert sorted(history) == sorted(int(r["history_id"]) for r in rows.values())
    assert {history[int(r["history_id"])]["recording"] for r in rows.values()} == {r["agent_file"] for r in rows.values()}
    end = time.monotonic() + 15
    while time.monotonic() < end and _ray_processes() - before:
        time.sleep(0.2)
    assert not (_ray_processes() - before), f"Ray left processes behind: {_ray_processes() - before}"


def _ray_processes() -> set[tuple[int, str]]:
    """Running processes of Ray (raylet, GCS, its workers), by /proc."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            cmd = stat.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if ("ray" in cmd and ("raylet" in cmd or "gcs_server" in cmd or "default_worker" in cmd or "ray::" in cmd)) and _alive(int(stat.parent.name)):
            found.add((int(stat.parent.name), cmd[:80]))
    return found


def test_batch_without_recordings_says_so_in_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = poise("batch", str(tmp_path / "empty"), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "holds no recordings" in done.stderr and "Traceback" not in done.stderr
    assert poise("batch", str(tmp_path), "--pair-rule", "oops").returncode == 2


def test_an_output_folder_that_cannot_be_made_is_one_sentence_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("not a folder")
    done = poise("batch", str(tmp_path), "--out", str(tmp_path / "a_file" / "out"), "--no-transcript")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot create the output folder" in done.stderr and "choose another folder with --out" in done.stderr


def test_the_single_machine_path_imports_no_ray() -> None:
    code = (
        "import sys, poise.cli, poise.cli_batch, poise.batch.job, poise.batch.pool, poise.batch.work; "
        "poise.cli.build_parser(); print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
