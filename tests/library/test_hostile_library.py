"""The model list under damage: a broken manifest, a killed import's leftovers."""

from __future__ import annotations

import json

import pytest

from app.library.model_library import MANIFEST_NAME, ModelLibrary
from app.platform.paths import AppPaths
from tests.gguf_factory import MakeGguf


@pytest.mark.parametrize("damage", [b"{not json", b"[1, 2]", b'{"models": "lots"}', b'{"models": [1, "x"]}', b"\xff\xfe"])
def test_a_damaged_manifest_is_kept_aside_and_rebuilt_from_the_files_present(
    paths: AppPaths, synthetic_gguf: MakeGguf, damage: bytes
) -> None:
    library = ModelLibrary(paths.models_dir)
    first = library.add(synthetic_gguf("First.Q4_1.gguf"))
    second = library.add(synthetic_gguf("Second.Q4_1.gguf", parameters=200_000))
    (paths.models_dir / MANIFEST_NAME).write_bytes(damage)

    again = ModelLibrary(paths.models_dir)
    assert sorted(m.sha256 for m in again.models()) == sorted([first.sha256, second.sha256])
    [kept] = list(paths.models_dir.glob("manifest.damaged-*.json"))
    assert kept.read_bytes() == damage, "the damaged list is kept, never deleted"
    assert json.loads((paths.models_dir / MANIFEST_NAME).read_text())["models"]
    [notice] = again.notices
    assert "The list of models was damaged" in notice and kept.name in notice and "2 model files" in notice
    assert len(again.models()) == 2 and again.notices == [notice], "rebuilt once"


def test_a_killed_imports_leftovers_are_removed_at_the_next_start(paths: AppPaths, synthetic_gguf: MakeGguf) -> None:
    library = ModelLibrary(paths.models_dir)
    kept = library.add(synthetic_gguf("Kept.Q4_1.gguf"))
    reserved = paths.models_dir / "Big.gguf"
    reserved.touch()  # _copy_in reserves the name, then copies into Big.gguf.part
    (paths.models_dir / "Big.gguf.part").write_bytes(b"\0" * 4096)
    ModelLibrary.clean_leftovers(paths.models_dir)
    assert not reserved.exists() and not (paths.models_dir / "Big.gguf.part").exists()
    assert library.file_of(kept).is_file() and [m.id for m in library.models()] == [kept.id]


def test_a_leftover_that_cannot_be_removed_never_stops_the_library_opening(
    paths: AppPaths, synthetic_gguf: MakeGguf, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only models folder, or a .part another program holds open on Windows."""
    library = ModelLibrary(paths.models_dir)
    kept = library.add(synthetic_gguf("Kept.Q4_1.gguf"))
    (paths.models_dir / "Big.gguf.part").write_bytes(b"\0" * 4096)

    def refused(self: object, missing_ok: bool = False) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(paths.models_dir), "unlink", refused)
    ModelLibrary.clean_leftovers(paths.models_dir)
    assert (paths.models_dir / "Big.gguf.part").exists()
    assert [m.id for m in ModelLibrary(paths.models_dir).models()] == [kept.id]
