"""Importing responses and checklists from the CSV and XLSX files offices actually produce.

Excel's own CSV (``;``, or ``,`` / tab), in Windows-1251 or UTF-8 with or without a BOM,
with decimal commas, Russian yes/no words and «Затрудняюсь ответить»; or an XLSX workbook.
The columns come from the campaign's methodology set, never from the core.

An import is *atomic*: every row is read and validated first, and only a file without a
single error is written, in one transaction. It is *idempotent*: a response's
``response_id`` becomes the client key ``import:<region>:<response_id>``, so importing the
same file again adds nothing; a checklist is keyed by (campaign, office, indicator) and is
updated in place. Row errors name the row as Excel shows it (the header is row 1) and the
column as headed in the file; they are data-validation messages, written in Russian.

The uploaded bytes are kept in :class:`cci.foundation.models.ImportRecord`; the ``imports.run`` job
reads them, so a file of any size is processed in the background with progress.

The steps, one module each: :mod:`.upload` takes the file and queues the job, :mod:`.files`
reads CSV and XLSX into cells (:mod:`.cells` reads one cell), :mod:`.columns` maps the
headers, :mod:`.response_rows` validates responses through the campaign's questionnaire (the
methodology set, as every channel) and :mod:`.checklist_rows` checklists, :mod:`.job` runs it
all and stores the rows, :mod:`.templates` writes the template files. What a file may
expand to while it is read (rows, cells, bytes, time, memory) is bounded in :mod:`.bounds`,
for every reader; :mod:`.workbook` measures an XLSX before openpyxl parses it. The names
other modules use are imported here.
"""

from __future__ import annotations

from cci.collection.imports.bounds import BOUNDS
from cci.collection.imports.bounds import Bounds
from cci.collection.imports.cells import cell_text
from cci.collection.imports.cells import is_blank
from cci.collection.imports.cells import parse_moment
from cci.collection.imports.errors import MAX_ERRORS
from cci.collection.imports.errors import FileProblem
from cci.collection.imports.errors import RowError
from cci.collection.imports.errors import UploadError
from cci.collection.imports.files import EXTENSIONS
from cci.collection.imports.files import MAX_ROWS
from cci.collection.imports.files import Table
from cci.collection.imports.files import decode_csv
from cci.collection.imports.files import detect_delimiter
from cci.collection.imports.files import read_table
from cci.collection.imports.job import import_job
from cci.collection.imports.job import result_of
from cci.collection.imports.job import run_import
from cci.collection.imports.response_rows import CHANNEL
from cci.collection.imports.response_rows import client_key
from cci.collection.imports.templates import template_file
from cci.collection.imports.templates import template_table
from cci.collection.imports.upload import IMPORT_ROLES
from cci.collection.imports.upload import check_upload
from cci.collection.imports.upload import may_import
from cci.collection.imports.upload import start_import
from cci.methodology.values import parse_number
from cci.methodology.values import parse_yes_no

__all__ = [
    "BOUNDS", "CHANNEL", "EXTENSIONS", "IMPORT_ROLES", "MAX_ERRORS", "MAX_ROWS", "Bounds",
    "FileProblem", "RowError", "Table", "UploadError", "cell_text", "check_upload", "client_key",
    "decode_csv", "detect_delimiter", "import_job", "is_blank", "may_import", "parse_moment",
    "parse_number", "parse_yes_no", "read_table", "result_of", "run_import", "start_import",
    "template_file", "template_table",
]
