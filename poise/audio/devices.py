"""The audio inputs PortAudio (sounddevice) lists, named for people, and finding the one a user means.

Separate from the stream handling (`capture`): the desktop's device menus and the
command line's `poise devices` need the list without opening anything.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from dataclasses import dataclass
from typing import Any

from poise.audio.types import AudioInputError

MONITOR_WORDS = ("monitor", "loopback", "stereo mix", "blackhole", "cable output", "what u hear", "wave out mix")


def _sd() -> Any:
    """Import sounddevice, turning a missing PortAudio library into a plain error."""
    try:
        import sounddevice
    except OSError as exc:  # sounddevice raises OSError when libportaudio cannot be loaded
        raise AudioInputError(
            "PortAudio, the library Poise records with, is missing; "
            "install it (on Debian/Ubuntu: apt install libportaudio2)."
        ) from exc
    return sounddevice


@dataclass
class DeviceInfo:
    """An audio input as PortAudio lists it."""

    index: int
    name: str
    hostapi: str
    channels: int  # maximum input channels
    default_samplerate: float  # Hz
    is_monitor: bool  # likely a loopback of the speakers (the caller's side), not a microphone
    is_default: bool


def _alsa_descriptions() -> dict[str, str]:
    """ALSA PCM name → its hint description (e.g. our poise_*_in PCMs from ~/.asoundrc).

    PortAudio shows only names; the description tells a monitor PCM from a microphone.
    """
    if not sys.platform.startswith("linux"):
        return {}
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("asound") or "libasound.so.2")
        libc = ctypes.CDLL(None)
    except OSError:
        return {}
    lib.snd_device_name_hint.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(ctypes.POINTER(ctypes.c_void_p))]
    lib.snd_device_name_get_hint.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.snd_device_name_get_hint.restype = ctypes.c_void_p  # malloc'd char*, freed below
    lib.snd_device_name_free_hint.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
    libc.free.argtypes = [ctypes.c_void_p]

    def take(hint: int, key: bytes) -> str | None:
        ptr = lib.snd_device_name_get_hint(hint, key)
        if not ptr:
            return None
        try:
            return ctypes.string_at(ptr).decode("utf-8", "replace")
        finally:
            libc.free(ptr)

    hints = ctypes.POINTER(ctypes.c_void_p)()
    if lib.snd_device_name_hint(-1, b"pcm", ctypes.byref(hints)) != 0:
        return {}
    out: dict[str, str] = {}
    try:
        i = 0
        while hints[i]:
            name, desc = take(hints[i], b"NAME"), take(hints[i], b"DESC")
            if name and desc:
                out[name] = " ".join(desc.split())
            i += 1
    finally:
        lib.snd_device_name_free_hint(hints)
    return out


def _looks_like_monitor(*texts: str) -> bool:
    low = " ".join(texts).lower()
    return any(word in low for word in MONITOR_WORDS)


def list_input_devices() -> list[DeviceInfo]:
    """Every device PortAudio can record from, with a guess at which ones are loopbacks."""
    sd = _sd()
    devices = sd.query_devices()
    hostapis = sd.query_hostapis()
    try:
        default_index = int(sd.query_devices(kind="input")["index"])
    except (sd.PortAudioError, ValueError, KeyError):
        default_index = -1
    alsa = _alsa_descriptions() if any(h["name"] == "ALSA" for h in hostapis) else {}
    out = []
    for dev in devices:
        if dev["max_input_channels"] <= 0:
            continue
        hostapi = hostapis[dev["hostapi"]]["name"]
        desc = alsa.get(dev["name"], "") if hostapi == "ALSA" else ""
        out.append(
            DeviceInfo(
                index=int(dev["index"]),
                name=dev["name"],
                hostapi=hostapi,
                channels=int(dev["max_input_channels"]),
                default_samplerate=float(dev["default_samplerate"]),
                is_monitor=_looks_like_monitor(dev["name"], desc),
                is_default=int(dev["index"]) == default_index,
            )
        )
    return out


def refresh_devices() -> bool:
    """Make PortAudio enumerate devices again (it lists them once, at start-up).

    Closes every open stream, so call it only while no `LiveSource` runs. Returns False
    (and does nothing) while a stream is stuck in its start: re-initialising PortAudio
    then aborts the whole process.
    """
    if _hung_streams:
        return False
    sd = _sd()
    sd._terminate()
    sd._initialize()
    return True


def _brief(devices: list[DeviceInfo]) -> str:
    return ", ".join(f"{d.index} {d.name}" for d in devices) or "none"


def find_device(spec: str | int | None) -> DeviceInfo:
    """The input device for `spec`: an index, an exact name, or a unique case-insensitive substring.

    None means the system's default input. Raises `AudioInputError` (one plain sentence
    listing the candidates) when nothing or several devices match.
    """
    devices = list_input_devices()
    if spec is None:
        for dev in devices:
            if dev.is_default:
                return dev
        if devices:
            return devices[0]
        raise AudioInputError("No audio input device was found; plug in a microphone or check the sound settings.")
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        index = int(spec)
        for dev in devices:
            if dev.index == index:
                return dev
        raise AudioInputError(f"There is no audio input number {index}; available inputs: {_brief(devices)}.")
    exact = [d for d in devices if d.name == spec]
    if len(exact) > 1:  # the same device under several host APIs (Windows): take the default API's
        default_api = next((d.hostapi for d in devices if d.is_default), None)
        exact = [d for d in exact if d.hostapi == default_api] or exact
    if len(exact) == 1:
        return exact[0]
    matches = exact or [d for d in devices if spec.lower() in d.name.lower()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise AudioInputError(f"No audio input matches '{spec}'; available inputs: {_brief(devices)}.")
    raise AudioInputError(
        f"'{spec}' matches several audio inputs ({_brief(matches)}); give more of the name or its number."
    )


_hung_streams: list[Any] = []  # streams whose start never returned (see capture._start_guarded); kept so no one closes (and hangs on) them


__all__ = ["DeviceInfo", "find_device", "list_input_devices", "refresh_devices"]
