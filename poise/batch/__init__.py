"""`poise batch`: analyse a whole archive of recorded calls on all cores, or on a Ray cluster.

- `discover`: which calls the folders and globs hold (stereo files, agent/caller pairs).
- `manifest`: what is already done (settings + content hash) and the summary table.
- `work`: one call's analysis in a worker, exactly `poise analyze`'s (`review_call`).
- `pool`: N worker processes on this machine, each holding the model.
- `ray_runner`: the same workers as Ray actors (the optional extra `poise[cluster]`).
- `job`: the run itself: skip what is done, dispatch, and the one writer of results.

Nothing here imports Ray unless `--ray` is given, and nothing imports Qt.
"""

from __future__ import annotations

from .discover import DEFAULT_PAIR_RULE, CallFiles, PairRule, discover
from .job import BatchOptions, BatchReport, run_batch

__all__ = ["DEFAULT_PAIR_RULE", "BatchOptions", "BatchReport", "CallFiles", "PairRule", "discover", "run_batch"]
