"""Lines that say how something went stop saying it once it is no longer true: the
Library's "Loading…" and a failed load's error, and the welcome page that asks for a model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.backends.base import LoadOptions, ModelFacts, ModelRef
from app.library.model_library import ModelLibrary
from app.platform.errors import ModelLoadError
from app.platform.paths import AppPaths
from tests.fakes import FakeBackendFactory
from tests.gguf_factory import MakeGguf
from tests.gui import test_gui_library

DAMAGED = "This model file is damaged: download it again."


window = test_gui_library.open_window  # window() opens one more on the fake backend, closed after the test


def two_models(paths: AppPaths, synthetic_gguf: MakeGguf) -> tuple[str, str]:
    library = ModelLibrary(paths.models_dir)
    first = library.add(synthetic_gguf("SmolLM2-synthetic.Q4_1.gguf"), copy=False)
    second = library.add(synthetic_gguf("Qwen-synthetic.Q4_1.gguf"), copy=False)
    return first.id, second.id


def test_the_library_says_the_model_is_loaded_once_it_is(qtbot: Any, window: Any, paths: AppPaths,
                                                         synthetic_gguf: MakeGguf) -> None:
    first, second = two_models(paths, synthetic_gguf)
    shown = window()
    qtbot.waitUntil(lambda: shown.loader.ready, timeout=5000)
    other = second if shown.loader.model_id == first else first
    library = shown.library.open()
    library.select(other)
    library.buttons["load"].click()
    assert library.status.text().startswith("Loading ")
    qtbot.waitUntil(lambda: shown.loader.ready and shown.loader.model_id == other, timeout=5000)
    name = shown.library.library.get(other).shown_name
    qtbot.waitUntil(lambda: library.status.text() == f"{name} is loaded: you can chat with it.", timeout=5000)


def test_a_failed_load_is_said_in_the_library_and_goes_when_another_loads(
    qtbot: Any, window: Any, paths: AppPaths, synthetic_gguf: MakeGguf, fake_factory: FakeBackendFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = two_models(paths, synthetic_gguf)
    backend = fake_factory.backend
    load = backend.load
    broken = ModelLibrary(paths.models_dir).get(second)
    assert broken is not None

    def load_unless_broken(model: ModelRef, options: LoadOptions) -> ModelFacts:
        if model.path is not None and model.path.name == Path(broken.path).name:
            raise ModelLoadError(DAMAGED)
        return load(model, options)

    monkeypatch.setattr(backend, "load", load_unless_broken)
    paths.settings_file.write_text(f'{{"last_model_id": "{first}"}}')
    shown = window()
    qtbot.waitUntil(lambda: shown.loader.ready, timeout=5000)
    library = shown.library.open()
    library.select(second)
    library.buttons["load"].click()
    qtbot.waitUntil(lambda: library.status.text() == DAMAGED, timeout=5000)
    assert library.table.in_use == "", "the model let go for the failed load is no longer marked in use"
    library.select(first)
    library.buttons["load"].click()
    qtbot.waitUntil(lambda: shown.loader.ready and shown.loader.model_id == first, timeout=5000)
    qtbot.waitUntil(lambda: library.status.text().endswith("is loaded: you can chat with it."), timeout=5000)
    assert DAMAGED not in library.status.text()


def test_the_welcome_page_stops_asking_for_a_model_once_one_is_installed(
    qtbot: Any, window: Any, paths: AppPaths, synthetic_gguf: MakeGguf
) -> None:
    shown = window()
    assert "Hearth needs a model to chat with" in shown.chat_view.toPlainText()
    ModelLibrary(paths.models_dir).add(synthetic_gguf(), copy=False)  # as a download or a pack adds it
    shown.library.models_changed.emit()
    qtbot.waitUntil(lambda: "Start a conversation" in shown.chat_view.toPlainText(), timeout=5000)
    assert "needs a model" not in shown.chat_view.toPlainText()


def test_a_chat_begun_is_not_replaced_by_the_welcome_page_when_models_change(
    qtbot: Any, window: Any, paths: AppPaths, synthetic_gguf: MakeGguf
) -> None:
    ModelLibrary(paths.models_dir).add(synthetic_gguf(), copy=False)
    shown = window()
    qtbot.waitUntil(lambda: shown.session.can_reply, timeout=5000)
    shown.send("Are you there?")
    qtbot.waitUntil(lambda: not shown.session.busy, timeout=5000)
    ModelLibrary(paths.models_dir).add(synthetic_gguf("Second.Q4_1.gguf"), copy=False)
    shown.library.models_changed.emit()
    assert "Are you there?" in shown.chat_view.toPlainText()


def test_a_load_begun_in_the_main_window_is_said_in_an_open_library_with_nothing_on_its_line(
    qtbot: Any, window: Any, paths: AppPaths, synthetic_gguf: MakeGguf
) -> None:
    first, second = two_models(paths, synthetic_gguf)
    shown = window()
    qtbot.waitUntil(lambda: shown.loader.ready, timeout=5000)
    library = shown.library.open()
    assert library.status.text() == ""
    other = second if shown.loader.model_id == first else first
    index = shown.model_picker.findData(other)
    shown.model_picker.setCurrentIndex(index)
    shown.model_picker.activated.emit(index)  # as a person picks it
    name = shown.library.library.get(other).shown_name
    qtbot.waitUntil(lambda: library.status.text() == f"{name} is loaded: you can chat with it.", timeout=5000)
