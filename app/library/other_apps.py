"""Models other local-AI apps already downloaded: LM Studio, GPT4All, Jan and Ollama.

Only their default folders (and the environment variables they document) are
looked at, nothing is changed there, and Hearth offers to use the files where
they are. Where each app keeps its models, with sources, is in docs/LIBRARY.md.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from app.modelfile.gguf_info import GGUF_MAGIC

log = logging.getLogger(__name__)

OLLAMA_WEIGHTS = "application/vnd.ollama.image.model"
OLLAMA_DEFAULT_HOST = "registry.ollama.ai"


@dataclass(frozen=True)
class FoundModel:
    app: str
    name: str
    path: Path
    size: int


def _is_gguf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == GGUF_MAGIC
    except OSError:
        return False


def _gguf_file(app: str, name: str, path: Path) -> Iterator[FoundModel]:
    """The model at `path` if it is a readable GGUF file, else nothing."""
    try:
        if path.is_file() and _is_gguf(path):
            yield FoundModel(app, name, path, path.stat().st_size)
    except OSError:
        return


def _glob(folder: Path, pattern: str) -> list[Path]:
    try:
        return sorted(folder.glob(pattern)) if folder.is_dir() else []
    except OSError:
        return []


def _lm_studio(home: Path, env: Mapping[str, str]) -> Iterator[FoundModel]:
    homes = [Path(env["LMSTUDIO_HOME"])] if env.get("LMSTUDIO_HOME") else []
    with contextlib.suppress(OSError, ValueError):
        homes.append(Path((home / ".lmstudio-home-pointer").read_text(encoding="utf-8").strip()))
    homes += [home / ".lmstudio", home / ".cache" / "lm-studio"]
    for studio in dict.fromkeys(homes):
        for path in _glob(studio / "models", "*/*/*.gguf"):
            if not path.name.lower().startswith("mmproj"):
                yield from _gguf_file("LM Studio", f"{path.parent.name}/{path.stem}", path)


def _gpt4all(home: Path, env: Mapping[str, str], platform: str) -> Iterator[FoundModel]:
    if platform == "win32":
        folders = [Path(env.get("LOCALAPPDATA", home / "AppData" / "Local")) / "nomic.ai" / "GPT4All"]
    elif platform == "darwin":
        folders = [home / "Library" / "Application Support" / "nomic.ai" / "GPT4All"]
    else:
        folders = [Path(env.get("XDG_DATA_HOME") or home / ".local" / "share") / "nomic.ai" / "GPT4All"]
    folders.append(home / ".cache" / "gpt4all")  # the Python bindings' folder, on every system
    for folder in folders:
        for path in _glob(folder, "**/*.gguf"):
            if not path.name.startswith("incomplete"):  # GPT4All's partial downloads
                yield from _gguf_file("GPT4All", path.stem, path)


def _jan_data_folders(home: Path, env: Mapping[str, str], platform: str) -> list[Path]:
    if env.get("JAN_DATA_FOLDER"):
        return [Path(env["JAN_DATA_FOLDER"])]
    folders = [home / "jan"]
    if platform == "win32":
        folders.append(Path(env.get("APPDATA", home / "AppData" / "Roaming")) / "Jan" / "data")
    elif platform == "darwin":
        folders.append(home / "Library" / "Application Support" / "Jan" / "data")
    else:
        folders.append(Path(env.get("XDG_DATA_HOME") or home / ".local" / "share") / "Jan" / "data")
        folders.append(home / ".config" / "Jan" / "data")
    return folders


def _jan(home: Path, env: Mapping[str, str], platform: str) -> Iterator[FoundModel]:
    for data in _jan_data_folders(home, env, platform):
        for description in _glob(data / "llamacpp" / "models", "**/model.yml"):
            try:
                text = description.read_text(encoding="utf-8")
            except OSError:
                continue
            match = re.search(r"^model_path:\s*['\"]?(.+?)['\"]?\s*$", text, re.MULTILINE)
            if match:
                path = Path(match.group(1))
                path = path if path.is_absolute() else data / path
                name = description.parent.relative_to(data / "llamacpp" / "models").as_posix()
                yield from _gguf_file("Jan", name, path)
        for path in _glob(data / "models", "*/*.gguf"):
            yield from _gguf_file("Jan", path.parent.name, path)


def ollama_name(host: str, namespace: str, model: str, tag: str) -> str:
    """`registry.ollama.ai/library/llama3.2/latest` is shown as `llama3.2:latest`."""
    if host == OLLAMA_DEFAULT_HOST:
        return f"{model}:{tag}" if namespace == "library" else f"{namespace}/{model}:{tag}"
    return f"{host}/{namespace}/{model}:{tag}"


def _ollama(home: Path, env: Mapping[str, str]) -> Iterator[FoundModel]:
    roots = [Path(env["OLLAMA_MODELS"])] if env.get("OLLAMA_MODELS") else []
    roots += [home / ".ollama" / "models", Path("/usr/share/ollama/.ollama/models")]
    for root in dict.fromkeys(roots):
        for manifest in _glob(root / "manifests", "*/*/*/*"):
            try:
                layers = json.loads(manifest.read_text(encoding="utf-8")).get("layers", [])
            except (OSError, ValueError, AttributeError):
                continue
            weights = [layer for layer in layers if isinstance(layer, dict) and layer.get("mediaType") == OLLAMA_WEIGHTS]
            if not weights or not str(weights[0].get("digest", "")).startswith("sha256:"):
                continue
            digest = weights[0]["digest"].split(":", 1)[1]
            host, namespace, model, tag = manifest.relative_to(root / "manifests").parts
            name = ollama_name(host, namespace, model, tag)
            blobs = (root / "blobs" / f"sha256-{digest}", root / "blobs" / f"sha256:{digest}")  # old versions used ':'
            first = next((m for blob in blobs for m in _gguf_file("Ollama", name, blob)), None)
            if first is not None:
                yield first


def find_other_apps_models(
    home: Path | None = None,
    env: Mapping[str, str] | None = None,
    platform: str = sys.platform,
) -> list[FoundModel]:
    """GGUF models in the default folders of LM Studio, GPT4All, Jan and Ollama.

    Reads only file headers and small JSON/YAML files: fast, and no network.
    """
    home = Path.home() if home is None else home
    env = os.environ if env is None else env
    found: dict[Path, FoundModel] = {}
    for model in (
        *_lm_studio(home, env),
        *_gpt4all(home, env, platform),
        *_jan(home, env, platform),
        *_ollama(home, env),
    ):
        found.setdefault(model.path.resolve(), model)
    return list(found.values())
