"""What an assistant is, and the checks every assistant passes however it was made."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from app.config import schema
from app.platform.errors import HearthError
from app.platform.i18n import _

# The settings an assistant may set: how a reply is written, not how the engine runs
# (the context length and threads need the model loaded again).
SAMPLING_SPECS: tuple[schema.NumberSetting[int] | schema.NumberSetting[float], ...] = (
    schema.TEMPERATURE, schema.TOP_P, schema.MAX_TOKENS, schema.REPEAT_PENALTY, schema.SEED,
)
SAMPLING_NAMES = frozenset(spec.name for spec in SAMPLING_SPECS)

# A file name on every system, and a key in policy.toml that needs no quotes inside.
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
NAME_LIMIT = 80
TEXT_LIMIT = 20_000  # characters of a system prompt or a greeting: far more than a model reads usefully

PLAIN_HELPER_ID = "plain-helper"


class AssistantError(HearthError):
    """An assistant (a file, or what the user typed) that Hearth cannot use."""


@dataclass(frozen=True)
class Assistant:
    """`system_prompt` "" means: the default system prompt (Settings, or the administrator's).
    `sampling`: only the settings it sets (schema names), the others come from Settings.
    `built_in`: shipped with Hearth; its name, prompt and greeting are then source-language
    (English) text, translated where shown and used."""

    id: str
    name: str
    system_prompt: str = ""
    sampling: Mapping[str, int | float] = field(default_factory=dict)
    model_id: str = ""  # the model it prefers ("" for none): a model library id
    greeting: str = ""  # shown as its first message in a new chat
    built_in: bool = False

    @property
    def shown_name(self) -> str:
        return _(self.name) if self.built_in else self.name

    @property
    def prompt_text(self) -> str:
        """The system prompt in the language in use ("" where it sets none)."""
        return _(self.system_prompt) if self.built_in and self.system_prompt else self.system_prompt

    @property
    def greeting_text(self) -> str:
        return _(self.greeting) if self.built_in and self.greeting else self.greeting

    def as_users(self, **changes: Any) -> Assistant:
        """The user's own copy (of a built-in: in the language in use), with `changes`."""
        own = replace(self, name=self.shown_name, system_prompt=self.prompt_text, greeting=self.greeting_text,
                      sampling=dict(self.sampling), built_in=False)
        return replace(own, **changes)


def new_id(name: str) -> str:
    """An id for a new assistant: its name's letters and digits, and a random tail so two
    assistants with one name never share a file."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "assistant"
    return f"{slug}-{uuid.uuid4().hex[:6]}"


def checked(assistant: Assistant) -> Assistant:
    """`assistant` when Hearth can use it; otherwise AssistantError saying, in plain words,
    the first thing that is wrong."""
    if not ID_PATTERN.fullmatch(assistant.id):
        raise AssistantError(_("The assistant's id “{id}” may have only small letters, digits and dashes "
                               "(at most 64).").format(id=assistant.id))
    if not assistant.name.strip():
        raise AssistantError(_("The assistant needs a name."))
    if len(assistant.name) > NAME_LIMIT:
        raise AssistantError(_("The assistant's name is longer than {limit} characters.").format(limit=NAME_LIMIT))
    for text, what in ((assistant.system_prompt, _("system prompt")), (assistant.greeting, _("greeting"))):
        if len(text) > TEXT_LIMIT:
            raise AssistantError(_("The assistant's {what} is longer than {limit:,} characters.").format(
                what=what, limit=TEXT_LIMIT))
    for name, value in assistant.sampling.items():
        check_sampling_value(name, value)
    return assistant


def check_sampling_value(name: str, value: object) -> int | float:
    """`value` of the sampling setting `name`, of its type and within its limits, or AssistantError."""
    spec = next((s for s in SAMPLING_SPECS if s.name == name), None)
    if spec is None:
        raise AssistantError(_("“{name}” is not a setting an assistant can set; it can set {names}.").format(
            name=name, names=", ".join(s.name for s in SAMPLING_SPECS)))
    typed = schema.typed_like(spec.default, value)
    if not isinstance(typed, int | float):
        wrong = _("The setting {name} must be a whole number, not {value}.") if spec.whole else _(
            "The setting {name} must be a number, not {value}.")
        raise AssistantError(wrong.format(name=name, value=repr(value)))
    if not spec.minimum <= typed <= spec.maximum:
        raise AssistantError(_("The setting {name} must be from {minimum} to {maximum}, not {value}.").format(
            name=name, minimum=spec.minimum, maximum=spec.maximum, value=typed))
    return typed
