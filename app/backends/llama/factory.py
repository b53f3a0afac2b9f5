"""The llama.cpp backend as the composition root (app/__main__.py) hands it to the front ends.

Importing this module does not import llama.cpp: its bindings and chat formats take
0.4 s to import here, which `hearth --version` or `hearth models list` need not wait for.
Each method imports what it needs when called.
"""

from __future__ import annotations

from app.backends.base import Backend, BackendFactory, Capabilities
from app.platform.crash_marker import CrashMarker


class LlamaBackendFactory(BackendFactory):
    @property
    def capabilities(self) -> Capabilities:
        from app.backends.llama.engine import CHAT_CAPABILITIES

        return CHAT_CAPABILITIES

    def create(self, crash_marker: CrashMarker | None) -> Backend:
        from app.backends.llama.engine import LlamaBackend

        return LlamaBackend(crash_marker)

    def accelerator_memory(self) -> int:
        """nvidia-smi's answer, when llama.cpp here can use an NVIDIA GPU (app/backends/llama/gpu.py)."""
        from app.backends.llama.gpu import gpu_memory

        return gpu_memory()
