"""The one table of the settings a user or an administrator can choose.

Each entry says what a setting is (its name: the key in policy.toml, the dialog's field,
the row in docs/ADMIN.md), where it lives in `Settings`, its type, default and limits, and
how the settings dialog shows it. The loader's clamps (settings.py), the policy's checks
(policy.py), the settings dialog and the table in docs/ADMIN.md all read this table, so a
setting is described once. Labels, help and special values are source-language (English)
strings, kept apart from the names and marked with `N_()`: the dialog shows them translated
(`label_text`, `help_text`, `special_text`), docs/ADMIN.md as written.

`python -m app.config.schema docs/ADMIN.md` rewrites the table in the document
(tests/test_settings_schema.py fails when it differs).
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from app.platform.i18n import N_, _

log = logging.getLogger(__name__)

N = TypeVar("N", int, float)


@dataclass(frozen=True, kw_only=True)
class _Setting:
    name: str  # the identity: never shown, never translated
    path: tuple[str, ...]  # attribute names from Settings down to the value
    label: str  # marked with N_(): in English here and in docs/ADMIN.md
    help: str  # likewise
    lockable: bool = True  # whether policy.toml may lock it
    advanced: bool = False  # on the settings dialog's Advanced page; the everyday page has the rest

    @property
    def label_text(self) -> str:
        """The label in the language in use, as the settings dialog shows it."""
        return _(self.label)

    @property
    def help_text(self) -> str:
        """The help in the language in use (the field's tooltip)."""
        return _(self.help)

    def read(self, settings: object) -> Any:
        value = settings
        for part in self.path:
            value = getattr(value, part)
        return value

    def write(self, settings: object, value: object) -> None:
        *parents, leaf = self.path
        target = settings
        for part in parents:
            target = getattr(target, part)
        setattr(target, leaf, value)


@dataclass(frozen=True, kw_only=True)
class NumberSetting(_Setting, Generic[N]):
    """A whole number (int) or a number with a fraction (float), from `minimum` to `maximum`."""

    default: N
    minimum: N
    maximum: N
    step: N
    decimals: int = 0  # shown and kept to this many places (the dialog rounds to them)
    special: str = ""  # shown instead of `minimum`, which then means "choose for me"; {cores} is filled in

    @property
    def special_text(self) -> str:
        """`special` in the language in use ('' where there is none); {cores} is still to be filled in."""
        return _(self.special) if self.special else ""

    @property
    def whole(self) -> bool:
        return isinstance(self.default, int)

    def within_limits(self, value: N) -> N:
        """`value` brought within the limits; not a number at all (NaN, infinity): the default."""
        if not math.isfinite(value):
            return self.default
        return type(self.default)(min(max(value, self.minimum), self.maximum))


@dataclass(frozen=True, kw_only=True)
class TextSetting(_Setting):
    default: str
    multiline: bool = False
    placeholder: str = ""  # shown in an empty field
    accepts: str = "any text"  # what `clean` keeps, for docs/ADMIN.md
    clean: Callable[[str], str] | None = None  # the text as Hearth uses it

    def within_limits(self, value: str) -> str:
        return self.clean(value) if self.clean else value


@dataclass(frozen=True, kw_only=True)
class SwitchSetting(_Setting):
    """On or off (a checkbox)."""

    default: bool

    def within_limits(self, value: bool) -> bool:
        return value


Setting = NumberSetting[int] | NumberSetting[float] | TextSetting | SwitchSetting


def clean_hub_endpoint(text: str) -> str:
    """An http(s) address without a trailing slash; a bare host name gets https://.
    Anything else becomes '' (the default Hub)."""
    text = text.strip().rstrip("/")
    if text and "://" not in text:
        text = "https://" + text
    if text and (not text.startswith(("http://", "https://")) or any(c.isspace() for c in text)):
        log.warning("settings: ignoring hub_endpoint %r (not an http(s) address)", text)
        return ""
    return text


# The limits are what the engine can use: a context of 0 would mean the model's whole
# trained length, which may not fit in memory.
CONTEXT_LENGTH = NumberSetting(
    name="context_length", path=("engine", "context_length"), default=4096, minimum=256, maximum=262_144, step=1024,
    label=N_("Context length"),
    help=N_("How much of the conversation the model can read at once, in tokens. More uses more memory."),
    advanced=True,
)
THREADS = NumberSetting(
    name="threads", path=("engine", "threads"), default=0, minimum=0, maximum=256, step=1, special=N_("Automatic ({cores})"),
    label=N_("CPU threads"),
    help=N_("How many processor threads write a reply. 0 (Automatic): one per physical core."),
    advanced=True,
)
SAVED_STATE_MB = NumberSetting(
    name="saved_state_mb", path=("engine", "saved_state_mb"), default=2048, minimum=0, maximum=1_048_576, step=256,
    special=N_("Off"),
    label=N_("Disk space for resuming chats (MB)"),
    help=N_("Hearth saves what the model has read of each chat, so a long chat answers quickly when you come back to it. "
            "Beyond this size the chats used longest ago are forgotten. 0 (Off): nothing is saved."),
    advanced=True,
)
TEMPERATURE = NumberSetting(
    name="temperature", path=("sampling", "temperature"), default=0.7, minimum=0.0, maximum=2.0, step=0.05, decimals=2,
    label=N_("Creativity (temperature)"),
    help=N_("Lower is more focused and repeatable; higher is more varied."),
)
TOP_P = NumberSetting(
    name="top_p", path=("sampling", "top_p"), default=0.95, minimum=0.0, maximum=1.0, step=0.05, decimals=2,
    label=N_("Top-p"),
    help=N_("The model chooses each word among the likeliest ones that together have this much of the probability. "
            "Lower is more focused."),
    advanced=True,
)
MAX_TOKENS = NumberSetting(
    name="max_tokens", path=("sampling", "max_tokens"), default=1024, minimum=16, maximum=131_072, step=128,
    label=N_("Answer length (tokens)"),
    help=N_("A reply stops after this many tokens (a token is a word or a part of one)."),
)
REPEAT_PENALTY = NumberSetting(
    name="repeat_penalty", path=("sampling", "repeat_penalty"), default=1.1, minimum=0.5, maximum=2.0, step=0.05, decimals=2,
    label=N_("Repeat penalty"),
    help=N_("Above 1 keeps the model from repeating itself; 1 turns it off."),
    advanced=True,
)
SEED = NumberSetting(
    name="seed", path=("sampling", "seed"), default=-1, minimum=-1, maximum=2**31 - 1, step=1, special=N_("Random"),
    label=N_("Seed"),
    help=N_("The same seed, model, settings and conversation give the same reply. -1 (Random): a new seed for each reply."),
    advanced=True,
)
SYSTEM_PROMPT = TextSetting(
    name="system_prompt", path=("system_prompt",), default="You are a helpful assistant.", multiline=True,
    label=N_("Default system prompt"),
    help=N_("How the assistant behaves: what the model is told first, before the conversation."),
)
# An assistant's id (app/assistants/): the built-ins' ids, or a user's own. An id Hearth
# does not know falls back to the Plain helper where a chat starts (app/assistants/book.py).
DEFAULT_ASSISTANT = TextSetting(
    name="default_assistant", path=("default_assistant",), default="plain-helper", placeholder="plain-helper",
    clean=lambda text: text.strip().lower(), accepts="an assistant's id, e.g. \"writing-tutor\"",
    label=N_("Default assistant"),
    help=N_("The assistant a new chat starts from, by its id as Chat → Assistants shows it: "
            "plain-helper, writing-tutor, summariser, translator, explain-like-12, or one of your own."),
    advanced=True,
)
HUB_ENDPOINT = TextSetting(
    name="hub_endpoint", path=("library", "hub_endpoint"), default="", placeholder="https://huggingface.co",
    clean=clean_hub_endpoint, accepts="an http(s) address, or empty; a bare host name gets https://",
    label=N_("Download models from"),
    help=N_("Where models are downloaded from: leave empty for Hugging Face, or enter your school's or company's mirror."),
)
# How many passages of the attached documents a question brings into the prompt. Each is
# about 1,000 characters (app/documents/chunking.py), some 250 tokens: on a CPU reading
# them is most of the wait before the first word. 0 (Automatic): as many as fit in a
# quarter of the context, 2 to 8 (app/chat/grounding.py).
DOCUMENT_PASSAGES = NumberSetting(
    name="document_passages", path=("documents", "passages"), default=0, minimum=0, maximum=32, step=1,
    special=N_("Automatic"),
    label=N_("Passages per question"),
    help=N_("How many passages of the attached documents each question brings along. More can answer more, "
            "but the first word takes longer. 0 (Automatic): as many as suit the model's context."),
    advanced=True,
)
# A model's id in the library; empty: the first embedding model installed.
DOCUMENT_EMBEDDER = TextSetting(
    name="document_embedder", path=("documents", "embedder"), default="", placeholder="automatic",
    clean=lambda text: text.strip(), accepts="an installed embedding model's id, or empty",
    label=N_("Embedding model for documents"),
    help=N_("The model that finds passages that say the same as a question in other words, by its id as the "
            "library shows it. Empty: the first embedding model installed. Without one, passages are found by their words."),
    advanced=True,
)
# Under each reply: how fast it was written, and how many tokens it and the prompt took. Off,
# since it means little to most people; a reply's Details always say it.
SHOW_REPLY_SPEED = SwitchSetting(
    name="show_reply_speed", path=("show_reply_speed",), default=False,
    label=N_("Show the speed under each reply"),
    help=N_("Under each reply, how many tokens per second it was written at, and how many tokens it took. "
            "A reply's Details always show it."),
    advanced=True,
)

SETTINGS: tuple[Setting, ...] = (
    CONTEXT_LENGTH, THREADS, SAVED_STATE_MB, TEMPERATURE, TOP_P, MAX_TOKENS, REPEAT_PENALTY, SEED, SYSTEM_PROMPT,
    DEFAULT_ASSISTANT, HUB_ENDPOINT, DOCUMENT_PASSAGES, DOCUMENT_EMBEDDER, SHOW_REPLY_SPEED,
)
BY_NAME: dict[str, Setting] = {spec.name: spec for spec in SETTINGS}


def typed_like(default: object, value: object) -> object | None:
    """`value` as a value of `default`'s type, or None when it is not one. A whole number
    is also a float; true and false are not numbers (Python counts them as ints)."""
    if isinstance(value, bool) is not isinstance(default, bool):
        return None
    if isinstance(default, float) and isinstance(value, int):
        return float(value)
    return value if isinstance(value, type(default)) else None


def type_name(spec: Setting) -> str:
    """The type as TOML, and so the policy file, calls it (docs/ADMIN.md's table)."""
    if isinstance(spec, TextSetting):
        return "string"
    if isinstance(spec, SwitchSetting):
        return "boolean"
    return "integer" if spec.whole else "float"


# --- the table in docs/ADMIN.md ---------------------------------------------------------

TABLE_START = "<!-- The settings table: written from app/config/schema.py by `python -m app.config.schema docs/ADMIN.md`. -->"
TABLE_END = "<!-- End of the settings table. -->"


def _toml(value: object) -> str:
    if isinstance(value, str):
        return '`"' + value + '"`'
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table() -> str:
    """The settings as a Markdown table, for administrators writing policy.toml."""
    rows = ["| key | shown in Settings as | type | default | range | can be locked | meaning |", "|---|---|---|---|---|---|---|"]
    for spec in SETTINGS:
        if isinstance(spec, TextSetting):
            limits = spec.accepts
        elif isinstance(spec, SwitchSetting):
            limits = "true or false"
        else:
            limits = f"{spec.minimum} to {spec.maximum}"
        cells = [f"`{spec.name}`", spec.label, type_name(spec), _toml(spec.default), limits, "yes" if spec.lockable else "no", spec.help]
        rows.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(rows)


def with_settings_table(document: str) -> str:
    """`document` with the lines between TABLE_START and TABLE_END replaced by markdown_table()
    (blank lines around it, so that no Markdown reader takes a marker for a row)."""
    before, start, rest = document.partition(TABLE_START)
    _old_table, end, after = rest.partition(TABLE_END)
    if not start or not end:
        raise ValueError(f"The document has no settings table: put the lines {TABLE_START!r} and {TABLE_END!r} where it goes.")
    return before + start + "\n\n" + markdown_table() + "\n\n" + end + after


if __name__ == "__main__":
    doc = Path(sys.argv[1])
    doc.write_text(with_settings_table(doc.read_text(encoding="utf-8")), encoding="utf-8")
