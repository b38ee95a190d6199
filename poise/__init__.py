"""Poise: a local voice coach for phone agents."""

import ctypes
import os
import sys

# NumPy's OpenBLAS splits a matrix product differently on 1 and 2 threads, and the last bits of Whisper's
# mel features with it: `poise batch` workers (1 thread each) then timed words 20 ms apart from
# `poise analyze` (2 threads) on the same call. One BLAS thread everywhere gives every path the same
# numbers; the products that go through it here (mel filters, small filters) are too small to gain from
# a second thread. Read by OpenBLAS when NumPy loads, so it is set before anything imports NumPy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

_M_ARENA_MAX = -8  # glibc mallopt parameter
MALLOC_ARENAS = 1  # one C heap for all threads: glibc gives each thread that contends an arena of its own (up to 8
#   per core), and Whisper's, Silero's and the measuring threads' freed buffers then lie scattered over them. On
#   benchmarks/batch.py's 2-minute calls (2026-12-03) `poise analyze` peaked at 488-513 MB with the default, 434-448
#   MB with one (2: 453-474), and a `poise batch` worker crept from 482 to 510 MB over 12 calls (one: 429 to 461)
#   at the same speed (benchmarks/speed.py: analyze 14.1 s and 13.9 s, median of two rounds each)


def _fewer_malloc_arenas() -> None:
    """Cap glibc's malloc arenas before any thread starts (a no-op on other C libraries and systems)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, MALLOC_ARENAS)
    except (OSError, AttributeError):
        pass


_fewer_malloc_arenas()

__version__ = "0.1.0"
