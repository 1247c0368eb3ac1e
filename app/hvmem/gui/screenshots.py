"""`hvmem screenshots DIR`: the documentation's pictures, drawn by hvmem itself.

Everything is fixed so that two runs give the same pictures: the desktop scenario with
seed 1 (not following the wall clock; the script steps its living model itself), fixed
window sizes, a fixed time of day in the status bar, the Fusion style with its own
palette, and a fixed font where one is installed. It renders offscreen; the user's
settings are never read or written (a temporary settings file is used).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QWidget

from hvmem import controller
from hvmem.errors import HvmemError
from hvmem.gui.choice_dialog import ChoiceDialog
from hvmem.gui.main_window import MainWindow
from hvmem.gui.notifier import Notifier
from hvmem.gui.result_dialog import PARTIAL_CHOICES, describe_result
from hvmem.gui.session import HostSession
from hvmem.gui.settings_store import GuiSettings
from hvmem.model import MemoryChange

log = logging.getLogger("hvmem.gui")

SIZES = {
    "main-window": (1366, 800),
    "memory-page": (760, 640),
    "partial-result": (680, 250),
    "connect-dialog": (540, 600),
}
CLOCK_TEXT = "10:30:00"
START = 1_700_000_000.0  # the screenshots' clock: a fixed start, stepped 10 s a reading
STEP_S = 10.0
READINGS = 30  # five minutes of history for the chart
FONT_FAMILIES = ("DejaVu Sans", "Noto Sans", "Liberation Sans")


def prepare_app() -> QApplication:
    """The application, styled the same way on every machine."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(["hvmem-screenshots"])
    QApplication.setStyle("Fusion")
    style = app.style()
    app.setPalette(style.standardPalette())
    families = set(QFontDatabase.families())
    for family in FONT_FAMILIES:
        if family in families:
            app.setFont(QFont(family, 9))
            break
    return app


def _save(widget: QWidget, name: str, out_dir: Path) -> Path:
    width, height = SIZES[name]
    widget.resize(width, height)
    widget.show()
    QApplication.processEvents()
    path = out_dir / f"{name}.png"
    if not widget.grab().save(str(path)):
        raise OSError(f"cannot write {path}")
    log.info("screenshot %s", path)
    return path


def render_screenshots(out_dir: Path) -> list[Path]:
    """Render the documentation's pictures into `out_dir` and return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    existing = QApplication.instance()
    kept = ((existing.font(), existing.palette(), existing.style().name())
            if isinstance(existing, QApplication) else None)
    app = prepare_app()
    try:
        return _render_on_demo(app, out_dir)
    finally:
        if kept is not None:  # leave a running application as it was
            app.setFont(kept[0])
            QApplication.setStyle(kept[2])
            app.setPalette(kept[1])


def _render_on_demo(app: QApplication, out_dir: Path) -> list[Path]:
    from hvmem.sim.demo import start_demo

    demo = start_demo("desktop", seed=1)
    client = demo.client()
    session = HostSession(client, demo.sim_host.name, simulated=True,
                          closers=[client.close, demo.stop])
    with tempfile.TemporaryDirectory() as folder:
        now = [START]
        window = MainWindow(session, notifier=Notifier(), poll_interval_ms=60_000,
                            settings=GuiSettings(Path(folder) / "gui.ini"),
                            clock=lambda: now[0])
        window.format_time = lambda at: CLOCK_TEXT
        try:
            return _render_all(app, window, demo, now, out_dir)
        finally:
            window.shutdown()
            window.deleteLater()
            session.close()


def _render_all(app: QApplication, window: MainWindow, demo: object,
                now: list[float], out_dir: Path) -> list[Path]:
    sim_host = demo.sim_host  # type: ignore[attr-defined]
    sim_host.living = True  # demand drifts and Dynamic Memory follows, step by step
    for reading in range(READINGS):
        if reading:
            sim_host.advance(STEP_S)
            now[0] += STEP_S
        _poll(window)
    inventory = window.inventory
    assert inventory is not None
    by_name = {vm.name: vm for vm in inventory.vms}
    paths = []

    window.select_vm(by_name["web-dm"].id)
    paths.append(_save(window, "main-window", out_dir))

    dialog = window.open_settings(by_name["dev-win11"].id)
    assert dialog is not None
    dialog.page.startup_spin.setValue(12288)  # as if typed: the edit and its warning
    paths.append(_save(dialog, "memory-page", out_dir))
    dialog.discard_and_close()

    paths.append(_save(_partial_dialog(window, by_name["dev-win11"].id), "partial-result",
                       out_dir))
    paths.append(_save(_connect_dialog(window), "connect-dialog", out_dir))
    app.processEvents()
    return paths


def _poll(window: MainWindow) -> None:
    """One poll through the window's own poller, waited for."""
    loop = QEventLoop()
    failures: list[HvmemError] = []
    poller = window.poller
    poller.inventory_arrived.connect(loop.quit)
    poller.poll_failed.connect(failures.append)
    poller.poll_failed.connect(loop.quit)
    QTimer.singleShot(30_000, loop.quit)
    poller.poll_now()
    loop.exec()
    poller.inventory_arrived.disconnect(loop.quit)
    poller.poll_failed.disconnect(failures.append)
    poller.poll_failed.disconnect(loop.quit)
    if failures:
        raise failures[0]


def _partial_dialog(window: MainWindow, vm_id: str) -> QWidget:
    """A real partial resize on the demo host, told as the window would tell it."""
    inventory = window.inventory
    assert inventory is not None
    vm = inventory.vm(vm_id)
    assert vm is not None
    result = controller.apply(window.session.client, vm, MemoryChange(startup_mb=20480),
                              inventory.host)
    if result.outcome != "partial":
        raise RuntimeError(f"the screenshot scenario expected a partial result, "
                           f"got {result.outcome}")
    return ChoiceDialog(describe_result(result, vm.name), PARTIAL_CHOICES, "keep")


def _connect_dialog(window: MainWindow) -> QWidget:
    from hvmem.gui.connect_dialog import ConnectDialog

    dialog = ConnectDialog(window, saved=[],
                           credentials=_KeyringShown())  # type: ignore[arg-type]
    dialog.host_edit.setText("hv01.lab.local")
    dialog.other_user.setChecked(True)
    dialog.user_edit.setText("LAB\\hvadmin")
    return dialog


class _KeyringShown:
    """A keyring that is there (the picture must not depend on this machine's)."""

    available = True
    why_not = ""


def run_screenshots(out_dir: str, echo: Callable[[str], None] = print) -> int:
    """The `hvmem screenshots DIR` command: render, print each path, exit status."""
    paths = render_screenshots(Path(out_dir))
    for path in paths:
        echo(str(path))
    return 0
