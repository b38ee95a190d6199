"""Test helpers for the PulseAudio harness: null sinks `agent` / `caller`, audio played into them.

scripts/pulse_null_sinks.sh sets the harness up; Poise captures the sinks' monitors through
the ALSA PCMs `poise_agent_in` / `poise_caller_in`. The tests run their own PulseAudio
daemon (`--private`), so nobody else unplugging or playing into the shared sinks at the
same time can disturb them.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "pulse_null_sinks.sh"
AGENT_PCM = "poise_agent_in"
CALLER_PCM = "poise_caller_in"
# The environment before tests redirect XDG_CONFIG_HOME (libpulse finds its daemon through it).
_BASE_ENV = dict(os.environ)
_private: Path | None = None  # socket folder of the daemon `setup` started


@dataclass
class PulseHarness:
    """A running PulseAudio with the two null sinks."""

    rescue_streams: str  # "no" when our daemon runs (a vanished source kills its streams), else "unknown"
    server: str  # PULSE_SERVER of the daemon


class PulseUnavailable(Exception):
    """PulseAudio (or its tools) cannot be used here; the message says why."""


def _script(*args: str) -> list[str]:
    private = ["--private", str(_private)] if _private is not None else []
    return ["bash", str(SCRIPT), *private, *args]


def setup() -> PulseHarness:
    """Start a private PulseAudio with the sinks (scripts/pulse_null_sinks.sh --private).

    Raises `PulseUnavailable` with the script's message when it cannot run. Sets
    PULSE_SERVER in this process (the ALSA plugin inside PortAudio reads it) until `teardown`
    (called at exit at the latest). Calling it again reuses the running daemon.
    """
    global _private
    for tool in ("pulseaudio", "pactl", "paplay"):
        if shutil.which(tool) is None:
            raise PulseUnavailable(f"{tool} is not installed")
    if _private is None:  # a second caller in the same process shares the daemon
        _private = Path(tempfile.mkdtemp(prefix="poise-pulse-"))
        atexit.register(teardown)  # also stopped when a caller forgets to
    done = subprocess.run(_script(), check=False, capture_output=True, text=True, timeout=60, env=_BASE_ENV)
    if done.returncode != 0:
        teardown()
        raise PulseUnavailable((done.stderr or done.stdout).strip() or f"{SCRIPT.name} exited {done.returncode}")
    found = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line and " " not in line)
    server = found.get("server") or f"unix:{_private}/native"
    os.environ["PULSE_SERVER"] = server
    return PulseHarness(rescue_streams=found.get("rescue_streams", "unknown"), server=server)


def teardown() -> None:
    """Stop the private daemon and forget it (PULSE_SERVER back to what it was)."""
    global _private
    if _private is None:
        return
    subprocess.run(_script("--stop"), check=False, capture_output=True, timeout=30, env=_BASE_ENV)
    shutil.rmtree(_private, ignore_errors=True)
    _private = None
    if "PULSE_SERVER" in _BASE_ENV:
        os.environ["PULSE_SERVER"] = _BASE_ENV["PULSE_SERVER"]
    else:
        os.environ.pop("PULSE_SERVER", None)


def _env() -> dict[str, str]:
    env = dict(_BASE_ENV)
    if _private is not None:
        env["PULSE_SERVER"] = f"unix:{_private}/native"
    return env


def play(path: Path, sink: str) -> subprocess.Popen:
    """Start playing an audio file into a null sink (`agent` or `caller`); returns the paplay process."""
    return subprocess.Popen(
        ["paplay", f"--device={sink}", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env()
    )


def stop(proc: subprocess.Popen | None) -> None:
    """Stop a `play` process (if still running) and reap it."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def sink_modules(sink: str) -> list[str]:
    """Ids of the module-null-sink instances that created `sink`."""
    out = subprocess.run(
        ["pactl", "list", "short", "modules"], capture_output=True, text=True, check=True, env=_env(), timeout=10
    ).stdout
    ids = []
    for line in out.splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and fields[1] == "module-null-sink" and f"sink_name={sink}" in fields[2].split():
            ids.append(fields[0])
    return ids


def sink_exists(sink: str) -> bool:
    out = subprocess.run(
        ["pactl", "list", "short", "sinks"], capture_output=True, text=True, check=True, env=_env(), timeout=10
    ).stdout
    return any(line.split("\t")[1:2] == [sink] for line in out.splitlines())


def remove_sink(sink: str) -> None:
    """Unload a null sink, as if the device had been unplugged; returns once it is gone.

    PulseAudio carries out an unload shortly after `pactl unload-module` returns: a stream
    opened in between would still connect, then die before it starts.
    """
    for module in sink_modules(sink):
        subprocess.run(["pactl", "unload-module", module], check=True, timeout=10, env=_env())
    deadline = time.monotonic() + 5
    while sink_exists(sink) and time.monotonic() < deadline:
        time.sleep(0.02)


def create_sink(sink: str) -> None:
    """(Re)create a null sink (no-op when it exists)."""
    subprocess.run(_script("--sink", sink), check=True, capture_output=True, timeout=30, env=_env())
