"""Will this model run well on this computer? A verdict a non-technical user can read.

The memory a model needs is its file (llama.cpp maps all of it) plus the KV
cache at the chosen context length plus a fixed allowance for llama.cpp's
buffers. That is compared with this computer's memory, or with the GPU's
memory when llama.cpp has a GPU backend that could hold the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from app.platform.i18n import N_, _, ngettext

OVERHEAD_BYTES = 300 * 1024 * 1024
# Leave room for the system and the user's other programs.
COMFORTABLE_SHARE = 0.6
POSSIBLE_SHARE = 0.9
GIB = 1024**3


class Verdict(Enum):
    """How well a model runs here. The values are identities; `label` is what a person reads."""

    RUNS_WELL = "runs_well"
    MAY_BE_SLOW = "may_be_slow"
    TOO_BIG = "too_big"

    @property
    def label(self) -> str:
        return _(_VERDICT_LABELS[self])


_VERDICT_LABELS = {
    Verdict.RUNS_WELL: N_("Runs well"),
    Verdict.MAY_BE_SLOW: N_("May be slow"),
    Verdict.TOO_BIG: N_("Too big for this computer"),
}


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
        """The verdict in the language in use, for a table's cell."""
        return self.verdict.label


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
    return _(
        "This model needs about {needed} of memory, but only {available} is free. "
        "It may be very slow or fail to load. Close other programs or choose a smaller model."
    ).format(needed=_gb(needed), available=_gb(available))


def _gb(size: int) -> str:
    return _("{gigabytes} GB").format(gigabytes=f"{size / GIB:.1f}")


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
    sizes = {"needed": _gb(needed), "tokens": f"{context_length:,}", "memory": _gb(total_memory), "gpu": _gb(gpu_memory)}
    if fits_on_gpu(needed, gpu_memory):
        return Fit(Verdict.RUNS_WELL, needed, ngettext(
            "It needs about {needed} for {tokens} token of conversation and fits in your graphics card's {gpu}.",
            "It needs about {needed} for {tokens} tokens of conversation and fits in your graphics card's {gpu}.",
            context_length,
        ).format(**sizes))
    if needed <= total_memory * COMFORTABLE_SHARE:
        return Fit(Verdict.RUNS_WELL, needed, ngettext(
            "It needs about {needed} for {tokens} token of conversation; this computer has {memory}, plenty to spare.",
            "It needs about {needed} for {tokens} tokens of conversation; this computer has {memory}, plenty to spare.",
            context_length,
        ).format(**sizes))
    if needed <= total_memory * POSSIBLE_SHARE:
        return Fit(Verdict.MAY_BE_SLOW, needed, _(
            "It needs about {needed} of this computer's {memory}: it will run, "
            "but other programs may slow down while it answers. Close what you do not need."
        ).format(**sizes))
    return Fit(Verdict.TOO_BIG, needed, ngettext(
        "It needs about {needed} for {tokens} token of conversation, more than this computer's {memory}. "
        "Choose a smaller model, or a shorter context in Settings.",
        "It needs about {needed} for {tokens} tokens of conversation, more than this computer's {memory}. "
        "Choose a smaller model, or a shorter context in Settings.",
        context_length,
    ).format(**sizes))
