"""Which value of each reply setting is in force, and where it comes from.

The layers, lowest first: Hearth's default (the schema), your Settings, the conversation's
assistant, the conversation itself, and the administrator's lock over all of them. The
reply (app/chat/reply.py) and the "Settings in force" view both call `in_force`, so what
the view shows is what the model is given.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from app.assistants.model import SAMPLING_SPECS, Assistant, AssistantError, check_sampling_value
from app.config import schema
from app.config.settings import SamplingSettings, Settings
from app.platform.i18n import N_, _

log = logging.getLogger(__name__)

FIELDS: tuple[schema.Setting, ...] = (*SAMPLING_SPECS, schema.SYSTEM_PROMPT)

Value = int | float | str


class Source(StrEnum):
    DEFAULT = "default"
    SETTINGS = "settings"
    ASSISTANT = "assistant"
    CONVERSATION = "conversation"
    ADMINISTRATOR = "administrator"

    @property
    def label(self) -> str:
        """Where the value comes from, as the view says it: 'from the assistant'."""
        return _(_SOURCE_LABELS[self])


_SOURCE_LABELS = {
    Source.DEFAULT: N_("Hearth's default"),
    Source.SETTINGS: N_("from your Settings"),
    Source.ASSISTANT: N_("from the assistant"),
    Source.CONVERSATION: N_("from this conversation"),
    Source.ADMINISTRATOR: N_("set by your administrator (locked)"),
}


@dataclass(frozen=True)
class InForce:
    spec: schema.Setting
    value: Value
    source: Source


@dataclass(frozen=True)
class Layers:
    """`settings`: the user's, with the administrator's policy applied (what AppSettings
    holds); `locked`: the schema names the administrator locked; `conversation`: the values
    the conversation keeps for itself (see `conversation_layers`)."""

    settings: Settings
    locked: Collection[str]
    assistant: Assistant | None = None
    conversation: Mapping[str, Value] = field(default_factory=dict)


def _assistant_value(assistant: Assistant | None, spec: schema.Setting) -> Value | None:
    if assistant is None:
        return None
    if spec is schema.SYSTEM_PROMPT:
        return assistant.prompt_text or None  # "": it uses the default system prompt
    return assistant.sampling.get(spec.name)


def _one(spec: schema.Setting, layers: Layers) -> InForce:
    settings_value: Value = spec.read(layers.settings)
    if spec.name in layers.locked:  # the policy already wrote its value into the settings
        return InForce(spec, settings_value, Source.ADMINISTRATOR)
    if spec.name in layers.conversation:
        return InForce(spec, layers.conversation[spec.name], Source.CONVERSATION)
    if (value := _assistant_value(layers.assistant, spec)) is not None:
        return InForce(spec, value, Source.ASSISTANT)
    return InForce(spec, settings_value, Source.DEFAULT if settings_value == spec.default else Source.SETTINGS)


def in_force(layers: Layers) -> dict[str, InForce]:
    """Each reply setting (FIELDS, by schema name): its value and where it comes from."""
    return {spec.name: _one(spec, layers) for spec in FIELDS}


def own_settings(stored: Mapping[str, object]) -> dict[str, Value]:
    """The sampling settings a conversation keeps for itself, from what the store holds:
    a value Hearth cannot use (edited by hand, or from a newer Hearth) is left out."""
    kept: dict[str, Value] = {}
    for name, value in stored.items():
        try:
            kept[name] = check_sampling_value(name, value)
        except AssistantError:
            log.warning("conversation settings: ignoring %s=%r", name, value)
    return kept


def conversation_layers(
    settings: Settings, locked: Collection[str], assistant: Assistant | None, recorded_system_prompt: str | None,
    own: Mapping[str, Value] | None = None,
) -> Layers:
    """The layers of a conversation that recorded `recorded_system_prompt` when it began
    (None: from before conversations recorded theirs) and keeps the sampling settings `own`.
    The recorded prompt counts as the conversation's own only where it differs from what the
    layers below give today, so a chat whose assistant is unchanged says its prompt is "from
    the assistant", and one whose default changed since says it keeps its own."""
    below = _one(schema.SYSTEM_PROMPT, Layers(settings, locked, assistant))
    kept = dict(own or {})
    if recorded_system_prompt is not None and recorded_system_prompt != below.value:
        kept[schema.SYSTEM_PROMPT.name] = recorded_system_prompt
    return Layers(settings, locked, assistant, kept)


def sampling_in_force(forced: Mapping[str, InForce]) -> SamplingSettings:
    """The sampling settings a reply is written with."""
    values: dict[str, Any] = {spec.path[-1]: forced[spec.name].value for spec in SAMPLING_SPECS}
    return SamplingSettings(**values)


def system_prompt_in_force(forced: Mapping[str, InForce]) -> str:
    value = forced[schema.SYSTEM_PROMPT.name].value
    assert isinstance(value, str)
    return value
