"""Help → User Guide opens docs/user-guide.md through the opener the window was given
(a recorder here: no test starts a real viewer), and says where the guide is when it
cannot open it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl

from hvmem.gui.main_window import MainWindow

REPO = Path(__file__).resolve().parent.parent


def test_user_guide_opens_the_guide_in_the_source_tree(qtbot: Any,
                                                       fake_notifier: Any) -> None:
    opened: list[QUrl] = []
    window = MainWindow(notifier=fake_notifier,
                        open_url=lambda url: opened.append(url) or True)
    qtbot.addWidget(window)
    help_menu = next(a.menu() for a in window.menuBar().actions()
                     if a.text() == "&Help")
    guide = next(a for a in help_menu.actions() if a.text() == "&User Guide")

    guide.trigger()

    expected = REPO / "docs" / "user-guide.md"
    assert opened == [QUrl.fromLocalFile(str(expected))]
    assert Path(opened[0].toLocalFile()).is_file()
    assert fake_notifier.shown == []


def test_a_guide_no_program_opens_is_named_in_a_box(qtbot: Any,
                                                   fake_notifier: Any) -> None:
    window = MainWindow(notifier=fake_notifier, open_url=lambda url: False)
    qtbot.addWidget(window)

    window.window_actions.user_guide.trigger()

    [shown] = fake_notifier.shown
    assert shown.message.summary == "No program on this computer opened the user guide"
    assert str(REPO / "docs" / "user-guide.md") in shown.message.informative


def test_a_copy_without_docs_says_where_the_guide_is(qtbot: Any, fake_notifier: Any,
                                                      monkeypatch: Any) -> None:
    from hvmem.gui import window_help

    opened: list[QUrl] = []
    monkeypatch.setattr(window_help, "user_guide_path", lambda: None)
    window = MainWindow(notifier=fake_notifier,
                        open_url=lambda url: opened.append(url) or True)
    qtbot.addWidget(window)

    window.window_actions.user_guide.trigger()

    assert opened == []
    assert "docs/user-guide.md" in fake_notifier.shown[0].message.informative
