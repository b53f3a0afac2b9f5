"""Send llama.cpp's own log lines to Python logging instead of the console.

llama-cpp-python's `verbose=False` silences llama.cpp by redirecting the
process's file descriptors 1 and 2, which breaks a windowed build that has no
console; routing the log callback avoids touching them at all.
"""

from __future__ import annotations

import ctypes
import logging

import llama_cpp

_log = logging.getLogger("llama.cpp")
# ggml_log_level: 1 debug, 2 info, 3 warn, 4 error, 5 continuation of the previous line.
_LEVELS = {1: logging.DEBUG, 2: logging.INFO, 3: logging.WARNING, 4: logging.ERROR}


@llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]  # a ctypes CFUNCTYPE
def _route(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    message = text.decode("utf-8", errors="replace").rstrip()
    if message:
        _log.log(_LEVELS.get(level, logging.DEBUG), "%s", message)


def route_llama_logs() -> None:
    """Install the callback (idempotent); `_route` lives at module level so it is never freed."""
    llama_cpp.llama_log_set(_route, ctypes.c_void_p(0))
