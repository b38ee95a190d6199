"""Poise: a local voice coach for phone agents."""

__version__ = "0.1.0"
