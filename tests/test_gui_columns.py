"""The window at its default size shows every header whole and no horizontal scroll bar;
the Actions pane elides a long title (whole in its tooltip); widths the user left win
over the fitted ones in the next window."""

from __future__ import annotations

from typing import Any

from hvmem.gui.main_window import MainWindow
from hvmem.gui.session import HostSession
from hvmem.gui.settings_store import GuiSettings
from hvmem.gui.vm_table import COLUMN_INDEX, COLUMNS


def shown_columns(window: Any) -> list[int]:
    return [n for n in range(len(COLUMNS)) if not window.table.isColumnHidden(n)]


def test_default_size_shows_every_header_whole_without_a_scroll_bar(
        demo_window: Any, qtbot: Any) -> None:
    window = demo_window
    assert window.size().width() == 1280 and window.size().height() == 760
    qtbot.wait(10)  # the table lays out its header

    header = window.table.horizontalHeader()
    metrics = header.fontMetrics()
    for number in shown_columns(window):
        text = window.proxy.headerData(number, header.orientation())
        assert metrics.horizontalAdvance(text) + 8 <= header.sectionSize(number), text
        assert header.sectionSize(number) >= window.table.sizeHintForColumn(number)
    assert not window.table.horizontalScrollBar().isVisible()
    assert header.length() <= window.table.viewport().width()


def test_a_short_header_has_the_full_title_as_tooltip(demo_window: Any) -> None:
    from PySide6.QtCore import Qt

    number = COLUMN_INDEX["Configuration Version"]
    proxy = demo_window.proxy
    assert proxy.headerData(number, Qt.Orientation.Horizontal) == "Version"
    assert proxy.headerData(number, Qt.Orientation.Horizontal,
                            Qt.ItemDataRole.ToolTipRole) == "Configuration Version"


def test_actions_pane_elides_a_long_title_and_keeps_it_whole_in_the_tooltip(
        demo_window: Any, qtbot: Any) -> None:
    section = demo_window.actions_pane.vm_section
    demo_window.table.clearSelection()
    qtbot.wait(10)
    assert section.header.text() == section.title() == "No VM selected"

    long_name = "sql-cluster-node-with-a-very-long-name-07"
    section.set_title(long_name)
    assert section.title() == long_name
    assert section.header.text().endswith("…") and section.header.text() != long_name
    assert section.header.toolTip() == long_name
    fits = section.header.contentsRect().width()
    assert section.header.fontMetrics().horizontalAdvance(section.header.text()) <= fits


def test_widths_the_user_left_win_over_the_fitted_ones(
        qtbot: Any, tmp_path: Any, demo_host: Any, fake_notifier: Any) -> None:
    settings = GuiSettings(tmp_path / "gui.ini")
    settings.column_widths = {"Name": 300, "Uptime": 150}
    client = demo_host.client()
    session = HostSession(client, "DESKTOP-HV", closers=[client.close])
    window = MainWindow(session, notifier=fake_notifier, poll_interval_ms=60_000,
                        settings=settings)
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.poller.inventory_arrived, timeout=10_000):
            window.start()
        table = window.table
        assert table.columnWidth(COLUMN_INDEX["Name"]) == 300
        assert table.columnWidth(COLUMN_INDEX["Uptime"]) == 150

        table.setColumnWidth(COLUMN_INDEX["Status"], 222)
        window.save_view()
        assert GuiSettings(tmp_path / "gui.ini").column_widths["Status"] == 222
    finally:
        window.shutdown()
        session.close()
