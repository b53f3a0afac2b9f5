"""Errors that carry a plain-language message meant to be shown to the user."""

from __future__ import annotations

from app.platform.i18n import _


class HearthError(Exception):
    """Base for every error whose text can be shown as is."""


class ModelFileError(HearthError):
    """A model file that cannot be used: missing, truncated, not GGUF."""


class ModelLoadError(HearthError):
    """llama.cpp could not load a file that looked valid."""


class PromptTooLongError(HearthError):
    """A single message is longer than the model's context can hold."""


class StorageError(HearthError):
    """The conversation store or settings could not be read or written."""


class ChatTemplateError(HearthError):
    """A model's own chat template (from its file) could not write out the conversation."""


class StoppedError(HearthError):
    """The user stopped an operation before it produced anything."""


class DocumentError(HearthError):
    """A document that cannot be read: its message names the file and says why in a plain sentence."""


def described(error: BaseException) -> str:
    """An unexpected exception as the end of a sentence ("Something went wrong: …"): its
    message; for a MemoryError (whose message is usually empty) that memory ran out;
    otherwise its kind, never an empty gap."""
    if isinstance(error, MemoryError):
        return _("the computer ran out of memory (close other programs, or choose a smaller model or context)")
    return str(error) or type(error).__name__
