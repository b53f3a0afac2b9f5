"""The frozen app's entry point (PyInstaller needs a script, not a module)."""

import sys

from app.__main__ import main

sys.exit(main())
