"""The Downloads tab: the queue with a progress bar, speed and time left per file."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.gui.item_models.download_list import DownloadQueue, DownloadState, FractionRole, JobIdRole, StatusRole

Index = QModelIndex | QPersistentModelIndex


class DownloadDelegate(QStyledItemDelegate):
    """Name, then a progress bar, then the status line."""

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        line = option.fontMetrics.height()
        return QSize(400, line * 3 + 24)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget)
        line = option.fontMetrics.height()
        box = option.rect.adjusted(8, 6, -8, -6)
        painter.save()
        font = painter.font()
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(QRect(box.x(), box.y(), box.width(), line), Qt.AlignmentFlag.AlignLeft, index.data())
        painter.restore()
        bar = QStyleOptionProgressBar()
        bar.rect = QRect(box.x(), box.y() + line + 4, box.width(), line)
        fraction = index.data(FractionRole)
        bar.minimum, bar.maximum = 0, 1000 if fraction >= 0 else 0
        bar.progress = int(max(fraction, 0) * 1000)
        bar.state = option.state | QStyle.StateFlag.State_Horizontal  # Qt 6: vertical without it
        bar.palette = option.palette
        bar.fontMetrics = option.fontMetrics
        bar.direction = option.direction
        bar.textVisible = False
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)
        status = QRect(box.x(), box.y() + 2 * line + 8, box.width(), line)
        elided = option.fontMetrics.elidedText(index.data(StatusRole), Qt.TextElideMode.ElideRight, box.width())
        painter.drawText(status, Qt.AlignmentFlag.AlignLeft, elided)


class DownloadsTab(QWidget):
    def __init__(self, queue: DownloadQueue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._queue = queue
        self.list = QListView()
        self.list.setAccessibleName(self.tr("Downloads"))
        self.list.setAccessibleDescription(self.tr("Models being downloaded, waiting, paused or failed."))
        self.list.setModel(queue)
        self.list.setItemDelegate(DownloadDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.empty = QLabel(self.tr("No downloads. Pick a model in Discover to download it."))
        self.pause_button = QPushButton(self.tr("Pause"))
        self.resume_button = QPushButton(self.tr("Resume"))
        self.cancel_button = QPushButton(self.tr("Cancel download"))
        self.pause_button.clicked.connect(lambda: self._act(queue.pause))
        self.resume_button.clicked.connect(lambda: self._act(queue.resume))
        self.cancel_button.clicked.connect(lambda: self._act(queue.cancel))
        buttons = QHBoxLayout()
        for button in (self.pause_button, self.resume_button, self.cancel_button):
            buttons.addWidget(button)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        for signal in (queue.rowsInserted, queue.rowsRemoved, queue.dataChanged, queue.modelReset):
            signal.connect(self._update_buttons)
        self.list.selectionModel().currentChanged.connect(self._update_buttons)
        self._update_buttons()

    def select(self, job_id: str) -> None:
        for row in range(self._queue.rowCount()):
            if self._queue.index(row, 0).data(JobIdRole) == job_id:
                self.list.setCurrentIndex(self._queue.index(row, 0))

    def _current_job(self) -> str | None:
        index = self.list.currentIndex()
        if not index.isValid() and self._queue.rowCount() == 1:
            index = self._queue.index(0, 0)
        return index.data(JobIdRole) if index.isValid() else None

    def _act(self, action: Callable[[str], None]) -> None:
        job_id = self._current_job()
        if job_id:
            action(job_id)

    def _update_buttons(self, *_: object) -> None:
        self.empty.setVisible(self._queue.rowCount() == 0)
        job_id = self._current_job()
        state = self._queue.state_of(job_id) if job_id else None
        self.pause_button.setEnabled(state in (DownloadState.WAITING, DownloadState.DOWNLOADING))
        self.resume_button.setEnabled(state in (DownloadState.PAUSED, DownloadState.FAILED))
        self.cancel_button.setEnabled(state is not None and state is not DownloadState.CANCELLING)
