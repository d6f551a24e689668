"""A JSON file's bytes to data, with what is wrong said in plain words.

`decode(data)` tells binary data, UTF-16/32 text and other encodings apart from UTF-8
text; `parse(text)` turns json's messages into words and, for a file that ends too
soon, names the list or object that was open where it ended:

    not a NetLoom project: it is binary data, not text
    the file is UTF-16 text; save it as UTF-8
    invalid JSON: the file ends in the middle of the `nodes` list (line 40); it was cut short

Every error is a `JsonTextError` whose message is one line. Pure: no torch, no Qt.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from typing import Any


class JsonTextError(ValueError):
    """A file that is not readable JSON; the message is one line in plain words."""


# Known kinds of binary file, by their first bytes: what people open by mistake.
MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (a PyTorch .pt file is one)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"%PDF", "a PDF document"),
    (b"\x7fELF", "a program (ELF)"),
    (b"\x93NUMPY", "a NumPy array file"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
# Bytes that no text file holds (JSON's only control characters are tab, line feed and
# carriage return).
CONTROL = frozenset(range(0x20)) - {0x09, 0x0A, 0x0D}
SAMPLE = 4096


def decode(data: bytes, what: str = "a NetLoom project") -> str:
    """The text of a JSON file; binary data and text in another encoding are refused."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]  # Notepad's mark: the rest is UTF-8
    if encoding := _wide_encoding(data):
        raise JsonTextError(f"the file is {encoding} text; save it as UTF-8")
    for magic, kind in MAGIC:
        if data.startswith(magic):
            raise JsonTextError(f"not {what}: it is {kind}, not text")
    sample = data[:SAMPLE]
    if b"\x00" in data or sum(byte in CONTROL for byte in sample) > len(sample) // 20:
        raise JsonTextError(f"not {what}: it is binary data, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise JsonTextError(_not_utf8(data, err.start)) from None


def _wide_encoding(data: bytes) -> str | None:
    """Which of UTF-16 and UTF-32 the bytes are text in, or None."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "UTF-32"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16"
    # Without a mark: ASCII text in UTF-16 has a zero byte beside every character, in
    # UTF-32 three.
    sample = data[:64]
    if len(sample) >= 8 and all(sample[i::4].count(0) == len(sample[i::4]) for i in (1, 2)):
        return "UTF-32"
    if len(sample) >= 4:
        even, odd = sample[0::2], sample[1::2]
        for zeros, chars in ((odd, even), (even, odd)):
            if zeros.count(0) == len(zeros) and chars.count(0) == 0:
                return "UTF-16"
    return None


def _not_utf8(data: bytes, start: int) -> str:
    line = data.count(b"\n", 0, start) + 1
    byte = data[start]
    shown = bytes([byte]).decode("cp1252", errors="replace")
    hint = f' ("{shown}" in Windows-1252 or Latin-1)' if shown.isprintable() else ""
    return (
        f"the file is not UTF-8 text: line {line} holds the byte 0x{byte:02X}{hint}; "
        "save it as UTF-8"
    )


# ------------------------------------------------------------------ parsing

PLAIN = {
    "Expecting value": "expected a value",
    "Expecting ':' delimiter": "expected a colon after the key",
    "Expecting property name enclosed in double quotes": "expected a key in double quotes",
    "Extra data": "more text after the end of the document",
    "Invalid control character at": "a line break or control character inside a string",
    "Invalid \\escape": "a backslash escape JSON does not know",
    "Invalid \\uXXXX escape": "a \\u escape that is not four hex digits",
    "Unterminated string starting at": "a string that is never closed",
}


def parse(text: str, max_depth: int, what: str = "a NetLoom project") -> Any:
    """json.loads, with every failure a JsonTextError in words naming the place."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise JsonTextError(_explain(text, err, what)) from None
    except RecursionError:
        raise JsonTextError(
            f"invalid JSON: nested too deeply (a project needs at most {max_depth} levels)"
        ) from None
    except ValueError as err:  # an integer literal over Python's 4,300-digit limit
        if found := re.search(r"\d{4300,}", text):
            line, column = _line_column(text, found.start())
            raise JsonTextError(
                f"line {line} column {column}: invalid JSON: a number of "
                f"{len(found.group()):,} digits (at most 4,300)"
            ) from None
        raise JsonTextError(f"invalid JSON: {str(err).strip()[:200]}") from None


def _line_column(text: str, pos: int) -> tuple[int, int]:
    return text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _explain(text: str, err: json.JSONDecodeError, what: str) -> str:
    content_end = len(text.rstrip())
    if content_end == 0:
        return "the file is empty" if not text else "the file holds only blank space"
    start = len(text) - len(text.lstrip())
    if err.pos == start and err.msg == "Expecting value":
        first = text[start:].split("\n", 1)[0][:30]
        return f"not {what}: it is text but not JSON (it starts with {json.dumps(first)})"
    if err.pos >= content_end or err.msg.startswith("Unterminated string"):
        opened = open_at(text, content_end)
        line = text.count("\n", 0, content_end) + 1
        return (
            f"invalid JSON: the file ends in the middle of {opened.name} (line {line}); "
            "it was cut short"
        )
    opened = open_at(text, err.pos)
    words = PLAIN.get(err.msg, err.msg)
    if err.msg == "Expecting ',' delimiter":
        words = f"expected a comma or a closing {'}' if opened.bracket == '{' else ']'}"
    elif err.msg.startswith("Expecting property name") and text[err.pos] == "}":
        words = "a stray comma before the closing }"
    elif err.msg == "Expecting value" and text[err.pos] == "]":
        words = "a stray comma before the closing ]"
    return f"line {err.lineno} column {err.colno}: invalid JSON: {words}, in {opened.name}"


# A string (closed or running to the end of the text) or one punctuation mark.
TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(")?|[\[\]{},]', re.DOTALL)


@dataclass
class _Frame:
    bracket: str  # "{" or "["
    path: str
    key: str | None = None
    index: int = 0
    expect_key: bool = True

    def child(self) -> str:
        if self.bracket == "[":
            return f"{self.path}[{self.index}]"
        key = self.key if self.key is not None else "?"
        return f"{self.path}.{key}" if self.path else key


@dataclass(frozen=True)
class Opened:
    """Where a position lies in a JSON text: the innermost open list or object."""

    path: str
    bracket: str  # "{", "[", '"' (inside a string value), or "" outside any
    in_string: bool

    @property
    def name(self) -> str:
        """E.g. "the `nodes` list", "the `name` string", "a key in the top-level object"."""
        kind = {"{": "object", "[": "list", '"': "string"}.get(self.bracket, "")
        if not kind:
            return "the top level"
        name = f"the `{self.path}` {kind}" if self.path else f"the top-level {kind}"
        return f"a key in {name}" if self.in_string and kind != "string" else name


def open_at(text: str, end: int) -> Opened:
    """The list or object open at `end` in `text`, by its JSON path (`nodes[3].params`).

    A scan of brackets, commas and strings only, not a parser: it assumes the text up
    to `end` is JSON so far, which is what json reported.
    """
    stack: list[_Frame] = []
    for match in TOKEN.finditer(text, 0, end):
        token = match.group()
        if token[0] == '"':
            top = stack[-1] if stack else None
            if match.group(1) is None:  # a string the text ends in
                if top is None or (top.bracket == "{" and top.expect_key):
                    return _opened(stack, in_string=True)
                return Opened(top.child(), '"', in_string=True)
            if top is not None and top.bracket == "{" and top.expect_key:
                top.key, top.expect_key = _key(token), False
        elif token in "[{":
            path = stack[-1].child() if stack else ""
            stack.append(_Frame(token, path))
        elif token in "]}":
            if stack:
                stack.pop()
        elif stack:  # a comma
            top = stack[-1]
            if top.bracket == "[":
                top.index += 1
            else:
                top.key, top.expect_key = None, True
    return _opened(stack, in_string=False)


def _opened(stack: list[_Frame], in_string: bool) -> Opened:
    if not stack:
        return Opened("", "", in_string)
    return Opened(stack[-1].path, stack[-1].bracket, in_string)


def _key(token: str) -> str:
    try:
        return path_key(str(json.loads(token)))
    except ValueError:
        return path_key(token[1:-1])


def path_key(key: str, limit: int = 40) -> str:
    """An object's key as a step of a JSON path: as it is when it reads plainly, else
    quoted (`units."a.b"`, `params."\\n"`) and a long one shortened, so that a message
    stays one clear line."""
    plain = key and len(key) <= limit and key.isprintable() and not any(c in key for c in '.[]" ')
    if plain:
        return key
    return json.dumps(key if len(key) <= limit else key[: limit - 8] + "…", ensure_ascii=False)
