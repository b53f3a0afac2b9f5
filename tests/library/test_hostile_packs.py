"""Packs made to harm the student's computer: odd model names, links, FIFOs and devices
inside the pack, oversized or broken settings, lists that repeat a file or lie about types."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import pytest

from app.config.settings import Settings, load_settings, save_settings
from app.library.downloads import Downloader
from app.library.model_library import STAGING_LOCK, ModelLibrary
from app.library.packs import PACK_MANIFEST, PackError, import_pack, read_pack
from app.platform.file_lock import exclusive_lock
from app.platform.paths import AppPaths
from tests.gguf_factory import MakeGguf
from tests.library.test_packs import export_all, student, teacher_with


@pytest.fixture
def teacher(tmp_path: Path, synthetic_gguf: MakeGguf) -> AppPaths:
    return teacher_with(tmp_path, [synthetic_gguf("Tiny-Llama.Q4_1.gguf")])


def edited(usb: Path, change: object) -> None:
    document = json.loads((usb / PACK_MANIFEST).read_text())
    change(document)  # type: ignore[operator]
    (usb / PACK_MANIFEST).write_text(json.dumps(document))


def model_item(document: dict) -> dict:  # type: ignore[type-arg]
    return next(f for f in document["files"] if f["kind"] == "model")


def renamed(usb: Path, new_path: str) -> None:
    document = json.loads((usb / PACK_MANIFEST).read_text())
    item = model_item(document)
    target = usb / new_path
    target.parent.mkdir(parents=True, exist_ok=True)
    (usb / item["path"]).replace(target)
    item["path"] = new_path
    (usb / PACK_MANIFEST).write_text(json.dumps(document))


@pytest.mark.parametrize("odd", ["models/.downloads", "models/manifest.json", "models/..gguf", "models/a b?*.bin"])
def test_an_odd_model_name_becomes_a_safe_gguf_name_and_downloads_still_work(
    teacher: AppPaths, tmp_path: Path, odd: str
) -> None:
    usb = tmp_path / "usb"
    export_all(teacher, usb)
    renamed(usb, odd)
    other = student(tmp_path)
    library = ModelLibrary(other.models_dir)
    [entry] = import_pack(usb, library, other.settings_file).added
    assert entry.path.endswith(".gguf") and not entry.path.startswith(".") and "/" not in entry.path
    assert entry.path not in ("manifest.json", ".downloads")
    Downloader(library).save(Downloader(library).latest(_job()))  # the downloads folder still works
    assert (other.models_dir / ".downloads").is_dir()


def _job():  # type: ignore[no-untyped-def]
    from app.library.downloads import job_for_url

    return job_for_url("http://127.0.0.1:9/x.gguf")


def test_a_packs_engine_settings_never_replace_the_students_threads(teacher: AppPaths, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    export_all(teacher, usb)
    shared = json.loads((usb / "settings.json").read_text())
    shared["engine"]["threads"] = 1
    data = json.dumps(shared).encode()
    (usb / "settings.json").write_bytes(data)

    def fix(document: dict) -> None:  # type: ignore[type-arg]
        item = next(f for f in document["files"] if f["kind"] == "settings")
        item["size"], item["sha256"] = len(data), hashlib.sha256(data).hexdigest()

    edited(usb, fix)
    other = student(tmp_path)
    mine = Settings()
    mine.engine.threads = 6
    save_settings(mine, other.settings_file)
    import_pack(usb, ModelLibrary(other.models_dir), other.settings_file)
    assert load_settings(other.settings_file).engine.threads == 6


def _swap_model_for(usb: Path, make: object) -> Path:
    document = json.loads((usb / PACK_MANIFEST).read_text())
    target = usb / model_item(document)["path"]
    target.unlink()
    make(target)  # type: ignore[operator]
    return target


@pytest.mark.parametrize("kind", ["symlink", "fifo", "symlinked-folder"])
def test_links_and_fifos_in_a_pack_are_refused_without_being_opened(
    teacher: AppPaths, tmp_path: Path, kind: str
) -> None:
    usb = tmp_path / "usb"
    export_all(teacher, usb)
    elsewhere = tmp_path / "teachers-secret.gguf"
    document = json.loads((usb / PACK_MANIFEST).read_text())
    real = usb / model_item(document)["path"]
    elsewhere.write_bytes(real.read_bytes())
    if kind == "symlink":
        _swap_model_for(usb, lambda t: t.symlink_to(elsewhere))
    elif kind == "fifo":
        _swap_model_for(usb, os.mkfifo)
    else:
        moved = tmp_path / "outside-models"
        (usb / "models").replace(moved)
        (usb / "models").symlink_to(moved)
    other = student(tmp_path)
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            import_pack(usb, ModelLibrary(other.models_dir), other.settings_file)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "the import hung on the pack"
    assert outcome and isinstance(outcome[0], PackError), outcome
    assert "not an ordinary file" in str(outcome[0]) and "nothing was imported" in str(outcome[0])
    assert ModelLibrary(other.models_dir).models() == []


def test_a_settings_file_too_big_or_not_a_table_is_refused_in_words(teacher: AppPaths, tmp_path: Path) -> None:
    for data, words in ((b"[1, 2]", "does not hold valid settings"), (b"\xff\xfe", "does not hold valid settings"),
                        (b" " * 2_000_000, "too big")):
        usb = tmp_path / f"usb-{len(data)}"
        export_all(teacher, usb)
        (usb / "settings.json").write_bytes(data)

        def fix(document: dict, data: bytes = data) -> None:  # type: ignore[type-arg]
            item = next(f for f in document["files"] if f["kind"] == "settings")
            item["size"], item["sha256"] = len(data), hashlib.sha256(data).hexdigest()

        edited(usb, fix)
        other = student(tmp_path, f"student-{len(data)}")
        with pytest.raises(PackError, match=words):
            import_pack(usb, ModelLibrary(other.models_dir), other.settings_file)


def test_the_export_names_only_the_file_an_imported_model_came_from(teacher: AppPaths, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    export_all(teacher, usb)
    source = model_item(json.loads((usb / PACK_MANIFEST).read_text()))["model"]["source"]
    assert source == "Imported from Tiny-Llama.Q4_1.gguf"
    assert str(tmp_path) not in (usb / PACK_MANIFEST).read_text()


def test_a_file_listed_twice_is_named_in_words(teacher: AppPaths, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    export_all(teacher, usb)
    edited(usb, lambda d: d["files"].append(dict(model_item(d))))
    with pytest.raises(PackError, match=r"lists models/Tiny-Llama.Q4_1.gguf twice"):
        read_pack(usb)


@pytest.mark.parametrize("version", ["1", None, 1.5, True, [1]])
def test_a_version_that_is_not_a_number_is_a_damaged_list(teacher: AppPaths, tmp_path: Path, version: object) -> None:
    usb = tmp_path / "usb"
    export_all(teacher, usb)
    edited(usb, lambda d: d.update(version=version))
    with pytest.raises(PackError, match="is damaged"):
        read_pack(usb)


def test_a_pack_list_that_is_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    os.mkfifo(usb / PACK_MANIFEST)
    with pytest.raises(PackError, match="not an ordinary file"):
        read_pack(usb)


def test_two_imports_at_once_never_delete_each_others_staging_folder(teacher: AppPaths, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    export_all(teacher, usb)
    other = student(tmp_path)
    library = ModelLibrary(other.models_dir)
    stale = other.models_dir / ".import-left-by-a-killed-import"
    (stale / "models").mkdir(parents=True)
    first_staging: list[Path] = []

    def during_first_copy(done: int, total: int) -> None:
        if not first_staging:  # the first import is copying: a second one runs to the end
            first_staging.extend(p for p in other.models_dir.glob(".import-*") if p != stale)
            third = student(tmp_path, "again")
            import_pack(usb, ModelLibrary(other.models_dir), third.settings_file)
            assert all(p.is_dir() for p in first_staging), "the second import removed the first one's folder"

    import_pack(usb, library, other.settings_file, progress=during_first_copy)
    assert first_staging and not stale.exists()
    assert not list(other.models_dir.glob(".import-*"))


def test_settings_linked_to_dev_zero_and_lists_nested_100000_deep_are_refused_in_words(
    teacher: AppPaths, tmp_path: Path
) -> None:
    linked = tmp_path / "linked"
    export_all(teacher, linked)
    (linked / "settings.json").unlink()
    (linked / "settings.json").symlink_to("/dev/zero")
    other = student(tmp_path)
    with pytest.raises(PackError, match="settings.json in the pack is not an ordinary file"):
        import_pack(linked, ModelLibrary(other.models_dir), other.settings_file)

    deep_list = tmp_path / "deep-list"
    export_all(teacher, deep_list)
    (deep_list / PACK_MANIFEST).write_text("[" * 100_000)
    with pytest.raises(PackError, match="is damaged"):
        read_pack(deep_list)

    deep_settings = tmp_path / "deep-settings"
    export_all(teacher, deep_settings)
    data = b"[" * 100_000
    (deep_settings / "settings.json").write_bytes(data)

    def fix(document: dict) -> None:  # type: ignore[type-arg]
        item = next(f for f in document["files"] if f["kind"] == "settings")
        item["size"], item["sha256"] = len(data), hashlib.sha256(data).hexdigest()

    edited(deep_settings, fix)
    with pytest.raises(PackError, match="does not hold valid settings"):
        import_pack(deep_settings, ModelLibrary(other.models_dir), other.settings_file)
    assert ModelLibrary(other.models_dir).models() == []


def test_a_staging_folder_a_killed_import_left_goes_at_the_next_start(tmp_path: Path) -> None:
    models = tmp_path / "models"
    stale = models / ".import-left-by-a-killed-import"
    (stale / "models").mkdir(parents=True)
    (stale / "models" / "half-copied.gguf").write_bytes(b"GGUF" + bytes(4096))
    running = models / ".import-still-running"
    running.mkdir()
    with exclusive_lock(running / STAGING_LOCK):
        ModelLibrary(models)  # the first library of this folder in this process: as at a start
    assert not stale.exists(), "the killed import's copy is gone"
    assert running.is_dir(), "a running import's folder stays"
