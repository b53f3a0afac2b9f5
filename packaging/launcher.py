"""The frozen app's entry point (PyInstaller needs a script, not a module).

Before anything else is imported, the processor is checked against what the bundle's
llama.cpp was compiled for (app/platform/cpu_check.py): below it, a sentence, not a crash.
"""

import sys

from app.platform.build_info import build_info
from app.platform.cpu_check import missing_cpu_flags, too_old_sentence
from app.platform.i18n import use_language

missing = missing_cpu_flags(build_info().get("cpu_flags", []))
if missing:
    use_language()
    sentence = too_old_sentence(missing)
    if sys.stderr is not None:
        print(f"hearth: {sentence}", file=sys.stderr)
    if sys.stdout is not None and "--self-test" in sys.argv:
        print(f"FAILED: {sentence}")
    sys.exit(1)

from app.__main__ import main  # noqa: E402 - only once the processor is known to be enough

sys.exit(main())
