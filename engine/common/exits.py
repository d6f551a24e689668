"""The command line's exit codes and its one-line error printing, shared by every command.

Exit codes: 0 ok, 1 the project has errors (each printed with its node), 2 unreadable or
invalid input, 130 interrupted (as shells report Ctrl+C). Every command module
(`engine/*/command.py`) and `engine.cli.main` take them from here, so no command imports
the command line back. Pure Python: imports nothing of torch or Qt.
"""

from __future__ import annotations

import sys
from typing import IO

from engine.common.formatting import one_line

EXIT_OK, EXIT_ERRORS, EXIT_UNREADABLE = 0, 1, 2
EXIT_INTERRUPTED = 130  # as shells report Ctrl+C


def print_error(message: str) -> None:
    """A user-facing error line on stderr, the same in every subcommand; a line break
    from a file's own keys (`training.a\\nb`) is shown as its escape."""
    print_safely(f"error: {one_line(message)}", sys.stderr)


def print_safely(text: str, stream: IO[str] | None = None) -> None:
    """print(), but text the terminal cannot encode (a file name with undecodable bytes,
    which Python holds as lone surrogates) is shown as escapes instead of crashing."""
    stream = stream or sys.stdout
    try:
        print(text, file=stream)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "utf-8"
        print(text.encode(encoding, "backslashreplace").decode(encoding), file=stream)
