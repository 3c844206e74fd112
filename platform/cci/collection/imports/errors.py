"""What an import refuses, and how it says so: an upload, a whole file, a row's cell."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cci.foundation.jobs import InputError

#: row errors kept on the import (the count is exact)
MAX_ERRORS = 500


class UploadError(ValueError):
    """An upload that cannot be accepted; ``field`` names the form field (message for people)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class FileProblem(InputError):
    """The file cannot be read (encoding, format, size, a bound); Russian message. ``row``
    names the row where reading stopped, when there is one (the header is row 1)."""

    def __init__(self, message: str, row: int | None = None):
        super().__init__(message)
        self.row = row

    def row_error(self) -> RowError:
        return RowError(self.row, None, str(self))


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
