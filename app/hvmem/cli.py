"""The `hvmem` command: the window by default, and `list`, `set`, `sim` for scripts.

The window takes the host options of `hvmem list` (`hvmem --host URL --auth basic`),
or `--demo`; without either it opens the saved hosts, or the demo host when none is
saved.

Exit status: 0 applied or done, 1 any other failure, 2 usage, 3 partially applied,
4 rejected before sending.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from hvmem import __version__, logs

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3
EXIT_REJECTED = 4


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hvmem",
        description="Change the memory of Hyper-V VMs, running ones included. "
        "With no command, opens the window (on the built-in demo host unless a host is "
        "given or saved).",
    )
    parser.add_argument("--version", action="version", version=f"hvmem {__version__}")
    parser.add_argument("--debug", action="store_true", help="stream the log to stderr")
    from hvmem import cli_commands
    from hvmem.sim import cli as sim_cli

    _add_window_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    cli_commands.add_parsers(commands)

    sim_cli.add_parser(commands)
    _add_screenshots_parser(commands)
    return parser


def _add_window_options(parser: argparse.ArgumentParser) -> None:
    """The window's own options (given before any command, or with none)."""
    from hvmem import cli_commands

    parser.add_argument("--demo", action="store_true",
                        help="open the window on the built-in demo host, even when "
                        "hosts are saved")
    cli_commands.add_host_options(parser, "With no command and no --host, the window "
                                  "opens the saved hosts, or the demo host when none is "
                                  "saved.")


def _misplaced_window_options(argv: Sequence[str], args: argparse.Namespace) -> str:
    """The window's options given before a command, which would be silently lost (a
    command's own --host replaces them); "" when there are none."""
    if args.command is None:
        return ""
    if args.demo:
        return "--demo opens the window; it takes no command"
    probe = argparse.ArgumentParser(add_help=False)
    _add_window_options(probe)
    given, _rest = probe.parse_known_args(list(argv))
    for name, value in vars(given).items():
        if value not in (None, False) and getattr(args, name, None) != value:
            option = "--" + name.replace("_", "-")
            return f"give {option} after the command: hvmem {args.command} {option} ..."
    return ""


def _add_screenshots_parser(
        commands: argparse._SubParsersAction,  # type: ignore[type-arg]
) -> None:
    shots = commands.add_parser(
        "screenshots", help="render the documentation's pictures (offscreen) into DIR")
    shots.add_argument("dir", metavar="DIR", help="folder for the PNG files")
    shots.set_defaults(handler=_run_screenshots)


def _run_screenshots(args: argparse.Namespace) -> int:
    import os

    # Offscreen unless told otherwise, before Qt is loaded; the GUI is imported only
    # here, so that the other commands never load Qt.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from hvmem.gui.screenshots import run_screenshots

    return run_screenshots(args.dir)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors, --help and --version: return, not exit
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    misplaced = _misplaced_window_options(
        sys.argv[1:] if argv is None else argv, args)
    if misplaced:
        parser.print_usage(sys.stderr)
        print(f"hvmem: error: {misplaced}", file=sys.stderr)
        return EXIT_USAGE
    logs.setup(debug=args.debug)
    handler = getattr(args, "handler", None)
    if handler is None:
        from hvmem.gui.app import run

        return run(args)
    result: int = handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
