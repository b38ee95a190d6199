"""PySide6 windows and widgets; imports `poise.audio`, never the other way round."""
