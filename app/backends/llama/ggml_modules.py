"""Load llama.cpp's compute backends from llama_cpp's own folder, and say plainly when
this computer's processor cannot run them.

The bundle's llama.cpp is built with its CPU code as a loadable module
(packaging/llama_dist.py): llama.cpp registers nothing until the module is loaded,
and refuses one whose CPU features this processor lacks. Left to itself it would look
for modules only beside the program and in the current folder (neither is where they
are, and a stray file in the current folder would be run), so they are loaded here,
from llama_cpp/lib, before anything else calls llama.cpp. The venv's native build has
its CPU backend built in, and nothing is loaded.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
import threading

import llama_cpp.llama_cpp as llama_lib

from app.backends.llama.llama_log import route_llama_logs
from app.platform.cpu_check import too_old_sentence
from app.platform.errors import ModelLoadError

GGML_BACKEND_DEVICE_TYPE_CPU = 0  # ggml-backend.h, enum ggml_backend_dev_type


def ggml_library() -> ctypes.CDLL:
    """The libggml that libllama uses. The wheel ships libggml.so and libggml.so.0 as two
    copies, each with its own backend registry: llama_cpp._ggml loads the other one, so
    the symbols are looked up through libllama's handle (dlsym searches what it links)."""
    if sys.platform == "win32":  # GetProcAddress does not search dependencies
        return ctypes.CDLL(str(llama_lib._base_path / "ggml.dll"))
    library: ctypes.CDLL = llama_lib._lib
    return library


# The window (GPU memory for the library's verdicts) and the inference worker may both be
# first; loading the modules twice would register the CPU backend twice.
_LOADING = threading.Lock()


@functools.cache
def _load_once() -> None:
    route_llama_logs()  # ggml says which module it loaded: into the log, not the console
    ggml = ggml_library()
    count = ggml.ggml_backend_reg_count
    count.restype, count.argtypes = ctypes.c_size_t, []
    if count() == 0:
        load = ggml.ggml_backend_load_all_from_path
        load.restype, load.argtypes = None, [ctypes.c_char_p]
        load(os.fsencode(llama_lib._base_path))


def load_backends() -> str | None:
    """Load the backend modules once; None when a CPU backend is ready, else a sentence."""
    with _LOADING:
        _load_once()
    ggml = ggml_library()
    by_type = ggml.ggml_backend_dev_by_type
    by_type.restype, by_type.argtypes = ctypes.c_void_p, [ctypes.c_int]
    if by_type(GGML_BACKEND_DEVICE_TYPE_CPU):
        return None
    return too_old_sentence()


def ensure_backends() -> None:
    """Raise a plain ModelLoadError where llama.cpp has no CPU backend for this processor."""
    problem = load_backends()
    if problem:
        raise ModelLoadError(problem)
