"""How numbers, sizes and text read to a person, the same in the command line and the window.

`human` shortens counts (params, FLOPs), `human_bytes` sizes, `format_table` lays out the
command line's tables and `one_line` keeps a message on one line. Pure Python: imports
nothing of NetLoom, torch or Qt.
"""

from __future__ import annotations

from collections.abc import Sequence


def power_of_ten(count: int) -> int:
    """floor(log10(count)) give or take one, for ints of any size (no float, no str)."""
    return int((count.bit_length() - 1) * 0.30102999566398)


def human(count: int) -> str:
    """1234567 -> '1.23M'."""
    if count >= 10**15:  # far beyond any network (a float division could overflow)
        return f"over 10^{power_of_ten(count)}"
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if count >= size:
            return f"{count / size:.3g}{unit}"
    return str(count)


def human_bytes(count: int | float) -> str:
    """1536 -> '1.5 KB' (powers of 1024, as memory is sold)."""
    if count >= 1024**6:  # beyond petabytes (a huge batch size): no float, which could overflow
        return f"over 10^{power_of_ten(int(count))} B"
    value = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if value < 1024 or unit == "PB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def one_line(text: str) -> str:
    """`text` with every character that prints as nothing (a line break) as its escape."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    """Columns padded to their widest cell under a dashed rule; the columns in `right`
    are right-aligned (numbers)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])
