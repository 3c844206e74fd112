"""What an import refuses, and how it says so: an upload, a whole file, a row's cell."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: row errors kept on the import (the count is exact)
MAX_ERRORS = 500


class UploadError(ValueError):
    """An upload that cannot be accepted; ``field`` names the form field (message for people)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class FileProblem(ValueError):
    """The file as a whole cannot be read (encoding, format, size); Russian message."""


@dataclass(frozen=True)
class RowError:
    row: int | None
    column: str | None
    message: str
    #: why, when the questionnaire refused the answer (see :mod:`cci.methodology.contract`)
    reason: str | None = None

    @property
    def text(self) -> str:
        if self.row is None:
            where = "Файл"
        elif self.column:
            where = f"Строка {self.row}, столбец {self.column}"
        else:
            where = f"Строка {self.row}"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        out = {"row": self.row, "column": self.column, "message": self.message,
               "text": self.text}
        if self.reason:
            out["reason"] = self.reason
        return out
