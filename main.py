"""NetLoom: with no arguments opens the editor; subcommands run headless.

python main.py                     the desktop editor
python main.py gui [PROJECT.json]  the desktop editor, opening a project
python main.py templates           list shipped templates
python main.py check PROJECT.json  per-node shapes, params, FLOPs

The dispatch: engine.cli.main parses every command and runs the headless ones; `gui` and
no command run `open_window` below, the one place that starts the window (gui.app), so
the engine never imports gui/.
"""

from __future__ import annotations

import argparse
import sys


def open_window(args: argparse.Namespace) -> int:
    """The desktop editor, opening `args.project` if given; one line if it cannot start."""
    from engine.common.dependencies import is_dependency, missing_message
    from engine.common.exits import EXIT_UNREADABLE, print_error

    try:
        from gui.app import run_gui
    except ImportError as err:
        if is_dependency(err):
            print_error(missing_message("The desktop editor", [err.name or ""]))
        else:
            print_error(f"the desktop editor cannot start: {err}")
        return EXIT_UNREADABLE
    return run_gui(getattr(args, "project", None))


def main(argv: list[str] | None = None) -> int:
    try:
        from engine.cli.main import run
        from engine.common.exits import EXIT_UNREADABLE
    except ModuleNotFoundError as err:
        # A package NetLoom depends on is missing: one line naming it and the command.
        from engine.common.dependencies import is_dependency, missing_message

        if not is_dependency(err):
            raise
        print(f"error: {missing_message('NetLoom', [err.name or ''])}", file=sys.stderr)
        return 2

    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] == "gui":
        # Before Qt loads: name every missing X library at once, rather than Qt's abort.
        from gui.platform_check import check_display_libraries

        problem = check_display_libraries()
        if problem:
            print(problem, file=sys.stderr)
            return EXIT_UNREADABLE
    return run(argv, open_window=open_window)


if __name__ == "__main__":
    sys.exit(main())
