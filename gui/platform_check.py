"""Before the first window on Linux: are the system libraries Qt's xcb plugin needs there?

The PySide6 wheel carries Qt but not the X11 client libraries its xcb platform plugin
links against. Without them Qt aborts with "Could not load the Qt platform plugin xcb"
and a hint that names none of them (and, once one is installed, reveals the next).
This check names every missing one at once, with the apt command that installs them.

Pure logic with the loader passed in, so tests can fake a machine; no Qt is loaded.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

# Shared libraries the xcb plugin (libqxcb.so and libQt6XcbQpa) loads → the Debian /
# Ubuntu package that ships each. `ldd` on the plugin lists the same names.
XCB_PACKAGES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}

# `ldd` prints "\tlibxcb-icccm.so.4 => not found" for a library it cannot resolve.
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)

Ldd = Callable[[Path], str | None]  # ldd's output for a file, or None without ldd
CanLoad = Callable[[str], bool]  # whether the dynamic loader finds a library by name


def uses_xcb(environ: Mapping[str, str], platform: str | None = None) -> bool:
    """Whether Qt will try its xcb plugin: on Linux, QT_QPA_PLATFORM names xcb first,
    or is unset on an X display (not a Wayland session, where Qt picks wayland)."""
    if not (platform or sys.platform).startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return chosen.split(";")[0].split(":")[0] == "xcb"
    return bool(environ.get("DISPLAY")) and not environ.get("WAYLAND_DISPLAY")


def xcb_plugin() -> Path | None:
    """PySide6's xcb plugin, found without importing Qt (which would load it)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        plugin = Path(folder) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.exists():
            return plugin
    return None


def run_ldd(path: Path) -> str | None:
    ldd = shutil.which("ldd")
    if ldd is None:
        return None
    try:
        done = subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout


def can_load(name: str) -> bool:
    import ctypes

    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def missing_libraries(plugin: Path, ldd: Ldd = run_ldd, loads: CanLoad = can_load) -> list[str]:
    """The libraries the plugin needs that this machine lacks, in a stable order.
    `ldd` sees every library the plugin pulls in, however deep; without ldd, each
    known library is tried with the dynamic loader."""
    output = ldd(plugin)
    if output is not None:
        return list(dict.fromkeys(_NOT_FOUND.findall(output)))
    return [name for name in XCB_PACKAGES if not loads(name)]


def advice(missing: list[str]) -> str:
    """One line: what is missing and the command that installs it."""
    packages = [XCB_PACKAGES[name] for name in missing if name in XCB_PACKAGES]
    unknown = [name for name in missing if name not in XCB_PACKAGES]
    line = (
        "NetLoom cannot open its window: Qt's xcb platform plugin needs "
        f"{', '.join(missing)}, not installed on this system."
    )
    if packages:
        line += f" Install with: sudo apt-get install {' '.join(packages)}"
    if unknown:
        line += f" (find the package that provides {', '.join(unknown)})"
    return line


def check_display_libraries(
    environ: Mapping[str, str] | None = None,
    plugin: Path | None = None,
    ldd: Ldd | None = None,
    loads: CanLoad | None = None,
) -> str | None:
    """The line to print before starting the GUI, or None when nothing is missing.
    Left out, each argument is this machine's (its environment, plugin, ldd, loader)."""
    if not uses_xcb(os.environ if environ is None else environ):
        return None
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return None  # not a PySide6 wheel layout; let Qt speak for itself
    missing = missing_libraries(plugin, ldd or run_ldd, loads or can_load)
    return advice(missing) if missing else None
