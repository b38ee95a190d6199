"""Playing audio to an output device (the trainer's replay; the review's `player`): never blocks, fails in one sentence."""

from __future__ import annotations

import logging

import numpy as np

from .types import SAMPLE_RATE

log = logging.getLogger(__name__)

NO_OUTPUT = "No sound output device is available; connect speakers or headphones and try again."


def find_output(device: str | int | None = None, rate: int = SAMPLE_RATE) -> tuple[int, int] | str:
    """The output device to play `rate` Hz mono on: (PortAudio index, the rate to open it at),
    or one sentence saying why nothing can play. The rate is `rate` when the device takes it,
    else the device's own (the caller resamples)."""
    try:
        import sounddevice as sd
    except OSError:  # no PortAudio library at all
        return NO_OUTPUT
    try:
        info = sd.query_devices(device, kind="output")
    except ValueError:
        if device not in (None, ""):
            return f"The output device “{device}” was not found; choose another one or leave it empty for the default."
        return NO_OUTPUT
    except sd.PortAudioError:
        return NO_OUTPUT
    if int(info.get("max_output_channels", 0)) < 1:
        return f"“{info['name']}” cannot play sound; choose an output device such as speakers or headphones."
    try:
        sd.check_output_settings(device=info["index"], samplerate=rate, channels=1)
    except (ValueError, sd.PortAudioError):
        rate = int(info["default_samplerate"])
    return int(info["index"]), int(rate)


def play_audio(samples: np.ndarray, device: str | int | None = None) -> str | None:
    """Start playing 16 kHz mono `samples` on `device` (None = the default output) without
    blocking; returns None, or one sentence saying why nothing plays."""
    found = find_output(device)
    if isinstance(found, str):
        return found
    import sounddevice as sd

    index, rate = found
    if rate != SAMPLE_RATE:
        import soxr

        samples = soxr.resample(samples, SAMPLE_RATE, rate)
    try:
        sd.play(np.asarray(samples, np.float32), rate, device=index)
    except (ValueError, sd.PortAudioError):
        name = sd.query_devices(index)["name"]
        return f"Poise could not play through “{name}”; check that it is connected and not used by another program."
    return None


def stop_audio() -> None:
    """Stop what `play_audio` started (nothing happens when nothing plays)."""
    try:
        import sounddevice as sd

        sd.stop()
    except Exception:
        log.debug("stopping playback failed", exc_info=True)


__all__ = ["NO_OUTPUT", "find_output", "play_audio", "stop_audio"]
