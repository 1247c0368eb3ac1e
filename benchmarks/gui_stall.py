"""How long the window's GUI thread stalls while a 200-VM host refreshes.

The `hoster` scenario is served live (`hvmem sim serve --live`) by a separate process, so
the simulator's work never competes with the window for this interpreter's GIL. The real
`MainWindow` connects to it over WinRM, offscreen, at 1400x900, with a VM selected (the
details pane and its chart follow every refresh) and the table sorted by Memory Demand,
the column that moves most. A 5 ms timer in the GUI thread records the gap between its
ticks; a stall is the gap minus the interval. The same is then measured with the
selected VM's settings window open.

Run: `uv run python benchmarks/gui_stall.py [--seconds 30] [--interval-ms 2000]`.
Exit status 1 only when something fails (the sim does not start, the host never
answers); a slow figure is reported, not judged.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TICK_MS = 5
SIM_USER = "bench"


@dataclass
class Timings:
    """Seconds spent per call of one wrapped GUI-thread function."""

    calls: list[float] = field(default_factory=list)

    def wrap(self, func: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.calls.append(time.perf_counter() - started)

        return timed


class GcPauses:
    """How long each cyclic garbage collection held the interpreter (any thread)."""

    def __init__(self) -> None:
        self.pauses_ms: list[float] = []
        self._started = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif info.get("generation") == 2 or time.perf_counter() - self._started > 0.001:
            self.pauses_ms.append((time.perf_counter() - self._started) * 1000)


class WorkerTimes:
    """Wall and CPU time of each `list` call on the poller's worker thread."""

    def __init__(self) -> None:
        self.wall_ms: list[float] = []
        self.cpu_ms: list[float] = []

    def wrap(self, func: Callable[[], Any]) -> Callable[[], Any]:
        def timed() -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return func()
            finally:
                self.wall_ms.append((time.perf_counter() - wall) * 1000)
                self.cpu_ms.append((time.thread_time() - cpu) * 1000)

        return timed


@dataclass
class Phase:
    """What one measured stretch saw."""

    name: str
    seconds: float
    stalls_ms: list[float]
    refreshes: int
    take_ms: list[float]
    update_ms: list[float]
    gc_ms: list[float]
    list_wall_ms: list[float]
    list_cpu_ms: list[float]


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@contextmanager
def simulator(scenario: str) -> Iterator[tuple[str, str]]:
    """`hvmem sim serve --live` in its own process; yields (url, password)."""
    password = secrets.token_urlsafe(18)
    env = {**os.environ, "HVMEM_SIM_PASSWORD": password}
    command = [sys.executable, "-m", "hvmem", "sim", "serve", "--scenario", scenario,
               "--listen", "127.0.0.1:0", "--user", SIM_USER, "--live", "--seed", "7"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http"):
            _out, err = process.communicate(timeout=10)
            raise RuntimeError(f"hvmem sim serve did not start: {url!r} {err.strip()}")
        yield url, password
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class StallProbe:
    """A precise timer in the GUI thread; each late tick is a stall of the loop."""

    def __init__(self) -> None:
        from PySide6.QtCore import QElapsedTimer, Qt, QTimer

        self.stalls_ms: list[float] = []
        self._clock = QElapsedTimer()
        self._last = 0
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.stalls_ms.clear()
        self._clock.start()
        self._last = self._clock.nsecsElapsed()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = self._clock.nsecsElapsed()
        gap_ms = (now - self._last) / 1e6
        self._last = now
        self.stalls_ms.append(max(gap_ms - TICK_MS, 0.0))


def run_for(app: Any, seconds: float) -> None:
    """Spin the event loop for `seconds` (the probe and the poller run meanwhile)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def wait_for(app: Any, done: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.01)


def measure(app: Any, name: str, seconds: float, take: Timings, update: Timings,
            gc_pauses: GcPauses, worker: WorkerTimes) -> Phase:
    """Run the window for `seconds` and collect what the probe and the wrappers saw."""
    probe = StallProbe()
    for series in (take.calls, update.calls, gc_pauses.pauses_ms, worker.wall_ms,
                   worker.cpu_ms):
        series.clear()
    probe.start()
    run_for(app, seconds)
    probe.stop()
    return Phase(name, seconds, list(probe.stalls_ms), len(take.calls),
                 [s * 1000 for s in take.calls], [s * 1000 for s in update.calls],
                 list(gc_pauses.pauses_ms), list(worker.wall_ms), list(worker.cpu_ms))


def _max_mean(values: list[float]) -> str:
    mean = statistics.fmean(values) if values else 0.0
    return f"{max(values, default=0.0):6.1f}/{mean:<5.1f}"


def print_table(phases: list[Phase]) -> None:
    head = (f"{'phase':<20}{'refr':>5}{'worst':>7}{'p99':>6}{'p95':>6}  "
            f"{'take':<13}{'update':<13}{'gc':<13}{'list wall':<13}{'list cpu':<12}")
    print(head)
    print("-" * len(head))
    for phase in phases:
        print(f"{phase.name:<20}{phase.refreshes:>5}"
              f"{max(phase.stalls_ms, default=0):>7.1f}"
              f"{_percentile(phase.stalls_ms, 0.99):>6.1f}"
              f"{_percentile(phase.stalls_ms, 0.95):>6.1f}  "
              f"{_max_mean(phase.take_ms)} {_max_mean(phase.update_ms)} "
              f"{_max_mean(phase.gc_ms)} {_max_mean(phase.list_wall_ms)} "
              f"{_max_mean(phase.list_cpu_ms)}")
    print("ms; stall = gap between 5 ms ticks - 5 ms (worst, p99, p95); the rest "
          "max/mean:\n"
          "take = the whole inventory slot (table, history, dialogs, details, status "
          "bar);\n"
          "update = VmTableModel.update; gc = collections of generation 2 or over 1 ms "
          "(any thread);\n"
          "list wall/cpu = HostClient.list on the worker (CPU = that thread's, GIL held)")


def build_window(url: str, password: str, interval_ms: int,
                 take: Timings, update: Timings, worker: WorkerTimes) -> Any:
    """The real window on the simulated host, with the timing wrappers in place."""
    from hvmem.gui.host_view import HostView
    from hvmem.gui.main_window import MainWindow
    from hvmem.gui.notifier import Notifier
    from hvmem.gui.session import HostSession
    from hvmem.gui.vm_table import VmTableModel
    from hvmem.hyperv.connect import HostTarget, open_client

    # Wrapped on the classes before the window connects its slots to them.
    HostView.take_inventory = take.wrap(HostView.take_inventory)  # type: ignore
    VmTableModel.update = update.wrap(VmTableModel.update)  # type: ignore
    target = HostTarget(url=url, auth="basic", user=SIM_USER, password=password,
                        operation_timeout_s=10, read_timeout_s=20)
    client = open_client(target)
    client.list = worker.wrap(client.list)  # type: ignore[method-assign]
    session = HostSession(client, "hoster", closers=[client.close])
    window = MainWindow(session, notifier=Notifier(), poll_interval_ms=interval_ms)
    window.resize(1400, 900)
    window.show()
    return window


def prepare_view(app: Any, window: Any) -> Any:
    """Wait for the first inventory, sort by demand, select a running VM in the middle."""
    from PySide6.QtCore import Qt

    from hvmem.gui.vm_table import COLUMN_INDEX

    window.start()
    wait_for(app, lambda: window.inventory is not None, 60, "the first inventory")
    window.table.sortByColumn(COLUMN_INDEX["Memory Demand"],
                              Qt.SortOrder.DescendingOrder)
    running = [vm for vm in window.inventory.vms if vm.state == "Running"]
    chosen = running[len(running) // 2]
    window.select_vm(chosen.id)
    window.table.scrollTo(window.table.selectionModel().selectedRows()[0])
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="how long each phase runs (default 30)")
    parser.add_argument("--interval-ms", type=int, default=2000,
                        help="the refresh interval (default 2000)")
    parser.add_argument("--scenario", default="hoster")
    parser.add_argument("--profile", metavar="FILE",
                        help="write a cProfile of the GUI thread (both phases) to FILE")
    args = parser.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    os.environ["HVMEM_CONFIG_DIR"] = tempfile.mkdtemp(prefix="hvmem-bench-")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    QApplication.setStyle("Fusion")
    take, update = Timings(), Timings()
    gc_pauses, worker = GcPauses(), WorkerTimes()
    profiler = cProfile.Profile() if args.profile else None
    try:
        with simulator(args.scenario) as (url, password):
            window = build_window(url, password, args.interval_ms, take, update,
                                  worker)
            try:
                chosen = prepare_view(app, window)
                run_for(app, 1.0)  # let the first layout and paints settle
                if profiler:
                    profiler.enable()
                series = (take, update, gc_pauses, worker)
                phases = [measure(app, "window, VM selected", args.seconds, *series)]
                dialog = window.open_settings(chosen.id)
                phases.append(measure(app, "+ settings dialog", args.seconds, *series))
                if profiler:
                    profiler.disable()
                    profiler.dump_stats(args.profile)
                dialog.discard_and_close()
            finally:
                window.shutdown()
                window.session.close()
    except Exception as exc:  # noqa: BLE001 - a benchmark says what broke and exits 1
        print(f"gui_stall: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1

    print(f"hvmem window on {args.scenario} ({window.model.rowCount()} VMs), refresh "
          f"every {args.interval_ms} ms, {args.seconds:.0f} s per phase, "
          f"{os.cpu_count()} cores")
    print_table(phases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
