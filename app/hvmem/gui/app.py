"""`run(args)`: the window's entry point, called by `hvmem` when no command is given.

It opens the host given (`hvmem --host URL`), else the saved hosts (see `startup`), and
only with no host given or saved (or with `--demo`) the built-in demo host, a simulated
Hyper-V host behind a real WinRM endpoint on loopback, saying so in the title.
Whatever fails at start is told in a sentence (on stderr, and in a box when Qt is up),
never as a traceback; the traceback goes to the log.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Callable
from contextlib import ExitStack
from types import TracebackType

from PySide6.QtWidgets import QApplication

from hvmem.errors import HvmemError
from hvmem.gui.display import screen_problem
from hvmem.gui.main_window import MainWindow
from hvmem.gui.notifier import Notifier
from hvmem.gui.result_dialog import ResultMessage, describe_error
from hvmem.gui.session import HostSession
from hvmem.gui.startup import Startup, plan_startup

log = logging.getLogger("hvmem.gui")

DEMO_SCENARIO = "desktop"


def open_demo_session(scenario: str = DEMO_SCENARIO,
                      seed: int | None = None) -> HostSession:
    """Start the demo host and return a session that stops it when closed."""
    from hvmem.sim.demo import start_demo

    demo = start_demo(scenario=scenario, seed=seed, live=True)
    try:
        client = demo.client()
    except BaseException:
        demo.stop()
        raise
    name = demo.sim_host.name
    log.info("demo host %s started at %s", name, demo.url)
    return HostSession(client, name, simulated=True, closers=[client.close, demo.stop])


def open_host_session(args: argparse.Namespace) -> HostSession:
    """Connect to the host named by `args.host`, as `hvmem list` would."""
    from hvmem.cli import build_parser
    from hvmem.cli_commands import connected

    # The connection options and defaults of `hvmem list`, overridden by those given.
    defaults = build_parser().parse_args(["list", "--host", args.host])
    given = {key: value for key, value in vars(args).items() if value is not None}
    options = argparse.Namespace(**{**vars(defaults), **given})
    stack = ExitStack()
    client = stack.enter_context(connected(options))
    return HostSession(client, client.name, simulated=False, closers=[stack.close])


def open_session(args: argparse.Namespace) -> HostSession:
    """One session: the host given, else the demo host (`plan_startup` also opens the
    saved hosts)."""
    if getattr(args, "host", None):
        return open_host_session(args)
    return open_demo_session(getattr(args, "scenario", None) or DEMO_SCENARIO)


def startup_message(exc: BaseException) -> ResultMessage:
    """What to tell the user when the window cannot start."""
    if isinstance(exc, HvmemError):
        message = describe_error(exc, "hvmem cannot start")
        return ResultMessage(message.title, f"hvmem cannot start: {message.summary}",
                             message.informative, message.details)
    return ResultMessage(
        "hvmem cannot start", f"hvmem cannot start: {type(exc).__name__}: {exc}",
        "This is a bug in hvmem; the log file has the traceback.", "", "error")


def report_startup_failure(exc: BaseException, notifier: Notifier | None) -> None:
    """Say why the window cannot start: a sentence on stderr, and a box when possible."""
    # The traceback goes to the log file (debug); stderr gets sentences only.
    log.error("the window cannot start: %s", exc)
    log.debug("why the window cannot start", exc_info=exc)
    message = startup_message(exc)
    print(message.summary, file=sys.stderr)
    for line in (message.informative, message.details):
        if line:
            print(line, file=sys.stderr)
    if notifier is not None:
        notifier.show_blocking(message)


def _excepthook(notifier: Notifier) -> Callable[..., None]:
    """A hook that logs and shows an exception escaping a slot, instead of a traceback."""

    def hook(kind: type[BaseException], exc: BaseException,
             tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(kind, exc, tb))
        log.error("unexpected error: %s: %s", kind.__name__, exc)
        log.debug("unexpected error:\n%s", text)
        notifier.error(f"hvmem failed unexpectedly: {kind.__name__}: {exc}",
                       details=text,
                       informative="This is a bug in hvmem; the log file has it all.")

    return hook


def run(args: argparse.Namespace,
        notifier_factory: Callable[[], Notifier] = Notifier,
        session_factory: Callable[[argparse.Namespace], HostSession] | None = None,
        startup_factory: Callable[[argparse.Namespace], Startup] = plan_startup,
        ) -> int:
    """Open the window and run until it closes.

    Args:
        args: the parsed command line (`host`, when given, names the host; `demo`
            forces the demo host).
        notifier_factory, startup_factory: replaceable by tests.
        session_factory: when given, the window opens on its one session instead.

    Returns:
        The exit status: 0 after a normal close, 1 when the window could not start.
    """
    notifier: Notifier | None = None
    problem = "" if QApplication.instance() else screen_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    try:
        app = QApplication.instance() or QApplication(sys.argv[:1])
        app.setApplicationName("hvmem")
        QApplication.setStyle("Fusion")
        notifier = notifier_factory()
        startup = (Startup([session_factory(args)]) if session_factory is not None
                   else startup_factory(args))
    except Exception as exc:  # noqa: BLE001 - every start failure becomes a sentence
        report_startup_failure(exc, notifier)
        return 1

    previous_hook = sys.excepthook
    window: MainWindow | None = None
    try:
        window = open_window(startup, notifier)
        sys.excepthook = _excepthook(notifier)
        return int(app.exec())
    finally:
        sys.excepthook = previous_hook
        if window is not None:
            window.shutdown()
        startup.close()


def open_window(startup: Startup, notifier: Notifier) -> MainWindow:
    """Show the window with the startup's hosts, then its problems and questions."""
    window = MainWindow(notifier=notifier)
    for session in startup.sessions:
        window.add_session(session)
    if startup.sessions:
        window.hosts_pane.set_current(0)
    window.show()
    window.start()
    for problem in startup.problems:
        notifier.show_error(problem, window)
    window.ask_for_passwords(startup.ask)
    return window
