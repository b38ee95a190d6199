"""Test helpers for the PulseAudio harness: null sinks `agent` / `caller`, audio played into them.

scripts/pulse_null_sinks.sh sets the harness up; Poise captures the sinks' monitors through
the ALSA PCMs `poise_agent_in` / `poise_caller_in`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "pulse_null_sinks.sh"
AGENT_PCM = "poise_agent_in"
CALLER_PCM = "poise_caller_in"
# The environment before tests redirect XDG_CONFIG_HOME (libpulse finds its daemon through it).
_BASE_ENV = dict(os.environ)


@dataclass
class PulseHarness:
    """A running PulseAudio with the two null sinks."""

    rescue_streams: str  # "no" when our daemon runs (a vanished source kills its streams), else "unknown"


class PulseUnavailable(Exception):
    """PulseAudio (or its tools) cannot be used here; the message says why."""


def setup() -> PulseHarness:
    """Run scripts/pulse_null_sinks.sh; `PulseUnavailable` with its message when it fails."""
    for tool in ("pulseaudio", "pactl", "paplay"):
        if shutil.which(tool) is None:
            raise PulseUnavailable(f"{tool} is not installed")
    done = subprocess.run(["bash", str(SCRIPT)], check=False, capture_output=True, text=True, timeout=60, env=_BASE_ENV)
    if done.returncode != 0:
        raise PulseUnavailable((done.stderr or done.stdout).strip() or f"{SCRIPT.name} exited {done.returncode}")
    found = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line and " " not in line)
    if found.get("server"):
        # Pin the daemon for this process (the ALSA plugin inside PortAudio) and for paplay/pactl,
        # whatever XDG_CONFIG_HOME a test sets.
        os.environ["PULSE_SERVER"] = _BASE_ENV["PULSE_SERVER"] = found["server"]
    return PulseHarness(rescue_streams=found.get("rescue_streams", "unknown"))


def _env() -> dict[str, str]:
    return dict(_BASE_ENV)


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


def remove_sink(sink: str) -> None:
    """Unload a null sink, as if the device had been unplugged."""
    for module in sink_modules(sink):
        subprocess.run(["pactl", "unload-module", module], check=True, timeout=10, env=_env())


def create_sink(sink: str) -> None:
    """(Re)create a null sink (no-op when it exists)."""
    subprocess.run(["bash", str(SCRIPT), "--sink", sink], check=True, capture_output=True, timeout=30, env=_env())
