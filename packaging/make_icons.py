"""Render resources/icons/hearth.svg into the PNG sizes, .ico and .icns the installers use.

    .venv/bin/python packaging/make_icons.py

The outputs are committed; run this again only when the SVG changes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render(renderer: QSvgRenderer, size: int) -> QImage:
    image = QImage(QSize(size, size), QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    QGuiApplication([*sys.argv[:1], "-platform", "offscreen"])
    renderer = QSvgRenderer(str(ICONS / "hearth.svg"))
    for size in SIZES:
        render(renderer, size).save(str(ICONS / f"hearth-{size}.png"))
    render(renderer, 256).save(str(ICONS / "hearth.ico"))
    render(renderer, 512).save(str(ICONS / "hearth.icns"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
