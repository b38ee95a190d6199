"""The frozen app's entry point (PyInstaller runs this file): the `poise` command, as installed."""

import sys

from poise.cli import main

if __name__ == "__main__":
    sys.exit(main())
