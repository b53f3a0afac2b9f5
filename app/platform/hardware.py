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
