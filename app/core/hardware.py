"""Facts about this computer that decide how a model is run."""

from __future__ import annotations

import os

import psutil


def physical_cores() -> int:
    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


def total_memory() -> int:
    return int(psutil.virtual_memory().total)


def available_memory() -> int:
    return int(psutil.virtual_memory().available)


def memory_warning(model_size: int, context_length: int, available: int | None = None) -> str:
    """A plain warning when a model probably does not fit in free memory, else ''.

    The estimate is the file size plus a rough KV-cache allowance; llama.cpp
    maps the file, so a model a little over the limit still loads but swaps.
    """
    free = available_memory() if available is None else available
    needed = int(model_size * 1.1) + context_length * 64 * 1024
    if needed <= free:
        return ""
    return (
        f"This model needs about {needed / 2**30:.1f} GB of memory, but only "
        f"{free / 2**30:.1f} GB is free. It may be very slow or fail to load. "
        "Close other programs or choose a smaller model."
    )
