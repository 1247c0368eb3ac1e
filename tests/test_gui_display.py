"""Before Qt aborts the process for want of a screen, hvmem says why in a sentence."""

import subprocess
import sys

from hvmem.gui.display import screen_problem

HAS = {"xcb-cursor": "libxcb-cursor.so.0"}.get


def test_no_screen_is_a_sentence_with_the_way_out() -> None:
    problem = screen_problem({}, "linux", HAS)

    assert "there is no screen" in problem
    assert "QT_QPA_PLATFORM=offscreen" in problem


def test_missing_xcb_cursor_names_the_package() -> None:
    problem = screen_problem({"DISPLAY": ":0"}, "linux", lambda name: None)

    assert "libxcb-cursor0" in problem


def test_a_screen_or_a_chosen_platform_passes() -> None:
    assert screen_problem({"DISPLAY": ":0"}, "linux", HAS) == ""
    assert screen_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux", lambda n: None) == ""
    assert screen_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", lambda n: None) == ""
    assert screen_problem({}, "win32", lambda n: None) == ""


def test_hvmem_without_a_screen_exits_1_with_the_sentence_not_an_abort(
        tmp_path: object) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "HVMEM_CONFIG_DIR": str(tmp_path), "HVMEM_LOG_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "hvmem"], env=env, capture_output=True,
                          text=True, timeout=60)

    assert done.returncode == 1
    assert "there is no screen" in done.stderr
