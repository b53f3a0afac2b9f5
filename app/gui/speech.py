"""Reading a reply aloud, where the system has a speech engine.

QtTextToSpeech ships in PySide6-Addons, not in the PySide6-Essentials Hearth depends on,
so it is imported only when the window asks whether speech is there: without the module,
or with the module and no engine, there is nothing to offer and no action is shown.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from PySide6.QtCore import QObject

log = logging.getLogger(__name__)


class ReadAloud(QObject):
    """Speaks text through the system's engine; one text at a time (a new one stops the last)."""

    def __init__(self, engine: Any, parent: QObject | None = None) -> None:
        """`engine`: a QTextToSpeech (typed loosely: its module may not be installed)."""
        super().__init__(parent)
        self._engine = engine
        engine.setParent(self)

    @classmethod
    def create(cls, parent: QObject | None = None) -> ReadAloud | None:
        """The reader, or None where the module or an engine is missing."""
        try:
            text_to_speech = importlib.import_module("PySide6.QtTextToSpeech")
        except ImportError:
            return None
        if not text_to_speech.QTextToSpeech.availableEngines():
            return None
        try:
            engine = text_to_speech.QTextToSpeech()
        except RuntimeError:  # an engine listed but not working (no audio service)
            log.warning("the speech engine could not be started", exc_info=True)
            return None
        return cls(engine, parent)

    def say(self, text: str) -> None:
        self._engine.stop()
        self._engine.say(text)

    def stop(self) -> None:
        self._engine.stop()
