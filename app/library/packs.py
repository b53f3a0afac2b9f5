"""Classroom packs: models and settings carried from one computer to many on a USB stick.

A pack is a folder: `models/`, `settings.json`, optionally `installer/`, and
`hearth-pack.json` listing every file with its size and sha256. The list is
written last, so a pack whose export was cut off has none and is refused.
Importing checks every file is there before copying anything, checks the disk
has room, copies into a staging folder while hashing, and only then adds the
models, so a bad file leaves nothing half-imported behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import stat
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from app import __version__
from app.config.settings import Settings, load_settings, save_settings, settings_from_dict
from app.library.model_library import (
    STAGING_LOCK,
    STAGING_PREFIX,
    ModelEntry,
    ModelLibrary,
    ensure_free_space,
    remove_stale_staging,
    shareable_source,
)
from app.library.network import SHA256_HEX
from app.platform.atomic import write_atomically
from app.platform.errors import HearthError, StorageError
from app.platform.file_lock import exclusive_lock
from app.platform.hashing import ParallelHasher
from app.platform.i18n import _, ngettext

PACK_MANIFEST = "hearth-pack.json"
PACK_FORMAT = "hearth-pack"
PACK_FOLDER = "hearth-pack"  # what the window writes into the folder a person picks (a USB stick)
PACK_VERSION = 1
COPY_CHUNK = 8 * 1024 * 1024
# The parts of the settings a teacher hands on: how models run and the default assistant.
SHARED_SETTINGS = ("engine", "sampling", "system_prompt")
# Engine settings each computer keeps for itself: every laptop uses its own cores.
OWN_ENGINE_SETTINGS = ("threads",)
# Read whole, so their size is checked first: a real list is a few KB, settings under 1 KB
# (a settings.json linked to /dev/zero grew memory without limit).
MAX_PACK_LIST_BYTES = 16 * 1024 * 1024
MAX_SETTINGS_BYTES = 1024 * 1024

Progress = Callable[[int, int], None]


class PackError(HearthError):
    """A pack that cannot be written or read; the text names the file and what to do."""


@dataclass
class PackFile:
    path: str  # relative to the pack folder, with forward slashes
    size: int
    sha256: str
    kind: str  # "model", "settings" or "installer"
    model: dict[str, Any] = field(default_factory=dict)  # name, license, source... for models


@dataclass(frozen=True)
class ImportResult:
    added: list[ModelEntry]
    already_there: list[str]
    settings_applied: bool


def copy_hashed(source: Path, target: Path, progress: Callable[[int], None] = lambda n: None) -> str:
    """Copy `source` to `target`, hashing on a second thread; returns the sha256.
    `progress(bytes)` is called after each block."""
    hasher = ParallelHasher()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with source.open("rb") as reader, target.open("wb") as writer:
            while block := reader.read(COPY_CHUNK):
                writer.write(block)
                hasher.add(block)
                progress(len(block))
    finally:
        digest = hasher.digest()
    return digest.hexdigest()


class _Counter:
    def __init__(self, total: int, report: Progress | None) -> None:
        self.total, self.done, self._report = total, 0, report

    def __call__(self, count: int) -> None:
        self.done += count
        if self._report is not None:
            self._report(self.done, self.total)


def export_pack(
    destination: Path,
    library: ModelLibrary,
    settings: Settings | None,
    model_ids: list[str],
    installer: Path | None = None,
    progress: Progress | None = None,
) -> list[PackFile]:
    """Write a pack of `model_ids`, with the shared part of `settings` (None: no
    settings) and `installer` (a file or folder) if given."""
    entries = []
    for model_id in model_ids:
        entry = library.get(model_id)
        if entry is None:
            raise PackError(
                _("There is no model '{model}' to export. Run 'hearth models list' to see them.").format(model=model_id)
            )
        entries.append(entry)
    if not entries:
        raise PackError(_("Choose at least one model to export."))
    installer_files = _installer_files(installer)
    total = sum(e.size for e in entries) + sum(f.stat().st_size for f in installer_files)
    destination.mkdir(parents=True, exist_ok=True)
    (destination / PACK_MANIFEST).unlink(missing_ok=True)  # a re-export is incomplete until done
    ensure_free_space(destination, total, _("the pack in {folder}").format(folder=destination), margin=0)
    count = _Counter(total, progress)
    files: list[PackFile] = []
    try:
        taken: set[str] = set()
        for entry in entries:
            name = Path(entry.path).name
            relative = f"models/{name if name not in taken else f'{entry.id}-{name}'}"
            taken.add(Path(relative).name)
            digest = copy_hashed(library.file_of(entry), destination / relative, count)
            if digest != entry.sha256:
                raise PackError(_(
                    "{model} is damaged on this computer (its checksum changed), so it was not "
                    "exported. Delete it and get it again."
                ).format(model=entry.shown_name))
            origin = {k: getattr(entry, k) for k in ("name", "license", "repo", "repo_file", "revision", "url")}
            origin["source"] = shareable_source(entry.source)
            files.append(PackFile(relative, entry.size, digest, "model", origin))
        base = installer.parent if installer is not None and installer.is_file() else installer
        for item in installer_files:
            assert base is not None
            relative = f"installer/{item.relative_to(base).as_posix()}"
            digest = copy_hashed(item, destination / relative, count)
            files.append(PackFile(relative, item.stat().st_size, digest, "installer"))
        (destination / "settings.json").unlink(missing_ok=True)
        if settings is not None:
            shared = {key: value for key, value in asdict(settings).items() if key in SHARED_SETTINGS}
            for key in OWN_ENGINE_SETTINGS:
                shared["engine"].pop(key)
            data = json.dumps(shared, indent=2).encode("utf-8")
            write_atomically(destination / "settings.json", data)
            files.append(PackFile("settings.json", len(data), _sha256_bytes(data), "settings"))
        document = {
            "format": PACK_FORMAT, "version": PACK_VERSION, "created_at": time.time(),
            "hearth_version": __version__, "files": [asdict(f) for f in files],
        }
        write_atomically(destination / PACK_MANIFEST, json.dumps(document, indent=2).encode("utf-8"))
    except OSError as exc:
        raise PackError(_("The pack could not be written to {folder} ({reason}).").format(
            folder=destination, reason=exc.strerror or exc)) from exc
    return files


def read_pack(folder: Path) -> list[PackFile]:
    manifest = folder / PACK_MANIFEST
    kind = _file_kind(folder, PACK_MANIFEST)
    if kind == "missing":
        raise PackError(_(
            "{folder} is not a complete Hearth pack: {file} is missing. If the export was "
            "interrupted, export it again."
        ).format(folder=folder, file=PACK_MANIFEST))
    if kind != "file":
        raise PackError(_not_a_file(PACK_MANIFEST))
    try:
        if manifest.stat().st_size > MAX_PACK_LIST_BYTES:
            raise PackError(_damaged_list(manifest))
        document = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise PackError(_damaged_list(manifest)) from exc
    if not isinstance(document, dict) or document.get("format") != PACK_FORMAT:
        raise PackError(_("{file} is not a Hearth pack list.").format(file=manifest))
    version = document.get("version")
    if type(version) is not int:
        raise PackError(_damaged_list(manifest))
    if version > PACK_VERSION:
        raise PackError(_("This pack was made by a newer Hearth. Update Hearth on this computer first."))
    try:
        files = [PackFile(**raw) for raw in document["files"]]
    except (KeyError, TypeError) as exc:
        raise PackError(_damaged_list(manifest)) from exc
    for item in files:
        if not (isinstance(item.path, str) and isinstance(item.size, int) and isinstance(item.model, dict)
                and isinstance(item.sha256, str) and SHA256_HEX.fullmatch(item.sha256)):
            raise PackError(_damaged_list(manifest))
        if not _inside_pack(item.path) or (item.kind == "model" and not item.path.startswith("models/")):
            raise PackError(
                _("The pack names a file outside its folder ({file}); it was not imported.").format(file=item.path)
            )
    seen: set[str] = set()
    for item in files:
        if item.path.casefold() in seen:
            raise PackError(_(
                "The pack's list of files lists {file} twice, so it is damaged. Export the pack again."
            ).format(file=item.path))
        seen.add(item.path.casefold())
    return files


def _file_kind(folder: Path, relative: str) -> str:
    """"file", "missing" or "other" (a link, a pipe, a device, a folder), looking at each
    part of the path without following a link or opening anything: a FIFO would hang the
    read, and a link can pull in any file of the computer that made the pack."""
    path = folder
    parts = PurePosixPath(relative).parts
    for number, part in enumerate(parts, start=1):
        path = path / part
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:
            return "missing"
        except OSError:
            return "other"
        last = number == len(parts)
        if stat.S_ISLNK(mode) or (last and not stat.S_ISREG(mode)) or (not last and not stat.S_ISDIR(mode)):
            return "other"
    return "file"


def _not_a_file(relative: str) -> str:
    return _(
        "{file} in the pack is not an ordinary file (it is a link, a device or a pipe), so nothing "
        "was imported. Copy the pack again from the first computer."
    ).format(file=relative)


def _damaged_list(manifest: Path) -> str:
    return _("The pack's list of files ({file}) is damaged. Export the pack again.").format(file=manifest)


def _inside_pack(path: str) -> bool:
    """A plain relative path with forward slashes, on every system (no drive, no '..')."""
    posix, windows = PurePosixPath(path), PureWindowsPath(path)
    return (
        bool(path) and not posix.is_absolute() and not windows.anchor and "\\" not in path and ":" not in path
        and ".." not in posix.parts
    )


def missing_files(folder: Path, files: list[PackFile]) -> list[str]:
    """Files listed in the pack that are absent or of the wrong size (copied incompletely)."""
    problems = []
    for item in files:
        path = folder / item.path
        kind = _file_kind(folder, item.path)
        if kind == "other":
            raise PackError(_not_a_file(item.path))
        try:
            size = path.lstat().st_size if kind == "file" else -1
        except OSError:
            size = -1
        if size < 0:
            problems.append(_("{file} (missing)").format(file=item.path))
            continue
        if size != item.size:
            problems.append(ngettext("{file} ({size} of {expected} byte)", "{file} ({size} of {expected} bytes)", item.size).format(
                file=item.path, size=f"{size:,}", expected=f"{item.size:,}"))
    return problems


def pack_folder(chosen: Path) -> Path:
    """The pack in the folder a person chose: that folder, or the pack the window exported
    into it (a person picks the USB stick they exported to, not the folder inside it)."""
    inner = chosen / PACK_FOLDER
    return inner if not (chosen / PACK_MANIFEST).exists() and (inner / PACK_MANIFEST).exists() else chosen


def import_pack(chosen: Path, library: ModelLibrary, settings_file: Path, progress: Progress | None = None) -> ImportResult:
    """Verify and add a pack's models and settings; on any problem nothing is added."""
    folder = pack_folder(chosen)
    files = read_pack(folder)
    problems = missing_files(folder, files)
    if problems:
        raise PackError(_(
            "The pack is incomplete, so nothing was imported. Missing or cut short: {files}. "
            "Copy the pack again from the first computer."
        ).format(files=", ".join(problems)))
    installed = {m.sha256 for m in library.models()}
    models = [f for f in files if f.kind == "model"]
    new = [f for f in models if f.sha256 not in installed]
    ensure_free_space(library.models_dir, sum(f.size for f in new), _("the pack's models"))
    count = _Counter(sum(f.size for f in new), progress)
    added: list[ModelEntry] = []
    try:  # a pulled USB stick, a folder Hearth may not write
        shared = _verified_settings(folder, files)
        with _staging(library.models_dir) as staging:
            _import_staged(folder, new, shared, staging, library, settings_file, count, added)
    except OSError as exc:
        raise StorageError(
            _("The pack could not be imported ({reason}). Nothing was added.").format(reason=exc.strerror or exc)
        ) from exc
    already = [str(f.model.get("name") or f.path) for f in models if f.sha256 in installed]
    return ImportResult(added, already, shared is not None)


@contextlib.contextmanager
def _staging(models_dir: Path) -> Iterator[Path]:
    """A staging folder of this import's own, locked while it runs. Folders that an import
    killed left behind go first, but never one whose import is still running (two imports
    at once: the second deleted the first one's folder mid-copy)."""
    with contextlib.ExitStack() as holding:
        with exclusive_lock(models_dir / ".pack-imports.lock"):
            remove_stale_staging(models_dir)
            staging = models_dir / f"{STAGING_PREFIX}{uuid.uuid4().hex}"
            staging.mkdir()
            holding.enter_context(exclusive_lock(staging / STAGING_LOCK))
        try:
            yield staging
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _import_staged(
    folder: Path,
    new: list[PackFile],
    shared: dict[str, Any] | None,
    staging: Path,
    library: ModelLibrary,
    settings_file: Path,
    count: _Counter,
    added: list[ModelEntry],
) -> None:
    for item in new:  # every file verified before any is added
        digest = copy_hashed(folder / item.path, staging / item.path, count)
        if digest != item.sha256:
            raise PackError(_(
                "{file} in the pack is damaged (its checksum does not match), so nothing was "
                "imported. Copy the pack again from the first computer."
            ).format(file=item.path))
    before = {m.id for m in library.models()}
    try:
        for item in new:
            origin = {k: str(item.model.get(k, "")) for k in ("repo", "repo_file", "revision", "url")}
            added.append(library.add_verified(
                staging / item.path, file_name=Path(item.path).name, sha256=item.sha256,
                name=str(item.model.get("name", "")), license_name=str(item.model.get("license", "")),
                source=f"Classroom pack ({item.model.get('source') or 'no source recorded'})", **origin,
            ))
        if shared is not None:
            _apply_settings(shared, settings_file)
    except BaseException:
        for entry in library.models():
            if entry.id not in before:  # what this import added; never a model the user had
                library.remove(entry.id)
        raise


def _verified_settings(folder: Path, files: list[PackFile]) -> dict[str, Any] | None:
    item = next((f for f in files if f.kind == "settings"), None)
    if item is None:
        return None
    if item.size > MAX_SETTINGS_BYTES:
        raise PackError(_(
            "{file} in the pack is too big to be settings ({size} bytes), so nothing was imported."
        ).format(file=item.path, size=f"{item.size:,}"))
    data = (folder / item.path).read_bytes()
    if _sha256_bytes(data) != item.sha256:
        raise PackError(_("{file} in the pack is damaged, so nothing was imported. Copy the pack again.").format(file=item.path))
    try:
        shared = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        shared = None
    if not isinstance(shared, dict):
        raise PackError(_(
            "{file} in the pack does not hold valid settings, so nothing was imported. Export the pack again."
        ).format(file=item.path))
    defaults = asdict(Settings())
    kept = {key: value for key, value in shared.items() if key in SHARED_SETTINGS and isinstance(value, type(defaults[key]))}
    if isinstance(kept.get("engine"), dict):
        kept["engine"] = {key: value for key, value in kept["engine"].items() if key not in OWN_ENGINE_SETTINGS}
    return kept


def _apply_settings(shared: dict[str, Any], settings_file: Path) -> None:
    """The pack's engine, sampling and default system prompt; this computer's own choices
    (window, last model, Hub address) stay."""
    current = asdict(load_settings(settings_file))
    for key, value in shared.items():
        if isinstance(value, dict):
            current[key].update(value)  # e.g. engine: the pack has no thread count
        else:
            current[key] = value
    save_settings(settings_from_dict(current), settings_file)


def _installer_files(installer: Path | None) -> list[Path]:
    if installer is None:
        return []
    if installer.is_file():
        return [installer]
    if installer.is_dir():
        return sorted(p for p in installer.rglob("*") if p.is_file())
    raise PackError(_("The installer {file} was not found.").format(file=installer))


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
