"""What is said: phrase families in the transcript, the caller's heat, language cues and call notes (issue 10).

Qt-free and engine-free at its core: `phrases` reads text, `heat` reads a caller's frames,
`coach` turns both into cue candidates for the engine's one cue budget, `summary` writes the
after-call lines and the draft notes.
"""
