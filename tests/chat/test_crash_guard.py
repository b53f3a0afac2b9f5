"""The crash marker: left while llama.cpp can kill the process, read at the next start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from app.backends.llama.engine import choose_options, cpu_features, parse_system_info, repacking_is_safe
from app.chat.crash_recovery import crash_notice, safe_mode_label, take_crash
from app.config.settings import EngineSettings, ModelPreferences, Settings, load_settings, save_settings
from app.library.model_library import ModelLibrary
from app.modelfile.gguf_info import GgufInfo
from app.platform.crash_marker import ANSWERING, LOADING, CrashMarker, EngineRun
from app.platform.paths import AppPaths

RUN = EngineRun(LOADING, "/models/tiny.gguf", "Tiny Model", False, {"threads": 2})


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(process.stdout)


def leave_marker(folder: Path, run: EngineRun, pid: int, process_started: float = 0.0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    marker = {**run.__dict__, "started": "2026-12-01T10:00:00", "process_started": process_started}
    (folder / f"{pid}.json").write_text(json.dumps(marker))


def test_the_marker_lasts_exactly_as_long_as_the_step(tmp_path: Path) -> None:
    marker = CrashMarker(tmp_path)
    own = tmp_path / f"{os.getpid()}.json"
    with marker.around(RUN) as settle:
        assert json.loads(own.read_text())["model_name"] == "Tiny Model"
        settle()
        assert not own.exists()
    with pytest.raises(ValueError), marker.around(RUN):
        raise ValueError("a Python error is a clean failure, not a crash")
    assert not own.exists()


def test_a_dead_process_marker_is_reported_once_and_live_ones_are_left(tmp_path: Path) -> None:
    leave_marker(tmp_path, RUN, dead_pid())
    (tmp_path / f"{dead_pid()}.tmp").write_text("{half")  # a crash between write and rename
    parent = psutil.Process(os.getppid())  # alive: another Hearth still working
    leave_marker(tmp_path, RUN, parent.pid, parent.create_time())
    marker = CrashMarker(tmp_path)
    run = marker.take()
    assert run is not None and run.model_name == "Tiny Model" and run.stage == LOADING
    assert marker.take() is None
    assert [p.name for p in tmp_path.iterdir()] == [f"{parent.pid}.json"]


def test_a_reused_process_id_is_not_taken_for_a_live_process(tmp_path: Path) -> None:
    """In a container every start may get the same id: the start time tells them apart."""
    leave_marker(tmp_path, RUN, os.getpid(), psutil.Process().create_time() - 3600)
    run = CrashMarker(tmp_path).take()
    assert run is not None and run.model_name == "Tiny Model"


def test_an_unreadable_marker_is_dropped_quietly(tmp_path: Path) -> None:
    (tmp_path / f"{dead_pid()}.json").write_text("{not json")
    assert CrashMarker(tmp_path).take() is None
    assert not list(tmp_path.glob("*.json"))


def test_the_crash_is_remembered_on_the_model_at_once(paths: AppPaths, smollm_path: Path) -> None:
    library = ModelLibrary(paths.models_dir)
    entry = library.add(smollm_path, copy=False)
    settings = Settings(system_prompt="Be brief.")
    save_settings(settings, paths.settings_file)
    leave_marker(paths.crash_markers, EngineRun(ANSWERING, str(smollm_path), entry.name, True), dead_pid())
    run = take_crash(paths, settings, library)
    assert run is not None and run.safe_mode
    assert settings.model_preferences(entry.id).crashed == "safe"
    stored = load_settings(paths.settings_file)
    assert stored.model_preferences(entry.id).crashed == "safe"
    assert stored.system_prompt == "Be brief."  # nothing else in the file changed
    assert take_crash(paths, settings, library) is None


def test_what_the_user_is_told() -> None:
    first = crash_notice(RUN)
    assert "while loading Tiny Model" in first and "safe mode" in first and "conversations are saved" in first
    again = crash_notice(EngineRun(ANSWERING, "/m.gguf", "Tiny Model", True))
    assert "writing a reply with Tiny Model, even in safe mode" in again and "cannot run on this computer" in again
    assert safe_mode_label(ModelPreferences()) == ""
    assert "Safe mode: on" in safe_mode_label(ModelPreferences(safe_mode=True))
    assert "cannot run" in safe_mode_label(ModelPreferences(safe_mode=True, crashed="safe"))


INFO = GgufInfo("llama", "Tiny", 1000, "Q4_0", 2048, None, "MIT", 1000, layers=2, kv_heads=2, head_dim=64)


def test_unsafe_repacking_turns_off_weight_repacking_and_nothing_else() -> None:
    normal = choose_options(EngineSettings(threads=4), INFO, 2048, False, True)
    unsafe = choose_options(EngineSettings(threads=4), INFO, 2048, False, False)
    assert normal.weight_repacking and not unsafe.weight_repacking
    assert (unsafe.threads, unsafe.key_cache, unsafe.memory_map) == (normal.threads, normal.key_cache, normal.memory_map) == (4, "q8_0", True)


def test_the_amx_buffer_is_left_out_of_llama_cpps_choice_and_repacking_stays_on() -> None:
    from app.backends.llama.cpu_buffers import buffer_names, without_amx_buffer

    assert without_amx_buffer(), "llama.cpp's list of weight buffers could not be read"
    assert "AMX" not in buffer_names()
    assert repacking_is_safe()
    if "REPACK" in cpu_features():
        assert "CPU_REPACK" in buffer_names()


def test_safe_mode_turns_off_what_the_engine_can_do_without() -> None:
    safe = choose_options(EngineSettings(threads=4), INFO, 2048, True, True)
    assert safe.safe_mode and (safe.threads, safe.gpu_layers, safe.key_cache) == (2, 0, "f16")
    assert not safe.weight_repacking and not safe.memory_map


def test_llama_cpp_system_info_is_read_feature_by_feature() -> None:
    text = "CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 | LLAMAFILE = 0 | REPACK = 1 | "
    assert parse_system_info(text) == {"SSE3", "AVX2", "AVX512", "AMX_INT8", "REPACK"}


def test_llama_cpp_reports_this_cpus_features() -> None:
    flags = set(Path("/proc/cpuinfo").read_text().split()) if Path("/proc/cpuinfo").exists() else set()
    features = cpu_features()
    if "avx2" in flags:
        assert "AVX2" in features
    assert ("AMX_INT8" in features) <= ("amx_int8" in flags)  # never reported without the CPU flag


def test_every_amx_buffer_is_taken_out_of_the_list_and_the_rest_keep_their_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """On any CPU: a list as an AMX machine's llama.cpp hands it out, with a second AMX type."""
    import ctypes

    from app.backends.llama import cpu_buffers

    names = {1: "AMX", 2: "CPU_REPACK", 3: "amx_bf16", 4: "KLEIDIAI"}
    array = (ctypes.c_void_p * 5)(1, 2, 3, 4, None)
    monkeypatch.setattr(cpu_buffers, "_extra_buffer_types", lambda: ctypes.cast(array, ctypes.POINTER(ctypes.c_void_p)))
    monkeypatch.setattr(cpu_buffers, "_name", names.__getitem__)
    assert cpu_buffers.without_amx_buffer.__wrapped__()
    assert cpu_buffers.buffer_names() == ["CPU_REPACK", "KLEIDIAI"]
    assert list(array) == [2, 4, None, None, None]
