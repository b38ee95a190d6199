"""Crash-safe recording of a call: agent left, caller right, 16-bit PCM WAV.

While recording, the audio goes to `<name>.wav.part`: a WAV header written up-front, the
samples appended, and every second of audio the header's sizes are patched and the file
is flushed and fsync'ed. A killed process therefore leaves a `.part` that loses at most
about a second; `find_interrupted` finds such files and `recover` turns them into `.wav`.
On a full disk (or any write error) recording stops, what is on disk is kept as a valid
WAV, and `error` says so in one sentence.

Stretches where a device delivered nothing (`Gap`: that side is silence there) are the
recording's metadata: `<name>.gaps.json` beside it, rewritten whenever a gap opens or
closes (so a killed call keeps them too); `read_gaps(wav)` reads them back.
"""

from __future__ import annotations

import errno
import json
import os
import struct
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from poise.audio.types import AudioInputError, Block

try:
    import fcntl
except ImportError:  # Windows: an open file cannot be renamed anyway, no lock needed
    fcntl = None  # type: ignore[assignment]

PART_SUFFIX = ".wav.part"
HEADER_BYTES = 44  # canonical RIFF/WAVE header: RIFF(12) + fmt(24) + data chunk header(8)
SAMPLE_BYTES = 2  # int16 PCM
FLUSH_EVERY_S = 0.5  # s of audio between header patches + fsyncs: the .part header lags its data by at most this (a crash loses about as much)
MAX_GAP_FILL_S = 600.0  # s: a jump forward in block time is filled with silence up to this much


GAPS_SUFFIX = ".gaps.json"  # the recording's metadata: where a device delivered nothing


@dataclass(frozen=True)
class Gap:
    """A stretch of a live call where one side's device delivered no audio (silence there)."""

    role: str  # "agent" | "caller"
    start_s: float  # audio time the silence began, s
    end_s: float | None = None  # when the device was back (None: it never came back before the end)

    @property
    def duration_s(self) -> float | None:
        return None if self.end_s is None else max(0.0, self.end_s - self.start_s)

    def to_json(self) -> dict[str, Any]:
        """The form in events files and metadata: {"type": "gap", "role", "start", "end"} (s, 3 decimals)."""
        end = None if self.end_s is None else round(self.end_s, 3)
        return {"type": "gap", "role": self.role, "start": round(self.start_s, 3), "end": end}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Gap:
        end = data.get("end")
        return cls(str(data["role"]), float(data["start"]), None if end is None else float(end))


def gaps_path(wav: Path) -> Path:
    """Where the gaps of the recording `wav` (or of its `.wav.part`) are kept."""
    wav = Path(wav)
    name = wav.name
    for suffix in (PART_SUFFIX, ".wav"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return wav.with_name(name + GAPS_SUFFIX)


def read_gaps(wav: Path) -> list[Gap]:
    """The device gaps marked for the recording `wav` ([] when none were, or they cannot be read)."""
    try:
        data = json.loads(gaps_path(wav).read_text(encoding="utf-8"))
        return [Gap.from_json(g) for g in data.get("gaps", [])]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []


def finished_gaps(gaps: list[Gap], duration_s: float) -> list[Gap]:
    """`gaps` as a finished call holds them: inside [0, `duration_s`], one still open ending at the
    end (the device never came back), empty ones left out; in order of their start."""
    end_of_call = max(0.0, float(duration_s))
    out = []
    for gap in gaps:
        start = min(max(gap.start_s, 0.0), end_of_call)
        end = end_of_call if gap.end_s is None else min(max(gap.end_s, start), end_of_call)
        if end > start:
            out.append(Gap(gap.role, start, end))
    return sorted(out, key=lambda g: (g.start_s, g.role))


def recording_gaps(wav: Path, duration_s: float) -> list[Gap]:
    """The device gaps of the recording `wav` (from its `.gaps.json`), as `finished_gaps` gives them."""
    return finished_gaps(read_gaps(wav), duration_s)


def _header(sample_rate: int, channels: int, data_bytes: int) -> bytes:
    """A 44-byte PCM WAV header for `data_bytes` of int16 samples."""
    block_align = channels * SAMPLE_BYTES
    return (
        b"RIFF"
        + struct.pack("<I", min(36 + data_bytes, 0xFFFFFFFF))
        + b"WAVEfmt "
        + struct.pack(
            "<IHHIIHH", 16, 1, channels, sample_rate, sample_rate * block_align, block_align, 8 * SAMPLE_BYTES
        )
        + b"data"
        + struct.pack("<I", min(data_bytes, 0xFFFFFFFF))
    )


def _to_int16(x: np.ndarray) -> np.ndarray:
    # x 32768 like libsndfile, so reading the file back as float gives the samples within 0.5 LSB
    scaled = np.round(np.asarray(x, dtype=np.float32) * 32768.0)
    return np.clip(scaled, -32768, 32767).astype("<i2")


def _span(seconds: float) -> str:
    """'42 s', '5 min', '1 h 3 min': how much audio was saved, for messages."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def _free_name(folder: Path, stem: str) -> str:
    """`stem`, or `stem-2`, `stem-3`, ... so that neither the .wav nor the .wav.part exists."""
    name, n = stem, 1
    while any((folder / f"{name}{suffix}").exists() for suffix in (".wav", PART_SUFFIX, GAPS_SUFFIX)):
        n += 1
        name = f"{stem}-{n}"
    return name


class CallRecorder:
    """Appends `Block`s to `<folder>/<name>.wav.part`; `close()` turns it into `<name>.wav`.

    Call `write` from the pipeline thread (never from an audio callback). `sample_rate` must
    be the rate of the blocks (the engine's 16 kHz); `channels` is 2 (agent left, caller
    right, silence when a block has no caller) or 1 (agent only).
    """

    def __init__(self, folder: Path, sample_rate: int = 16000, channels: int = 2, name: str | None = None) -> None:
        if channels not in (1, 2):
            raise ValueError("channels must be 1 or 2")
        self.folder = Path(folder)
        self.sample_rate = int(sample_rate)
        self.channels = channels
        self.error: str | None = None  # one plain sentence once recording has stopped on an error
        self.frames = 0  # frames on disk or in the write buffer
        self.gaps: list[Gap] = []  # device gaps marked so far (see mark_gap)
        self._t_start: float | None = None  # audio time of the first frame
        self._unsynced = 0  # frames written since the last fsync
        self._file: BinaryIO | None = None
        stem = name or time.strftime("call-%Y%m%d-%H%M%S")
        self.name = stem
        self.part_path = self.folder / f"{stem}{PART_SUFFIX}"
        self.path = self.folder / f"{stem}.wav"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.name = _free_name(self.folder, stem)
            self.part_path = self.folder / f"{self.name}{PART_SUFFIX}"
            self.path = self.folder / f"{self.name}.wav"
            self._file = open(self.part_path, "wb")  # noqa: SIM115 - kept open for the whole call
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self.error = (
                f"The call cannot be recorded in {self.folder} ({reason}); "
                "check that the folder exists and can be written to."
            )
            return
        if fcntl is not None:
            # Tells find_interrupted in another process that this .part is still being written.
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            self._file.write(_header(self.sample_rate, channels, 0))
            self._sync()
        except OSError as exc:
            self._fail(exc)

    @property
    def duration_s(self) -> float:
        """Seconds of audio recorded so far."""
        return self.frames / self.sample_rate

    @property
    def recording(self) -> bool:
        """True until `close()` or a write error."""
        return self._file is not None

    def write(self, block: Block) -> None:
        """Append a block (ignored once recording has stopped)."""
        if self._file is None:
            return
        agent = np.asarray(block.agent, dtype=np.float32)
        if self._t_start is None:
            self._t_start = block.t0
        # Keep the recording on the call's clock if the source skipped ahead.
        gap = round((block.t0 - self._t_start) * self.sample_rate) - self.frames
        gap = min(gap, int(MAX_GAP_FILL_S * self.sample_rate))
        if self.channels == 1:
            samples = _to_int16(agent)
        else:
            caller = block.caller if block.caller is not None else np.zeros(len(agent), np.float32)
            samples = np.empty(2 * len(agent), dtype="<i2")
            samples[0::2] = _to_int16(agent)
            samples[1::2] = _to_int16(caller[: len(agent)])
        try:
            if gap > 0:
                self._file.write(bytes(gap * self.channels * SAMPLE_BYTES))
                self.frames += gap
                self._unsynced += gap
            self._file.write(samples.tobytes())
            self.frames += len(agent)
            self._unsynced += len(agent)
            if self._unsynced >= FLUSH_EVERY_S * self.sample_rate:
                self._sync()
        except OSError as exc:
            self._fail(exc)

    def mark_gap(self, gap: Gap) -> None:
        """Note that `gap.role`'s device delivered nothing from `gap.start_s` (to `gap.end_s`, once
        known: the same gap marked again with its end replaces the open one). Written at once
        to `<name>.gaps.json`; a failure to write it never stops the recording."""
        self.gaps = [g for g in self.gaps if not (g.role == gap.role and g.start_s == gap.start_s)] + [gap]
        self.gaps.sort(key=lambda g: (g.start_s, g.role))
        target = gaps_path(self.path)
        tmp = target.with_name(target.name + ".tmp")
        try:
            tmp.write_text(json.dumps({"gaps": [g.to_json() for g in self.gaps]}) + "\n", encoding="utf-8")
            os.replace(tmp, target)
        except OSError:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass

    def close_gaps(self) -> None:
        """At the end of the call: a gap still open ends where the recording does."""
        end = self.duration_s
        for gap in [g for g in self.gaps if g.end_s is None]:
            self.mark_gap(replace(gap, end_s=max(end, gap.start_s)))

    def flush(self) -> None:
        """Make everything written so far survive a crash (header sizes included)."""
        if self._file is None:
            return
        try:
            self._sync()
        except OSError as exc:
            self._fail(exc)

    def close(self) -> Path:
        """Finish the file: patch the header, rename `.wav.part` → `.wav`, return its path."""
        if self._file is not None and self.gaps:
            self.close_gaps()
        if self._file is not None:
            try:
                self._sync()
            except OSError as exc:
                self._fail(exc)
            else:
                self._finish()
        return self.path

    def __enter__(self) -> CallRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- internals ----------------------------------------------------------------------

    def _sync(self) -> None:
        assert self._file is not None
        f = self._file
        f.flush()
        end = f.tell()
        f.seek(0)
        f.write(_header(self.sample_rate, self.channels, end - HEADER_BYTES))
        f.flush()
        f.seek(end)
        os.fsync(f.fileno())
        self._unsynced = 0

    def _finish(self) -> None:
        assert self._file is not None
        self._file.close()
        self._file = None
        os.replace(self.part_path, self.path)

    def _fail(self, exc: OSError) -> None:
        """Stop recording after a write error; keep what reached the disk as a valid WAV."""
        f, self._file = self._file, None
        if f is not None:
            try:
                f.close()  # may raise again while flushing its buffer: what is on disk counts
            except OSError:
                pass
        saved_s = 0.0
        try:
            self.path = recover(self.part_path, target=self.path)
            saved_s = _wav_seconds(self.path)
        except (OSError, AudioInputError):
            pass
        if saved_s <= 0:
            for leftover in (self.part_path, self.path):
                try:
                    leftover.unlink(missing_ok=True)
                except OSError:
                    pass
        self.frames = round(saved_s * self.sample_rate)
        when = time.strftime("%H:%M")
        where = f"the first {_span(saved_s)} are saved in {self.path}" if saved_s > 0 else "nothing could be saved"
        if exc.errno == errno.ENOSPC:
            self.error = f"The disk is full: recording stopped at {when}, {where}; free some space."
        else:
            reason = exc.strerror or str(exc)
            self.error = (
                f"Recording stopped at {when} because the file could not be written ({reason}); "
                f"{where}; check the recordings folder."
            )


def _wav_seconds(path: Path) -> float:
    with open(path, "rb") as f:
        head = f.read(HEADER_BYTES)
    channels, rate = struct.unpack("<HI", head[22:28])
    (data_bytes,) = struct.unpack("<I", head[40:44])
    return data_bytes / (rate * channels * SAMPLE_BYTES)


def _is_locked(path: Path) -> bool:
    """True when another live CallRecorder still holds `path`."""
    if fcntl is None:
        return False
    try:
        with open(path, "rb") as f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    except OSError:
        return False
    return False


def find_interrupted(folder: Path) -> list[Path]:
    """Recordings left as `*.wav.part` by a crash (not those another process is still writing)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"*{PART_SUFFIX}") if p.is_file() and not _is_locked(p))


def recover(part: Path, target: Path | None = None) -> Path:
    """Make an interrupted `.wav.part` a valid `.wav`: sizes from the file length, a trailing
    half-frame dropped. Returns the new path (`target`, or the name without `.part`)."""
    part = Path(part)
    if target is None:
        name = part.name[: -len(".part")] if part.name.endswith(".part") else part.name + ".wav"
        target = part.with_name(name)
    with open(part, "r+b") as f:
        head = f.read(HEADER_BYTES)
        if len(head) < HEADER_BYTES or head[:4] != b"RIFF" or head[8:16] != b"WAVEfmt " or head[36:40] != b"data":
            raise AudioInputError(f"The interrupted recording {part} holds no audio; delete it.")
        channels, rate = struct.unpack("<HI", head[22:28])
        if channels < 1 or rate < 1:
            raise AudioInputError(f"The interrupted recording {part} has a damaged header; delete it.")
        size = os.fstat(f.fileno()).st_size
        frame = channels * SAMPLE_BYTES
        data_bytes = (size - HEADER_BYTES) // frame * frame
        f.truncate(HEADER_BYTES + data_bytes)
        f.seek(0)
        f.write(_header(rate, channels, data_bytes))
        f.flush()
        os.fsync(f.fileno())
    os.replace(part, target)
    return target


__all__ = ["CallRecorder", "Gap", "finished_gaps", "find_interrupted", "gaps_path", "read_gaps", "recording_gaps", "recover"]
