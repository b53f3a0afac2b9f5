"""The Discover tab: recommended models, and a search of the Hugging Face Hub.

The recommendations come from the catalog shipped with Hearth, so they show
with no network. Searching contacts the Hub, only when the user presses Search.
"""

from __future__ import annotations

import urllib.parse

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.config.settings import usable_context
from app.documents.embedders import prefixes_for
from app.gui.dialogs import error_message
from app.gui.item_models.model_table import size_label
from app.gui.ops import run_in_background
from app.gui.widgets.fit_look import verdict_colour
from app.library import hub_search, network
from app.library.catalog import CatalogModel
from app.library.downloads import DownloadJob, job_for_catalog, job_for_hub
from app.modelfile.fit import Fit, Machine, judge
from app.modelfile.gguf_info import parameters_label
from app.platform.secrets import TokenStore

DataRole = Qt.ItemDataRole.UserRole + 1


class DiscoverTab(QWidget):
    download_requested = Signal(object)  # DownloadJob

    def __init__(
        self,
        catalog: list[CatalogModel],
        machine: Machine,
        context_length: int,
        endpoint: str,
        tokens: TokenStore,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._machine, self._context_length = machine, context_length
        self._endpoint, self._tokens = endpoint, tokens

        self.fit_note = QLabel()
        self.catalog_list = QTreeWidget()
        self.catalog_list.setAccessibleName(self.tr("Recommended models"))
        self.catalog_list.setAccessibleDescription(self.tr("Models chosen for Hearth, with how well each runs on this computer."))
        self.catalog_list.setHeaderLabels(
            [self.tr("Recommended model"), self.tr("Fit"), self.tr("Download"), self.tr("Memory needed"), self.tr("License")]
        )
        self.catalog_list.setRootIsDecorated(False)
        self.catalog_list.setWordWrap(True)
        for model in catalog:
            name = f"{model.name}\n{self.embedding_label()}" if model.is_embedding else model.name
            item = QTreeWidgetItem([
                f"{name}\n{model.description}", "", size_label(model.size_bytes),
                self.tr("{gigabytes:g} GB").format(gigabytes=model.ram_gb), model.license,
            ])
            tip = self.tr("{description}\n{parameters} parameters · {repo}/{file}").format(
                description=model.description, parameters=parameters_label(model.parameters), repo=model.repo, file=model.file,
            )
            item.setToolTip(0, f"{tip}\n{self._embedding_note(model)}" if model.is_embedding else tip)
            item.setData(0, DataRole, model)
            self.catalog_list.addTopLevelItem(item)
        self.catalog_list.resizeColumnToContents(1)
        self.catalog_list.setColumnWidth(0, 460)
        self.download_button = QPushButton(self.tr("Download"))
        self.download_button.clicked.connect(self._download_recommended)
        self.catalog_list.itemDoubleClicked.connect(self._download_recommended)

        self.query = QLineEdit()
        self.query.setAccessibleName(self.tr("Search Hugging Face"))
        self.query.setPlaceholderText(self.tr("Search Hugging Face for GGUF models, e.g. “qwen 7b instruct”"))
        self.query.returnPressed.connect(self.search)
        self.search_button = QPushButton(self.tr("Search"))
        self.search_button.clicked.connect(self.search)
        self.token_button = QPushButton(self.tr("Hugging Face token…"))
        self.token_button.clicked.connect(self.ask_token)
        self.search_status = QLabel()
        self.search_status.setWordWrap(True)
        self.results = QTreeWidget()
        self.results.setAccessibleName(self.tr("Models found"))
        self.results.setAccessibleDescription(self.tr("The repositories the search found; choose one to see its files."))
        self.results.setHeaderLabels([self.tr("Repository"), self.tr("Downloads")])
        self.results.setRootIsDecorated(False)
        self.results.currentItemChanged.connect(self._list_files)
        self.files = QTreeWidget()
        self.files.setAccessibleName(self.tr("Files of the chosen model"))
        self.files.setAccessibleDescription(
            self.tr("Each file is the model at one quality. Download file (or a double click) downloads the chosen one.")
        )
        self.files.setHeaderLabels([self.tr("File"), self.tr("Quality"), self.tr("Size"), self.tr("Fit")])
        self.files.setRootIsDecorated(False)
        self.files.itemDoubleClicked.connect(self._download_file)
        self.file_button = QPushButton(self.tr("Download file"))
        self.file_button.clicked.connect(self._download_file)

        search_row = QHBoxLayout()
        search_row.addWidget(self.query, 1)
        search_row.addWidget(self.search_button)
        search_row.addWidget(self.token_button)
        found = QSplitter()
        found.addWidget(self.results)
        found.addWidget(self.files)
        layout = QVBoxLayout(self)
        layout.addWidget(self.fit_note)
        layout.addWidget(self.catalog_list, 3)
        buttons = QHBoxLayout()
        buttons.addWidget(self.download_button)
        buttons.addStretch()
        layout.addLayout(buttons)
        layout.addLayout(search_row)
        layout.addWidget(self.search_status)
        layout.addWidget(found, 2)
        file_buttons = QHBoxLayout()
        file_buttons.addWidget(self.file_button)
        file_buttons.addStretch()
        layout.addLayout(file_buttons)
        self.apply_settings(endpoint, context_length)

    def embedding_label(self) -> str:
        """What an embedding model is for, in the words the list shows under its name."""
        return self.tr("For your documents: finds passages by meaning (not a chat model)")

    def _embedding_note(self, model: CatalogModel) -> str:
        """The prefixes its model card asks for, as the index adds them (app/documents/embedders.py)."""
        prefixes = prefixes_for(f"{model.name} {model.file}")
        if not (prefixes.query or prefixes.document):
            return self.tr("Hearth uses it by itself when it searches your documents; it needs no prefixes.")
        if not prefixes.document:
            return self.tr(
                "Hearth uses it by itself when it searches your documents, and starts each question with “{query}”, "
                "as its model card asks."
            ).format(query=prefixes.query.strip())
        return self.tr(
            "Hearth uses it by itself when it searches your documents, and starts each question with “{query}” "
            "and each passage with “{document}”, as its model card asks."
        ).format(query=prefixes.query.strip(), document=prefixes.document.strip())

    def apply_settings(self, endpoint: str, context_length: int) -> None:
        self._endpoint, self._context_length = endpoint, context_length
        self._judge_catalog()
        self._say_where_search_goes()

    def set_machine(self, machine: Machine) -> None:
        self._machine = machine
        self._judge_catalog()

    def _fit(self, size: int, kv_per_token: int, trained_context: int = 0) -> Fit:
        context = usable_context(self._context_length, trained_context)
        return judge(size, kv_per_token, context, self._machine.total_memory, self._machine.gpu_memory)

    def _judge_catalog(self) -> None:
        self.fit_note.setText(self.tr(
            "Recommended models. “Fit” is for this computer ({gigabytes:.0f} GB of memory) "
            "and conversations of up to {tokens:,} tokens; point at it for the reason."
        ).format(gigabytes=self._machine.total_memory / 2**30, tokens=self._context_length))
        for index in range(self.catalog_list.topLevelItemCount()):
            item = self.catalog_list.topLevelItem(index)
            assert item is not None  # index < topLevelItemCount()
            model: CatalogModel = item.data(0, DataRole)
            fit = self._fit(model.size_bytes, model.kv_bytes_per_token, model.context_length)
            item.setText(1, fit.label)
            item.setForeground(1, verdict_colour(fit.verdict))
            item.setToolTip(1, fit.explanation)
        self.catalog_list.resizeColumnToContents(1)  # the verdict in words, whole

    def _say_where_search_goes(self) -> None:
        host = urllib.parse.urlsplit(network.hub_endpoint(self._endpoint)).netloc
        self.search_status.setText(self.tr("Searching contacts {host}; nothing else you do in Hearth does.").format(host=host))

    # -- recommended ------------------------------------------------------------

    def _download_recommended(self, *_: object) -> None:
        item = self.catalog_list.currentItem()
        if item is not None:
            self._request(job_for_catalog(item.data(0, DataRole)))

    def _request(self, job: DownloadJob) -> None:
        self.download_requested.emit(job)

    # -- Hub search -------------------------------------------------------------

    def search(self) -> None:
        words = self.query.text().strip()
        if not words or not self.search_button.isEnabled():  # Enter while a search runs
            return
        self.search_button.setEnabled(False)
        self.search_status.setText(self.tr("Searching for “{words}”…").format(words=words))
        self.results.clear()
        self.files.clear()
        endpoint, tokens = self._endpoint, self._tokens  # the keyring is read off this thread
        run_in_background(self, lambda: hub_search.search_models(words, endpoint, tokens.get()),
                          on_success=self._show_results, on_failure=self._search_failed)

    def _show_results(self, results: list[hub_search.HubModel]) -> None:
        self.search_button.setEnabled(True)
        self.search_status.setText(
            self.tr("%n repositories found. Pick one to see its files.", "", len(results)) if results
            else self.tr("Nothing found. Try fewer or other words.")
        )
        for result in results:
            item = QTreeWidgetItem([result.repo, f"{result.downloads:,}"])
            item.setData(0, DataRole, result.repo)
            self.results.addTopLevelItem(item)
        self.results.resizeColumnToContents(0)

    def _search_failed(self, error: Exception) -> None:
        self.search_button.setEnabled(True)
        self.search_status.setText(error_message(error))

    def _list_files(self, item: QTreeWidgetItem | None, _previous: object = None) -> None:
        if item is None:
            return
        repo = item.data(0, DataRole)
        self.files.clear()
        self.search_status.setText(self.tr("Listing the files of {repo}…").format(repo=repo))
        endpoint, tokens = self._endpoint, self._tokens
        run_in_background(self, lambda: (repo, hub_search.list_gguf_files(repo, "main", endpoint, tokens.get())),
                          on_success=self._show_files, on_failure=self._search_failed)

    def _show_files(self, answer: tuple[str, list[hub_search.HubFile]]) -> None:
        repo, files = answer
        current = self.results.currentItem()
        if current is None or current.data(0, DataRole) != repo:
            return  # the user picked another repository meanwhile
        self.search_status.setText(
            self.tr("Smaller files run faster and need less memory; larger ones answer a little better. "
                    "Q4_K_M is a good balance.") if files else self.tr("This repository has no GGUF files Hearth can use.")
        )
        for found in files:
            fit = self._fit(found.size, 0)
            item = QTreeWidgetItem([found.path, found.quantization, size_label(found.size), fit.label])
            item.setForeground(3, verdict_colour(fit.verdict))
            item.setToolTip(3, fit.explanation)
            item.setData(0, DataRole, found)
            self.files.addTopLevelItem(item)
        self.files.resizeColumnToContents(0)
        self.files.resizeColumnToContents(3)

    def _download_file(self, *_: object) -> None:
        item = self.files.currentItem()
        if item is None:
            return
        found: hub_search.HubFile = item.data(0, DataRole)
        self._request(job_for_hub(found.repo, found.path, sha256=found.sha256))

    # -- token --------------------------------------------------------------------

    def ask_token(self) -> None:
        # No parameters: a button's clicked(bool) would fill them (the checked flag once
        # arrived as an injected `ask` function: "'bool' object is not callable").
        token, accepted = QInputDialog.getText(
            self, self.tr("Hugging Face token"),
            self.tr("Some models (Llama, Gemma) need you to accept their license on huggingface.co.\n"
                    "Paste an access token from your account to download them (leave empty to forget it):"),
            QLineEdit.EchoMode.Password,
        )
        if accepted:
            tokens = self._tokens
            run_in_background(self, lambda: tokens.set(token), on_success=self._on_token_kept, on_failure=self._search_failed)

    def _on_token_kept(self, notice: str) -> None:
        self.search_status.setText(notice or self.tr("Your Hugging Face token is kept in this computer's password store."))
