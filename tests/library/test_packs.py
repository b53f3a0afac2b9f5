"""Classroom packs: export to a folder, import on another computer, refuse bad packs whole."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.config.settings import Settings, load_settings, save_settings
from app.library import model_library as library_module
from app.library.model_library import ModelLibrary
from app.library.packs import PACK_MANIFEST, PackError, export_pack, import_pack, read_pack
from app.platform.errors import StorageError
from app.platform.paths import AppPaths, resolve_paths
from tests.conftest import subprocess_env
from tests.gguf_factory import MakeGguf


def teacher_with(tmp_path: Path, model_files: list[Path]) -> AppPaths:
    """The teacher's computer: these models in the library, and settings worth sharing."""
    paths = resolve_paths(tmp_path / "teacher")
    paths.ensure()
    library = ModelLibrary(paths.models_dir)
    for model_file in model_files:
        library.add(model_file)
    settings = Settings(system_prompt="You are a patient tutor for year 7.")
    settings.engine.context_length = 2048
    settings.window_geometry = "abcd"
    save_settings(settings, paths.settings_file)
    return paths


def gemma_like(synthetic_gguf: MakeGguf) -> Path:
    return synthetic_gguf("tiny-gemma-q4_k_m.gguf", architecture="gemma3", quantization="Q4_K_M", license_name="gemma")


@pytest.fixture
def teacher(tmp_path: Path, synthetic_gguf: MakeGguf) -> AppPaths:
    return teacher_with(tmp_path, [synthetic_gguf("Tiny-Llama.Q4_1.gguf"), gemma_like(synthetic_gguf)])


def student(tmp_path: Path, name: str = "student") -> AppPaths:
    paths = resolve_paths(tmp_path / name)
    paths.ensure()
    return paths


def export_all(teacher: AppPaths, folder: Path) -> None:
    library = ModelLibrary(teacher.models_dir)
    export_pack(folder, library, load_settings(teacher.settings_file), [m.id for m in library.models()])


def test_a_pack_carries_models_and_settings_to_another_computer(teacher: AppPaths, tmp_path: Path) -> None:
    usb = tmp_path / "usb" / "hearth-pack"
    seen: list[tuple[int, int]] = []
    library = ModelLibrary(teacher.models_dir)
    files = export_pack(usb, library, load_settings(teacher.settings_file), [m.id for m in library.models()],
                        progress=lambda done, total: seen.append((done, total)))
    assert sorted(f.kind for f in files) == ["model", "model", "settings"]
    assert seen[-1][0] == seen[-1][1] == sum(m.size for m in library.models())
    assert "window_geometry" not in json.loads((usb / "settings.json").read_text())

    other = student(tmp_path)
    result = import_pack(usb, ModelLibrary(other.models_dir), other.settings_file)
    added = ModelLibrary(other.models_dir).models()
    assert sorted(e.name for e in result.added) == sorted(e.name for e in added) == sorted(m.name for m in library.models())
    assert {e.sha256 for e in added} == {m.sha256 for m in library.models()}
    assert all(ModelLibrary(other.models_dir).verify(e) == "" for e in added)
    assert all(e.license for e in added) and all(e.source.startswith("Classroom pack") for e in added)
    settings = load_settings(other.settings_file)
    assert settings.system_prompt == "You are a patient tutor for year 7." and settings.engine.context_length == 2048
    assert settings.window_geometry == "", "this computer's own choices stay"
    assert not list(other.models_dir.glob(".import-*"))

    # chosen again as the stick it was exported to: the pack folder inside it is found
    again = import_pack(usb.parent, ModelLibrary(other.models_dir), other.settings_file)
    assert again.added == [] and len(again.already_there) == 2


def test_an_incompletely_copied_pack_names_the_missing_files_and_adds_nothing(teacher: AppPaths, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    export_all(teacher, usb)
    files = read_pack(usb)
    gone, short = [f for f in files if f.kind == "model"]
    (usb / gone.path).unlink()
    with (usb / short.path).open("r+b") as handle:
        handle.truncate(short.size // 3)
    other = student(tmp_path)
    with pytest.raises(PackError) as caught:
        import_pack(usb, ModelLibrary(other.models_dir), other.settings_file)
    assert f"{gone.path} (missing)" in str(caught.value) and f"{short.path} ({short.size // 3:,} of" in str(caught.value)
    assert ModelLibrary(other.models_dir).models() == [] and not other.settings_file.exists()


def test_a_damaged_file_stops_the_import_with_nothing_left_behind(teacher: AppPaths, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    export_all(teacher, usb)
    damaged = [f for f in read_pack(usb) if f.kind == "model"][-1]
    with (usb / damaged.path).open("r+b") as handle:
        handle.seek(damaged.size // 2)
        byte = handle.read(1)
        handle.seek(damaged.size // 2)
        handle.write(bytes([byte[0] ^ 0xFF]))
    other = student(tmp_path)
    with pytest.raises(PackError, match=f"{damaged.path} in the pack is damaged"):
        import_pack(usb, ModelLibrary(other.models_dir), other.settings_file)
    assert ModelLibrary(other.models_dir).models() == []
    assert not [p for p in other.models_dir.iterdir() if p.suffix != ".lock"], "no file, no staging folder"


def test_an_interrupted_export_is_not_a_pack(teacher: AppPaths, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    export_all(teacher, usb)
    (usb / PACK_MANIFEST).unlink()
    with pytest.raises(PackError, match="not a complete Hearth pack"):
        import_pack(usb, ModelLibrary(student(tmp_path).models_dir), tmp_path / "s.json")


def test_a_disk_too_small_fails_before_copying(teacher: AppPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    usb = tmp_path / "usb"
    export_all(teacher, usb)
    other = student(tmp_path)
    real = shutil.disk_usage
    monkeypatch.setattr(library_module.shutil, "disk_usage", lambda p: real(p)._replace(free=100_000_000))
    with pytest.raises(StorageError, match="not enough free disk space for the pack's models"):
        import_pack(usb, ModelLibrary(other.models_dir), other.settings_file)
    assert not [p for p in other.models_dir.iterdir() if p.suffix == ".gguf" or p.name.startswith(".import")]


@pytest.mark.real_model
def test_pack_commands_with_an_installer_then_chat_on_the_student_computer(
    tmp_path: Path, smollm_path: Path, synthetic_gguf: MakeGguf
) -> None:
    teacher = teacher_with(tmp_path, [smollm_path, gemma_like(synthetic_gguf)])  # the student chats with SmolLM2
    installer = tmp_path / "hearth-setup.tar.gz"
    installer.write_bytes(b"pretend installer" * 1000)
    usb = tmp_path / "usb"
    ids = [m.id for m in ModelLibrary(teacher.models_dir).models()]

    def hearth(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data), *args],
                              capture_output=True, text=True, timeout=300, env=subprocess_env(data))

    exported = hearth(teacher.data_dir, "pack", "export", str(usb), "--models", *ids, "--installer", str(installer))
    assert exported.returncode == 0, exported.stderr
    assert "Wrote a pack of 2 models and the settings and the installer" in exported.stdout
    assert (usb / "installer" / "hearth-setup.tar.gz").read_bytes() == installer.read_bytes()
    other = tmp_path / "student"
    imported = hearth(other, "pack", "import", str(usb))
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.count("(checked)") == 2 and "settings were applied" in imported.stdout
    smol = next(m.id for m in ModelLibrary(other / "models").models() if m.architecture == "llama")
    answer = hearth(other, "ask", "--model", smol, "--max-tokens", "12", "Say hello.")
    assert answer.returncode == 0 and answer.stdout.strip()

    broken = hearth(tmp_path / "third", "pack", "import", str(tmp_path))
    assert broken.returncode == 1 and "not a complete Hearth pack" in broken.stderr


def pack_with_first_file(teacher: AppPaths, tmp_path: Path, field: str, value: object) -> Path:
    """An exported pack whose list was then changed: the first file's `field` is `value`."""
    usb = tmp_path / "usb"
    export_all(teacher, usb)
    document = json.loads((usb / PACK_MANIFEST).read_text())
    document["files"][0][field] = value
    (usb / PACK_MANIFEST).write_text(json.dumps(document))
    return usb


@pytest.mark.parametrize(
    "bad_path",
    ["../../evil.gguf", "C:/Users/x/evil.gguf", "\\\\server\\share\\x.gguf", "models\\..\\..\\x.gguf", "/etc/x.gguf", "settings/x.gguf"],
)
def test_paths_outside_the_pack_are_refused_on_every_system(teacher: AppPaths, tmp_path: Path, bad_path: str) -> None:
    with pytest.raises(PackError, match="outside its folder"):
        read_pack(pack_with_first_file(teacher, tmp_path, "path", bad_path))


def test_a_manifest_with_wrong_field_types_is_damaged(teacher: AppPaths, tmp_path: Path) -> None:
    with pytest.raises(PackError, match="is damaged"):
        read_pack(pack_with_first_file(teacher, tmp_path, "model", "not a table"))


def test_a_failure_while_adding_removes_only_what_this_import_added(
    teacher: AppPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    usb = tmp_path / "usb"
    export_all(teacher, usb)
    other = student(tmp_path)
    library = ModelLibrary(other.models_dir)
    theirs = ModelLibrary(teacher.models_dir)
    own = library.add(theirs.file_of(theirs.models()[0]))  # the student already has one of the pack's models
    real_add = ModelLibrary.add_verified
    calls = []

    def add_then_fail(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        real_add(self, *args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ModelLibrary, "add_verified", add_then_fail)
    with pytest.raises(StorageError, match="Nothing was added"):
        import_pack(usb, library, other.settings_file)
    assert calls == [1]
    assert [m.id for m in library.models()] == [own.id] and library.file_of(own).is_file()
    assert not list(other.models_dir.glob(".import-*"))


def test_a_pack_without_settings_leaves_the_students_settings_alone(teacher: AppPaths, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    library = ModelLibrary(teacher.models_dir)
    files = export_pack(usb, library, None, [library.models()[0].id])
    assert [f.kind for f in files] == ["model"] and not (usb / "settings.json").exists()
    other = student(tmp_path)
    save_settings(Settings(system_prompt="the student's own"), other.settings_file)
    result = import_pack(usb, ModelLibrary(other.models_dir), other.settings_file)
    assert not result.settings_applied and load_settings(other.settings_file).system_prompt == "the student's own"


def test_settings_that_cannot_be_read_stop_the_import_in_words(
    teacher: AppPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The USB stick pulled, or a file Hearth may not read: a sentence, and nothing added."""
    usb = tmp_path / "usb"
    export_all(teacher, usb)
    settings = next(f for f in read_pack(usb) if f.kind == "settings")
    real_read = Path.read_bytes

    def unreadable(path: Path) -> bytes:
        if path.name == Path(settings.path).name:
            raise OSError(5, "Input/output error")
        return real_read(path)

    monkeypatch.setattr(Path, "read_bytes", unreadable)
    other = student(tmp_path)
    with pytest.raises(StorageError, match=r"The pack could not be imported \(Input/output error\). Nothing was added."):
        import_pack(usb, ModelLibrary(other.models_dir), other.settings_file)
    assert ModelLibrary(other.models_dir).models() == []
