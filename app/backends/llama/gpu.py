"""Whether llama.cpp can use a graphics card here, and how much memory it has.

A CPU-only build of llama-cpp-python (the default from PyPI) answers no, and
the model library then judges models against system memory alone.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

import llama_cpp

from app.backends.llama.ggml_modules import load_backends
from app.modelfile.fit import fits_on_gpu, memory_needed
from app.modelfile.gguf_info import GgufInfo


@functools.cache
def gpu_offload_supported() -> bool:
    load_backends()  # before llama.cpp searches the current folder for them itself
    return bool(llama_cpp.llama_supports_gpu_offload())


@functools.cache
def gpu_memory() -> int:
    """Bytes of memory on the largest NVIDIA GPU, 0 when there is none llama.cpp can use.

    Apple silicon shares system memory with its GPU, so 0 there is right too.
    """
    if not gpu_offload_supported():
        return 0
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return 0
    try:
        answer = subprocess.run(
            [tool, "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=5, check=True,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),  # no console flash on Windows
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    sizes = [int(line) for line in answer.split() if line.strip().isdigit()]
    return max(sizes, default=0) * 1024 * 1024


def gpu_layers(info: GgufInfo, context_length: int) -> int:
    """All layers on the GPU when the model fits there (the fit verdict's rule), else none.

    A GPU build with no measurable memory (Apple silicon shares system memory) offloads.
    """
    if not gpu_offload_supported():
        return 0
    memory = gpu_memory()
    needed = memory_needed(info.file_size, info.kv_bytes_per_token, context_length)
    return -1 if memory == 0 or fits_on_gpu(needed, memory) else 0
