"""Translations groundwork (issue 13): every word the GUI shows goes through Qt's translation.

A pseudo-language writes the letters of every text it is asked for full width (Ａ for A;
a pseudo gettext catalog does the same for the Qt-free code). The windows, dialogs and
message boxes are then walked: a word still in plain letters was never translated, unless
it is data the test names (a model's facts, what was typed). What the pseudo-language was
asked for must also be what pyside6-lupdate extracts from the source, or no catalog could
ever translate it. At start-up the catalog of the user's language is found and installed."""

from __future__ import annotations

import functools
import gettext
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import PySide6
import pytest
from PySide6.QtCore import QCoreApplication, QLocale, Qt, QTranslator
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QDialog,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QTableView,
    QTabWidget,
    QTextEdit,
    QTreeWidget,
    QWidget,
)

from app.chat.rendering import MarkdownRenderer
from app.config import schema
from app.config.settings import Settings
from app.conversations.store import Message, Role, SqliteConversationStore, Status
from app.gui import translations
from app.gui.app import create_window
from app.gui.dialogs import error_message, failure_title, present_error
from app.gui.item_models.download_list import StatusRole
from app.gui.item_models.model_table import COLUMNS
from app.gui.library.library_window import choose_found_models, model_details
from app.gui.library.pack_dialogs import choose_what_to_export
from app.gui.main_window import MainWindow
from app.gui.widgets.chat_view import SHOWN_CHARACTERS, ChatView
from app.gui.widgets.settings_dialog import SettingsDialog
from app.library.catalog import load_catalog
from app.library.downloads import Downloader, job_for_catalog
from app.library.model_library import ModelEntry, ModelLibrary
from app.library.other_apps import FoundModel
from app.library.packs import ImportResult, PackFile
from app.platform.build_info import build_info
from app.platform.build_info import describe as describe_build
from app.platform.i18n import use_catalog
from app.platform.paths import AppPaths
from tests.conftest import REPO
from tests.fakes import FakeBackendFactory
from tests.gguf_factory import MakeGguf
from tests.gui.waits import reply_shown

PYSIDE_TOOLS = str(Path(PySide6.__file__).parent)  # lupdate and lrelease come with PySide6-Essentials
_PLACEHOLDER_OR_LETTER = re.compile(r"\{[^{}]*\}|%L?[n1-9]|([A-Za-z])")
_ENGLISH = re.compile("[A-Za-z]+")


def pseudo(text: str) -> str:
    """`text` in the pseudo-language: its letters written full width (Ａ for A), its
    placeholders ({name:,}, %n) as they are, so that a template still takes its data."""
    return _PLACEHOLDER_OR_LETTER.sub(lambda m: chr(ord(m[1]) + 0xFEE0) if m[1] else m[0], text)


class PseudoTranslator(QTranslator):
    """Every text, of every context (Qt's own too), in the pseudo-language; what was asked is kept."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[tuple[str, str]] = set()

    def translate(self, context: str, source_text: str, disambiguation: str | None = None, n: int = -1) -> str:
        self.asked.add((context, source_text))
        return pseudo(source_text)


class PseudoCatalog(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return pseudo(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return pseudo(msgid1 if n == 1 else msgid2)


@pytest.fixture
def translator(qapp) -> Iterator[PseudoTranslator]:
    installed = PseudoTranslator()
    qapp.installTranslator(installed)
    use_catalog(PseudoCatalog())
    yield installed
    qapp.removeTranslator(installed)
    use_catalog(gettext.NullTranslations())


def english_left(text: str, data: Iterable[str] = ()) -> list[str]:
    """The words of `text` still in plain letters once the `data` in it is taken out:
    none when all of the rest was translated."""
    for item in sorted(filter(None, data), key=len, reverse=True):
        text = text.replace(item, " ")
    return _ENGLISH.findall(text)


def shown_texts(root: QWidget) -> list[tuple[str, str]]:
    """(where, text) for each text a person can read on `root`, its widgets (hidden ones
    too), its menus and its actions. The items of lists and tables are the tests' to read:
    most of them are data."""
    found: list[tuple[str, str]] = []
    actions: set[QAction] = set(root.findChildren(QAction))
    for widget in [root, *root.findChildren(QWidget)]:
        where = type(widget).__name__ + (f" {widget.objectName()!r}" if widget.objectName() else "")
        found += [(f"{where} title", widget.windowTitle()), (f"{where} tool tip", widget.toolTip())]
        actions.update(widget.actions())
        if isinstance(widget, QLabel | QAbstractButton):
            found.append((where, widget.text()))
        if isinstance(widget, QMessageBox):
            found.append((f"{where} details", widget.informativeText()))
        if isinstance(widget, QLineEdit | QPlainTextEdit | QTextEdit):
            found.append((f"{where} placeholder", widget.placeholderText()))
        if isinstance(widget, QAbstractSpinBox):
            found.append((f"{where} special value", widget.specialValueText()))
        if isinstance(widget, QComboBox):
            for row in range(widget.count()):
                found += [(f"{where} item", widget.itemText(row)), (f"{where} item tip", widget.itemData(row, Qt.ItemDataRole.ToolTipRole))]
        if isinstance(widget, QTabWidget):
            for tab in range(widget.count()):
                found += [(f"{where} tab", widget.tabText(tab)), (f"{where} tab tip", widget.tabToolTip(tab))]
        if isinstance(widget, QTreeWidget):
            header = widget.headerItem()
            found += [(f"{where} header", header.text(column)) for column in range(widget.columnCount())]
        if isinstance(widget, QTableView):
            model = widget.model()
            found += [(f"{where} header", model.headerData(c, Qt.Orientation.Horizontal)) for c in range(model.columnCount())]
        if isinstance(widget, QMenu):
            found.append((f"{where} title", widget.title()))
    if isinstance(root, QMainWindow):
        for item in root.menuBar().actions():
            actions.add(item)
            if item.menu() is not None:
                actions.update(item.menu().actions())
    for item in actions:
        found += [(f"action {item.text()!r}", item.text()), (f"action {item.text()!r} tool tip", item.toolTip())]
    return [(where, text) for where, text in found if text]


def assert_translated(texts: Iterable[tuple[str, str]], data: Iterable[str] = ()) -> None:
    """Every text is in the pseudo-language, but for the `data` in it."""
    known = list(data)
    bare = [(where, text, words) for where, text in texts if (words := english_left(text, known))]
    assert not bare, "shown without translation:\n" + "\n".join(f"  {where}: {' '.join(words)} in {text[:300]!r}" for where, text, words in bare)


def facts_of(*entries: ModelEntry) -> set[str]:
    """Data: what the model files say of themselves, and where they are."""
    return {fact for e in entries for fact in (e.name, e.shown_name, e.architecture, e.quantization, e.license, e.source, e.sha256, e.path)}


def schema_placeholders() -> set[str]:
    """Data: the examples the settings schema shows in empty fields (a web address)."""
    return {spec.placeholder for spec in schema.SETTINGS if isinstance(spec, schema.TextSetting)}


@functools.cache
def extracted() -> frozenset[tuple[str, str]]:
    """(context, source) of every message pyside6-lupdate finds in app/gui."""
    lupdate = shutil.which("lupdate", path=PYSIDE_TOOLS)
    assert lupdate is not None, f"no lupdate in {PYSIDE_TOOLS}: PySide6-Essentials ships it"
    with tempfile.TemporaryDirectory() as folder:
        catalog = Path(folder) / "hearth.ts"
        sources = sorted(str(path) for path in (REPO / "app" / "gui").rglob("*.py"))
        subprocess.run([lupdate, *sources, "-ts", str(catalog)], check=True, capture_output=True, timeout=120)
        root = ElementTree.parse(catalog).getroot()
    return frozenset(
        (context.findtext("name", ""), message.findtext("source", ""))
        for context in root.iter("context") for message in context.iter("message")
    )


def assert_extracted(asked: set[tuple[str, str]]) -> None:
    """What Hearth asked a translator for is in the catalog lupdate writes (Qt's own
    contexts, QPlatformTheme and the like, are translated by qtbase's catalog)."""
    missing = sorted(pair for pair in asked if not pair[0].startswith("Q") and pair not in extracted())
    assert not missing, "asked for but not extracted by lupdate (built at run time?):\n" + "\n".join(map(repr, missing))


def collect_boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Message boxes, dialogs and input dialogs are read instead of shown; each answers Cancel."""
    seen: list[tuple[str, str]] = []

    def read(dialog: QDialog) -> int:
        seen.extend(shown_texts(dialog))
        return 0

    def read_input(parent: QWidget, title: str, label: str, *args: Any, **kwargs: Any) -> tuple[str, bool]:
        seen.extend([("input title", title), ("input label", label)])
        return "", False

    monkeypatch.setattr(QMessageBox, "exec", read)
    monkeypatch.setattr(QDialog, "exec", read)
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: seen.extend([("about title", title), ("about", text)]))
    monkeypatch.setattr(QInputDialog, "getText", read_input)
    return seen


def open_window(qtbot, paths: AppPaths, factory: FakeBackendFactory) -> MainWindow:
    window = create_window(paths, factory)
    qtbot.addWidget(window)
    window.show()
    return window


def test_the_main_window_its_chat_and_its_boxes_are_translated(
    qtbot, translator: PseudoTranslator, paths: AppPaths, fake_factory: FakeBackendFactory, synthetic_gguf: MakeGguf, monkeypatch
) -> None:
    entry = ModelLibrary(paths.models_dir).add(synthetic_gguf(license_name=""), copy=False)  # its license: "unknown"
    window = open_window(qtbot, paths, fake_factory)
    window.chat_view.show_reply_speed = True  # its words are translated too
    qtbot.waitUntil(lambda: window.loader.ready, timeout=5000)
    assert_translated([("welcome page", window.chat_view.toPlainText())])

    said = ["Hello there", "Hello from the fake engine."]  # the question and the fake engine's answer
    window.composer.setPlainText(said[0])
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)  # with its footer, rendered off the GUI thread
    page = window.chat_view.toPlainText()
    assert all(pseudo(word) in page for word in ("You", "Assistant", "Copy", "tokens/s", "reply tokens", "prompt tokens"))
    assert_translated([("chat page", page)], data=said)
    window.settings.set_safe_mode(entry.id, True)  # the status line says so, the details offer to turn it off
    window.loader.reload()
    qtbot.waitUntil(lambda: window.loader.ready, timeout=5000)
    fake_facts = {"Fake model", "1K", "Q4_0", "MIT"}  # what the fake engine says of the model it loaded
    assert_translated(shown_texts(window), data={"Hearth", *facts_of(entry), *fake_facts})  # Hearth: the app's name, its title

    boxes = collect_boxes(monkeypatch)
    window.rename_conversation()
    window.delete_conversation()  # no question: to the Trash, with an undo bar
    trash = window.trash.open_trash()
    qtbot.waitUntil(lambda: trash.items.count() == 1, timeout=5000)
    boxes.extend([*shown_texts(trash), *shown_texts(window.sidebar)])
    trash.delete_button.click()  # this one asks first
    window.models.show_details(window)
    window.about_action.trigger()
    assert [where for where, _ in boxes].count("QMessageBox title") == 2 and "input title" in dict(boxes) and "about" in dict(boxes)
    build = describe_build(build_info())  # names and versions, written by the Qt-free code
    assert_translated(boxes, data={*said, *facts_of(entry), build})
    assert english_left(error_message(RuntimeError("boom")), ["boom"]) == []
    assert_extracted(translator.asked)


def test_the_empty_window_and_its_hints_are_translated(qtbot, translator: PseudoTranslator, paths: AppPaths, fake_factory) -> None:
    window = open_window(qtbot, paths, fake_factory)
    assert pseudo("Welcome to Hearth") in window.chat_view.toPlainText()
    assert_translated([("welcome page", window.chat_view.toPlainText()), *shown_texts(window)], data={"Hearth"})
    assert_extracted(translator.asked)


def test_the_library_window_its_tables_and_its_questions_are_translated(
    qtbot, translator: PseudoTranslator, paths: AppPaths, fake_factory, synthetic_gguf: MakeGguf, monkeypatch
) -> None:
    models = ModelLibrary(paths.models_dir)
    in_use = models.add(synthetic_gguf(license_name=""), copy=False)  # no license: the table says "unknown"
    other = models.add(synthetic_gguf("Other.Q4_1.gguf"), copy=False)
    Downloader(models).save(job_for_catalog(load_catalog()[0]))  # from an earlier run: listed as paused
    window = open_window(qtbot, paths, fake_factory)
    window.loader.load(in_use.id)
    qtbot.waitUntil(lambda: window.loader.ready, timeout=5000)
    library = window.library.open()
    table, row = library.table, library.table.row_of(in_use.id)
    cells = [(f"My models {column}", table.index(row, COLUMNS.index(column)).data()) for column in ("Size", "License", "Status")]
    cells.append(("My models file tip", table.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)))
    cells.append(("Downloads status", window.library.services.queue.index(0, 0).data(StatusRole)))
    data = {*facts_of(in_use, other), str(models.file_of(in_use)), "huggingface.co"}  # the Hub searched, by its address
    assert_translated([*shown_texts(library), *cells], data=data)
    facts = model_details(in_use, models.file_of(in_use)).split("\n\n")[0]  # the GGUF metadata below it is data
    assert_translated([("details", line) for line in facts.split("\n")], data=data)

    boxes = collect_boxes(monkeypatch)
    library.select(other.id)
    library.delete_selected()  # asks first
    library.add_files([Path("dropped.gguf")])  # asks whether to copy
    found = FoundModel("LM Studio", "Found model", Path("found.gguf"), 10**9)
    choose_found_models(library, [found])
    assert len([text for where, text in boxes if where in ("QMessageBox title", "QDialog title")]) == 3
    assert_translated(boxes, data={*data, found.app, found.name, str(found.path)})
    assert_extracted(translator.asked)


def test_the_pack_dialogs_and_their_answers_are_translated(
    qtbot, translator: PseudoTranslator, paths: AppPaths, fake_factory, synthetic_gguf: MakeGguf, monkeypatch
) -> None:
    entry = ModelLibrary(paths.models_dir).add(synthetic_gguf(), copy=False)
    window = open_window(qtbot, paths, fake_factory)
    boxes = collect_boxes(monkeypatch)
    choose_what_to_export(window, [entry])
    window.packs._imported(ImportResult(added=[entry], already_there=["Old model"], settings_applied=True))
    written = [PackFile(name, 10**9, "", kind) for name, kind in (("m.gguf", "model"), ("settings.json", "settings"), ("setup.exe", "installer"))]
    window.packs._exported((paths.data_dir / "pack", written))
    told = [box for box in window.findChildren(QMessageBox) if box.objectName() == "pack-result"]
    assert len(told) == 2 and boxes
    assert_translated([*boxes, *(text for box in told for text in shown_texts(box))],
                      data={*facts_of(entry), "Old model", str(paths.data_dir / "pack")})
    assert_extracted(translator.asked)


def test_the_chat_views_notes_and_controls_are_translated(qtbot, translator: PseudoTranslator) -> None:
    view = ChatView(MarkdownRenderer())
    view.show_reply_speed = True
    qtbot.addWidget(view)
    stats = {"tokens_per_second": 9.5, "reply_tokens": 3, "prompt_tokens": 12, "time_to_first_token": 0.25, "omitted_turns": 4}
    said = ["Question", "Answer"]

    def message(number: int, role: Role, content: str, status: Status) -> Message:
        return Message(number, str(number), 1, number - 1 or None, role, content, status, 0.0, stats if role == Role.ASSISTANT else {})

    view.show_messages([
        message(1, Role.USER, said[0], Status.COMPLETE),
        *(message(n, Role.ASSISTANT, said[1], status) for n, status in ((2, Status.STOPPED), (3, Status.INTERRUPTED), (4, Status.FAILED))),
        message(5, Role.ASSISTANT, "7" * (SHOWN_CHARACTERS + 1), Status.COMPLETE),  # shown shortened
    ], {2: (1, 2)})
    view.append_unsaved_reply(said[1])
    page = view.toPlainText()
    assert page.count(pseudo("Assistant")) == 5 and pseudo("Stopped") in page and pseudo("older messages were left out to fit") in page
    assert_translated([("chat page", page)], data=said)
    assert_extracted(translator.asked)


def test_the_settings_dialog_is_translated(qtbot, translator: PseudoTranslator) -> None:
    dialog = SettingsDialog(Settings(), "smollm2", None, frozenset({"max_tokens"}), format_choices=["auto", "model", "chatml", "completion"])
    qtbot.addWidget(dialog)
    assert pseudo("{format} chat format").format(format="chatml") in [dialog.prompt_format.itemText(i) for i in range(4)]
    assert_translated(shown_texts(dialog), data={"chatml", *schema_placeholders()})  # chatml: the prompt format's own name
    assert_extracted(translator.asked)


def test_a_failure_is_shown_in_a_translated_box(qtbot, translator: PseudoTranslator) -> None:
    owner = QWidget()
    qtbot.addWidget(owner)
    box = present_error(owner, failure_title(), ValueError("no"))
    assert box.windowTitle() == pseudo("That did not work")
    assert_translated(shown_texts(box), data={"no"})  # the error's own words
    box.close()


def test_the_words_of_the_users_language_are_installed_at_start_up(qapp, tmp_path: Path, monkeypatch) -> None:
    lrelease = shutil.which("lrelease", path=PYSIDE_TOOLS)
    if lrelease is None:
        pytest.skip(f"no lrelease in {PYSIDE_TOOLS} to make the test's catalog with")
    (tmp_path / "hearth_de.ts").write_text(
        '<?xml version="1.0" encoding="utf-8"?><!DOCTYPE TS><TS version="2.1" language="de">'
        "<context><name>Dialogs</name><message><source>That did not work</source>"
        "<translation>Das hat nicht geklappt</translation></message></context></TS>",
        encoding="utf-8",
    )
    subprocess.run([lrelease, str(tmp_path / "hearth_de.ts")], check=True, capture_output=True, timeout=60)
    monkeypatch.setattr(translations, "QT_TRANSLATIONS_DIR", tmp_path)
    gettext_languages: list[list[str]] = []
    monkeypatch.setattr(translations, "use_language", gettext_languages.append)

    installed = translations.install_translators(qapp, QLocale("de_DE").uiLanguages())
    try:
        assert [Path(t.filePath()).name for t in installed] == ["hearth_de.qm", "qtbase_de.qm"]
        assert failure_title() == "Das hat nicht geklappt"
        assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Abbrechen"  # Qt's own buttons too
        assert gettext_languages == [["de_DE", "de"]], "the Qt-free code is told the same language"
    finally:
        for translator in installed:
            qapp.removeTranslator(translator)
    assert failure_title() == "That did not work"


def test_english_needs_no_catalog(qapp, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(translations, "QT_TRANSLATIONS_DIR", tmp_path)  # no hearth_*.qm at all
    monkeypatch.setattr(translations, "use_language", lambda languages: None)
    installed = translations.install_translators(qapp, QLocale("en_US").uiLanguages())
    try:
        assert all(not Path(t.filePath()).name.startswith("hearth") for t in installed)
        assert failure_title() == "That did not work"
    finally:
        for translator in installed:
            qapp.removeTranslator(translator)


def test_english_before_german_is_english_in_both_halves(qapp, tmp_path: Path, monkeypatch) -> None:
    """Someone who put English first gets English, though a German catalog is there (Qt's
    own search went on to German; gettext stopped at English: the window was half of each)."""
    (tmp_path / "hearth_de.qm").write_bytes(b"")  # what matters is that it is not looked at
    looked_at: list[str] = []
    monkeypatch.setattr(translations, "QT_TRANSLATIONS_DIR", tmp_path)
    monkeypatch.setattr(QTranslator, "load", lambda self, name, *args: looked_at.append(name) or False)
    told: list[list[str]] = []
    monkeypatch.setattr(translations, "use_language", told.append)
    assert translations.install_translators(qapp, ["en-US", "de-DE"]) == []
    assert looked_at == [translations.ENGLISH_PLURALS]  # English's plural forms, no German
    assert told == [["en_US", "en", "de_DE", "de"]]


def test_qt_language_tags_in_gettext_form() -> None:
    assert translations.gettext_languages(["de-Latn-DE", "de-DE", "de-Latn", "de"]) == ["de_DE", "de"]
    assert translations.gettext_languages(["pt-BR", "en-US", "en"]) == ["pt_BR", "pt", "en_US", "en"]
    assert translations.gettext_languages(["zh-Hant-TW"]) == ["zh_TW", "zh"]
    assert translations.gettext_languages(["C"]) == ["C"]


def test_a_replys_details_and_its_reproduce_are_translated(
    qtbot, translator: PseudoTranslator, paths: AppPaths, fake_factory: FakeBackendFactory, synthetic_gguf: MakeGguf
) -> None:
    entry = ModelLibrary(paths.models_dir).add(synthetic_gguf(), copy=False)
    window = open_window(qtbot, paths, fake_factory)
    qtbot.waitUntil(lambda: window.loader.ready, timeout=5000)
    window.composer.setPlainText("Hello there")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)
    assert pseudo("Details") in window.chat_view.toPlainText()
    conversation = window.session.conversation_id
    assert conversation is not None
    store = SqliteConversationStore(paths.database)
    window.show_reply_details(store.thread(conversation)[-1].id)
    store.close()
    dialog = window.details_dialog
    assert dialog is not None
    dialog.reproduce_button.click()
    qtbot.waitUntil(lambda: not window.session.reproducing, timeout=5000)
    settings = Settings()
    data = {*facts_of(entry), Path(entry.path).name, "fake engine 1.0", "Hearth", settings.system_prompt, "Q4_0"}
    assert_translated([*shown_texts(dialog), ("details", dialog.details.toPlainText()), ("outcome", dialog.outcome.text())],
                      data=data)
    assert_extracted(translator.asked)
