"""What the readers of every format share: their errors, and how they say where and what.

A text is refused with `TextFormatError` (file and line); a JSON document or archive with
`JsonFormatError`, listing each problem under its JSON path, written as in JSONPath
without the leading "$" (``reports[3].sections[1].heading``, list positions from 0).
Both are `FormatError`s, so a caller that only shows the refusal can catch either.
"""

from __future__ import annotations

import json


class FormatError(ValueError):
    """A file in one of the formats that cannot be read; nothing was saved."""


class TextFormatError(FormatError):
    """The text does not follow the layout; says where (1-based line) and why."""

    def __init__(self, message: str, *, line: int, filename: str = "<text>"):
        self.filename = filename
        self.line = line
        self.message = message
        super().__init__(f"{filename}, line {line}: {message}")


class JsonFormatError(FormatError):
    """A document that cannot be imported: each problem as (JSON path, what is wrong).

    A problem with the whole document has the path "".
    """

    def __init__(self, problems: list[tuple[str, str]], *, filename: str = ""):
        self.problems = list(problems)
        self.filename = filename
        super().__init__(str(self))

    @property
    def path(self) -> str:
        return self.problems[0][0]

    @property
    def message(self) -> str:
        return self.problems[0][1]

    def __str__(self) -> str:
        described = "; ".join(
            f"{path}: {message}" if path else message for path, message in self.problems
        )
        return f"{self.filename}: {described}" if self.filename else described


def parse_json(text: str, *, filename: str = "", what: str = "a report"):
    """`text` parsed as JSON (a leading byte order mark aside), or `JsonFormatError`."""
    try:
        return json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as error:
        raise JsonFormatError(
            [("", f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})")],
            filename=filename,
        ) from None
    except RecursionError:
        raise JsonFormatError(
            [("", f"not {what}: its lists and objects nest too deep")], filename=filename
        ) from None


def join(path: str, key: str) -> str:
    """The JSON path of `key` in the object at `path` ("" for the document itself)."""
    return f"{path}.{key}" if path else key


def json_path(parts) -> str:
    """``sections[2].heading`` for the parts ("sections", 2, "heading")."""
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


def describe(value) -> str:
    """What a JSON value is, for messages: "an object", "a list", "text"…"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return "a number"
    return "text"


def shown(value) -> str:
    """A JSON value quoted in a message: text in quotes, anything else described."""
    return f"“{value}”" if isinstance(value, str) else describe(value)


def short(value) -> str:
    """A value as Python writes it, cut to 80 characters: archives quote what they refuse."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…"


def listed(items: list[str]) -> str:
    """ "a", "a and b", "a, b and c": items in a sentence."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
