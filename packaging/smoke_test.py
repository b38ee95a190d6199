"""Smoke test of the built bundle: it runs outside the checkout and the venv, offscreen, with no network.

    .venv/bin/python packaging/smoke_test.py dist/poise

1. `poise analyze` on the bundled demo call with Whisper (JSON + HTML reports), from a
   folder outside the repository, with a clean environment (no PYTHONPATH, no venv on PATH,
   its own data folder): exit 0, both sides transcribed, the reports written, redacted.
2. The app started offscreen on the demo call (`poise --demo`) for a few seconds: it must
   still be running (no crash at start), then it is closed with SIGINT.
Prints one line per check; exits 1 if any fails.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

APP_RUN_S = 12.0  # s the app runs offscreen on the demo call before it is closed
ANALYZE_TIMEOUT_S = 600.0


def main(bundle: Path) -> int:
    bundle = bundle.resolve()
    exe = bundle / "poise"
    if not exe.is_file():
        print(f"no bundle at {exe}: build it with bash packaging/build_linux.sh", file=sys.stderr)
        return 1
    demo = next(bundle.rglob("demo_call.ogg"), None)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="poise-bundle-") as name:
        tmp = Path(name)
        env = {
            "PATH": "/usr/bin:/bin", "HOME": str(tmp), "LANG": "C.UTF-8", "QT_QPA_PLATFORM": "offscreen",
            "POISE_DATA_DIR": str(tmp / "data"), "XDG_CONFIG_HOME": str(tmp / "config"),
        }
        started = time.perf_counter()
        proc = subprocess.run(
            [str(exe), "analyze", str(demo), "--json", "demo.json", "--html", "demo.html", "--save"],
            cwd=tmp, env=env, capture_output=True, text=True, timeout=ANALYZE_TIMEOUT_S,
        )
        took = time.perf_counter() - started
        ok = proc.returncode == 0 and (tmp / "demo.json").is_file() and (tmp / "demo.html").is_file()
        detail = f"exit {proc.returncode} in {took:.0f} s"
        if ok:
            doc = json.loads((tmp / "demo.json").read_text(encoding="utf-8"))
            roles = {s["role"] for s in doc["segments"]}
            ok = roles == {"agent", "caller"} and "Traceback" not in proc.stderr
            detail += f"; {len(doc['segments'])} segments ({', '.join(sorted(roles))}), {len(doc['cues'])} cues"
        else:
            detail += f": {(proc.stderr or proc.stdout).strip()[-500:]}"
        print(f"[{'ok' if ok else 'FAIL'}] bundled `poise analyze` on the demo call: {detail}")
        failures += not ok

        app = subprocess.Popen([str(exe), "--demo"], cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(APP_RUN_S)
        alive = app.poll() is None
        app.send_signal(signal.SIGINT)
        try:
            _out, err = app.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            app.kill()
            _out, err = app.communicate()
        ok = alive and "Traceback" not in err
        print(f"[{'ok' if ok else 'FAIL'}] bundled app offscreen with the demo call: "
              f"{'running after' if alive else 'DIED within'} {APP_RUN_S:.0f} s, exit {app.returncode} after SIGINT"
              + ("" if ok else f": {err.strip()[-500:]}"))
        failures += not ok
    size = sum(f.stat().st_size for f in bundle.rglob("*") if f.is_file() and not f.is_symlink()) / 2**20  # links once
    print(f"bundle {bundle}: {size:.0f} MB")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "dist/poise")))
