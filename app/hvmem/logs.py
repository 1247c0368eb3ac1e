"""Logging by area (hvmem.host, hvmem.sim, hvmem.gui, ...) into a rotating file.

Secrets never reach a log line: passwords are never passed to a logger, and `redact` masks
anything that looks like an Authorization header or a password field before it is logged.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
from pathlib import Path

from hvmem import paths

_SECRET = re.compile(
    r"(?i)(authorization:\s*\w+\s+|password[\"']?\s*[:=]\s*[\"']?)([^\s\"',}]+)"
)


def redact(text: str) -> str:
    """`text` with credentials masked."""
    return _SECRET.sub(lambda m: m.group(1) + "****", text)


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(str(record.msg))
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        return True


def setup(debug: bool = False, directory: Path | None = None) -> Path | None:
    """Log to `hvmem.log` (rotating, 1 MB x 3) and, with `debug`, to stderr too.

    Returns the log file's path, or None when the folder cannot be written (then hvmem
    logs to stderr only, and says so once).
    """
    root = logging.getLogger("hvmem")
    root.setLevel(logging.DEBUG)
    root.handlers.clear()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    redacting = _RedactingFilter()

    path: Path | None = (directory or paths.log_dir()) / "hvmem.log"
    try:
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
        file_handler.setLevel(logging.DEBUG)
        file_handler.setFormatter(fmt)
        file_handler.addFilter(redacting)
        root.addHandler(file_handler)
    except OSError as exc:
        print(f"hvmem: cannot write the log file {path}: {exc}", file=sys.stderr)
        path = None

    stream = logging.StreamHandler(sys.stderr)
    stream.setLevel(logging.DEBUG if debug else logging.WARNING)
    stream.setFormatter(fmt)
    stream.addFilter(redacting)
    root.addHandler(stream)
    return path
