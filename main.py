"""NetLoom: with no arguments opens the editor; subcommands run headless.

python main.py                     the desktop editor
python main.py templates           list shipped templates
python main.py check PROJECT.json  per-node shapes, params, FLOPs
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from engine.cli import run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
