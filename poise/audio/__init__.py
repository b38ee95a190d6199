"""The Qt-free engine: from samples to metrics, words and cues.

Nothing in this package may import Qt; `tests/test_layering.py` checks it.
"""
