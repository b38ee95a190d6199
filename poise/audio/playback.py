"""Playing audio to an output device (the trainer's replay): never blocks, fails in one sentence."""

from __future__ import annotations

import logging

import numpy as np

from .types import SAMPLE_RATE

log = logging.getLogger(__name__)

NO_OUTPUT = "No sound output device is available; connect speakers or headphones and try again."


def play_audio(samples: np.ndarray, device: str | int | None = None) -> str | None:
    """Start playing 16 kHz mono `samples` on `device` (None = the default output) without
    blocking; returns None, or one sentence saying why nothing plays."""
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
    rate = SAMPLE_RATE
    try:
        sd.check_output_settings(device=info["index"], samplerate=rate, channels=1)
    except (ValueError, sd.PortAudioError):
        import soxr

        rate = int(info["default_samplerate"])
        samples = soxr.resample(samples, SAMPLE_RATE, rate)
    try:
        sd.play(np.asarray(samples, np.float32), rate, device=info["index"])
    except (ValueError, sd.PortAudioError):
        return f"Poise could not play through “{info['name']}”; check that it is connected and not used by another program."
    return None


def stop_audio() -> None:
    """Stop what `play_audio` started (nothing happens when nothing plays)."""
    try:
        import sounddevice as sd

        sd.stop()
    except Exception:
        log.debug("stopping playback failed", exc_info=True)


__all__ = ["NO_OUTPUT", "play_audio", "stop_audio"]
