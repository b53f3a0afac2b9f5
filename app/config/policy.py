"""The administrator's policy: what IT staff or a teacher decide for every user.

A TOML file, read from the system config folder or from beside the program
(see `policy_files` in paths.py, and docs/ADMIN.md for the format). It can set
the default model, which models are allowed, whether downloads are on, the
default system prompt, and settings, some of them locked. A file with errors
is reported with its line number; what is wrong falls back to the defaults,
and Hearth still starts.
"""

from __future__ import annotations

import copy
import fnmatch
import os
import re
import stat
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.config import schema
from app.config.settings import Settings, settings_from_dict
from app.platform.i18n import N_, _

# A policy is a few hundred bytes; a file far larger is not one (or is a device's endless data).
MAX_POLICY_BYTES = 1_000_000

TOP_LEVEL = {"default_model", "allowed_models", "downloads", "system_prompt", "settings", "locked"}

# A value of the wrong type, by the type of the setting's default: one whole sentence each,
# so that a translation puts its own article before the type.
_WRONG_TYPE = {
    str: N_("{name} must be a string, not {value}."),
    int: N_("{name} must be an integer, not {value}."),
    float: N_("{name} must be a float, not {value}."),
    bool: N_("{name} must be true or false, not {value}."),
}


@dataclass
class Policy:
    source: Path | None = None
    default_model: str = ""
    allowed_models: list[str] | None = None  # glob patterns; None (not set): all; empty: none
    downloads: bool = True
    values: dict[str, Any] = field(default_factory=dict)  # schema name -> value, of the schema's type
    locked: set[str] = field(default_factory=set)  # schema names, each lockable
    problems: list[str] = field(default_factory=list)  # plain sentences, each naming a line

    def allows(self, *names: str) -> bool:
        """Whether a model known by any of `names` (id, name, file name) may be used."""
        if self.allowed_models is None:
            return True
        return any(fnmatch.fnmatch(n.lower(), p.lower()) for n in names if n for p in self.allowed_models)

    def apply(self, settings: Settings) -> Settings:
        """`settings` as the administrator wants them, within the usual limits.

        A locked setting takes the policy's value (or the default, when the policy
        locks it without one). An unlocked policy value is a default: it applies
        only where the user has not chosen something else.
        """
        result = copy.deepcopy(settings)
        for name in set(self.values) | self.locked:
            spec = schema.BY_NAME[name]
            if name in self.locked:
                spec.write(result, self.values.get(name, spec.default))
            elif spec.read(result) == spec.default:
                spec.write(result, self.values[name])
        return settings_from_dict(asdict(result))


def load_policy(candidates: list[Path]) -> Policy:
    """The first policy file that exists among `candidates`; no file: no policy.
    Nothing in the file can stop Hearth from starting: every problem is reported.
    Something that is there but is not a file (a folder, a pipe, a device) is reported
    and never read: the later candidates, which a user may be able to write, are not tried."""
    for path in candidates:
        if os.path.lexists(path):
            try:
                return _read(path)
            except Exception as exc:  # noqa: BLE001 - a policy must never stop the app
                return Policy(source=path, problems=[
                    _("The policy file {path} could not be used ({reason}). Hearth uses its defaults.").format(
                        path=path, reason=exc)
                ])
    return Policy()


def _unreadable(path: Path, exc: Exception) -> str:
    """Why the policy file at `path` is not read at all (Hearth then uses its defaults)."""
    if isinstance(exc, _NotAFile):
        return _(
            "The policy file {path} is not a file (it is a folder, a pipe or a device), so Hearth "
            "does not read it and uses its defaults."
        ).format(path=path)
    if isinstance(exc, _TooLarge):
        return _(
            "The policy file {path} is far too large to be a policy, so Hearth does not read it and uses its defaults."
        ).format(path=path)
    if isinstance(exc, UnicodeDecodeError):
        return _(
            "The policy file {path} is not a text file in UTF-8: save it as UTF-8 text. Hearth uses its defaults."
        ).format(path=path)
    if isinstance(exc, tomllib.TOMLDecodeError):
        return _("The policy file {path} has an error: {reason}. Hearth uses its defaults.").format(path=path, reason=exc)
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
    return _("The policy file {path} could not be read ({reason}).").format(path=path, reason=reason)


def _read(path: Path) -> Policy:
    policy = Policy(source=path)
    try:
        text = _read_regular_file(path).decode("utf-8-sig")  # Notepad may add a byte-order mark
        document = tomllib.loads(text)
    except (_NotAFile, _TooLarge, OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        policy.problems.append(_unreadable(path, exc))
        return policy

    def problem(key: str, what: str) -> None:
        """`what`: a whole sentence saying what is wrong with the line that sets `key`."""
        policy.problems.append(
            _("The policy file {path}, line {line}: {problem} Its default is used.").format(
                path=path, line=_line_of(text, key), problem=what)
        )

    for key in document.keys() - TOP_LEVEL:
        problem(key, _("'{key}' is not a policy setting.").format(key=key))
    if "default_model" in document:
        if isinstance(document["default_model"], str):
            policy.default_model = document["default_model"]
        else:
            problem("default_model", _("default_model must be a model id or file name in quotes."))
    if "allowed_models" in document:
        allowed = document["allowed_models"]
        if isinstance(allowed, list) and all(isinstance(a, str) for a in allowed):
            policy.allowed_models = allowed
            if not allowed:
                policy.problems.append(_(
                    "The policy file {path}, line {line}: allowed_models is an empty list, so no model is allowed. "
                    "To allow every model, remove that line."
                ).format(path=path, line=_line_of(text, "allowed_models")))
        else:
            problem("allowed_models", _("allowed_models must be a list of names in quotes."))
    if "downloads" in document:
        if isinstance(document["downloads"], bool):
            policy.downloads = document["downloads"]
        else:
            problem("downloads", _("downloads must be true or false."))
    table = document.get("settings", {})
    if not isinstance(table, dict):
        problem("settings", _("settings must be a table: a line [settings] followed by name = value lines."))
        table = {}
    values = dict(table)
    # `locked` may sit at the top or, written after [settings], inside that table.
    locked = document.get("locked", [])
    if "locked" in values:
        inner = values.pop("locked")
        locked = [*locked, *inner] if isinstance(locked, list) and isinstance(inner, list) else inner
    if "system_prompt" in document:
        values["system_prompt"] = document["system_prompt"]
    for name, value in values.items():
        spec = schema.BY_NAME.get(name)
        if spec is None:
            problem(name, _("'{name}' is not a setting Hearth knows.").format(name=name))
        elif (typed := schema.typed_like(spec.default, value)) is None:
            problem(name, _(_WRONG_TYPE[type(spec.default)]).format(name=name, value=repr(value)))
        elif isinstance(spec, schema.TextSetting) and isinstance(typed, str) and typed.strip() and not spec.within_limits(typed):
            problem(name, _("{name} must be a web address (http or https), not {value}.").format(name=name, value=repr(value)))
        else:
            policy.values[name] = typed
    if isinstance(locked, list):
        for name in locked:
            if not isinstance(name, str):
                problem("locked", _("locked must list setting names in quotes."))
            elif name not in schema.BY_NAME:
                problem("locked", _("'{name}' in locked is not a setting Hearth knows.").format(name=name))
            elif not schema.BY_NAME[name].lockable:
                problem("locked", _("'{name}' cannot be locked: it stays the user's choice.").format(name=name))
            else:
                policy.locked.add(name)
    else:
        problem("locked", _("locked must be a list of setting names in quotes."))
    return policy


class _NotAFile(Exception):
    pass


class _TooLarge(Exception):
    pass


def _read_regular_file(path: Path) -> bytes:
    """The bytes of `path` when it is a regular file of at most MAX_POLICY_BYTES. Opened
    without blocking (a pipe has no writer) and checked once open, so nothing swapped in
    after a check is read."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    facts = os.fstat(descriptor)
    if not stat.S_ISREG(facts.st_mode):
        os.close(descriptor)
        raise _NotAFile
    with os.fdopen(descriptor, "rb") as file:
        if facts.st_size > MAX_POLICY_BYTES:
            raise _TooLarge
        data = file.read(MAX_POLICY_BYTES + 1)
    if len(data) > MAX_POLICY_BYTES:
        raise _TooLarge
    return data


def _line_of(text: str, key: str) -> int:
    """The line where `key` is set, for the error message (a mention in a comment or a
    string does not count); for a name inside `locked`, the locked line; for a table,
    its [header] line or the first dotted key under its name."""
    name = re.escape(key)
    for pattern in (
        rf'^[ \t]*(settings\.)?"?{name}"?[ \t]*=',
        rf'^[ \t]*locked[ \t]*=.*"{name}"',
        rf'^[ \t]*\[\[?[ \t]*"?{name}"?[ \t]*[.\]]',
        rf'^[ \t]*"?{name}"?[ \t]*\.',
    ):
        match = re.search(pattern, text, re.MULTILINE)
        if match:
            return text.count("\n", 0, match.start()) + 1
    return 1
