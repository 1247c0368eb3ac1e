"""Whether Qt can open a window here, asked before Qt is, since Qt aborts the process.

Without a screen, or without the X11 libraries Qt's xcb plugin needs, creating the
QApplication ends in qFatal: an abort with Qt's own messages and no way to catch it. These
checks turn the common cases into a sentence that says what to do.
"""

from __future__ import annotations

import ctypes.util
import os
import sys
from collections.abc import Callable, Mapping

# Qt 6.5 and later load the xcb plugin only with this library (README: Linux set-up).
XCB_CURSOR = "xcb-cursor"


def screen_problem(
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    find_library: Callable[[str], str | None] = ctypes.util.find_library,
) -> str:
    """Why no window can open here, or '' when Qt should manage (or was told how)."""
    env = os.environ if environ is None else environ
    if (platform or sys.platform) != "linux" or env.get("QT_QPA_PLATFORM"):
        return ""
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return ("hvmem cannot open its window: there is no screen (neither DISPLAY nor "
                "WAYLAND_DISPLAY is set). Run it from a desktop session, or set "
                "QT_QPA_PLATFORM=offscreen to run the window unseen; `hvmem list` and "
                "`hvmem set` need no screen.")
    if not env.get("WAYLAND_DISPLAY") and find_library(XCB_CURSOR) is None:
        return ("hvmem cannot open its window: Qt's X11 plugin needs libxcb-cursor0, "
                "which is not installed. The README's Linux section lists the packages "
                "(Debian/Ubuntu: sudo apt-get install libxcb-cursor0 libxcb-icccm4 "
                "libxcb-keysyms1 libxkbcommon-x11-0 ...).")
    return ""
