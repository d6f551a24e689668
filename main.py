"""NetLoom: with no arguments opens the editor; subcommands run headless.

python main.py                     the desktop editor
python main.py templates           list shipped templates
python main.py check PROJECT.json  per-node shapes, params, FLOPs
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    try:
        from engine.cli.main import EXIT_UNREADABLE, run
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
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
