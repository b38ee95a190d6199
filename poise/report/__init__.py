"""What Poise writes for people about a call (Qt-free).

- `format`: clock times, lengths, cue evidence and pace verdicts, shared with the desktop and the CLI;
- `summary`: the terminal summary of `poise analyze`;
- `html` + `templates/`: the self-contained HTML report (Jinja2, autoescaped);
- `timeline`: its SVG pictures.

The machine-readable contract (`poise.analysis/1` JSON) is `poise.audio.report`.
"""
