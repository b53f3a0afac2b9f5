"""Refuses a zip-based document (DOCX, PPTX, XLSX, ODT, EPUB) that would unpack to more than
a document ever holds: a zip bomb of a few kilobytes can declare gigabytes."""

from __future__ import annotations

import zipfile
from pathlib import Path

from app.platform.errors import DocumentError
from app.platform.i18n import _

# A 1,000-page DOCX with images unpacks to about 60 MB; an XLSX of a million rows to about 200 MB.
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024


def check_unzipped_size(path: Path) -> None:
    """DocumentError where the archive is not a zip or would unpack past MAX_UNZIPPED_BYTES.

    zipfile stops each member at its declared size (ZipExtFile), so the declared sizes
    are a bound on what reading can unpack."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile as error:
        raise DocumentError(_("{file}: it is damaged or not the kind of file its name says").format(file=path.name)) from error
    if total > MAX_UNZIPPED_BYTES:
        raise DocumentError(
            _("{file}: it would unpack to {size} MB, more than a document holds (it may be a zip bomb), so it was skipped").format(
                file=path.name, size=total // (1024 * 1024)
            )
        )
