"""The first-launch check for Qt's xcb libraries, on faked machines (no Qt loaded)."""

from __future__ import annotations

from pathlib import Path

import pytest

import main
from gui import platform_check
from gui.platform_check import advice, check_display_libraries, missing_libraries, uses_xcb

PLUGIN = Path("/fake/PySide6/Qt/plugins/platforms/libqxcb.so")
LDD_MISSING_THREE = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /fake/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f01)
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb-util.so.1 => /lib/x86_64-linux-gnu/libxcb-util.so.1 (0x00007f02)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
"""
X_DISPLAY = {"DISPLAY": ":0"}


def no_ldd(_path: Path) -> None:
    return None


def test_ldd_output_names_every_missing_library_once():
    missing = missing_libraries(PLUGIN, ldd=lambda _p: LDD_MISSING_THREE)
    assert missing == ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    line = advice(missing)
    assert "\n" not in line
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4, libxcb-keysyms.so.1" in line
    assert line.endswith("sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1")


def test_without_ldd_each_known_library_is_tried_with_the_loader():
    absent = {"libxcb-keysyms.so.1", "libxkbcommon-x11.so.0"}
    tried: list[str] = []

    def loads(name: str) -> bool:
        tried.append(name)
        return name not in absent

    missing = missing_libraries(PLUGIN, ldd=no_ldd, loads=loads)
    assert set(missing) == absent
    assert set(tried) == set(platform_check.XCB_PACKAGES)
    assert advice(missing).endswith("sudo apt-get install libxcb-keysyms1 libxkbcommon-x11-0")


def test_a_library_without_a_known_package_is_still_named():
    line = advice(["libxcb-cursor.so.0", "libweird.so.9"])
    assert "libweird.so.9" in line and "sudo apt-get install libxcb-cursor0" in line


@pytest.mark.parametrize(
    ("environ", "platform", "expected"),
    [
        (X_DISPLAY, "linux", True),
        ({"QT_QPA_PLATFORM": "xcb"}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, "linux", False),
        ({"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":0"}, "linux", False),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({}, "linux", False),
        (X_DISPLAY, "darwin", False),
        (X_DISPLAY, "win32", False),
    ],
)
def test_only_an_xcb_start_is_checked(environ, platform, expected):
    assert uses_xcb(environ, platform) is expected


def test_nothing_is_printed_when_every_library_is_there_or_xcb_is_not_used():
    def ldd_must_not_run(_path: Path) -> str:
        raise AssertionError("ldd ran for a platform that is not xcb")

    everything = "\tlibxcb.so.1 => /lib/libxcb.so.1 (0x1)\n"
    assert check_display_libraries(X_DISPLAY, PLUGIN, ldd=lambda _p: everything) is None
    offscreen = {"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}
    assert check_display_libraries(offscreen, PLUGIN, ldd=ldd_must_not_run) is None


def test_main_prints_one_line_and_stops_before_qt(monkeypatch, capsys):
    monkeypatch.setattr(platform_check, "run_ldd", lambda _p: LDD_MISSING_THREE)
    monkeypatch.setattr(platform_check, "xcb_plugin", lambda: PLUGIN)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(platform_check.sys, "platform", "linux")
    assert main.main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sudo apt-get install libxcb-cursor0" in err
    assert main.main(["templates"]) == 0  # headless commands need no display
