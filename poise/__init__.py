"""Poise: a local voice coach for phone agents."""

import os

# NumPy's OpenBLAS splits a matrix product differently on 1 and 2 threads, and the last bits of Whisper's
# mel features with it: `poise batch` workers (1 thread each) then timed words 20 ms apart from
# `poise analyze` (2 threads) on the same call. One BLAS thread everywhere gives every path the same
# numbers; the products that go through it here (mel filters, small filters) are too small to gain from
# a second thread. Read by OpenBLAS when NumPy loads, so it is set before anything imports NumPy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
