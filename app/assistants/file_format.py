"""An assistant as one small JSON file: what the user's own are saved as, and what Export
writes and Import reads (the format is documented in docs/ASSISTANTS.md).

Reading is strict: a file that is not exactly an assistant names the first thing wrong
with it (the line, for JSON that does not parse) and gives nothing, so an import never
brings in half an assistant.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.assistants.model import Assistant, AssistantError, check_sampling_value, checked
from app.platform.atomic import write_atomically
from app.platform.i18n import _

FORMAT = "hearth-assistant"
FORMAT_VERSION = 1
FILE_SUFFIX = ".json"
# Far above any assistant (a 20,000-character prompt is 60 KB as JSON); a bigger file is
# not read into memory at all.
FILE_LIMIT = 1_000_000

_TEXT_KEYS = {"id": "id", "name": "name", "system_prompt": "system_prompt", "model": "model_id", "greeting": "greeting"}
_KEYS = {"format", "version", "settings", *_TEXT_KEYS}


def to_document(assistant: Assistant) -> dict[str, Any]:
    """The file's content; a built-in is written as the user's copy, in the language in use."""
    own = assistant.as_users() if assistant.built_in else assistant
    return {
        "format": FORMAT, "version": FORMAT_VERSION, "id": own.id, "name": own.name,
        "system_prompt": own.system_prompt, "settings": dict(own.sampling), "model": own.model_id,
        "greeting": own.greeting,
    }


def from_document(data: object) -> Assistant:
    """The assistant `data` (a parsed file) describes, or AssistantError saying what is wrong."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise AssistantError(_("It is not a Hearth assistant: a Hearth assistant file says \"format\": \"{format}\".").format(
            format=FORMAT))
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise AssistantError(_("Its \"version\" must be a whole number, such as {version}.").format(version=FORMAT_VERSION))
    if version > FORMAT_VERSION:
        raise AssistantError(_("It was written by a newer version of Hearth (assistant format {version}). "
                               "Please update Hearth to import it.").format(version=version))
    for key in data:
        if key not in _KEYS:
            raise AssistantError(_("“{key}” is not part of an assistant.").format(key=key))
    values: dict[str, Any] = {}
    for key, attribute in _TEXT_KEYS.items():
        value = data.get(key, "")
        if not isinstance(value, str):
            raise AssistantError(_("Its “{key}” must be text in quotes.").format(key=key))
        values[attribute] = value
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise AssistantError(_("Its “settings” must be an object of names and numbers, such as {example}.").format(
            example='{"temperature": 0.5}'))
    values["sampling"] = {name: check_sampling_value(name, value) for name, value in settings.items()}
    return checked(Assistant(**values))


def read_file(path: Path) -> Assistant:
    """The assistant in the file at `path`, or AssistantError naming the file and what is wrong."""
    try:
        if path.stat().st_size > FILE_LIMIT:
            raise AssistantError(_("The file {file} is too big to be an assistant.").format(file=path.name))
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise AssistantError(_("The file {file} could not be read ({reason}).").format(
            file=path.name, reason=exc.strerror or exc)) from exc
    except UnicodeDecodeError as exc:
        raise AssistantError(_("The file {file} is not text: it is not a Hearth assistant.").format(file=path.name)) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AssistantError(_("The file {file} is not valid JSON: line {line}, column {column}: {problem}.").format(
            file=path.name, line=exc.lineno, column=exc.colno, problem=exc.msg)) from exc
    try:
        return from_document(data)
    except AssistantError as exc:
        raise AssistantError(_("The file {file} cannot be used. {problem}").format(file=path.name, problem=exc)) from exc


def write_file(assistant: Assistant, path: Path) -> None:
    """Write `assistant` to `path` atomically; AssistantError when it cannot be written."""
    data = json.dumps(to_document(checked(assistant)), indent=2, ensure_ascii=False) + "\n"
    try:
        write_atomically(path, data.encode("utf-8"))
    except OSError as exc:
        raise AssistantError(_("The assistant could not be saved to {file} ({reason}).").format(
            file=path.name, reason=exc.strerror or exc)) from exc
