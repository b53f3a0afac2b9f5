"""The words of the Documents panel that count things or say how far indexing is.

A QObject for its `self.tr`: lupdate marks a message with `%n` as plural only in a
`tr` call (not in `QCoreApplication.translate`), so the English catalog can give it
its singular. Counts are named before each call: lupdate misses a count that is a call."""

from __future__ import annotations

from PySide6.QtCore import QObject

from app.gui.controllers.document_records import CollectionSummary, FileSummary
from app.gui.controllers.documents import DocumentsController


class DocumentsTexts(QObject):
    def collection_row(self, summary: CollectionSummary) -> str:
        count, passage_count = summary.files, summary.passages
        files = self.tr("%n file(s)", "", count)
        passages = self.tr("%n passage(s)", "", passage_count)
        return self.tr("{name} — {files}, {passages}").format(name=summary.name, files=files, passages=passages)

    def file_row(self, summary: FileSummary) -> str:
        """The file's name, its passages, and what went wrong with it: a file that could not
        be read at all is said to be skipped (its sentence names it already: not twice)."""
        name, count = summary.path.name, summary.passages
        problem = (summary.problem or "").removeprefix(f"{name}: ")
        if summary.complete and problem and not count:
            return self.tr("{file} — skipped: {reason}").format(file=name, reason=problem)
        if not summary.complete and not count:
            return self.tr("{file} (waiting to be read)").format(file=name)
        passages = self.tr("%n passage(s)", "", count)
        row = self.tr("{file} · {passages}").format(file=name, passages=passages)
        if not summary.complete:
            return self.tr("{row} (not finished: indexing goes on from here)").format(row=row)
        return f"{row} — {problem}" if problem else row

    def time_left(self, seconds: float | None) -> str:
        if seconds is None:
            return ""
        if seconds < 60:
            return self.tr("less than a minute left")
        minutes = round(seconds / 60)
        return self.tr("about %n minute(s) left", "", minutes)

    def indexing(self, controller: DocumentsController) -> str:
        """What the line above the progress bar says."""
        name = controller.indexing or (controller.queue[0] if controller.queue else None)
        if controller.paused and name is not None:
            return self.tr("Paused. “{name}” goes on from here when you press Resume.").format(name=name)
        if name is None:
            behind = next((summary.name for summary in controller.collections if summary.unfinished), None)
            if behind is not None:
                return self.tr("“{name}” is not fully indexed: choose it or press Refresh to go on.").format(name=behind)
            return self.tr("Every collection is up to date.") if controller.collections else ""
        progress = controller.progress
        if progress is None or progress.collection != name:
            return self.tr("Looking for new and changed files in “{name}”…").format(name=name)
        total, passage_count = progress.files_total, progress.passages
        files = self.tr("Indexing “{name}”: {done} of %n file(s)", "", total)
        passages = self.tr("%n passage(s)", "", passage_count)
        parts = [files.format(name=name, done=progress.files_done), passages]
        left = self.time_left(progress.seconds_left)
        if left:
            parts.append(left)
        if progress.current_file:
            parts.append(progress.current_file)
        return " · ".join(parts)
