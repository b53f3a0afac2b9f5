"""The Library window: My models, Discover, Downloads, and that chatting opens no socket."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QRect, Qt, QUrl
from PySide6.QtGui import QDropEvent, QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOptionViewItem

from app.backends.llama.factory import LlamaBackendFactory
from app.gui.app import create_window
from app.gui.item_models.download_list import DownloadState, FractionRole, StatusRole
from app.gui.library import library_window
from app.gui.library.library_window import USE_IN_PLACE, LibraryWindow
from app.gui.main_window import MainWindow
from app.gui.widgets.name_eliding import fit_name
from app.library.model_library import ModelLibrary
from app.platform.paths import AppPaths, resolve_paths
from tests.fakes import FakeBackendFactory
from tests.gguf_factory import MakeGguf
from tests.gui.waits import reply_shown
from tests.hub_server import HubServer

REPO, FILE = "bartowski/Qwen2.5-0.5B-Instruct-GGUF", "Qwen2.5-0.5B-Instruct-Q4_K_M.gguf"  # the catalog's first


@pytest.fixture
def hub(synthetic_gguf: MakeGguf) -> Iterator[HubServer]:
    with HubServer() as server:
        # A GGUF file under the catalog's name: 2.3 MB, 35 of the server's 64 KiB blocks.
        server.serve(f"{REPO}/{FILE}", synthetic_gguf("served.gguf", parameters=4_000_000, quantization="Q4_K_M"))
        yield server


def point_at(paths: AppPaths, hub: HubServer) -> None:
    paths.settings_file.write_text(json.dumps({"library": {"hub_endpoint": hub.url}}))


@pytest.fixture
def open_window(qtbot, paths: AppPaths, fake_factory: FakeBackendFactory):  # type: ignore[no-untyped-def]
    windows: list[MainWindow] = []

    def make(real_backend: bool = False) -> MainWindow:
        window = create_window(paths, LlamaBackendFactory() if real_backend else fake_factory)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        if window.isVisible():
            window.close()


def cell(library: LibraryWindow, row: int, column: str) -> str:
    from app.gui.item_models.model_table import COLUMNS

    return library.table.index(row, COLUMNS.index(column)).data()


def test_item_models_pass_the_model_tester(qtmodeltester, qtbot, open_window, paths: AppPaths, synthetic_gguf: MakeGguf) -> None:
    ModelLibrary(paths.models_dir).add(synthetic_gguf(), copy=False)
    window = open_window()
    library = window.library.open()
    qtmodeltester.check(library.table)
    qtmodeltester.check(window.library.services.queue)


def test_my_models_shows_what_is_installed_and_deletes_with_confirmation(
    qtbot, open_window, paths: AppPaths, synthetic_gguf: MakeGguf, monkeypatch
) -> None:
    smol_file = synthetic_gguf()
    models = ModelLibrary(paths.models_dir)
    models.add(synthetic_gguf("tiny-gemma-q4_k_m.gguf", architecture="gemma3", parameters=4_000_000, quantization="Q4_K_M",
                              context_length=32_768, license_name="gemma"))  # a copy: deleting it frees disk
    models.add(smol_file, copy=False)
    window = open_window()
    qtbot.waitUntil(lambda: window.loader.ready, timeout=5000)
    library = window.library.open()
    rows = {cell(library, r, "Name"): r for r in range(library.table.rowCount())}
    smol, gemma = rows["Tiny Llama"], rows["Tiny Gemma"]
    assert cell(library, gemma, "Size") == "2 MB" and cell(library, gemma, "Quantization") == "Q4_K_M"
    assert cell(library, gemma, "Parameters") == "4M" and cell(library, gemma, "Context") == "32,768"
    assert cell(library, smol, "License") == "apache-2.0" and cell(library, gemma, "License") == "gemma"
    assert cell(library, smol, "Fit") == "Runs well"
    assert "GB" in library.table.index(smol, 1).data(Qt.ItemDataRole.ToolTipRole)
    in_use = window.loader.model_id
    assert cell(library, library.table.row_of(in_use), "Status") == "In use"

    other = next(r for r in range(library.table.rowCount()) if library.table.entry(r).id != in_use)
    library.view.selectRow(other)
    details = library_window.model_details(library.selected(), models.file_of(library.selected()))
    assert "Architecture: " in details and "Chat template: " in details and "general.architecture" in details
    asked: list[str] = []
    monkeypatch.setattr(LibraryWindow, "choose", lambda self, title, text, choices: asked.append(text) or choices[0])
    deleted = library.selected()
    library.delete_selected()
    if deleted.in_place:
        assert "Its file stays where it is" in asked[0] and smol_file.is_file()
    else:
        assert "This frees 2 MB of disk space" in asked[0]
        assert not models.file_of(deleted).exists()
    assert library.table.rowCount() == 1 and window.model_picker.count() == 1

    errors: list[str] = []
    monkeypatch.setattr(LibraryWindow, "show_error", lambda self, text: errors.append(text))
    library.view.selectRow(0)
    library.delete_selected()
    assert "is in use" in errors[0] and library.table.rowCount() == 1


def test_a_dropped_model_file_is_added_in_place(qtbot, open_window, synthetic_gguf: MakeGguf, monkeypatch) -> None:
    dropped = synthetic_gguf()
    window = open_window()
    monkeypatch.setattr(LibraryWindow, "choose", lambda self, title, text, choices: USE_IN_PLACE)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(dropped))])
    drop = QDropEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    qtbot.waitUntil(lambda: window.model_picker.count() == 1 and window.model_picker.isEnabled(), timeout=10000)
    (entry,) = window.library.library.models()
    assert entry.in_place and window.library.library.file_of(entry) == dropped.resolve()
    assert "Added: Tiny Llama" in window.library.window.status.text()


def test_models_of_other_apps_are_offered_without_copying(qtbot, open_window, synthetic_gguf: MakeGguf, monkeypatch) -> None:
    theirs = Path.home() / ".lmstudio/models/HuggingFaceTB/SmolLM2-GGUF/smollm2.gguf"
    theirs.parent.mkdir(parents=True)
    theirs.symlink_to(synthetic_gguf())
    window = open_window()
    library = window.library.open()
    qtbot.waitUntil(lambda: library.found_banner.isVisible(), timeout=10000)  # offered unasked
    assert library.found_banner.text().startswith("1 model(s) from LM Studio are already on this computer")
    offered: list[str] = []
    monkeypatch.setattr(library_window, "choose_found_models", lambda parent, found: offered.extend(m.app for m in found) or found)
    library.use_found_button.click()
    qtbot.waitUntil(lambda: library.table.rowCount() == 1, timeout=10000)
    assert offered == ["LM Studio"] and not library.found_banner.isVisible()
    assert cell(library, 0, "Name") == "SmolLM2-GGUF/smollm2", "the name the other app shows"
    assert library.table.entry(0).in_place and cell(library, 0, "Source") == "Used in place from LM Studio"


def test_discover_lists_the_catalog_with_fit_verdicts(qtbot, open_window) -> None:
    window = open_window()
    discover = window.library.open().discover
    count = discover.catalog_list.topLevelItemCount()
    assert count >= 12
    first = discover.catalog_list.topLevelItem(0)
    assert first.text(0).startswith("Qwen2.5 0.5B Instruct\n") and first.text(1) in ("Runs well", "May be slow", "Too big for this computer")
    assert "GB" in first.toolTip(1) and first.text(4) == "Apache-2.0"


@pytest.mark.real_model
def test_download_from_discover_then_chat_with_it(qtbot, open_window, paths: AppPaths, hub: HubServer, smollm_path: Path) -> None:
    hub.serve(f"{REPO}/{FILE}", smollm_path)  # a model that runs, under the catalog's name
    point_at(paths, hub)
    # A reply of the full default length took over 120 s twice in 60 runs while other tests
    # loaded both cores (llama.cpp's threads then wait on each other); 48 tokens show it works.
    settings = json.loads(paths.settings_file.read_text())
    paths.settings_file.write_text(json.dumps(settings | {"sampling": {"max_tokens": 48}}))
    hub.faults.drop_after, hub.faults.drops = 20_000_000, 1  # the network drops once on the way
    window = open_window(real_backend=True)
    library = window.library.open()
    library.discover.catalog_list.setCurrentItem(library.discover.catalog_list.topLevelItem(0))
    library.discover.download_button.click()
    assert library.tabs.currentWidget() is library.downloads
    queue = window.library.services.queue
    assert queue.rowCount() == 1
    qtbot.waitUntil(lambda: queue.rowCount() == 0, timeout=60000)
    (entry,) = window.library.library.models()
    assert (entry.repo, entry.repo_file, entry.name) == (REPO, FILE, "Qwen2.5 0.5B Instruct")
    assert entry.sha256 == hub.files[f"{REPO}/{FILE}"].sha256
    assert "downloaded and verified" in library.status.text()
    assert window.model_picker.count() == 1
    qtbot.waitUntil(lambda: window.loader.ready, timeout=60000)
    window.composer.setPlainText("What is the capital of France?")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: reply_shown(window), timeout=120000)
    assert "tokens/s" in window.speed_status.text()
    assert len(window.chat_view.toPlainText()) > len("What is the capital of France?") + 10


def start_a_slow_download(qtbot, open_window, paths: AppPaths, hub: HubServer):  # type: ignore[no-untyped-def]
    """Download the first recommended model from a trickling server, until it shows its speed."""
    point_at(paths, hub)
    hub.faults.trickle = 0.2  # 0.3 MB/s: 7 s for the file, time enough to pause, resume and cancel it
    window = open_window()
    library = window.library.open()
    library.discover.catalog_list.setCurrentItem(library.discover.catalog_list.topLevelItem(0))
    library.discover.download_button.click()
    queue = window.library.services.queue
    qtbot.waitUntil(lambda: "MB/s" in queue.index(0, 0).data(StatusRole), timeout=20000)
    return window, library, queue


def test_pause_resume_and_cancel_in_the_downloads_tab(qtbot, open_window, paths: AppPaths, hub: HubServer) -> None:
    window, library, queue = start_a_slow_download(qtbot, open_window, paths, hub)
    tab = library.downloads
    job_id = queue.index(0, 0).data(Qt.ItemDataRole.UserRole + 1)
    assert "%" in queue.index(0, 0).data(StatusRole) and "left" in queue.index(0, 0).data(StatusRole)
    tab.pause_button.click()
    qtbot.waitUntil(lambda: queue.state_of(job_id) is DownloadState.PAUSED, timeout=5000)
    assert "MB downloaded" in queue.index(0, 0).data(StatusRole)
    assert 0 < queue.index(0, 0).data(FractionRole) < 1, "the bar shows how much is there"
    assert tab.resume_button.isEnabled() and not tab.pause_button.isEnabled()
    tab.resume_button.click()
    qtbot.waitUntil(lambda: queue.state_of(job_id) is DownloadState.DOWNLOADING, timeout=5000)
    tab.cancel_button.click()
    qtbot.waitUntil(lambda: queue.rowCount() == 0, timeout=5000)
    # The row goes at once; the files go on a background task (DownloadQueue._drop).
    qtbot.waitUntil(lambda: not list((paths.models_dir / ".downloads").glob("*")), timeout=5000)  # a cancelled download leaves nothing
    assert window.library.library.models() == []


def test_a_paused_download_waits_for_resume_after_a_restart(qtbot, open_window, paths: AppPaths, hub: HubServer) -> None:
    window, _library, queue = start_a_slow_download(qtbot, open_window, paths, hub)
    window.close()  # pauses the download; what was fetched stays on disk
    requests = len(hub.log)

    hub.faults.trickle = 0
    again = open_window()
    queue = again.library.services.queue
    assert queue.rowCount() == 1 and queue.state_of(queue.index(0, 0).data(Qt.ItemDataRole.UserRole + 1)) is DownloadState.PAUSED
    assert len(hub.log) == requests, "nothing is fetched until the user resumes"
    tab = again.library.open().downloads
    tab.list.setCurrentIndex(queue.index(0, 0))
    tab.resume_button.click()
    qtbot.waitUntil(lambda: queue.rowCount() == 0, timeout=30000)
    assert hub.log[-1].range_start > 0
    assert [e.repo_file for e in again.library.library.models()] == [FILE]


def test_hub_search_lists_files_by_quantization_and_says_when_offline(
    qtbot, open_window, paths: AppPaths, hub: HubServer, synthetic_gguf: MakeGguf
) -> None:
    point_at(paths, hub)
    hub.serve(f"{REPO}/Qwen2.5-0.5B-Instruct-Q8_0.gguf", synthetic_gguf("q8.gguf", parameters=4_000_000, quantization="Q8_0"))
    hub.models_api = [{"id": REPO, "downloads": 99, "likes": 1}]
    window = open_window()
    discover = window.library.open().discover
    discover.query.setText("qwen")
    discover.search_button.click()
    qtbot.waitUntil(lambda: discover.results.topLevelItemCount() == 1, timeout=10000)
    discover.results.setCurrentItem(discover.results.topLevelItem(0))
    qtbot.waitUntil(lambda: discover.files.topLevelItemCount() == 2, timeout=10000)
    assert [discover.files.topLevelItem(i).text(1) for i in range(2)] == ["Q4_K_M", "Q8_0"]
    assert discover.files.topLevelItem(0).text(3) == "Runs well"

    discover._endpoint = "http://127.0.0.1:9"
    discover.search_button.click()
    qtbot.waitUntil(lambda: discover.search_button.isEnabled(), timeout=10000)
    assert "seems to be offline" in discover.search_status.text()


@pytest.mark.real_model
def test_no_socket_is_opened_at_start_while_chatting_or_in_my_models(
    qtbot, open_window, paths: AppPaths, smollm_path: Path, monkeypatch
) -> None:
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: refuse(None, address))  # type: ignore[arg-type]
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: refuse(None, host))  # type: ignore[arg-type]
    ModelLibrary(paths.models_dir).add(smollm_path, copy=False)
    window = open_window(real_backend=True)  # the real backend and model
    qtbot.waitUntil(lambda: window.loader.ready, timeout=60000)
    window.composer.setPlainText("Say hello to the purple lighthouse keeper.")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: reply_shown(window), timeout=120000)
    logged = paths.log_file.read_text(encoding="utf-8")
    assert "purple lighthouse keeper" not in logged, "the log never holds conversation text"
    library = window.library.open()
    library.view.selectRow(0)
    library.verify_selected()
    qtbot.waitUntil(lambda: "whole and unchanged" in library.status.text(), timeout=10000)
    library.tabs.setCurrentWidget(library.discover)
    assert attempts == []

    from app.library import hub_search
    from app.library.network import NetworkError

    with pytest.raises(NetworkError):
        hub_search.search_models("llama", endpoint="http://127.0.0.1:9")
    assert attempts, "the guard itself works: a search is caught"


def test_a_new_hub_address_in_settings_is_used_for_downloads(qtbot, open_window, monkeypatch) -> None:
    from app.gui.widgets.settings_dialog import SettingsDialog

    window = open_window()
    first = window.library.open()
    monkeypatch.setattr(SettingsDialog, "exec", lambda self: self.fields["hub_endpoint"].setText("mirror.school.example/") or 1)
    window.open_settings()
    assert window.settings.current().library.hub_endpoint == "https://mirror.school.example"
    assert window.library.services.queue._downloader.endpoint == "https://mirror.school.example"
    assert window.library.open() is first and "mirror.school.example" in first.discover.search_status.text()


def test_waiting_downloads_pause_and_cancel_at_once_and_failures_are_shown(
    qtbot, qtmodeltester, open_window, paths: AppPaths, hub: HubServer
) -> None:
    served = hub.files[f"{REPO}/{FILE}"].path
    hub.serve("bartowski/Llama-3.2-1B-Instruct-GGUF/Llama-3.2-1B-Instruct-Q4_K_M.gguf", served)
    hub.serve("bartowski/Qwen2.5-1.5B-Instruct-GGUF/Qwen2.5-1.5B-Instruct-Q4_K_M.gguf", served)
    window, library, queue = start_a_slow_download(qtbot, open_window, paths, hub)
    for row in (2, 3):  # two more recommended models wait behind the first
        library.discover.catalog_list.setCurrentItem(library.discover.catalog_list.topLevelItem(row))
        library.discover.download_button.click()
    qtmodeltester.check(queue)
    ids = [queue.index(i, 0).data(Qt.ItemDataRole.UserRole + 1) for i in range(3)]
    assert [queue.state_of(i) for i in ids[1:]] == [DownloadState.WAITING] * 2
    queue.pause(ids[1])
    assert queue.state_of(ids[1]) is DownloadState.PAUSED, "no need to wait for the first download"
    queue.cancel(ids[2])
    assert queue.rowCount() == 2
    assert queue.state_of(ids[0]) is DownloadState.DOWNLOADING

    queue.cancel(ids[0])  # while it trickles: at full speed, 2.3 MB could arrive before the cancel is seen
    qtbot.waitUntil(lambda: queue.rowCount() == 1, timeout=5000)
    hub.faults.trickle, hub.faults.wrong_bytes = 0, True
    queue.resume(ids[1])
    qtbot.waitUntil(lambda: queue.state_of(ids[1]) is DownloadState.FAILED, timeout=20000)
    status = queue.index(0, 0).data(StatusRole)
    assert status.startswith("Failed · ") and "checksum does not match" in status
    assert "checksum does not match" in window.statusBar().currentMessage()


def test_an_update_is_found_downloaded_beside_the_old_version(
    qtbot, open_window, paths: AppPaths, hub: HubServer, synthetic_gguf: MakeGguf
) -> None:
    point_at(paths, hub)
    window = open_window()
    library = window.library.open()
    library.discover.catalog_list.setCurrentItem(library.discover.catalog_list.topLevelItem(0))
    library.discover.download_button.click()
    queue = window.library.services.queue
    qtbot.waitUntil(lambda: queue.rowCount() == 0 and library.table.rowCount() == 1, timeout=30000)
    library.buttons["check"].click()
    qtbot.waitUntil(lambda: "up to date" in library.status.text(), timeout=10000)

    hub.serve(f"{REPO}/{FILE}", synthetic_gguf("served-v2.gguf"), commit="e" * 40)  # the publisher uploads a new version
    library.buttons["check"].click()
    qtbot.waitUntil(lambda: "1 update(s) available" in library.status.text(), timeout=10000)
    assert cell(library, 0, "Status").endswith("Update available")
    library.view.selectRow(0)
    assert library.buttons["update"].isEnabled()
    library.buttons["update"].click()
    qtbot.waitUntil(lambda: library.table.rowCount() == 2 and queue.rowCount() == 0, timeout=30000)
    revisions = {library.table.entry(r).revision for r in range(2)}
    assert revisions == {"a" * 40, "e" * 40}, "both versions are kept"
    assert all("Update available" not in cell(library, r, "Status") for r in range(2))
    assert all(window.library.library.file_of(library.table.entry(r)).is_file() for r in range(2))


def test_export_for_other_computers_then_import_from_folder(
    qtbot, open_window, paths: AppPaths, tmp_path: Path, synthetic_gguf: MakeGguf, monkeypatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from app.config.settings import Settings, save_settings
    from app.gui.library import pack_dialogs

    ModelLibrary(paths.models_dir).add(synthetic_gguf())
    save_settings(Settings(system_prompt="Answer like a friendly librarian."), paths.settings_file)
    teacher = open_window()
    usb = tmp_path / "usb"
    installer = tmp_path / "hearth-setup.exe"
    installer.write_bytes(b"MZ pretend installer")
    monkeypatch.setattr(pack_dialogs, "choose_what_to_export",
                        lambda parent, entries: pack_dialogs.ExportChoice([e.id for e in entries], True, installer))
    monkeypatch.setattr(pack_dialogs.QFileDialog, "getExistingDirectory", lambda *a, **k: str(usb))
    teacher.packs.export()

    def shown(window: MainWindow) -> str:
        boxes = [b for b in window.findChildren(QMessageBox, "pack-result") if b.isVisible()]
        return boxes[-1].text() if boxes else ""

    qtbot.waitUntil(lambda: "Copy this folder to the other computers" in shown(teacher), timeout=20000)
    assert shown(teacher).splitlines()[1:] == ["It holds 1 model(s).", "It holds your settings.", "It holds the installer."]
    assert (usb / "hearth-pack" / "hearth-pack.json").is_file()
    assert (usb / "hearth-pack" / "installer" / "hearth-setup.exe").read_bytes() == installer.read_bytes()
    teacher.close()

    other = resolve_paths(tmp_path / "student")
    other.ensure()
    student = create_window(other, FakeBackendFactory())
    qtbot.addWidget(student)
    student.show()
    assert student.model_picker.count() == 1 and not student.model_picker.isEnabled()  # "No models installed"
    assert "Hearth needs a model to chat with" in student.chat_view.toPlainText()
    # the student picks the stick the pack was exported to, not the folder the export made in it
    monkeypatch.setattr(pack_dialogs.QFileDialog, "getExistingDirectory", lambda *a, **k: str(usb))
    student.packs.import_()
    qtbot.waitUntil(lambda: "Added Tiny Llama." in shown(student), timeout=20000)
    assert "settings were applied" in shown(student)
    assert student.model_picker.isEnabled() and student.settings.current().system_prompt == "Answer like a friendly librarian."
    assert "Start a conversation" in student.chat_view.toPlainText(), "the welcome no longer asks for a model"
    student.close()


def test_an_administrators_policy_in_the_window(qtbot, paths: AppPaths, synthetic_gguf: MakeGguf, tmp_path: Path, monkeypatch) -> None:
    from app.gui.widgets.settings_dialog import SettingsDialog

    policy = tmp_path / "policy.toml"
    policy.write_text(
        'allowed_models = ["smollm2-*"]\ndownloads = false\nsystem_prompt = "You help students."\n'
        '[settings]\ntemperature = 0.2\nlocked = ["system_prompt", "temperature"]\n'
    )
    monkeypatch.setenv("HEARTH_POLICY_FILE", str(policy))
    ModelLibrary(paths.models_dir).add(synthetic_gguf("SmolLM2-synthetic.Q4_1.gguf"), copy=False)
    ModelLibrary(paths.models_dir).add(synthetic_gguf("gemma-synthetic.Q4_K_M.gguf"), copy=False)
    window = create_window(paths, FakeBackendFactory())
    qtbot.addWidget(window)
    window.show()
    assert [window.model_picker.itemText(i).split("  ·")[0] for i in range(window.model_picker.count())] == ["SmolLM2 Synthetic"]
    assert window.settings.current().system_prompt == "You help students." and window.settings.current().sampling.temperature == 0.2

    seen: list[SettingsDialog] = []

    def look_then_change_top_p(self: SettingsDialog) -> int:
        seen.append(self)
        self.fields["top_p"].setValue(0.5)
        return 1

    monkeypatch.setattr(SettingsDialog, "exec", look_then_change_top_p)
    window.open_settings()
    (dialog,) = seen
    assert not dialog.fields["temperature"].isEnabled() and dialog.fields["top_p"].isEnabled()
    assert dialog.fields["system_prompt"].isReadOnly() and dialog.fields["hub_endpoint"].isReadOnly()  # downloads are off
    label = dialog.label_of(dialog.fields["temperature"]).text()
    assert label == "Creativity (temperature)\n(set by your administrator)"
    assert window.settings.current().sampling.top_p == 0.5, "an unlocked setting keeps the user's choice"
    assert window.settings.current().sampling.temperature == 0.2
    library = window.library.open()
    assert not library.tabs.isTabEnabled(library.tabs.indexOf(library.discover))
    assert "turned off" in library.tabs.tabToolTip(library.tabs.indexOf(library.discover))
    assert all(library.discover.catalog_list.topLevelItem(i).text(0).startswith("SmolLM2")
               for i in range(library.discover.catalog_list.topLevelItemCount()))
    window.close()


def test_a_broken_policy_is_logged_and_told_in_the_about_box_and_the_app_starts(
    qtbot, paths: AppPaths, tmp_path: Path, monkeypatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The policy is the administrator's business: whoever sits at the computer (a pupil)
    gets no dialog about it; the log and Help → About Hearth say what is wrong."""
    from PySide6.QtWidgets import QMessageBox

    policy = tmp_path / "policy.toml"
    policy.write_text('downloads = false\n[settings]\ntemperature = "hot"\n')
    monkeypatch.setenv("HEARTH_POLICY_FILE", str(policy))
    about: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: about.append(text))
    window = create_window(paths, FakeBackendFactory())
    qtbot.addWidget(window)
    window.show()
    qtbot.wait(200)
    assert not [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert "line 3: temperature must be a float" in caplog.text
    window.about_action.trigger()
    assert "The administrator's policy has errors" in about[0] and "line 3: temperature must be a float" in about[0]
    assert window.settings.current().sampling.temperature == 0.7 and not window.library.services.policy.downloads
    window.close()


def test_a_bundle_sets_up_its_starter_model_on_first_launch(qtbot, paths: AppPaths, tmp_path: Path, synthetic_gguf: MakeGguf, monkeypatch) -> None:
    from app.library import model_library as library_module

    resources = tmp_path / "bundle-resources"
    (resources / "models").mkdir(parents=True)
    (resources / "models" / library_module.STARTER_FILE).symlink_to(synthetic_gguf())
    monkeypatch.setattr(library_module, "RESOURCES_DIR", resources)
    window = create_window(paths, FakeBackendFactory())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.loader.ready, timeout=20000)
    (entry,) = window.library.library.models()
    assert not entry.in_place and window.library.library.file_of(entry).parent == paths.models_dir
    assert entry.license == "Apache-2.0" and window.model_picker.isEnabled()
    assert "Start a conversation" in window.chat_view.toPlainText()
    window.close()


def test_a_hub_address_from_an_imported_pack_is_used_for_downloads(qtbot, open_window, paths: AppPaths) -> None:
    window = open_window()
    library = window.library.open()
    paths.settings_file.write_text(json.dumps({"library": {"hub_endpoint": "https://mirror.school.example"}}))
    window._on_pack_imported(settings_applied=True)  # what the import task reports once it wrote the file
    assert window.library.services.queue._downloader.endpoint == "https://mirror.school.example"
    assert "mirror.school.example" in library.discover.search_status.text()


class SlowGraphicsProbe(FakeBackendFactory):
    """nvidia-smi can take seconds: this probe answers only when the test lets it."""

    def __init__(self) -> None:
        super().__init__()
        self.answer = threading.Event()

    def accelerator_memory(self) -> int:
        self.answer.wait(10)
        return 64 * 2**30


def test_the_graphics_card_is_probed_after_the_window_is_up(qtbot, paths: AppPaths, synthetic_gguf: MakeGguf) -> None:
    ModelLibrary(paths.models_dir).add(synthetic_gguf("Tiny.Q4_1.gguf"), copy=False)
    factory = SlowGraphicsProbe()
    window = create_window(paths, factory)  # returns while the probe is still waiting
    qtbot.addWidget(window)
    window.show()
    library = window.library.open()
    fit = library.table.index(0, 1)
    assert "graphics card" not in fit.data(Qt.ItemDataRole.ToolTipRole)
    factory.answer.set()
    qtbot.waitUntil(lambda: "graphics card" in library.table.index(0, 1).data(Qt.ItemDataRole.ToolTipRole), timeout=5000)
    window.close()


def test_a_locked_system_prompt_applies_to_a_conversation_begun_with_another(
    qtbot, paths: AppPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, synthetic_gguf: MakeGguf
) -> None:
    from app.conversations.store import SqliteConversationStore

    store = SqliteConversationStore(paths.database)
    older = store.create_conversation("Before the policy", system_prompt="You are a pirate.")
    store.add_message(older, store.add_message(older, None, "user", "Hello"), "assistant", "Ahoy!")
    store.close()
    policy = tmp_path / "policy.toml"
    policy.write_text('system_prompt = "You help students."\nlocked = ["system_prompt"]\n')
    monkeypatch.setenv("HEARTH_POLICY_FILE", str(policy))
    ModelLibrary(paths.models_dir).add(synthetic_gguf("SmolLM2-synthetic.Q4_1.gguf"), copy=False)
    factory = FakeBackendFactory()
    window = create_window(paths, factory)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.session.can_reply, timeout=5000)
    assert window.session.conversation_id == older and "Ahoy!" in window.chat_view.toPlainText()
    window.send("Who are you?")
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)
    assert [request.system_prompt for request in factory.backend.requests] == ["You help students."]
    window.close()


def test_the_fit_verdict_is_shown_whole_in_words_and_colour(qtbot, open_window) -> None:
    from app.gui.widgets.fit_look import VERDICT_COLOURS

    library = open_window().library.open()
    catalog = library.discover.catalog_list
    for index in range(catalog.topLevelItemCount()):
        item = catalog.topLevelItem(index)
        words = item.text(1)
        assert words in {"Runs well", "May be slow", "Too big for this computer"}
        assert catalog.columnWidth(1) >= catalog.fontMetrics().horizontalAdvance(words), f"{words!r} is cut"
        assert item.foreground(1).color() in VERDICT_COLOURS.values()


def test_a_base_model_is_marked_not_made_for_chat_in_the_picker(qtbot, open_window, paths: AppPaths, synthetic_gguf: MakeGguf) -> None:
    ModelLibrary(paths.models_dir).add(synthetic_gguf("gemma-base.Q4_K_M.gguf", chat_template=None), copy=False)
    ModelLibrary(paths.models_dir).add(synthetic_gguf("SmolLM2-synthetic.Q4_1.gguf"), copy=False)
    picker = open_window().model_picker
    labels = {picker.itemText(i).split("  ·")[0]: picker.itemText(i) for i in range(picker.count())}
    assert labels["Gemma Base"].endswith("not made for chat")
    assert "chat" not in labels["SmolLM2 Synthetic"]
    base = next(i for i in range(picker.count()) if picker.itemText(i).startswith("Gemma Base"))
    assert "not taught to chat" in picker.itemData(base, Qt.ItemDataRole.ToolTipRole)


def test_a_base_model_is_marked_not_made_for_chat_in_my_models(qtbot, open_window, paths: AppPaths, synthetic_gguf: MakeGguf) -> None:
    ModelLibrary(paths.models_dir).add(synthetic_gguf("gemma-base.Q4_K_M.gguf", chat_template=None), copy=False)
    ModelLibrary(paths.models_dir).add(synthetic_gguf("SmolLM2-synthetic.Q4_1.gguf"), copy=False)
    library = open_window().library.open()
    names = [cell(library, row, "Name") for row in range(library.table.rowCount())]
    assert sorted(names) == ["Gemma Base  ·  not made for chat", "SmolLM2 Synthetic"]
    base = library.table.index(names.index("Gemma Base  ·  not made for chat"), 0)
    assert library.view.viewport().rect().contains(library.view.visualRect(base)), "on screen, beside the name"
    assert library.view.fontMetrics().horizontalAdvance(base.data()) < library.view.columnWidth(0), "not cut short"


# -- embedding models -------------------------------------------------------------


def test_discover_says_an_embedding_model_is_for_the_documents_with_its_prefixes(qtbot, open_window) -> None:
    discover = open_window().library.open().discover
    items = [discover.catalog_list.topLevelItem(i) for i in range(discover.catalog_list.topLevelItemCount())]
    gemma = next(item for item in items if item.text(0).startswith("EmbeddingGemma 300M\n"))
    assert gemma.text(0).split("\n")[1] == "For your documents: finds passages by meaning (not a chat model)"
    assert "“task: search result | query:”" in gemma.toolTip(0) and "“title: none | text:”" in gemma.toolTip(0)
    bge = next(item for item in items if item.text(0).startswith("BGE Small EN v1.5\n"))
    assert "For your documents" in bge.text(0) and "“Represent this sentence for searching relevant passages:”," in bge.toolTip(0)
    assert bge.text(1) in ("Runs well", "May be slow") and bge.text(4) == "MIT"
    qwen = next(item for item in items if item.text(0).startswith("Qwen2.5 0.5B Instruct\n"))
    assert "For your documents" not in qwen.text(0) and "model card asks" not in qwen.toolTip(0)


def test_an_embedding_model_is_neither_offered_nor_loaded_as_the_chat_model(
    qtbot, paths: AppPaths, fake_factory: FakeBackendFactory, synthetic_gguf: MakeGguf
) -> None:
    library = ModelLibrary(paths.models_dir)
    embedder = library.add(synthetic_gguf("all-MiniLM-L6-v2.F32.gguf", architecture="bert", chat_template=None), copy=False)
    paths.settings_file.write_text(json.dumps({"last_model_id": embedder.id}))  # as a Hearth before this one saved it
    window = create_window(paths, fake_factory)
    qtbot.addWidget(window)
    window.show()
    picker = window.model_picker
    assert [picker.itemText(i) for i in range(picker.count())] == ["No chat model installed"] and not picker.isEnabled()
    assert window.loader.model_id == "" and fake_factory.backend.loads == 0, "not loaded at start"

    chat = library.add(synthetic_gguf("SmolLM2-Synthetic.Q4_1.gguf"), copy=False)  # listed after the embedding model
    window.library.models_changed.emit()
    qtbot.waitUntil(lambda: window.loader.model_id == chat.id, timeout=10000)
    assert [picker.itemData(i) for i in range(picker.count())] == [chat.id]
    assert all("MiniLM" not in picker.itemText(i) for i in range(picker.count()))
    window.close()


def test_load_in_my_models_says_an_embedding_model_cannot_chat(qtbot, open_window, paths: AppPaths, synthetic_gguf: MakeGguf) -> None:
    ModelLibrary(paths.models_dir).add(synthetic_gguf("all-MiniLM-L6-v2.F32.gguf", architecture="bert", chat_template=None), copy=False)
    window = open_window()
    library = window.library.open()
    assert cell(library, 0, "Status") == "For documents (an embedding model)"
    library.select("all-minilm-l6-v2-f32")
    assert "cannot chat" in library.buttons["load"].toolTip()
    requested: list[str] = []
    library.load_requested.connect(requested.append)
    library.buttons["load"].click()
    assert requested == [] and window.loader.model_id == ""
    assert library.status.text().startswith("All MiniLM L6 V2 is an embedding model, for your documents")


LONG_FILE = "Gemma-3-270M-Pretrained-Base-Continued-On-A-Very-Long-List-Of-Classroom-Reading-Books.Q4_K_M.gguf"


class DrawnText(QProxyStyle):
    """The style the picker paints with, keeping each text it draws and where."""

    def __init__(self) -> None:
        super().__init__("Fusion")
        self.drawn: list[tuple[QRect, str]] = []

    def drawItemText(self, painter, rect, flags, palette, enabled, text, role=QPalette.ColorRole.NoRole) -> None:  # noqa: N802
        self.drawn.append((QRect(rect), text))
        super().drawItemText(painter, rect, flags, palette, enabled, text, role)


def test_a_long_base_model_name_is_shortened_in_the_picker_never_its_mark(
    qtbot, open_window, paths: AppPaths, synthetic_gguf: MakeGguf
) -> None:
    long_name = ModelLibrary(paths.models_dir).add(synthetic_gguf(LONG_FILE, chat_template=None), copy=False).shown_name
    picker = open_window().model_picker
    style = DrawnText()
    picker.setStyle(style)
    picker.resize(420, picker.height())
    picker.grab()
    (rect, text), = [(rect, text) for rect, text in style.drawn if text]
    assert text.endswith("MB  ·  not made for chat") and text.startswith("Gemma 3 270M") and "…" in text
    assert picker.fontMetrics().horizontalAdvance(text) <= rect.width(), "all of it shown"
    assert long_name in picker.itemData(0, Qt.ItemDataRole.ToolTipRole), "the whole name in its tooltip"


def shown_text(view, index) -> str:  # type: ignore[no-untyped-def]
    """A cell's text as the view draws it: what its delegate gives, cut to the cell as the style cuts it."""
    option = QStyleOptionViewItem()
    option.initFrom(view)
    option.rect = view.visualRect(index)
    option.widget = view
    view.itemDelegateForIndex(index).initStyleOption(option, index)
    text_rect = view.style().subElementRect(QStyle.SubElement.SE_ItemViewItemText, option, view)
    margin = view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
    return option.fontMetrics.elidedText(option.text, view.textElideMode(), text_rect.width() - 2 * margin)


def test_a_long_base_model_name_is_shortened_in_my_models_never_its_mark(
    qtbot, open_window, paths: AppPaths, synthetic_gguf: MakeGguf
) -> None:
    long_name = ModelLibrary(paths.models_dir).add(synthetic_gguf(LONG_FILE, chat_template=None), copy=False).shown_name
    library = open_window().library.open()
    index = library.table.index(0, 0)
    assert index.data() == f"{long_name}  ·  not made for chat"
    assert index.data(Qt.ItemDataRole.ToolTipRole).startswith(f"{long_name}  ·  not made for chat\n"), "whole in its tooltip"
    for width in (240, 380):
        library.view.setColumnWidth(0, width)
        text = shown_text(library.view, index)
        assert text.endswith("…  ·  not made for chat") and text.startswith("Gemma 3 2"), text


def test_a_shortened_name_always_fits_whatever_the_width(qapp) -> None:  # type: ignore[no-untyped-def]
    # Measured before the fix, here: 13 of 11,324 (font size, name, width) came out a pixel
    # too wide, and Qt then cut the mark off.
    for size in range(8, 20):
        font = QFont(QApplication.font())
        font.setPointSize(size)
        metrics = QFontMetrics(font)
        for name in ("gemma-3-270m-it-qat", "SmolLM2 135M Instruct very long name of a model", "שם של מודל ארוך מאוד",
                     "非常に長いモデルの名前です"):
            text = f"{name} · 4,321 MB · not made for chat"
            for width in range(metrics.horizontalAdvance(" · 4,321 MB · not made for chat") + 10, metrics.horizontalAdvance(text)):
                fitted = fit_name(text, name, metrics, width)
                assert metrics.horizontalAdvance(fitted) <= width and fitted.endswith(" · 4,321 MB · not made for chat"), (
                    size, name, width)
