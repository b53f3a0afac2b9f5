"""The user's settings as typed dataclasses: loading (migrated, within the schema's
limits), and atomic storage. What each setting is, its default and its limits are in
schema.py."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from app.config import schema
from app.platform.atomic import write_atomically
from app.platform.errors import StorageError
from app.platform.i18n import _

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1


@dataclass
class EngineSettings:
    """How llama.cpp runs. `threads` 0 means: one per physical core."""

    context_length: int = schema.CONTEXT_LENGTH.default
    threads: int = schema.THREADS.default
    saved_state_mb: int = schema.SAVED_STATE_MB.default  # 0: no saved KV states


@dataclass
class SamplingSettings:
    temperature: float = schema.TEMPERATURE.default
    top_p: float = schema.TOP_P.default
    max_tokens: int = schema.MAX_TOKENS.default
    repeat_penalty: float = schema.REPEAT_PENALTY.default
    seed: int = schema.SEED.default  # -1: a new random seed for each reply


@dataclass
class ModelPreferences:
    """Per-model choices. `prompt_format`: "auto", a llama-cpp-python chat
    format name, or "completion" for plain text completion."""

    prompt_format: str = "auto"
    # Chosen after the model stopped Hearth (app/platform/crash_marker.py): load it with every
    # speed-up the engine can turn off.
    safe_mode: bool = False
    # "normal" or "safe": the mode in which it last stopped Hearth. Such a model is not
    # loaded by itself at start; a clean load clears this.
    crashed: str = ""


@dataclass
class LibrarySettings:
    """Where models come from. An empty `hub_endpoint` means HF_ENDPOINT or huggingface.co;
    a school can point it at its own mirror."""

    hub_endpoint: str = schema.HUB_ENDPOINT.default


@dataclass
class DocumentSettings:
    """How the user's documents are used in chat. `passages` 0: as many as suit the context;
    `embedder` empty: the first embedding model installed."""

    passages: int = schema.DOCUMENT_PASSAGES.default
    embedder: str = schema.DOCUMENT_EMBEDDER.default


@dataclass
class Settings:
    engine: EngineSettings = field(default_factory=EngineSettings)
    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    library: LibrarySettings = field(default_factory=LibrarySettings)
    documents: DocumentSettings = field(default_factory=DocumentSettings)
    system_prompt: str = schema.SYSTEM_PROMPT.default
    default_assistant: str = schema.DEFAULT_ASSISTANT.default
    show_reply_speed: bool = schema.SHOW_REPLY_SPEED.default
    last_model_id: str = ""
    models: dict[str, ModelPreferences] = field(default_factory=dict)
    window_geometry: str = ""  # hex of QWidget.saveGeometry()

    def model_preferences(self, model_id: str) -> ModelPreferences:
        """A model's preferences, to change (an entry is made for it)."""
        return self.models.setdefault(model_id, ModelPreferences())

    def preferences_of(self, model_id: str) -> ModelPreferences:
        """A model's preferences, to read: no entry is made for a model that has none."""
        return self.models.get(model_id) or ModelPreferences()


def _from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Build a dataclass from a dict, keeping defaults for unknown or mistyped keys."""
    kwargs: dict[str, Any] = {}
    for spec in fields(cls):
        if spec.name not in data:
            continue
        value = data[spec.name]
        default = getattr(cls(), spec.name)
        if is_dataclass(default):
            if isinstance(value, dict):
                kwargs[spec.name] = _from_dict(type(default), value)
        elif spec.name == "models" and isinstance(value, dict):
            kwargs[spec.name] = {
                str(key): _from_dict(ModelPreferences, prefs)
                for key, prefs in value.items()
                if isinstance(prefs, dict)
            }
        elif (typed := schema.typed_like(default, value)) is not None:
            kwargs[spec.name] = typed
        else:
            log.warning("settings: ignoring %s=%r (wrong type)", spec.name, value)
    return cls(**kwargs)


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older settings document up to SCHEMA_VERSION (none exist yet)."""
    version = data.get("schema_version", SCHEMA_VERSION)
    if version > SCHEMA_VERSION:
        log.warning("settings were written by a newer Hearth (schema %s)", version)
    return data


def load_settings(path: Path) -> Settings:
    """Read settings; a missing or unreadable file gives the defaults (never a crash)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        log.warning("cannot read settings %s: %s", path, exc)
        return Settings()
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        log.warning("settings file %s is damaged (%s); using defaults", path, exc)
        return Settings()
    return settings_from_dict(data)


def settings_from_dict(data: dict[str, Any]) -> Settings:
    """Settings from a parsed document, migrated and within limits (files, packs)."""
    return _within_limits(_from_dict(Settings, _migrate(data)))


def _within_limits(settings: Settings) -> Settings:
    """Bring hand-edited values within the schema's limits."""
    for spec in schema.SETTINGS:
        spec.write(settings, spec.within_limits(spec.read(settings)))
    return settings


def usable_context(requested: int, trained: int) -> int:
    """The context llama.cpp really gets: the setting, capped at what the model was
    trained for (0: unknown). The engine, the fit verdicts and the memory warning agree."""
    return min(requested, trained) if trained else requested


def save_settings(settings: Settings, path: Path) -> None:
    document = {"schema_version": SCHEMA_VERSION, **asdict(settings)}
    try:
        write_atomically(path, json.dumps(document, indent=2).encode("utf-8"))
    except OSError as exc:
        raise StorageError(_("Your settings could not be saved ({reason}).").format(reason=exc.strerror or exc)) from exc


def update_settings(path: Path, change: Callable[[Settings], None]) -> Settings:
    """Make `change` to the settings as the file holds them now, and save them: what
    another process (a second window, `hearth pack import`) wrote since this one read
    the file stays, and a command's one-off options (--seed) and the administrator's
    values stay out of it. Returns what was saved."""
    stored = load_settings(path)
    change(stored)
    save_settings(stored, path)
    return stored


def save_model_preferences(path: Path, model_key: str, **changes: Any) -> ModelPreferences:
    """Change one model's stored preferences and nothing else."""

    def change(stored: Settings) -> None:
        preferences = stored.model_preferences(model_key)
        for name, value in changes.items():
            setattr(preferences, name, value)

    return update_settings(path, change).model_preferences(model_key)
