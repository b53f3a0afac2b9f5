"""The weight buffers llama.cpp may repack into on the CPU, less its AMX buffer.

On a CPU with AMX (Intel Sapphire Rapids and later) a native build of llama.cpp offers
two extra buffer types for weights, in this order: "AMX", then "CPU_REPACK" (the
AVX2/AVX-512 layouts). The loader puts each weight in the first that takes it, and the
first matrix multiply on an AMX buffer segfaults (llama.cpp issue 20824; reproduced on a
Xeon with amx_int8, both test models, every start). The list the loader reads is the CPU
device's own array, handed out by pointer (`ggml_backend_dev_get_extra_bufts`), so the
AMX entry is taken out of it once, before any model loads: the loader then chooses
exactly as it does on a CPU without AMX, and the other repacking stays on (a fifth of
the reply speed and a third of the prompt speed on Q4_0 models, docs/PERFORMANCE.md).
"""

from __future__ import annotations

import ctypes
import functools
import logging

from app.backends.llama.ggml_modules import GGML_BACKEND_DEVICE_TYPE_CPU, ensure_backends, ggml_library

log = logging.getLogger(__name__)

UNSAFE_BUFFER = "AMX"  # in a buffer type's name, in any case (llama-cpp-python 0.3.36's llama.cpp: "AMX")
_GET_EXTRA_BUFFERS = ctypes.CFUNCTYPE(ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p)


def _extra_buffer_types() -> ctypes._Pointer[ctypes.c_void_p] | None:
    """The CPU device's null-terminated array of extra buffer types, or None where this
    llama.cpp does not hand it out."""
    ggml = ggml_library()
    by_type = ggml.ggml_backend_dev_by_type
    by_type.restype, by_type.argtypes = ctypes.c_void_p, [ctypes.c_int]
    backend_reg = ggml.ggml_backend_dev_backend_reg
    backend_reg.restype, backend_reg.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
    proc_address = ggml.ggml_backend_reg_get_proc_address
    proc_address.restype, proc_address.argtypes = ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p]
    device = by_type(GGML_BACKEND_DEVICE_TYPE_CPU)
    address = proc_address(backend_reg(device), b"ggml_backend_dev_get_extra_bufts") if device else None
    if not address:
        return None
    array = _GET_EXTRA_BUFFERS(address)(device)
    return array if array else None


def _entries(array: ctypes._Pointer[ctypes.c_void_p]) -> list[int]:
    entries: list[int] = []
    while array[len(entries)]:
        entries.append(array[len(entries)])
    return entries


def _name(buffer_type: int) -> str:
    name = ggml_library().ggml_backend_buft_name
    name.restype, name.argtypes = ctypes.c_char_p, [ctypes.c_void_p]
    return bytes(name(buffer_type)).decode("ascii", errors="replace")


def buffer_names() -> list[str]:
    """The extra buffer types the loader chooses from now, in its order."""
    array = _extra_buffer_types()
    return [_name(entry) for entry in _entries(array)] if array is not None else []


@functools.cache
def without_amx_buffer() -> bool:
    """Take the AMX buffer out of the loader's list (once per process). True when the
    list holds none now; False where the list cannot be read, and repacking must then
    stay off on an AMX CPU."""
    ensure_backends()
    array = _extra_buffer_types()
    if array is None:
        return False
    entries = _entries(array)
    kept = [entry for entry in entries if UNSAFE_BUFFER not in _name(entry).upper()]
    for index, entry in enumerate(kept + [None] * (len(entries) - len(kept))):
        array[index] = entry
    if len(kept) < len(entries):
        log.info("llama.cpp's AMX weight buffer left out; repacking into %s", buffer_names() or "nothing")
    return not any(UNSAFE_BUFFER in name.upper() for name in buffer_names())
