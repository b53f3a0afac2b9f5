"""The curated list of recommended models shipped in resources/catalog.json."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from app.modelfile.gguf_info import kv_bytes_per_token
from app.platform.errors import HearthError
from app.platform.i18n import _
from app.platform.paths import RESOURCES_DIR

CATALOG_FILE = RESOURCES_DIR / "catalog.json"


@dataclass(frozen=True)
class CatalogModel:
    id: str
    name: str
    repo: str
    file: str
    quantization: str
    size_bytes: int
    parameters: int
    context_length: int
    layers: int
    kv_heads: int
    head_dim: int
    license: str
    ram_gb: float
    description: str
    sources: list[str]
    sha256: str = ""
    revision: str = ""  # set when the catalog knows the newest commit of the file
    notes: dict[str, str] = field(default_factory=dict)
    # What the model is for: "chat" writes replies; "embedding" finds passages in the
    # documents by meaning and cannot chat (the library never loads it as the chat model).
    kind: str = "chat"

    @property
    def kv_bytes_per_token(self) -> int:
        return kv_bytes_per_token(self.layers, self.kv_heads, self.head_dim)

    @property
    def is_embedding(self) -> bool:
        return self.kind == "embedding"


KINDS = ("chat", "embedding")
OPTIONAL = ("sha256", "revision", "notes", "kind")
REQUIRED = [f.name for f in fields(CatalogModel) if f.name not in OPTIONAL]


def load_catalog(path: Path = CATALOG_FILE) -> list[CatalogModel]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HearthError(_("The list of recommended models could not be read ({reason}).").format(reason=exc)) from exc
    known = {f.name for f in fields(CatalogModel)}
    return [CatalogModel(**{k: v for k, v in raw.items() if k in known}) for raw in document["models"]]


def find_in_catalog(catalog: list[CatalogModel], repo: str, repo_file: str) -> CatalogModel | None:
    return next((m for m in catalog if m.repo == repo and m.file == repo_file), None)
