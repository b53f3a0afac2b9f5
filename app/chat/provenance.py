"""What produced an assistant reply: the record kept with it, and that record in plain words.

The record is a plain JSON-able dict (`Message.provenance`), so exporters and other tools
read it without Hearth's classes. Its keys (version 1):

    version          1
    model            {name, file, size, sha256, id, architecture, parameters, quantization}
                     (sha256 "" where the file is not in the library: see ModelFile)
    prompt_format    the format the prompt was written in (the backend's choice for "auto")
    prompt_format_setting   what the settings asked for ("auto", "model", "chatml", ...)
    sampling         {temperature, top_p, max_tokens, repeat_penalty, seed}: seed is the one
                     the sampler ran with, also when the settings asked for a random one
    seed_was_random  the settings asked for a new random seed (-1)
    context_length   tokens the model read at once
    threads          CPU threads llama.cpp ran on (0: another computer ran it)
    safe_mode        the engine's speed-ups were off
    engine           the backend's version ("llama-cpp-python 0.3.36 (llama.cpp ...)")
    hearth           Hearth's version
    assistant        the conversation's assistant id ("" for a conversation from before assistants)
    assistant_name   that assistant's name when the reply was written (absent in older records)
    system_prompt    what the model was told first
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app import __version__
from app.backends.base import ModelFacts, ReplyStats, prompt_format_label
from app.config.settings import SamplingSettings
from app.library.model_library import ModelEntry
from app.platform.i18n import _, ngettext

PROVENANCE_VERSION = 1


@dataclass(frozen=True)
class ModelFile:
    """The model file a reply is written with, as the model library knows it.

    The sha256 comes from the library's manifest, hashed once when the file was added:
    hashing per reply is far too slow (a 4.7 GB model takes seconds to read). "" where the
    file is not in the library (`hearth ask --model some.gguf`)."""

    file_name: str
    size: int
    sha256: str
    model_id: str = ""
    name: str = ""  # what the library calls it; "" for the name in the file's metadata

    @classmethod
    def from_entry(cls, entry: ModelEntry) -> ModelFile:
        return cls(Path(entry.path).name, entry.size, entry.sha256, entry.id, entry.name)

    @classmethod
    def outside_library(cls, path: Path) -> ModelFile:
        return cls(path.name, path.stat().st_size, "", str(path))


def record(
    facts: ModelFacts,
    model_file: ModelFile | None,
    sampling: SamplingSettings,
    seed_was_random: bool,
    prompt_format_setting: str,
    system_prompt: str,
    assistant: str,
    *,
    assistant_name: str = "",
) -> dict[str, Any]:
    """The provenance of a reply about to be written with `sampling` (its seed the one the
    sampler will use). The prompt format is the setting until the backend says which it chose
    (`as_reported`)."""
    return {
        "version": PROVENANCE_VERSION,
        "model": {
            "name": (model_file.name if model_file else "") or facts.name,
            "file": model_file.file_name if model_file else (facts.ref.path.name if facts.ref.path else facts.ref.name),
            "size": model_file.size if model_file else 0,
            "sha256": model_file.sha256 if model_file else "",
            "id": model_file.model_id if model_file else "",
            "architecture": facts.architecture,
            "parameters": facts.parameters,
            "quantization": facts.quantization,
        },
        "prompt_format": prompt_format_setting,
        "prompt_format_setting": prompt_format_setting,
        "sampling": asdict(sampling),
        "seed_was_random": seed_was_random,
        "context_length": facts.context_length,
        "threads": facts.threads,
        "safe_mode": facts.safe_mode,
        "engine": facts.engine_version,
        "hearth": __version__,
        "assistant": assistant,
        "assistant_name": assistant_name,
        "system_prompt": system_prompt,
    }


def as_reported(provenance: dict[str, Any], stats: ReplyStats) -> dict[str, Any]:
    """The record with what the backend reports it did: the prompt format it chose, and the
    seed it ran with (a backend that could not use the seed asked for says which it used)."""
    seed = stats.seed if stats.seed >= 0 else provenance["sampling"]["seed"]
    return {**provenance, "prompt_format": stats.prompt_format, "sampling": {**provenance["sampling"], "seed": seed}}


def recorded_sampling(provenance: dict[str, Any]) -> SamplingSettings:
    """The sampling settings a reply was written with, its seed the one actually used."""
    return SamplingSettings(**provenance["sampling"])


def _megabytes(size: int) -> str:
    return _("{size} MB").format(size=f"{size / 1e6:,.1f}" if size < 10e6 else f"{size / 1e6:,.0f}")


def describe_model(provenance: dict[str, Any]) -> str:
    """'SmolLM2-135M-Instruct (Q8_0; file smollm2.gguf, 145 MB, sha256 9f2…)'."""
    model = provenance["model"]
    sha256 = model["sha256"] or _("not known: the file is not in the library")
    return _("{name} ({quantization}; file {file}, {size}, sha256 {sha256})").format(
        name=model["name"], quantization=model["quantization"] or "?", file=model["file"],
        size=_megabytes(model["size"]), sha256=sha256,
    )


def describe(provenance: dict[str, Any]) -> str:
    """The record in plain words, one fact a line; for a message without one, that
    nothing was recorded."""
    if not provenance:
        return _(
            "Nothing was recorded about how this message was written: it is your own message, or "
            "a reply from before Hearth kept such records."
        )
    if provenance.get("version") != PROVENANCE_VERSION:
        return _("This reply's record was written by another version of Hearth:") + "\n" + json.dumps(provenance, indent=2)
    sampling = provenance["sampling"]
    seed_note = _("chosen at random for this reply") if provenance["seed_was_random"] else _("set in Settings")
    # The name it had when the reply was written; records from before names were kept have the id.
    assistant = provenance.get("assistant_name") or provenance["assistant"] or _("none (the default system prompt)")
    threads = provenance["threads"]
    lines = [
        _("Written by {model}.").format(model=describe_model(provenance)),
        _("Prompt format: {format}.").format(format=prompt_format_label(provenance["prompt_format"])),
        _("Sampling: temperature {temperature}, top-p {top_p}, repeat penalty {repeat_penalty}, "
          "at most {max_tokens} tokens.").format(**sampling),
        _("Seed: {seed} ({note}).").format(seed=sampling["seed"], note=seed_note),
        (_("Context: {context:,} tokens; run on another computer.") if threads == 0 else ngettext(
            "Context: {context:,} tokens; {count} CPU thread.", "Context: {context:,} tokens; {count} CPU threads.", threads
        )).format(context=provenance["context_length"], count=threads),
        (_("Engine: {engine}, in safe mode.") if provenance["safe_mode"] else _("Engine: {engine}.")).format(
            engine=provenance["engine"] or _("not known")
        ),
        _("Hearth: {version}.").format(version=provenance["hearth"]),
        _("Assistant: {assistant}; system prompt: “{system_prompt}”.").format(
            assistant=assistant, system_prompt=provenance["system_prompt"]
        ),
    ]
    return "\n".join(lines)


# What `differences` compares, and how a person reads each: the recorded value's path in
# the record, and its name.
def _compared() -> list[tuple[tuple[str, ...], str]]:
    return [
        (("model", "sha256"), _("model file (sha256)")),
        (("prompt_format_setting",), _("prompt format")),
        (("sampling", "temperature"), _("temperature")),
        (("sampling", "top_p"), _("top-p")),
        (("sampling", "repeat_penalty"), _("repeat penalty")),
        (("sampling", "max_tokens"), _("longest reply (tokens)")),
        (("context_length",), _("context length")),
        (("threads",), _("CPU threads")),
        (("safe_mode",), _("safe mode")),
        (("engine",), _("engine")),
        (("hearth",), _("Hearth version")),
        (("system_prompt",), _("system prompt")),
        (("assistant",), _("assistant")),
    ]


def _at(provenance: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = provenance
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _shown(value: Any) -> str:
    """A recorded value as a person reads it: on and off, not True and False."""
    if value is True:
        return _("on")
    if value is False:
        return _("off")
    return _("not recorded") if value is None else str(value)


def differences(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Where `current` (a record of how a reply would be written now) differs from the
    `recorded` one, in plain words: 'temperature: 0.7 then, 1.2 now'. The seed counts
    only when both are fixed, or one is random and the other not."""
    found = [
        _("{setting}: {then} then, {now} now").format(
            setting=name, then=_shown(_at(recorded, path)), now=_shown(_at(current, path)))
        for path, name in _compared()
        if _at(recorded, path) != _at(current, path)
    ]
    recorded_seed, current_seed = recorded["sampling"]["seed"], current["sampling"]["seed"]
    if current["seed_was_random"] and not recorded["seed_was_random"]:
        found.append(_("seed: {then} then, a new random one for each reply now").format(then=recorded_seed))
    elif not current["seed_was_random"] and recorded_seed != current_seed:
        found.append(_("seed: {then} then, {now} now").format(then=recorded_seed, now=current_seed))
    return found
