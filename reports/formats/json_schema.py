"""The published JSON Schema of a report document, applied: what it finds, by JSON path.

`SchemaFindings` validates a document against ``reports/schema/report-v1.json`` (draft
2020-12, with `jsonschema`) and files each finding under the JSON path of the value it
is about, by keyword ("type", "required", "pattern"…). The reader asks about the paths it
reads (`reports.formats.json_import`) and words the findings itself: jsonschema's own
messages ("'x' is a required property") are not what an editor should read, and a
finding about a value the reader does not use (the informational verdict name, say) is
never asked about, so the reader refuses no more than it always did.

A "oneOf" finding (an object or null, a date or null) is filed as what the value's own
alternative found: a value of neither kind as a "type" finding at its path, an object
that is the wrong shape as the findings inside it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from functools import cache

from jsonschema import Draft202012Validator, ValidationError

from reports.formats.errors import json_path
from reports.formats.jsonformat import SCHEMA_FILE

# The schema's pattern for text that must be one line (a claim, a heading, a question).
ONE_LINE = "^[^\\r\\n]*$"


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


class SchemaFindings:
    """What the schema finds wrong with a document, filed by JSON path and keyword."""

    def __init__(self, document: dict):
        self._found: dict[str, dict[str, list[ValidationError]]] = defaultdict(dict)
        for error in _validator().iter_errors(document):
            self._file(error)

    def _file(self, error: ValidationError) -> None:
        path = json_path(error.absolute_path)
        if error.validator == "oneOf":
            branches = defaultdict(list)
            for inner in error.context:
                branches[inner.relative_schema_path[0]].append(inner)
            # The alternatives the value is of the kind of: none of their findings is that
            # the value itself has the wrong type.
            fitting = [
                found
                for found in branches.values()
                if not any(
                    e.validator == "type" and json_path(e.absolute_path) == path for e in found
                )
            ]
            if len(fitting) == 1:
                for inner in fitting[0]:
                    self._file(inner)
            else:
                self._found[path].setdefault("type", []).append(error)
            return
        self._found[path].setdefault(error.validator, []).append(error)

    def wrong(self, path: str, keyword: str, value=None) -> bool:
        """Whether the schema's `keyword` (with that value, if given) refuses `path`'s value."""
        return any(
            value is None or error.validator_value == value
            for error in self._found.get(path, {}).get(keyword, ())
        )

    def anything_wrong(self, path: str) -> bool:
        """Whether the schema refuses the value at `path` itself, for whatever reason."""
        return bool(self._found.get(path))

    def missing(self, path: str) -> list[str]:
        """The required keys the object at `path` lacks, in the schema's order."""
        errors = self._found.get(path, {}).get("required", ())
        if not errors:
            return []
        instance = errors[0].instance
        return [key for key in errors[0].validator_value if key not in instance]

    def unknown(self, path: str) -> list[str]:
        """The keys of the object at `path` the schema does not have, in the object's order."""
        errors = self._found.get(path, {}).get("additionalProperties", ())
        if not errors:
            return []
        known = errors[0].schema.get("properties", {})
        return [key for key in errors[0].instance if key not in known]
