#!/usr/bin/env bash
# Build the self-contained Linux bundle (dist/poise/) with PyInstaller, then smoke-test it.
# Takes a few minutes and both cores; run it by hand, never in the default test run:
#
#   bash packaging/build_linux.sh            # build + smoke test
#   bash packaging/build_linux.sh --smoke    # smoke-test an existing dist/poise only
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
if [[ "${1:-}" != "--smoke" ]]; then
    "$PY" -m pip install -q "pyinstaller==6.22.3"
    QT_QPA_PLATFORM=offscreen "$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
        --distpath dist --workpath build/pyinstaller packaging/poise.spec
fi
"$PY" packaging/smoke_test.py dist/poise
