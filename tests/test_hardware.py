from __future__ import annotations

from app.core.hardware import memory_warning, physical_cores

GIB = 1 << 30


def test_a_model_that_fits_gives_no_warning() -> None:
    assert memory_warning(1 * GIB, 4096, available=8 * GIB) == ""


def test_a_model_too_big_for_free_memory_is_explained() -> None:
    text = memory_warning(6 * GIB, 4096, available=4 * GIB)
    assert "only 4.0 GB is free" in text and "smaller model" in text


def test_physical_cores_is_a_positive_count() -> None:
    assert physical_cores() >= 1
