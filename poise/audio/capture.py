"""Live capture through PortAudio (sounddevice): the agent's microphone and the caller's side.

One `sounddevice.InputStream` per device at the device's own rate. The PortAudio callback
only copies the samples onto a queue; the consuming thread (whoever iterates the
`LiveSource`) downmixes, resamples to 16 kHz with one `soxr.ResampleStream` per role, aligns
the two roles and yields `Block`s timed in audio time (counted from samples).

A device that stops delivering audio mid-call does not end the call: its role is filled with
silence, the loss is reported once as a `Status`, and the device is reopened every couple
of seconds until it delivers again. Each such stretch is a `Gap` (role, start, end in audio
time): `gaps` lists them and `on_gap` hears each one when it opens and when it closes, on
the consuming thread (the PortAudio callback only copies samples).
"""

from __future__ import annotations

import atexit
import dataclasses
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from poise.audio.devices import DeviceInfo, _hung_streams, _sd, find_device, list_input_devices, refresh_devices
from poise.audio.recorder import Gap
from poise.audio.types import SAMPLE_RATE, AudioInputError, Block, Role, SourceInfo, Status

LOSS_S = 1.0  # s without callbacks from a running stream: the device is gone (unplugged, its source unloaded)
STARTUP_GRACE_S = 3.0  # s: via ALSA's PulseAudio plugin a new stream may wait up to 2 s for its first callback
REOPEN_EVERY_S = 2.0  # s between attempts to reopen a lost device
CALLBACK_S = 0.02  # s of audio per PortAudio callback: low latency, yet only 50 GIL wake-ups a second per stream
MAX_SKEW_S = 0.5  # s: when one device runs this far ahead of the other (clock drift), drop its oldest audio
POLL_S = 0.02  # s: longest wait on the queue before checking device health and the wall clock

PA_INVALID_CHANNEL_COUNT = -9998  # PortAudio's paInvalidChannelCount
START_TIMEOUT_S = 3.0  # s: a normal start takes < 0.2 s; one whose device vanished right after opening never returns



class _StartHung(Exception):
    """PortAudio's start of a stream did not return (its device went away between open and start)."""


def _start_guarded(stream: Any) -> None:
    """`stream.start()`, but give up after START_TIMEOUT_S instead of blocking the pipeline for good.

    PortAudio's ALSA host API (seen through the PulseAudio plugin) blocks in Pa_StartStream
    forever when the source disappears between opening and starting the stream.
    """
    done = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            stream.start()
        except BaseException as exc:  # handed to the waiting thread
            errors.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name="poise-stream-start", daemon=True).start()
    if not done.wait(START_TIMEOUT_S):
        _hung_streams.append(stream)
        # PortAudio's exit handler would try to close the stuck stream and abort the process
        # on a failed assertion; the operating system frees everything at exit anyway.
        exit_handler = getattr(_sd(), "_exit_handler", None)
        if exit_handler is not None:
            atexit.unregister(exit_handler)
        raise _StartHung(f"starting the stream did not return within {START_TIMEOUT_S:.0f} s")
    if errors:
        raise errors[0]


def _error_code(exc: Exception) -> int | None:
    """PortAudio's error code from a sounddevice.PortAudioError (its second argument)."""
    return exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None


class _Fifo:
    """Float32 samples waiting to be cut into blocks."""

    def __init__(self) -> None:
        self._parts: list[np.ndarray] = []
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def push(self, x: np.ndarray) -> None:
        if len(x):
            self._parts.append(x)
            self._len += len(x)

    def _joined(self) -> np.ndarray:
        if len(self._parts) != 1:
            self._parts = [np.concatenate(self._parts) if self._parts else np.zeros(0, np.float32)]
        return self._parts[0]

    def pop(self, n: int) -> np.ndarray:
        data = self._joined()
        head, rest = data[:n], data[n:]
        self._parts = [rest] if len(rest) else []
        self._len = len(rest)
        return head

    def drop(self, n: int) -> None:
        if n > 0:
            self.pop(min(n, self._len))

    def pad_front(self, n: int) -> None:
        if n > 0:
            self._parts.insert(0, np.zeros(n, np.float32))
            self._len += n

    def clear(self) -> None:
        self._parts, self._len = [], 0


@dataclass
class _Input:
    """One role's device, its current stream and the audio not yet cut into blocks."""

    role: Role
    device: DeviceInfo
    slot: int  # index into the overflow counters
    stream: Any = None
    token: int = -1  # identifies the stream that queued a chunk; chunks of a closed stream are dropped
    resampler: Any = None
    state: str = "closed"  # closed → starting → flowing → lost → starting → ...
    ever_flowed: bool = False
    loss_reported: bool = False
    opened_at: float = 0.0  # monotonic s
    last_data: float = 0.0  # monotonic s
    next_attempt: float = 0.0  # monotonic s
    fifo: _Fifo = field(default_factory=_Fifo)


def _make_callback(q: queue.SimpleQueue, token: int, overflows: list[int], slot: int) -> Callable[..., None]:
    """The PortAudio callback: copy the samples onto the queue and count overflows, nothing else."""

    def callback(indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        if status.input_overflow:
            overflows[slot] += 1
        q.put((token, indata.copy()))

    return callback


class LiveSource:
    """Both sides of a live call as 16 kHz `Block`s: iterate it on the pipeline thread.

    `agent_device` / `caller_device` are anything `find_device` accepts (or a `DeviceInfo`);
    without a caller device the blocks carry `caller=None`. Iteration ends after `stop()`.
    Status messages (a device lost or back) go to `on_status` if given, and can also be
    collected with `status_events()`.
    """

    def __init__(
        self,
        agent_device: str | int | DeviceInfo | None,
        caller_device: str | int | DeviceInfo | None = None,
        block_s: float = 0.1,
        on_status: Callable[[Status], None] | None = None,
        on_gap: Callable[[Gap], None] | None = None,
    ) -> None:
        agent = agent_device if isinstance(agent_device, DeviceInfo) else find_device(agent_device)
        self._inputs: list[_Input] = [_Input("agent", agent, 0)]
        if caller_device is not None:
            caller = caller_device if isinstance(caller_device, DeviceInfo) else find_device(caller_device)
            self._inputs.append(_Input("caller", caller, 1))
        self.block_n = max(1, round(block_s * SAMPLE_RATE))  # samples per block at 16 kHz
        self.on_status = on_status
        self.on_gap = on_gap  # a gap opened (end None) or closed: called on the consuming thread
        self._gaps: list[Gap] = []  # closed and open, in order of their start
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._overflow_counts = [0, 0]
        self._tokens = itertools.count()
        self._stop = threading.Event()
        self._statuses: queue.SimpleQueue = queue.SimpleQueue()
        self._emitted = 0  # samples per role yielded so far: the audio clock
        self._wall_anchor: tuple[float, int] | None = None  # (monotonic s, emitted) while no device delivers
        self._started = False
        self._iterating = False

    # ---- public API -------------------------------------------------------------------

    @property
    def info(self) -> SourceInfo:
        """Device names, the agent device's rate, 2 channels with a caller device (else 1)."""
        return SourceInfo(
            path=", ".join(inp.device.name for inp in self._inputs),
            duration_s=self._emitted / SAMPLE_RATE,
            sample_rate=int(self._inputs[0].device.default_samplerate),
            channels=len(self._inputs),
        )

    @property
    def overflows(self) -> dict[Role, int]:
        """How many PortAudio callbacks reported an input overflow (lost samples), per role."""
        return {inp.role: self._overflow_counts[inp.slot] for inp in self._inputs}

    @property
    def position(self) -> float:
        """Audio time of the end of the last block yielded, s."""
        return self._emitted / SAMPLE_RATE

    @property
    def gaps(self) -> list[Gap]:
        """Stretches where a device delivered nothing (its role was silence), oldest first; the
        last of a role has `end_s=None` while that device is still missing."""
        return list(self._gaps)

    def status_events(self) -> list[Status]:
        """Status messages since the last call (device lost, reconnected), oldest first."""
        out = []
        while True:
            try:
                out.append(self._statuses.get_nowait())
            except queue.Empty:
                return out

    def start(self) -> None:
        """Open the devices; `AudioInputError` if one cannot be opened.

        Iteration calls it too. Call it only just before iterating: audio (and audio
        time) starts flowing from here.
        """
        if self._started:
            return
        now = time.monotonic()
        try:
            for inp in self._inputs:
                error = self._open(inp, now)
                if error is not None:
                    raise AudioInputError(
                        f"Could not open {self._what(inp)} '{inp.device.name}'; "
                        "check that it is plugged in and not used exclusively by another program."
                    ) from error
        except BaseException:
            self._close_all()
            raise
        self._wall_anchor = (now, 0)
        self._started = True

    def stop(self) -> None:
        """End iteration (thread-safe); the devices are closed by the iterating thread."""
        self._stop.set()
        self._queue.put(None)  # wake the consumer
        if not self._iterating:
            self._close_all()  # started but never iterated: nobody else will close them

    close = stop

    def __enter__(self) -> LiveSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __iter__(self) -> Iterator[Block]:
        if self._iterating:
            raise RuntimeError("a LiveSource can be iterated only once")
        self._iterating = True
        return self._blocks()

    # ---- the consuming thread -----------------------------------------------------------

    def _blocks(self) -> Iterator[Block]:
        try:
            self.start()
            while not self._stop.is_set():
                self._pump()
                now = time.monotonic()
                self._check_health(now)
                yield from self._ready_blocks(now)
        finally:
            self._close_all()
            for inp in self._inputs:
                self._end_gap(inp.role)  # still missing at the end: the gap ends with the call

    def _open_gap(self, role: Role, start_s: float | None = None) -> None:
        """`role` is silence from now (or from `start_s`: a device that never delivered, from 0)."""
        if not any(g.role == role and g.end_s is None for g in self._gaps):
            start = self._emitted / SAMPLE_RATE if start_s is None else start_s
            self._notify_gap(Gap(role, start), None)

    def _end_gap(self, role: Role) -> None:
        for gap in self._gaps:
            if gap.role == role and gap.end_s is None:
                self._notify_gap(dataclasses.replace(gap, end_s=self._emitted / SAMPLE_RATE), gap)

    def _notify_gap(self, gap: Gap, replaces: Gap | None) -> None:
        if replaces is not None:
            self._gaps[self._gaps.index(replaces)] = gap
        else:
            self._gaps.append(gap)
        if self.on_gap is not None:
            try:
                self.on_gap(gap)
            except Exception:  # noqa: BLE001 - a listener must not stop the capture
                pass

    def _pump(self) -> None:
        """Move queued callback chunks into the role FIFOs (waits up to POLL_S for the first)."""
        try:
            item = self._queue.get(timeout=POLL_S)
        except queue.Empty:
            return
        by_token = {inp.token: inp for inp in self._inputs if inp.stream is not None}
        while item is not None:
            token, data = item
            inp = by_token.get(token)
            if inp is not None:
                self._take(inp, data)
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break

    def _take(self, inp: _Input, data: np.ndarray) -> None:
        mono = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1, dtype=np.float32)
        if inp.resampler is not None:
            mono = inp.resampler.resample_chunk(np.ascontiguousarray(mono, dtype=np.float32))
        inp.last_data = time.monotonic()
        if inp.state == "flowing":
            inp.fifo.push(np.asarray(mono, dtype=np.float32))
        else:
            self._became_flowing(inp, np.asarray(mono, dtype=np.float32))

    def _became_flowing(self, inp: _Input, first: np.ndarray) -> None:
        others = [o for o in self._inputs if o is not inp and o.state == "flowing"]
        inp.fifo.clear()
        inp.fifo.push(first)
        if others:
            # Both FIFOs end at about "now": make this one as long, so its first sample
            # lines up with the other role's audio of the same moment.
            target = len(others[0].fifo)
            inp.fifo.pad_front(target - len(inp.fifo))
            inp.fifo.drop(len(inp.fifo) - target)
        else:
            self._wall_anchor = None  # this device's samples are the clock again
        inp.state = "flowing"
        self._end_gap(inp.role)  # its audio is in the blocks again from the next one cut
        if inp.loss_reported:
            what = "Microphone" if inp.role == "agent" else "Caller audio"
            self._report("info", f"{what} reconnected.")
            inp.loss_reported = False
        inp.ever_flowed = True

    def _check_health(self, now: float) -> None:
        for inp in self._inputs:
            if inp.state == "flowing":
                silent_for = now - inp.last_data
                if silent_for > LOSS_S or not self._stream_active(inp):
                    self._lose(inp, now)
            elif inp.state == "starting" and now - inp.opened_at > STARTUP_GRACE_S:
                self._lose(inp, now)
            elif inp.state == "lost" and now >= inp.next_attempt:
                if self._open(inp, now) is None:
                    inp.state = "starting"
                else:
                    inp.next_attempt = now + REOPEN_EVERY_S

    @staticmethod
    def _stream_active(inp: _Input) -> bool:
        try:
            return bool(inp.stream is not None and inp.stream.active)
        except Exception:  # a PortAudio error on a dying stream means the same as inactive
            return False

    def _lose(self, inp: _Input, now: float) -> None:
        self._close(inp)
        inp.fifo.clear()
        inp.state = "lost"
        self._open_gap(inp.role, 0.0 if not inp.ever_flowed else None)  # from the next block cut, this role is silence
        # Not at once: a source that is going away may still accept a new stream for a few
        # milliseconds, and PortAudio's start then never returns (see _start_guarded).
        inp.next_attempt = now + REOPEN_EVERY_S
        if not any(o.state == "flowing" for o in self._inputs) and self._wall_anchor is None:
            # No device delivers: the wall clock keeps audio time moving from the last real sample.
            last = max(o.last_data for o in self._inputs) or now
            self._wall_anchor = (last, self._emitted)
        if not inp.loss_reported:
            what = "microphone" if inp.role == "agent" else "caller's audio input"
            verb = "stopped delivering audio" if inp.ever_flowed else "is not delivering audio"
            self._report(
                "warning",
                f"The {what} '{inp.device.name}' {verb}; "
                "Poise keeps the call going and will reconnect when it is back.",
            )
            inp.loss_reported = True

    def _ready_blocks(self, now: float) -> Iterator[Block]:
        flowing = [inp for inp in self._inputs if inp.state == "flowing"]
        n = self.block_n
        if flowing:
            if len(flowing) == 2:
                a, b = flowing[0].fifo, flowing[1].fifo
                skew = len(a) - len(b)
                if abs(skew) > MAX_SKEW_S * SAMPLE_RATE:
                    (a if skew > 0 else b).drop(abs(skew))
            while all(len(inp.fifo) >= n for inp in flowing) and not self._stop.is_set():
                yield self._cut(n)
        elif self._wall_anchor is not None:
            wall0, emitted0 = self._wall_anchor
            due = int((now - wall0) * SAMPLE_RATE) + emitted0
            while self._emitted + n <= due and not self._stop.is_set():
                yield self._cut(n)

    def _cut(self, n: int) -> Block:
        parts: dict[Role, np.ndarray] = {}
        for inp in self._inputs:
            parts[inp.role] = inp.fifo.pop(n) if inp.state == "flowing" else np.zeros(n, np.float32)
        block = Block(t0=self._emitted / SAMPLE_RATE, agent=parts["agent"], caller=parts.get("caller"))
        self._emitted += n
        return block

    # ---- devices ------------------------------------------------------------------------

    @staticmethod
    def _what(inp: _Input) -> str:
        return "the microphone" if inp.role == "agent" else "the caller's audio input"

    def _open(self, inp: _Input, now: float) -> Exception | None:
        """Open and start `inp`'s stream; the PortAudio error on failure, else None."""
        sd = _sd()
        self._close(inp)
        rate = float(inp.device.default_samplerate)
        token = next(self._tokens)
        callback = _make_callback(self._queue, token, self._overflow_counts, inp.slot)
        error: Exception = ValueError("no usable channel count")
        for channels in dict.fromkeys((1, min(2, inp.device.channels), inp.device.channels)):
            stream = None
            try:
                stream = sd.InputStream(
                    device=inp.device.index,
                    channels=channels,
                    samplerate=rate,
                    dtype="float32",
                    blocksize=max(1, round(rate * CALLBACK_S)),
                    latency="high",  # a deeper host buffer rides out scheduling hiccups without overflows
                    callback=callback,
                )
                _start_guarded(stream)
            except _StartHung as exc:
                return exc  # the stream is parked for good: closing it would hang as well
            except (sd.PortAudioError, ValueError) as exc:
                error = exc
                if stream is not None:
                    stream.close(ignore_errors=True)
                if isinstance(exc, sd.PortAudioError) and _error_code(exc) != PA_INVALID_CHANNEL_COUNT:
                    break  # only a channel-count complaint is worth another try
                continue
            inp.stream, inp.token = stream, token
            inp.resampler = None
            if round(rate) != SAMPLE_RATE:
                import soxr

                inp.resampler = soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32")
            inp.state = "starting"
            inp.opened_at = now
            return None
        return error

    def _close(self, inp: _Input) -> None:
        stream, inp.stream, inp.token = inp.stream, None, -1
        if stream is not None:
            try:
                stream.abort(ignore_errors=True)
                stream.close(ignore_errors=True)
            except Exception:  # closing a stream whose device vanished may fail; it is gone either way
                pass

    def _close_all(self) -> None:
        for inp in self._inputs:
            self._close(inp)
            if inp.state != "lost":
                inp.state = "closed"

    def _report(self, level: str, message: str) -> None:
        status = Status(t=self._emitted / SAMPLE_RATE, level=level, message=message)  # type: ignore[arg-type]
        self._statuses.put(status)
        if self.on_status is not None:
            self.on_status(status)


__all__ = ["DeviceInfo", "LiveSource", "find_device", "list_input_devices", "refresh_devices"]
