"""Playing a recorded call from any point, with its position read off the output stream's clock.

A `CallPlayer` holds the whole call in memory (16 kHz mono per side, as `load_call` gives
it) and plays it through one sounddevice `OutputStream` whose callback copies the next
block; nothing blocks the caller. `position_s()` says which sample is at the speaker *now*:
the callback notes, for each block it fills, the first sample's index and the time PortAudio
will play it (`outputBufferDacTime`), and the position is that sample plus the stream time
since. Without an output device the player says so in one sentence and does nothing else.
No Qt: the review window drives it from a timer.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from enum import Enum

import numpy as np

from .playback import NO_OUTPUT, find_output
from .types import SAMPLE_RATE

log = logging.getLogger(__name__)

BLOCK_FRAMES = 512  # frames per callback at 16 kHz (32 ms): short enough for a snappy pause/seek
OUTPUT_LOST = "Playback stopped: the sound output went away. Check the speakers or headset, then press Space."
LATENCY = "low"  # PortAudio's low-latency setting: the playhead follows the speaker closely


class Listen(str, Enum):
    """Which side(s) of the call are heard."""

    BOTH = "both"
    AGENT = "agent"
    CALLER = "caller"


@dataclass
class _Anchor:
    """Where the stream was at its last callback: sample `frame` plays at stream time `dac_time`."""

    frame: float  # in call samples (16 kHz)
    dac_time: float  # s, the stream's clock


class CallPlayer:
    """Play one call's audio; seek, pause and report the position, from any thread."""

    def __init__(
        self,
        agent: np.ndarray,
        caller: np.ndarray | None = None,
        *,
        device: str | int | None = None,
        rate: int = SAMPLE_RATE,
    ) -> None:
        """`agent` and `caller` are float32 mono at `rate` (same length); `device` None = default output."""
        self.rate = int(rate)
        self._agent = np.ascontiguousarray(agent, dtype=np.float32)
        self._caller = None if caller is None else np.ascontiguousarray(caller, dtype=np.float32)
        self._n = len(self._agent)
        self._device = device
        self._listen = Listen.BOTH
        self._lock = threading.Lock()
        self._frame = 0  # next call sample the callback copies
        self._anchor: _Anchor | None = None
        self._paused_at = 0.0  # s: the position while not playing
        self._floor = 0.0  # s: where playing last (re)started; the position never reads earlier
        self._playing = False
        self._ended = False  # the callback reached the end of the call and stopped the stream itself
        self._stream = None
        self._out_rate = self.rate
        self._latency = 0.0  # s, the stream's output latency
        self.error: str | None = None  # one sentence when nothing can play

    # --- state ---------------------------------------------------------------------------
    @property
    def duration_s(self) -> float:
        return self._n / self.rate

    @property
    def has_caller(self) -> bool:
        return self._caller is not None

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def listen(self) -> Listen:
        return self._listen

    def set_listen(self, listen: Listen | str) -> None:
        """Both sides, the agent only or the caller only (takes effect at the next block)."""
        listen = Listen(listen)
        if listen is Listen.CALLER and self._caller is None:
            listen = Listen.BOTH
        self._listen = listen

    def position_s(self) -> float:
        """The call time at the speaker now (s); while paused, where playing would resume."""
        with self._lock:
            if not self._playing or self._stream is None:
                return self._paused_at
            anchor, frame = self._anchor, self._frame
            stream = self._stream
        if anchor is None:  # started, no block filled yet
            return self._paused_at
        try:
            now = float(stream.time)
        except Exception:  # the stream died under us (device gone)
            return self._paused_at
        pos = (anchor.frame + (now - anchor.dac_time) * self.rate) / self.rate
        # the output latency puts the speaker behind the last block: never before where playing
        # (re)started, never past what was handed to the device
        return float(min(max(pos, self._floor), frame / self.rate, self.duration_s))

    # --- control ---------------------------------------------------------------------------
    def open(self) -> str | None:
        """Open the output stream (not started); None, or one sentence saying why nothing plays."""
        if self._stream is not None:
            return None
        found = find_output(self._device, self.rate)
        if isinstance(found, str):
            self.error = found
            return found
        index, out_rate = found
        import sounddevice as sd

        self._out_rate = out_rate
        try:
            self._stream = sd.OutputStream(
                samplerate=out_rate, channels=1, dtype="float32", device=index,
                blocksize=int(round(BLOCK_FRAMES * out_rate / self.rate)), latency=LATENCY,
                callback=self._callback, finished_callback=self._finished,
            )
        except (ValueError, sd.PortAudioError) as exc:
            log.warning("opening the output stream failed: %s", exc)
            self.error = NO_OUTPUT
            return self.error
        self._latency = float(self._stream.latency)
        return None

    def play(self, from_s: float | None = None) -> str | None:
        """Start (or continue) playing, from `from_s` if given; None, or why nothing plays."""
        if from_s is not None:
            self.seek(from_s)
        if self._playing:
            return None
        error = self.open()
        if error:
            return error
        self.error = None
        try:
            # A stream that ended by itself (the end of the call) is not "stopped" until it is
            # aborted, and aborting joins its thread, which only then runs `_finished`. That must
            # happen before `_playing` is set again, or `_finished` takes the old run's end for
            # the output going away and stops the new run before it starts (the flaky restart).
            if not self._stream.stopped:
                self._stream.abort()
        except Exception as exc:  # noqa: BLE001 - the device went away
            log.warning("stopping the ended output stream failed: %s", exc)
        with self._lock:
            if self._paused_at >= self.duration_s - 0.05:  # at the end: play from the start
                self._paused_at = 0.0
            self._frame = int(self._paused_at * self.rate)
            self._floor = self._paused_at
            self._anchor = None
            self._ended = False
            self._playing = True
        try:
            self._stream.start()
        except Exception as exc:  # noqa: BLE001 - the device went away
            log.warning("starting the output stream failed: %s", exc)
            with self._lock:
                self._playing = False
            self.error = NO_OUTPUT
            return self.error
        return None

    def pause(self) -> None:
        """Stop playing at once, keeping the position."""
        if not self._playing:
            return
        at = self.position_s()
        with self._lock:
            self._playing = False
            self._paused_at = at
        self._stop_stream()

    def toggle(self) -> str | None:
        """Play when paused, pause when playing; None, or why nothing plays."""
        if self._playing:
            self.pause()
            return None
        return self.play()

    def seek(self, t: float) -> None:
        """Move to call time `t` (s, clamped to the call); playing goes on from there."""
        t = float(min(max(t, 0.0), self.duration_s))
        with self._lock:
            self._paused_at = t
            if self._playing:
                self._frame = int(t * self.rate)
                self._floor = t
                self._anchor = None  # the next block says when t reaches the speaker

    def close(self) -> None:
        """Stop and release the device (the position is kept)."""
        self.pause()
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort()
                stream.close()
            except Exception:  # noqa: BLE001
                log.debug("closing the output stream failed", exc_info=True)

    # --- the stream's thread ---------------------------------------------------------------------
    def _stop_stream(self) -> None:
        stream = self._stream
        if stream is None:
            return
        try:
            stream.abort()  # at once, not after the queued buffers
        except Exception:  # noqa: BLE001
            log.debug("stopping the output stream failed", exc_info=True)

    def _samples(self, lo: int, hi: int) -> np.ndarray:
        agent = self._agent[lo:hi]
        if self._caller is None or self._listen is Listen.AGENT:
            return agent
        caller = self._caller[lo:hi]
        if self._listen is Listen.CALLER:
            return caller
        return np.clip(agent + caller, -1.0, 1.0)  # the two sides as the agent heard them

    def _callback(self, outdata: np.ndarray, frames: int, time_info, status) -> None:  # noqa: ANN001 - PortAudio's
        with self._lock:
            lo = self._frame
            if not self._playing:
                outdata.fill(0)
                return
            n_call = int(round(frames * self.rate / self._out_rate))
            hi = min(lo + n_call, self._n)
            self._frame = hi
            # some host APIs leave the DAC time 0: then the block plays one output latency from now
            dac = float(time_info.outputBufferDacTime) or (float(time_info.currentTime) + self._latency)
            self._anchor = _Anchor(frame=float(lo), dac_time=dac)
            ended = hi >= self._n
            if ended:  # the last block: stop here, in the same step as the position, so no seek slips between
                self._paused_at = self.duration_s
                self._playing = False
                self._ended = True
        block = self._samples(lo, hi)
        if self._out_rate != self.rate and len(block):
            x = np.linspace(0.0, len(block) - 1, frames)
            block = np.interp(x, np.arange(len(block)), block).astype(np.float32)
        outdata[: len(block), 0] = block[:frames]
        outdata[len(block):, 0] = 0.0
        if ended:
            raise _stop()

    def _finished(self) -> None:
        with self._lock:
            if self._playing and not self._ended:  # the stream died while playing (the device went away)
                self._playing = False
                self._paused_at = min(self._frame / self.rate, self.duration_s)
                self.error = OUTPUT_LOST


def _stop() -> BaseException:
    import sounddevice as sd

    return sd.CallbackStop()


def wait_until(predicate, timeout_s: float, poll_s: float = 0.01) -> bool:  # noqa: ANN001
    """Poll `predicate()` until true or `timeout_s` passes (tests, the benchmark)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll_s)
    return bool(predicate())


__all__ = ["BLOCK_FRAMES", "OUTPUT_LOST", "CallPlayer", "Listen", "wait_until"]
