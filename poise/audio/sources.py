"""Where call audio comes from: recorded calls on disk (`load_call`, `FileSource`).

Every source hands the pipeline float32 mono blocks at `SAMPLE_RATE` per role.
Files are decoded with soundfile (libsndfile: WAV incl. G.711, FLAC, OGG/Vorbis,
OGG/Opus, MP3) and, for what libsndfile refuses (M4A/AAC, WebM, ...), with PyAV;
they are resampled once, with soxr, while decoding in chunks so that an hour-long
call never sits in memory in more than its final 16 kHz form.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import struct
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import soundfile as sf
import soxr

from poise import paths
from poise.audio.types import SAMPLE_RATE, AudioInputError, Block, SourceInfo

AgentChannel = Literal["left", "right"]

DECODE_CHUNK = 1 << 16  # frames at the file's rate: ~8 s of 8 kHz audio, a few MB per chunk
RESAMPLE_QUALITY = "HQ"  # soxr "high quality": transparent for speech, ~2x faster than VHQ
SILENCE_PEAK = 10 ** (-70 / 20)  # linear peak (-70 dBFS): below it a file holds no sound at all
UNKNOWN_LENGTH_GUESS_S = 600.0  # s: first buffer size when a container does not tell its length
MAX_PREALLOC_S = 6 * 3600.0  # s: a header claiming more is not trusted up front (the buffer grows if needed)
SUPPORTED = "a WAV, FLAC, OGG, Opus or MP3 recording"
CLIP_LEVEL = 0.999  # |sample| at or above this is at full scale: the recording clipped there
CLIP_NOTE_FRACTION = 1e-3  # clipped samples (share of all) above which the file is said to clip
LENGTH_NOTE_S = 1.0  # s: an agent and caller file differing by more than this is said to differ
TRUNCATED_NOTE_S = 0.1  # s: a WAV holding this much less than its header promises is said to be cut short
NOTES_LOGGER = "poise.input"  # where load_call's notes go (the CLI prints them; the log keeps them)

notes_log = logging.getLogger(NOTES_LOGGER)

_Mapper = Callable[[np.ndarray], np.ndarray]


@dataclass
class LoadedCall:
    """A whole call at `SAMPLE_RATE`: the agent's audio and, for two-sided calls, the caller's.

    `agent` and `caller` are float32 mono of the same length; `caller` is None for
    a mono (agent-only) recording. `info` describes the original recording.
    """

    agent: np.ndarray
    caller: np.ndarray | None
    info: SourceInfo
    notes: list[str] = field(default_factory=list)  # what the user should know about the input, one sentence each

    @property
    def duration_s(self) -> float:
        """Length of the resampled call, s."""
        return len(self.agent) / SAMPLE_RATE


@dataclass
class _Decoded:
    audio: np.ndarray  # (roles, n) float32 at SAMPLE_RATE, each row contiguous
    sample_rate: int  # of the original
    channels: int  # of the original
    frames: int  # decoded frames at the original rate
    peak: float  # max |sample| over the roles kept
    clipped: int = 0  # samples at full scale
    nonfinite: int = 0  # NaN or infinite samples (treated as silence)
    length: int = 0  # samples per role at SAMPLE_RATE (also when the audio went to a sink)
    backend: str = "soundfile"  # which decoder read it: "soundfile" or "pyav"
    samples: int = 0  # samples looked at for clipping
    notes: list[str] = field(default_factory=list)  # cut short, clipping: said to the user, not refused
    cut_short: str | None = None  # the refusal when nothing in a cut-short file is heard: it names the cut, not silence


def load_call(
    path: str | os.PathLike[str],
    caller_path: str | os.PathLike[str] | None = None,
    agent_channel: AgentChannel = "left",
) -> LoadedCall:
    """Read a recorded call and resample it to 16 kHz mono per role.

    - One stereo file: the agent is the left channel (`agent_channel="right"`
      swaps), the caller the other one.
    - One mono file: the agent alone; `caller` is None.
    - One file with more than two channels: channel 0 is the agent, channel 1 the
      caller (or 1 and 0 with `agent_channel="right"`); the rest are ignored.
    - Two files (`caller_path` given): each is downmixed to mono; the shorter one
      is padded with zeros to the length of the longer. `info` then has the agent
      file's path and sample rate, the longer file's duration and `channels=2`.

    Raises AudioInputError (one plain sentence naming the file) for anything that
    cannot be used: missing, a folder, unreadable, empty, no samples, damaged or
    cut short beyond decoding, not audio, an unknown codec, or only silence.
    """
    return _load(path, caller_path, agent_channel, keep=True)[0]


def _discard(_piece: np.ndarray) -> None:
    """A sink for a decoding pass that only checks the file (nothing is kept)."""


def _load(
    path: str | os.PathLike[str], caller_path: str | os.PathLike[str] | None, agent_channel: AgentChannel, keep: bool,
) -> tuple[LoadedCall, list[_Decoded]]:
    """`load_call`; with `keep=False` the audio is checked and measured but not kept (`agent` and
    `caller` are empty; the decoded files' `length` says how long they are)."""
    if agent_channel not in ("left", "right"):
        raise ValueError(f"agent_channel must be 'left' or 'right', not {agent_channel!r}")
    sink = None if keep else _discard
    empty = np.zeros(0, np.float32)
    if caller_path is None:
        decoded = _decode_file(path, "recording", _channel_mapper(agent_channel), sink=sink)
        two = decoded.audio.shape[0] > 1
        agent = decoded.audio[0] if keep else empty
        caller = (decoded.audio[1] if keep else empty) if two else None
        info = SourceInfo(
            path=str(path),
            duration_s=decoded.frames / decoded.sample_rate,
            sample_rate=decoded.sample_rate,
            channels=decoded.channels,
            agent_channel=agent_channel if decoded.channels > 1 else None,
        )
        notes = list(decoded.notes)
        if decoded.channels > 2:
            agent_ch, caller_ch = (1, 2) if agent_channel == "left" else (2, 1)
            notes.append(
                f"{path} has {decoded.channels} channels: Poise used channel {agent_ch} as the agent and "
                f"channel {caller_ch} as the caller, and ignored the other {decoded.channels - 2}."
            )
        if decoded.channels == 1 and agent_channel == "right":
            notes.append(f"{path} is mono: there is no right side, so Poise analysed it as the agent alone.")
        return _noted(LoadedCall(agent=agent, caller=caller, info=info, notes=notes)), [decoded]

    a = _decode_file(path, "agent file", _downmix, sink=sink)
    c = _decode_file(caller_path, "caller file", _downmix, silence_ok=True, sink=sink)
    notes = list(a.notes) + list(c.notes)
    for decoded, role, file in ((a, "agent", path), (c, "caller", caller_path)):
        if decoded.channels > 1:  # a stereo call given as one side: both its voices now count as this role's
            notes.append(
                f"The {role} file {file} has {decoded.channels} channels: Poise mixed them into the {role}'s side; "
                "if they hold the two sides of a call, analyse that file alone, without a separate caller file."
            )
    a_s, c_s = a.frames / a.sample_rate, c.frames / c.sample_rate
    if c.peak < SILENCE_PEAK:
        notes.append(f"The caller file {caller_path} is silent: Poise analysed the agent alone.")
        info = SourceInfo(path=str(path), duration_s=a_s, sample_rate=a.sample_rate, channels=1, caller_path=str(caller_path))
        return _noted(LoadedCall(agent=a.audio[0] if keep else empty, caller=None, info=info, notes=notes)), [a]
    if abs(a_s - c_s) > LENGTH_NOTE_S:
        shorter = "caller" if c_s < a_s else "agent"
        notes.append(
            f"The caller file {caller_path} is {c_s:.1f} s long and the agent file {a_s:.1f} s: "
            f"Poise padded the {shorter}'s side with silence to the longer one."
        )
    if a.sample_rate != c.sample_rate:
        notes.append(
            f"The caller file {caller_path} is recorded at {c.sample_rate} Hz and the agent file at "
            f"{a.sample_rate} Hz: Poise resampled both to {SAMPLE_RATE} Hz."
        )
    info = SourceInfo(
        path=str(path),
        duration_s=max(a_s, c_s),
        sample_rate=a.sample_rate,
        channels=2,
        caller_path=str(caller_path),
    )
    if not keep:
        return _noted(LoadedCall(agent=empty, caller=empty, info=info, notes=notes)), [a, c]
    n = max(a.audio.shape[1], c.audio.shape[1])
    return _noted(LoadedCall(agent=_pad_to(a.audio[0], n), caller=_pad_to(c.audio[0], n), info=info, notes=notes)), [a, c]


@dataclass
class StreamedCall:
    """A recorded call checked once and then read again from disk, in order, each time it is needed.

    What `load_call` gives without holding the call in memory: the same notes and `info`, and
    `pieces()` / `blocks()` yield exactly the samples `load_call` would have held (the same
    decoder, chunking and resampler), a few seconds at a time. An hour of stereo call is
    ~460 MB at 16 kHz float32; read this way it never is more than a decode chunk.
    """

    path: str
    caller_path: str | None
    agent_channel: AgentChannel
    info: SourceInfo
    notes: list[str]
    has_caller: bool
    length: int  # samples per role at SAMPLE_RATE
    _backends: list[str] = field(default_factory=list)
    cut_short: str | None = None  # a file of it is cut short: the refusal if the analysis hears no speech

    @property
    def duration_s(self) -> float:
        return self.length / SAMPLE_RATE

    def pieces(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """(agent, caller) at SAMPLE_RATE from the start, in pieces of a few seconds (caller None: agent only)."""
        if self.caller_path is None:
            mapper = _channel_mapper(self.agent_channel)
            for x in _pieces(Path(self.path), mapper, self._backends[0]):
                yield np.ascontiguousarray(x[:, 0]), (np.ascontiguousarray(x[:, 1]) if x.shape[1] > 1 else None)
            return
        agent = _pieces(Path(self.path), _downmix, self._backends[0])
        if not self.has_caller:  # a silent caller file: the agent alone
            for x in agent:
                yield np.ascontiguousarray(x[:, 0]), None
            return
        caller = _pieces(Path(self.caller_path), _downmix, self._backends[1])
        yield from _paired(agent, caller, self.length)

    def blocks(self, block_s: float) -> Iterator[Block]:
        """The call as `Block`s of `block_s` (the last may be shorter), as a non-realtime `FileSource` gives them."""
        size = max(1, round(block_s * SAMPLE_RATE))
        pending_a: list[np.ndarray] = []
        pending_c: list[np.ndarray] = []
        have, t = 0, 0
        for a, c in self.pieces():
            pending_a.append(a)
            if c is not None:
                pending_c.append(c)
            have += len(a)
            if have < size:
                continue
            agent = np.concatenate(pending_a)
            caller = np.concatenate(pending_c) if pending_c else None
            cut = have // size * size
            for i in range(0, cut, size):
                yield Block(t0=(t + i) / SAMPLE_RATE, agent=agent[i : i + size].copy(),
                            caller=None if caller is None else caller[i : i + size].copy())
            t += cut
            pending_a = [agent[cut:]]
            pending_c = [caller[cut:]] if caller is not None else []
            have -= cut
        if have:
            agent = np.concatenate(pending_a)
            caller = np.concatenate(pending_c) if pending_c else None
            yield Block(t0=t / SAMPLE_RATE, agent=agent, caller=caller)


def open_call(
    path: str | os.PathLike[str],
    caller_path: str | os.PathLike[str] | None = None,
    agent_channel: AgentChannel = "left",
) -> StreamedCall:
    """Check a recorded call as `load_call` does (the same refusals and notes) without keeping its audio."""
    call, decoded = _load(path, caller_path, agent_channel, keep=False)
    return StreamedCall(
        path=str(path), caller_path=None if caller_path is None else str(caller_path), agent_channel=agent_channel,
        info=call.info, notes=list(call.notes), has_caller=call.caller is not None,
        length=max(d.length for d in decoded), _backends=[d.backend for d in decoded],
        cut_short=next((d.cut_short for d in decoded if d.cut_short), None),
    )


def _pieces(path: Path, mapper: _Mapper, backend: str) -> Iterator[np.ndarray]:
    """Resampled (n, roles) pieces of one file, in order, by the decoder that read it when it was checked."""
    out: list[np.ndarray] = []
    if backend == "soundfile":
        with sf.SoundFile(str(path)) as f:
            roles = mapper(np.zeros((1, int(f.channels)), dtype=np.float32)).shape[1]
            col = _Collector(int(f.samplerate), roles, None, out.append)
            while True:
                chunk = f.read(DECODE_CHUNK, dtype="float32", always_2d=True)
                if not len(chunk):
                    break
                col.add(mapper(chunk))
                yield from out
                out.clear()
            col.finish()
            yield from out
        return
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        roles = mapper(np.zeros((1, len(ctx.layout.channels)), dtype=np.float32)).shape[1]
        col = _Collector(int(ctx.sample_rate), roles, None, out.append)
        to_float = av.AudioResampler(format="fltp", layout=ctx.layout, rate=int(ctx.sample_rate))
        for frame in container.decode(stream):
            for piece in to_float.resample(frame):
                col.add(mapper(piece.to_ndarray().T))
            yield from out
            out.clear()
        for piece in to_float.resample(None):
            col.add(mapper(piece.to_ndarray().T))
        col.finish()
        yield from out


def _paired(agent: Iterator[np.ndarray], caller: Iterator[np.ndarray], length: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Two mono files' pieces side by side, the shorter padded with silence to `length` (as load_call pads)."""
    buf = {"a": np.zeros(0, np.float32), "c": np.zeros(0, np.float32)}
    sources = {"a": agent, "c": caller}
    done = {"a": False, "c": False}
    sent = 0
    while sent < length:
        for key in ("a", "c"):
            while not done[key] and len(buf[key]) == 0:
                try:
                    buf[key] = next(sources[key])[:, 0]
                except StopIteration:
                    done[key] = True
        for key in ("a", "c"):
            if done[key] and len(buf[key]) == 0:
                buf[key] = np.zeros(min(length - sent, DECODE_CHUNK), np.float32)  # past its end: silence
        n = min(len(buf["a"]), len(buf["c"]), length - sent)
        yield np.ascontiguousarray(buf["a"][:n]), np.ascontiguousarray(buf["c"][:n])
        buf = {k: v[n:] for k, v in buf.items()}
        sent += n


def _noted(call: LoadedCall) -> LoadedCall:
    """Send the call's notes to `NOTES_LOGGER` (the log; the CLI shows them) and return the call."""
    for note in call.notes:
        notes_log.warning("%s", note)
    return call


class FileSource:
    """A recorded call delivered as `Block`s, like a live source would deliver them.

    Iterating yields blocks of `block_s` seconds (the last one may be shorter) with
    `t0` = first sample index / SAMPLE_RATE. With `realtime=True` each block is
    released when it would have finished arriving live, replayed `speed` times
    faster than real time; otherwise blocks come as fast as they are consumed.
    `stop()` (from any thread) ends the iteration before the next block.
    """

    def __init__(
        self,
        call: LoadedCall | str | os.PathLike[str],
        *,
        caller_path: str | os.PathLike[str] | None = None,
        agent_channel: AgentChannel = "left",
        block_s: float = 0.1,
        realtime: bool = False,
        speed: float = 1.0,
    ) -> None:
        if block_s <= 0:
            raise ValueError(f"block_s must be positive, not {block_s}")
        if speed <= 0:
            raise ValueError(f"speed must be positive, not {speed}")
        if not isinstance(call, LoadedCall):
            call = load_call(call, caller_path=caller_path, agent_channel=agent_channel)
        self.call = call
        self.block_s = block_s
        self.realtime = realtime
        self.speed = speed
        self._block_len = max(1, round(block_s * SAMPLE_RATE))
        self._stopped = threading.Event()
        self._position = 0  # samples delivered so far

    @property
    def info(self) -> SourceInfo:
        """The recording's description; once stopped early, its length is what was delivered."""
        if self.stopped:
            return dataclasses.replace(self.call.info, duration_s=self.position_s)
        return self.call.info

    @property
    def duration_s(self) -> float:
        """Length of the call, s (audio time)."""
        return self.call.duration_s

    @property
    def position_s(self) -> float:
        """Audio time up to which blocks have been delivered, s."""
        return self._position / SAMPLE_RATE

    def stop(self) -> None:
        """End the iteration before the next block; safe to call from any thread."""
        self._stopped.set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def __iter__(self) -> Iterator[Block]:
        agent, caller = self.call.agent, self.call.caller
        n = len(agent)
        start_wall = time.monotonic()
        self._position = 0
        for i in range(0, n, self._block_len):
            j = min(i + self._block_len, n)
            if self.realtime:
                release = start_wall + (j / SAMPLE_RATE) / self.speed
                delay = release - time.monotonic()
                if delay > 0 and self._stopped.wait(delay):
                    return
            if self._stopped.is_set():
                return
            yield Block(
                t0=i / SAMPLE_RATE,
                agent=agent[i:j].copy(),
                caller=None if caller is None else caller[i:j].copy(),
            )
            self._position = j


# --- decoding ---------------------------------------------------------------


def _channel_mapper(agent_channel: AgentChannel) -> _Mapper:
    """(n, ch) → (n, roles): mono stays mono, otherwise (agent, caller) from channels 0/1."""
    order = [0, 1] if agent_channel == "left" else [1, 0]

    def mapper(x: np.ndarray) -> np.ndarray:
        return x[:, :1] if x.shape[1] == 1 else x[:, order]

    return mapper


def _downmix(x: np.ndarray) -> np.ndarray:
    return x if x.shape[1] == 1 else x.mean(axis=1, keepdims=True, dtype=np.float32)


def _pad_to(x: np.ndarray, n: int) -> np.ndarray:
    if len(x) >= n:
        return x
    out = np.zeros(n, dtype=np.float32)
    out[: len(x)] = x
    return out


class _Collector:
    """Resamples (n, roles) chunks at `rate` to SAMPLE_RATE into one growing (roles, N) buffer."""

    def __init__(
        self, rate: int, roles: int, expected_frames: int | None, sink: Callable[[np.ndarray], None] | None = None
    ) -> None:
        self.rate = rate
        self.sink = sink  # given: each resampled (n, roles) piece goes there and nothing is kept
        self.frames = 0
        self.peak = 0.0
        self.clipped = 0  # samples at full scale (|x| >= CLIP_LEVEL)
        self.nonfinite = 0  # NaN / infinite samples, made silence
        self.samples = 0
        self._stream = None if rate == SAMPLE_RATE else soxr.ResampleStream(
            rate, SAMPLE_RATE, roles, dtype="float32", quality=RESAMPLE_QUALITY
        )
        seconds = min(expected_frames / rate, MAX_PREALLOC_S) if expected_frames else UNKNOWN_LENGTH_GUESS_S
        if sink is not None:
            seconds = 0.0
        self._buf = np.zeros((roles, int(seconds * SAMPLE_RATE) + 64), dtype=np.float32)
        self._n = 0
        self._pending: list[np.ndarray] = []
        self._pending_frames = 0

    def add(self, chunk: np.ndarray) -> None:
        """Take (n, roles) float32 samples at the original rate."""
        if not len(chunk):
            return
        finite = np.isfinite(chunk)
        if not finite.all():
            self.nonfinite += int(finite.size - np.count_nonzero(finite))
            chunk = np.nan_to_num(chunk, nan=0.0, posinf=0.0, neginf=0.0)
        self.frames += len(chunk)
        magnitude = np.abs(chunk)
        self.peak = max(self.peak, float(magnitude.max()))
        self.clipped += int(np.count_nonzero(magnitude >= CLIP_LEVEL))
        self.samples += magnitude.size
        self._pending.append(chunk)
        self._pending_frames += len(chunk)
        if self._pending_frames >= DECODE_CHUNK:
            self._flush(last=False)

    def finish(self) -> np.ndarray:
        """The resampled audio, (roles, N) with contiguous rows."""
        self._flush(last=True)
        if self.sink is not None:
            return np.zeros((self._buf.shape[0], 0), dtype=np.float32)
        out = self._buf[:, : self._n]
        if self._n < 0.9 * self._buf.shape[1]:  # don't keep a mostly empty buffer alive
            out = out.copy()
        self._buf = np.zeros((0, 0), dtype=np.float32)
        return out

    def _flush(self, last: bool) -> None:
        if self._pending:
            x = self._pending[0] if len(self._pending) == 1 else np.concatenate(self._pending)
        else:
            x = np.zeros((0, self._buf.shape[0]), dtype=np.float32)
        self._pending, self._pending_frames = [], 0
        if self._stream is not None:
            x = self._stream.resample_chunk(np.ascontiguousarray(x, dtype=np.float32), last=last)
        if not len(x):
            return
        if self.sink is not None:
            self.sink(np.asarray(x, dtype=np.float32))
            self._n += len(x)
            return
        need = self._n + len(x)
        if need > self._buf.shape[1]:
            grown = np.zeros((self._buf.shape[0], max(need, 2 * self._buf.shape[1])), dtype=np.float32)
            grown[:, : self._n] = self._buf[:, : self._n]
            self._buf = grown
        self._buf[:, self._n : need] = x.T
        self._n = need


def _describe(path: str | os.PathLike[str], what: str) -> str:
    """How a message (which starts with it) names the file: the path as given, and the role for a caller."""
    return f"The caller file {path}" if what == "caller file" else str(path)


def _decode_file(
    path: str | os.PathLike[str], what: str, mapper: _Mapper, silence_ok: bool = False,
    sink: Callable[[np.ndarray], None] | None = None,
) -> _Decoded:
    """Check, decode and resample one file; every failure becomes an AudioInputError.

    `silence_ok`: a silent file is returned (its `peak` tells) rather than refused.
    """
    name = _describe(path, what)
    p = Path(path)
    try:
        st = p.stat()
        if stat.S_ISREG(st.st_mode) and st.st_size > 0:
            with open(p, "rb"):
                pass
    except FileNotFoundError:
        raise AudioInputError(paths.no_such_file(name)) from None
    except PermissionError:
        raise AudioInputError(f"{name} cannot be read (permission denied); check the file's permissions.") from None
    except OSError as e:
        raise AudioInputError(f"{name} cannot be read ({e.strerror or e}); check the path and try again.") from None
    if stat.S_ISDIR(st.st_mode):
        raise AudioInputError(f"{name} is a folder, not a recording; choose an audio file inside it.")
    if st.st_size == 0:
        raise AudioInputError(f"{name} is empty (0 bytes); choose a complete recording.")

    if _known_non_audio(p):
        raise AudioInputError(
            f"{name} is not an audio file Poise can read (or it is damaged); choose a WAV, FLAC, OGG, Opus or MP3 recording."
        )
    no_samples = f"{name} has a header but no audio samples; choose a complete recording."
    too_long = f"{name} is too long to load into this computer's memory; split it into shorter parts."
    try:
        decoded = _decode_soundfile(p, mapper, sink)  # None when libsndfile cannot open it
    except (sf.SoundFileError, RuntimeError, ValueError) as e:
        raise AudioInputError(_damaged(name, e)) from None
    except MemoryError:
        raise AudioInputError(too_long) from None
    if decoded is None or decoded.frames == 0:
        header_ok = decoded is not None  # libsndfile read a valid header: PyAV may still find samples
        try:
            decoded = _decode_pyav(p, mapper, name, sink)
        except AudioInputError:
            if not header_ok:
                raise
            decoded = None
        except MemoryError:
            raise AudioInputError(too_long) from None
        if decoded is None or decoded.frames == 0:
            raise AudioInputError(no_samples)
    shortfall = _wav_shortfall(p, decoded)
    if shortfall is not None:  # what is left of a cut file may be its first instant, not a silent recording
        decoded.cut_short = (f"{name} is cut short: its header promises {shortfall[0]:.1f} s but the file holds only "
                             f"{shortfall[1]:.1f} s, with no speech in it; copy or export the recording again.")
    if decoded.peak < SILENCE_PEAK and not silence_ok:
        if decoded.cut_short is not None:
            raise AudioInputError(decoded.cut_short)
        raise AudioInputError(f"{name} contains no speech (only silence); check that you chose the right recording.")
    if shortfall is not None:
        decoded.notes.append(
            f"{name} is cut short: its header promises {shortfall[0]:.1f} s but the file holds only "
            f"{shortfall[1]:.1f} s; Poise analysed what is there."
        )
    if decoded.nonfinite:
        decoded.notes.append(
            f"{name} holds {decoded.nonfinite} samples that are not numbers (NaN or infinite): "
            "Poise treated them as silence; the recording may be damaged."
        )
    if decoded.clipped > CLIP_NOTE_FRACTION * max(decoded.samples, 1):
        share = 100.0 * decoded.clipped / max(decoded.samples, 1)
        decoded.notes.append(
            f"{name} clips ({share:.1f}% of its samples are at full scale): loudness and pitch there are "
            "not to be trusted; record with the input gain lower."
        )
    return decoded


def _wav_shortfall(path: Path, decoded: _Decoded) -> tuple[float, float] | None:
    """(promised s, held s) when a RIFF/WAVE file's data chunk claims more bytes than the file has."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            size = os.fstat(f.fileno()).st_size
            block_align = 0
            while True:
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                cid, clen = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if cid == b"fmt ":
                    fmt = f.read(min(clen, 16))
                    if len(fmt) >= 14:
                        block_align = struct.unpack("<H", fmt[12:14])[0]
                    f.seek(clen - len(fmt) + (clen & 1), os.SEEK_CUR)
                elif cid == b"data":
                    held = size - f.tell()
                    if clen in (0, 0xFFFFFFFF) or block_align <= 0:  # streaming placeholders: no promise made
                        return None
                    rate = decoded.sample_rate
                    promised_s, held_s = clen / block_align / rate, held / block_align / rate
                    return (promised_s, held_s) if promised_s - held_s > TRUNCATED_NOTE_S else None
                else:
                    f.seek(clen + (clen & 1), os.SEEK_CUR)
    except (OSError, struct.error):
        return None


# Signatures of common files that are certainly not audio. libsndfile's MP3 decoder would otherwise
# scan them for frames and print resync notes straight to the terminal's stderr.
_NON_AUDIO_MAGIC = (
    b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"PK\x03\x04", b"\x7fELF", b"{", b"<", b"\x1f\x8b", b"BM",
)


def _known_non_audio(path: Path) -> bool:
    """Whether the file starts like an image, document, archive, program or text markup."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return False
    return head.lstrip().startswith(_NON_AUDIO_MAGIC)


def _damaged(name: str, e: BaseException) -> str:
    return f"{name} is damaged or cut short and cannot be decoded ({_reason(e)}); copy or export the recording again."


def _reason(e: BaseException) -> str:
    """A library's error text, cleaned to a fragment that fits inside a sentence."""
    text = getattr(e, "strerror", None) or str(e)  # FFmpeg errors: the text without errno and call
    text = " ".join(str(text).split()).rstrip(".")
    if text.lower().startswith("error :"):
        text = text[7:].strip()
    return text or type(e).__name__


def _decode_soundfile(path: Path, mapper: _Mapper, sink: Callable[[np.ndarray], None] | None = None) -> _Decoded | None:
    """Decode with libsndfile in chunks; None if it cannot open the file at all (PyAV gets a turn)."""
    try:
        f = sf.SoundFile(str(path))
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError):
        return None
    with f:
        rate, channels = int(f.samplerate), int(f.channels)
        if rate <= 0 or channels <= 0:
            return None
        roles = mapper(np.zeros((1, channels), dtype=np.float32)).shape[1]
        col = _Collector(rate, roles, f.frames if f.frames > 0 else None, sink)
        while True:
            chunk = f.read(DECODE_CHUNK, dtype="float32", always_2d=True)
            if not len(chunk):
                break
            col.add(mapper(chunk))
    audio = col.finish()
    return _Decoded(
        audio, rate, channels, col.frames, col.peak, clipped=col.clipped, samples=col.samples,
        nonfinite=col.nonfinite, length=col._n,
    )


def _decode_pyav(path: Path, mapper: _Mapper, name: str, sink: Callable[[np.ndarray], None] | None = None) -> _Decoded:
    """Decode with FFmpeg (PyAV) for containers and codecs libsndfile lacks."""
    import av  # installed with faster-whisper; imported late because few files need it

    not_audio = f"{name} is not an audio file Poise can read (or it is damaged); choose {SUPPORTED}."
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError):
        raise AudioInputError(not_audio) from None
    with container:
        if not container.streams.audio:
            raise AudioInputError(not_audio)
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        if ctx is None:
            raise AudioInputError(f"{name} uses an audio codec Poise cannot decode; convert it to WAV or FLAC first.")
        rate = int(ctx.sample_rate or 0)
        channels = len(ctx.layout.channels) if ctx.layout is not None else 0
        if rate <= 0 or channels <= 0:
            raise AudioInputError(not_audio)
        roles = mapper(np.zeros((1, channels), dtype=np.float32)).shape[1]
        expected = None
        if container.duration:  # microseconds
            expected = int(container.duration / 1_000_000 * rate)
        col = _Collector(rate, roles, expected, sink)
        to_float = av.AudioResampler(format="fltp", layout=ctx.layout, rate=rate)
        try:
            for frame in container.decode(stream):
                for out in to_float.resample(frame):
                    col.add(mapper(out.to_ndarray().T))
            for out in to_float.resample(None):
                col.add(mapper(out.to_ndarray().T))
        except (av.FFmpegError, ValueError, RuntimeError) as e:
            raise AudioInputError(_damaged(name, e)) from None
    audio = col.finish()
    return _Decoded(
        audio, rate, channels, col.frames, col.peak, clipped=col.clipped, samples=col.samples,
        nonfinite=col.nonfinite, length=col._n, backend="pyav",
    )
