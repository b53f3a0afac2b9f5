"""`python -m tests.crashing_hearth STAGE ARGS...`: Hearth's command line, made to die
inside llama.cpp the way a model or CPU bug kills it (no Python code runs after).

STAGE is "load" (abort() as llama.cpp opens the model, like its GGML_ASSERTs) or
"decode" (a segmentation fault in the first llama_decode, like the AMX crash).
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

import llama_cpp._internals as internals


def _segfault(*_args: Any, **_kwargs: Any) -> None:
    ctypes.string_at(0)  # reads address 0: SIGSEGV, as in ggml_backend_amx_mul_mat


def _abort(*_args: Any, **_kwargs: Any) -> None:
    os.abort()  # SIGABRT, as a failed GGML_ASSERT


if __name__ == "__main__":
    stage, *arguments = sys.argv[1:]
    if stage == "decode":
        internals.LlamaContext.decode = _segfault  # type: ignore[method-assign]
    else:
        internals.LlamaModel.__init__ = _abort  # type: ignore[method-assign]
    sys.argv = ["hearth", *arguments]
    from app.__main__ import main

    sys.exit(main())
