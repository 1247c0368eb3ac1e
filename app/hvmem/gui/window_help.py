"""The Help menu's User Guide: where the guide is, and opening it in the user's viewer.

The guide is `docs/user-guide.md` beside hvmem's source (a clone, as the README has
people run it). It opens through an opener the window is given (`QDesktopServices.openUrl`
unless a test hands it a recorder), so no test ever starts a real viewer. Where the
guide is not there (an installed copy without docs) or no viewer takes it, a box says
where to read it instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QWidget

import hvmem
from hvmem.gui.notifier import Notifier
from hvmem.gui.result_dialog import ResultMessage

log = logging.getLogger("hvmem.gui")

UrlOpener = Callable[[QUrl], bool]
GUIDE_IN_SOURCE = "docs/user-guide.md"


def user_guide_path() -> Path | None:
    """The user guide in hvmem's source tree, or None when this copy has no docs."""
    package = Path(hvmem.__file__).resolve().parent  # app/hvmem
    guide = package.parent.parent / GUIDE_IN_SOURCE
    return guide if guide.is_file() else None


def open_user_guide(opener: UrlOpener, notifier: Notifier, parent: QWidget,
                    guide: Path | None = None) -> QUrl | None:
    """Open the user guide (`guide`, else the one in the source tree) with `opener`.

    Returns:
        The URL handed to the opener, or None when there was no guide to open.
    """
    guide = guide or user_guide_path()
    if guide is None:
        notifier.show_message(ResultMessage(
            "User Guide", "This copy of hvmem has no user guide beside it",
            f"The guide is {GUIDE_IN_SOURCE} in hvmem's source; the README links to it.",
            severity="info"), parent)
        return None

    url = QUrl.fromLocalFile(str(guide))
    log.debug("user opens the user guide: %s", url.toString())
    if not opener(url):
        notifier.show_message(ResultMessage(
            "User Guide", "No program on this computer opened the user guide",
            f"Open it in a text editor or a Markdown viewer: {guide}",
            severity="warning"), parent)
    return url
