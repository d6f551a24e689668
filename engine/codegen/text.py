"""Turning values and untrusted text into safe, ruff-formatted Python source.

Everything a project file says (its name, description, dataset paths) reaches
generated code only through these functions: as a string literal built here, as a
comment whose every line is neutralised, or as an identifier derived from it.
Nothing in this module imports torch.
"""

from __future__ import annotations

import keyword
import re
import textwrap
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# ruff's default line length. Generated files are laid out to fit it, and a
# construct split over lines carries a trailing comma, so ruff keeps the layout
# whatever line length a user's own configuration sets.
LINE_LENGTH = 88
INDENT = "    "


# ------------------------------------------------------------------ literals


def _escape_char(char: str, quote: str) -> str:
    if char == "\\":
        return "\\\\"
    if char == quote:
        return "\\" + quote
    if char == "\n":
        return "\\n"
    if char == "\t":
        return "\\t"
    if char == "\r":
        return "\\r"
    if char.isprintable():
        return char
    # Control, format (bidi overrides) and separator characters are spelt out so
    # the source shows exactly what the string holds.
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def string_literal(text: str) -> str:
    """A Python string literal for `text`, quoted the way ruff format quotes it: double
    quotes unless the text holds more of them than single ones (fewer escapes)."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    return quote + "".join(_escape_char(c, quote) for c in text) + quote


def literal(value: Any) -> str:
    """Python source for a plain value: None, bool, int, float, str, list, tuple, dict."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"cannot write the number {value!r} as Python source")
        return repr(value)
    if isinstance(value, str):
        return string_literal(value)
    if isinstance(value, tuple):
        items = [literal(v) for v in value]
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, Mapping):
        pairs = (f"{literal(k)}: {literal(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    raise ValueError(f"cannot write a {type(value).__name__} as Python source")


# ------------------------------------------------------------------ comments


def _comment_safe(line: str) -> str:
    # A line break inside a comment would end it and let the rest run as code; any
    # character that is not printable (breaks, bidi overrides, NUL) is spelt out.
    return "".join(c if (c.isprintable() or c == " ") else _escape_char(c, "") for c in line)


def comment_lines(text: str, indent: str = "", width: int = LINE_LENGTH) -> list[str]:
    """`text` as `# …` lines, wrapped, every line break and control character neutralised."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        safe = _comment_safe(paragraph.rstrip())
        wrapped = textwrap.wrap(safe, width - len(indent) - 2, break_on_hyphens=False) or [""]
        lines.extend((f"{indent}# {w}" if w else f"{indent}#") for w in wrapped)
    return lines


def inline_comment(text: str) -> str:
    """A one-line comment body (no leading '#'), safe to put after code."""
    return _comment_safe(" ".join(text.split()))


def dict_assignment(name: str, values: Mapping[str, Any]) -> list[str]:
    """`NAME = {...}`, one entry a line with a trailing comma (so ruff keeps it so)."""
    if not values:
        return [f"{name}: dict = {{}}"]
    entries = [f"{INDENT}{literal(key)}: {literal(value)}," for key, value in values.items()]
    return [f"{name} = {{", *entries, "}"]


# --------------------------------------------------------------- identifiers


def _capitalised(word: str) -> str:
    """One word of a class name: `video` → Video, `CNN` → Cnn, `ReLU` stays ReLU."""
    if word.isupper() or word.islower():
        return word.capitalize()
    return word[0].upper() + word[1:]


def class_name(text: str, fallback: str = "Model", avoid: Iterable[str] = ()) -> str:
    """A PascalCase class name from any text: 'CNN+LSTM video' -> 'CnnLstmVideo'.

    A name that is already PascalCase ('ConvBnReLU', 'MLP') stands as it is; otherwise
    each word is capitalised and an all-capitals word is read as a word ('CNN' -> 'Cnn'),
    so acronyms side by side stay readable. Letters outside ASCII are folded to ASCII or
    dropped; `fallback` stands in when nothing usable remains (or goes before a leading
    digit); a name that would clash with `avoid` or a keyword gets 'Net' appended.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().strip()
    if re.fullmatch(r"[A-Z][A-Za-z0-9]*", ascii_text):
        name = ascii_text
    else:
        name = "".join(_capitalised(w) for w in re.findall(r"[A-Za-z0-9]+", ascii_text))
    if not name:
        name = fallback
    if name[0].isdigit():
        name = fallback + name
    name = name[:64]
    taken = set(avoid)
    if keyword.iskeyword(name) or name in taken:
        name += "Net"
    return name


# The name a project has until someone names it: no name for a class.
UNNAMED_PROJECT = "Untitled"


def model_class_name(project_name: str, avoid: Iterable[str] = ()) -> str:
    """The exported model's class, named after the project: 'CNN+LSTM video' ->
    'CnnLstmVideo'; a project still called 'Untitled' (or nothing) gives 'Model'."""
    named = "" if project_name.strip() == UNNAMED_PROJECT else project_name
    return class_name(named, fallback="Model", avoid=avoid)


# ------------------------------------------------------------------- layout


def fits(line: str) -> bool:
    return len(line) <= LINE_LENGTH


def with_comment(lines: list[str], comment: str, indent: str) -> list[str]:
    """Attach a comment to a statement: after it when it fits, else on its own line above.

    ruff format leaves a comment line above a statement alone, but splits a statement
    whose trailing comment makes the line too long.
    """
    if not comment:
        return lines
    if len(lines) == 1 and fits(f"{lines[0]}  # {comment}"):
        return [f"{lines[0]}  # {comment}"]
    return [*comment_lines(comment, indent=indent), *lines]


def line(code: str, indent: str, comment: str = "") -> list[str]:
    """One statement that is never split (kept short by construction)."""
    return with_comment([indent + code], comment, indent)


def bracketed(
    head: str, items: Sequence[str], tail: str, indent: str, comment: str = ""
) -> list[str]:
    """`head` + items + `tail` on one line when it fits, else one item a line.

    `head` ends with the opening bracket and `tail` starts with the closing one. The
    split form ends with a trailing comma, which makes ruff format keep it exploded
    whatever line length a user's configuration sets.
    """
    one_line = f"{indent}{head}{', '.join(items)}{tail}"
    if fits(one_line) or not items:
        return with_comment([one_line], comment, indent)
    inner = indent + INDENT
    lines = [f"{indent}{head}", *(f"{inner}{item}," for item in items), f"{indent}{tail}"]
    return with_comment(lines, comment, indent)


def call(
    prefix: str, callee: str, args: Sequence[str], indent: str, comment: str = ""
) -> list[str]:
    """`prefix + callee(args)`, split one argument a line when too long.

    An assignment whose `name = callee(` alone is too long gets the call in parentheses
    on the lines below it, as ruff format lays it out.
    """
    head = f"{prefix}{callee}("
    if prefix.endswith("= ") and not fits(indent + head):
        inner = call("", callee, args, indent + INDENT)
        return with_comment([f"{indent}{prefix}(", *inner, f"{indent})"], comment, indent)
    return bracketed(head, args, ")", indent, comment)


def shortest_drop(keep: float) -> float:
    """The shortest decimal p for which 1 − p is exactly `keep`: what a drop probability
    reads as when only its keep probability (1 − p) is written."""
    for digits in range(1, 18):
        p = round(1.0 - keep, digits)
        if 1.0 - p == keep:
            return p
    return 1.0 - keep
