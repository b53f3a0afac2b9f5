from __future__ import annotations

from app.modelfile.fit import memory_warning
from app.platform.hardware import physical_cores

GIB = 1 << 30


def test_a_model_that_fits_gives_no_warning() -> None:
    assert memory_warning(1 * GIB, 100_000, 4096, available=8 * GIB) == ""


def test_a_model_too_big_for_free_memory_is_explained() -> None:
    text = memory_warning(6 * GIB, 100_000, 4096, available=4 * GIB)
    assert "only 4.0 GB is free" in text and "smaller model" in text


def test_physical_cores_is_a_positive_count() -> None:
    assert physical_cores() >= 1


def test_layers_go_to_the_gpu_only_when_the_model_fits_there(smollm_path, monkeypatch) -> None:
    from app.backends.llama import gpu
    from app.modelfile.gguf_info import read_gguf_info

    info = read_gguf_info(smollm_path)
    monkeypatch.setattr(gpu, "gpu_offload_supported", lambda: False)
    assert gpu.gpu_layers(info, 4096) == 0, "a CPU build (this machine's) never offloads"
    monkeypatch.setattr(gpu, "gpu_offload_supported", lambda: True)
    monkeypatch.setattr(gpu, "gpu_memory", lambda: 8 * 1024**3)
    assert gpu.gpu_layers(info, 4096) == -1
    monkeypatch.setattr(gpu, "gpu_memory", lambda: 256 * 1024**2)
    assert gpu.gpu_layers(info, 4096) == 0, "too big for the card: run on the CPU"
    monkeypatch.setattr(gpu, "gpu_memory", lambda: 0)
    assert gpu.gpu_layers(info, 4096) == -1, "shared memory (Apple silicon)"
