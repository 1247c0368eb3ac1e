"""The main window's actions, menus and toolbar, and the VM table's column chooser.

`WindowActions` makes every `QAction` once (with its text, mnemonic, shortcut and icon)
so that the menu bar, the toolbar, the Actions pane and the table header's context menu
share them. `ColumnChooser` shows or hides the table's columns from View → Add/Remove
Columns or from a right click on the header, and says which are hidden so the window
can remember them.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QTableView

from hvmem.gui.settings_store import INTERVAL_CHOICES_MS
from hvmem.gui.theme import icon
from hvmem.gui.vm_table import COLUMNS
from hvmem.power import Action


def _action(parent: QObject, name: str, text: str, slot: Callable[[], object],
            shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
            icon_name: str = "",
            tip: str = "") -> QAction:
    action = QAction(text, parent)
    action.setObjectName(name)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if icon_name:
        action.setIcon(icon(icon_name))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.triggered.connect(lambda _checked=False: slot())
    return action


class ColumnChooser(QObject):
    """Which of the VM table's columns are shown.

    Signals:
        changed(): the user showed or hid a column.
    """

    changed = Signal()

    def __init__(self, table: QTableView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self.menu = QMenu("Add/Remove &Columns")
        self.actions: dict[str, QAction] = {}
        for number, column in enumerate(COLUMNS):
            action = self.menu.addAction(column.title)
            action.setCheckable(True)
            action.setChecked(True)
            # The Name column says which VM a row is; it always stays.
            action.setEnabled(number != 0)
            action.toggled.connect(lambda on, n=number: self._toggle(n, on))
            self.actions[column.title] = action
        header = table.horizontalHeader()
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)

    def _header_menu(self, at: QPoint) -> None:
        self.menu.popup(self.table.horizontalHeader().mapToGlobal(at))

    def _toggle(self, number: int, shown: bool) -> None:
        self.table.setColumnHidden(number, not shown)
        self.changed.emit()

    def hidden(self) -> list[str]:
        return [title for title, action in self.actions.items() if not action.isChecked()]

    def set_hidden(self, titles: list[str]) -> None:
        """Hide the columns named in `titles` and show the others (without signals)."""
        for number, column in enumerate(COLUMNS):
            shown = number == 0 or column.title not in titles
            action = self.actions[column.title]
            action.blockSignals(True)
            action.setChecked(shown)
            action.blockSignals(False)
            self.table.setColumnHidden(number, not shown)


class WindowActions(QObject):
    """Every action of the main window, and the menus and toolbar that hold them."""

    def __init__(self, window: QMainWindow, handlers: dict[str, Callable[[], object]]
                 ) -> None:
        super().__init__(window)
        on = handlers.__getitem__
        self.connect_server = _action(window, "connect", "&Connect to Server…",
                                      on("connect"), "Ctrl+N", "connect",
                                      "Connect to a Hyper-V host")
        self.refresh = _action(window, "refresh", "&Refresh", on("refresh"),
                               QKeySequence.StandardKey.Refresh, "refresh",
                               "Read the host's VMs again now")
        self.pause = _action(window, "pause", "&Pause Refresh", on("pause"), "Ctrl+P",
                             "pause", "Stop or restart the automatic refresh")
        self.pause.setCheckable(True)
        self.disconnect_host = _action(window, "disconnect", "&Disconnect",
                                       on("disconnect"), None, "disconnect",
                                       "Close the connection to this host")
        self.settings = _action(window, "settings", "&Settings…", on("settings"),
                                "Ctrl+S", "settings", "Change the selected VM's memory")
        # VM power actions (driven by `power_actions.PowerActions`).
        self.power: dict[Action, QAction] = {
            "start": _action(window, "start", "St&art", on("start"), None,
                             "power-start", "Start the selected VM"),
            "stop": _action(window, "shut_down", "S&hut Down", on("stop"), None,
                            "power-shutdown", "Ask the selected VM's guest to shut down"),
            "turn_off": _action(window, "turn_off", "T&urn Off…", on("turn_off"), None,
                                "power-turnoff", "Turn the selected VM off at once, like "
                                "pulling the plug"),
            "save": _action(window, "save", "Sa&ve", on("save"), None, "power-save",
                            "Save the selected VM's state and release its memory"),
        }
        self.filter = _action(window, "filter", "&Filter VMs", on("filter"), "Ctrl+F")
        self.quit = _action(window, "quit", "E&xit", window.close,
                            QKeySequence.StandardKey.Quit)
        self.user_guide = _action(window, "user_guide", "&User Guide", on("guide"),
                                  QKeySequence.StandardKey.HelpContents, "",
                                  "Open hvmem's user guide")
        self.about = _action(window, "about", "&About hvmem", on("about"))
        self.intervals = QActionGroup(window)
        for interval in INTERVAL_CHOICES_MS:
            action = QAction(f"Every {interval // 1000} s", window)
            action.setCheckable(True)
            action.setData(interval)
            self.intervals.addAction(action)
        for action in (self.settings, self.disconnect_host, self.refresh, self.pause,
                       *self.power.values()):
            action.setEnabled(False)

    def check_interval(self, interval_ms: int) -> None:
        for action in self.intervals.actions():
            action.setChecked(action.data() == interval_ms)

    def build_menus(self, window: QMainWindow, columns: ColumnChooser) -> None:
        menus = window.menuBar()
        file_menu = menus.addMenu("&File")
        file_menu.addAction(self.connect_server)
        file_menu.addSeparator()
        file_menu.addAction(self.quit)
        action_menu = menus.addMenu("&Action")
        action_menu.addAction(self.settings)
        action_menu.addActions(list(self.power.values()))
        action_menu.addSeparator()
        for action in (self.refresh, self.disconnect_host):
            action_menu.addAction(action)
        view_menu = menus.addMenu("&View")
        view_menu.addMenu(columns.menu)
        view_menu.addAction(self.filter)
        view_menu.addSeparator()
        interval_menu = view_menu.addMenu("Refresh &Interval")
        interval_menu.addActions(self.intervals.actions())
        view_menu.addAction(self.pause)
        help_menu = menus.addMenu("&Help")
        help_menu.addAction(self.user_guide)
        help_menu.addSeparator()
        help_menu.addAction(self.about)

        toolbar = window.addToolBar("Actions")
        toolbar.setObjectName("actions")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (self.connect_server, self.refresh, self.pause, self.settings):
            toolbar.addAction(action)
