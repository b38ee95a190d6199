"""The application layer: the one place that builds, runs, stops and saves a call.

Qt-free (tests/test_layering.py checks it). The command line (`poise.cli`) and the
desktop (`poise.desktop`) turn user input into a `CallSpec` and render what comes
back; the policies live here:

- `spec`: what a call is (`CallSpec`, `CallKind`), its states, its outcome;
- `calls`: `LiveCall`, a call in real time (live, demo, calibration, practice);
- `review`: `review_call`, a recording analysed with the user's settings and profile;
- `calibration`: `CalibrationCall`, the agent's normal measured from a read paragraph;
- `practice`: the trainer's read-along (a practice call, the target band, word timing);
- `replay`: `Replay`, a recording's agent side at another pace, measured and played;
- `history`: which calls are saved and which refine the voice profile;
- `settings`: the settings file both doors share;
- `errors`: one plain sentence per failure, and where the log goes.
"""
