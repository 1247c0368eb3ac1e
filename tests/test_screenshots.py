"""`hvmem screenshots`: the pictures are rendered at their sizes, and are not blank (F27:
logical sizes and a few pixels, never whole images)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QImage, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from hvmem.gui.screenshots import SIZES, render_screenshots


def colours_in(image: QImage, step: int = 7) -> set[int]:
    return {image.pixel(x, y) for x in range(0, image.width(), step)
            for y in range(0, image.height(), step)}


def test_screenshots_have_their_sizes_and_content(qapp: Any, tmp_path: Path) -> None:
    paths = render_screenshots(tmp_path)

    assert sorted(p.name for p in paths) == sorted(f"{name}.png" for name in SIZES)
    window_colour = QStyleFactory.create("Fusion").standardPalette().color(
        QPalette.ColorRole.Window).rgb()
    for path in paths:
        image = QImage(str(path))
        ratio = image.devicePixelRatio()
        logical = (round(image.width() / ratio), round(image.height() / ratio))
        assert logical == SIZES[path.stem], path.name
        assert len(colours_in(image)) > 20, f"{path.name} looks blank"
        # Bottom-left corner: the window or dialog background, in the Fusion palette.
        assert image.pixel(2, image.height() - 3) == window_colour, path.name


def test_the_main_window_shows_the_selected_row_and_the_chart(qapp: Any,
                                                              tmp_path: Path) -> None:
    render_screenshots(tmp_path)
    image = QImage(str(tmp_path / "main-window.png"))
    highlight = QStyleFactory.create("Fusion").standardPalette().color(
        QPalette.ColorRole.Highlight).rgb()

    assert highlight in colours_in(image, step=3)  # the selected row, the host bar


def test_rendering_leaves_the_application_as_it_was(qapp: Any, tmp_path: Path) -> None:
    font = QApplication.font().toString()

    render_screenshots(tmp_path)

    assert QApplication.font().toString() == font
