"""Will this model run well on this computer? A verdict a non-technical user can read.

The memory a model needs is its file (llama.cpp maps all of it) plus the KV
cache at the chosen context length plus a fixed allowance for llama.cpp's
buffers. That is compared with this computer's memory, or with the GPU's
memory when llama.cpp has a GPU backend that could hold the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

OVERHEAD_BYTES = 300 * 1024 * 1024
# Leave room for the system and the user's other programs.
COMFORTABLE_SHARE = 0.6
POSSIBLE_SHARE = 0.9
GIB = 1024**3


class Verdict(Enum):
    RUNS_WELL = "Runs well"
    MAY_BE_SLOW = "May be slow"
    TOO_BIG = "Too big for this computer"


@dataclass(frozen=True)
class Machine:
    """The memory models are judged against."""

    total_memory: int
    gpu_memory: int = 0


@dataclass(frozen=True)
class Fit:
    verdict: Verdict
    needed: int
    explanation: str

    @property
    def label(self) -> str:
        return self.verdict.value


def memory_needed(file_size: int, kv_bytes_per_token: int, context_length: int) -> int:
    """Bytes to run a model: the weights, the KV cache for the context, llama.cpp's buffers.

    When the KV size is unknown (a catalog entry without architecture facts), a
    cautious 10% of the file per 4,096 tokens is assumed.
    """
    kv = kv_bytes_per_token * context_length if kv_bytes_per_token > 0 else int(file_size * 0.1 * context_length / 4096)
    return file_size + kv + OVERHEAD_BYTES


def memory_warning(file_size: int, kv_bytes_per_token: int, context_length: int, available: int) -> str:
    """A plain warning, before loading, when a model probably does not fit in free
    memory, else ''. llama.cpp maps the file, so a model a little over the limit
    still loads but swaps."""
    needed = memory_needed(file_size, kv_bytes_per_token, context_length)
    if needed <= available:
        return ""
    return (
        f"This model needs about {_gb(needed)} of memory, but only {_gb(available)} is free. "
        "It may be very slow or fail to load. Close other programs or choose a smaller model."
    )


def _gb(size: int) -> str:
    return f"{size / GIB:.1f} GB"


def fits_on_gpu(needed: int, gpu_memory: int) -> bool:
    """Whether a model needing `needed` bytes runs from a graphics card with `gpu_memory`."""
    return bool(gpu_memory) and needed <= gpu_memory * POSSIBLE_SHARE


def judge(
    file_size: int,
    kv_bytes_per_token: int,
    context_length: int,
    total_memory: int,
    gpu_memory: int = 0,
) -> Fit:
    """The verdict for one model at `context_length` tokens on this computer."""
    needed = memory_needed(file_size, kv_bytes_per_token, context_length)
    context = f"{context_length:,} tokens of conversation"
    if fits_on_gpu(needed, gpu_memory):
        return Fit(
            Verdict.RUNS_WELL, needed,
            f"It needs about {_gb(needed)} for {context} and fits in your graphics card's {_gb(gpu_memory)}.",
        )
    if needed <= total_memory * COMFORTABLE_SHARE:
        return Fit(
            Verdict.RUNS_WELL, needed,
            f"It needs about {_gb(needed)} for {context}; this computer has {_gb(total_memory)}, plenty to spare.",
        )
    if needed <= total_memory * POSSIBLE_SHARE:
        return Fit(
            Verdict.MAY_BE_SLOW, needed,
            f"It needs about {_gb(needed)} of this computer's {_gb(total_memory)}: it will run, "
            "but other programs may slow down while it answers. Close what you do not need.",
        )
    return Fit(
        Verdict.TOO_BIG, needed,
        f"It needs about {_gb(needed)} for {context}, more than this computer's {_gb(total_memory)}. "
        "Choose a smaller model, or a shorter context in Settings.",
    )
