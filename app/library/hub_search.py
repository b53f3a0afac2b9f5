"""Searching the Hugging Face Hub for GGUF models, and listing a repo's GGUF files.

Two read-only JSON endpoints of the Hub API, fetched through app.library.network
like every other request.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from app.library import network

# The quantization in a GGUF file name: Q4_K_M, IQ3_XS, Q8_0, F16, BF16...
QUANT_PATTERN = re.compile(r"(?<![A-Za-z0-9])(I?Q\d(?:_[A-Z0-9]+)*|BF16|F16|F32)(?![A-Za-z0-9])", re.IGNORECASE)
# A model split into several files: Hearth downloads single files only, so these are not offered.
SPLIT_PART = re.compile(r"-\d{5}-of-\d{5}\.gguf$", re.IGNORECASE)
# Vision add-ons, not chat models.
PROJECTOR = re.compile(r"(^|/)mmproj", re.IGNORECASE)


@dataclass(frozen=True)
class HubModel:
    repo: str
    downloads: int
    likes: int


@dataclass(frozen=True)
class HubFile:
    repo: str
    path: str
    size: int
    sha256: str
    quantization: str


def _count(value: object) -> int:
    """A count from the Hub's JSON; anything odd ("lots", 1.5, -5, null) counts as 0."""
    return value if type(value) is int and value >= 0 else 0


def _tables(answer: Any) -> list[dict[str, Any]]:
    """The objects of a JSON list answer; odd items, or an answer that is no list, are ignored."""
    return [item for item in answer if isinstance(item, dict)] if isinstance(answer, list) else []


def search_models(query: str, endpoint: str = "", token: str = "", limit: int = 30) -> list[HubModel]:
    """Repos with GGUF files matching `query`, most downloaded first."""
    params = urllib.parse.urlencode(
        {"search": query, "filter": "gguf", "sort": "downloads", "direction": "-1", "limit": str(limit)}
    )
    found = network.get_json(f"{network.hub_endpoint(endpoint)}/api/models?{params}", token)
    models = []
    for item in _tables(found):
        repo = item.get("id") or item.get("modelId")
        if isinstance(repo, str) and repo:
            models.append(HubModel(repo, _count(item.get("downloads")), _count(item.get("likes"))))
    return models


def quantization_of(file_name: str) -> str:
    match = QUANT_PATTERN.search(file_name.rsplit("/", 1)[-1])
    return match.group(1).upper() if match else "unknown"


def list_gguf_files(repo: str, revision: str = "main", endpoint: str = "", token: str = "") -> list[HubFile]:
    """The single-file GGUF models in `repo` (subfolders too), smallest first."""
    url = f"{network.hub_endpoint(endpoint)}/api/models/{repo}/tree/{urllib.parse.quote(revision, safe='')}?recursive=true"
    files = []
    for item in _tables(network.get_json(url, token)):
        path = item.get("path")
        if not isinstance(path, str) or item.get("type") != "file" or not path.lower().endswith(".gguf"):
            continue
        if SPLIT_PART.search(path) or PROJECTOR.search(path):
            continue
        lfs = item["lfs"] if isinstance(item.get("lfs"), dict) else {}
        oid = lfs.get("oid")
        sha256 = oid.lower() if isinstance(oid, str) and network.SHA256_HEX.fullmatch(oid.lower()) else ""
        files.append(HubFile(repo, path, _count(lfs.get("size")) or _count(item.get("size")), sha256, quantization_of(path)))
    return sorted(files, key=lambda f: f.size)
