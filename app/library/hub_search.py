"""Searching the Hugging Face Hub for GGUF models, and listing a repo's GGUF files.

Two read-only JSON endpoints of the Hub API, fetched through app.library.network
like every other request.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

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


def search_models(query: str, endpoint: str = "", token: str = "", limit: int = 30) -> list[HubModel]:
    """Repos with GGUF files matching `query`, most downloaded first."""
    params = urllib.parse.urlencode(
        {"search": query, "filter": "gguf", "sort": "downloads", "direction": "-1", "limit": str(limit)}
    )
    found = network.get_json(f"{network.hub_endpoint(endpoint)}/api/models?{params}", token)
    return [
        HubModel(str(item.get("id") or item.get("modelId")), int(item.get("downloads") or 0), int(item.get("likes") or 0))
        for item in found
        if isinstance(item, dict) and (item.get("id") or item.get("modelId"))
    ]


def quantization_of(file_name: str) -> str:
    match = QUANT_PATTERN.search(file_name.rsplit("/", 1)[-1])
    return match.group(1).upper() if match else "unknown"


def list_gguf_files(repo: str, revision: str = "main", endpoint: str = "", token: str = "") -> list[HubFile]:
    """The single-file GGUF models in `repo` (subfolders too), smallest first."""
    url = f"{network.hub_endpoint(endpoint)}/api/models/{repo}/tree/{urllib.parse.quote(revision, safe='')}?recursive=true"
    files = []
    for item in network.get_json(url, token):
        path = str(item.get("path", ""))
        if item.get("type") != "file" or not path.lower().endswith(".gguf") or SPLIT_PART.search(path) or PROJECTOR.search(path):
            continue
        lfs = item.get("lfs") or {}
        files.append(
            HubFile(repo, path, int(lfs.get("size") or item.get("size") or 0), str(lfs.get("oid") or ""), quantization_of(path))
        )
    return sorted(files, key=lambda f: f.size)
