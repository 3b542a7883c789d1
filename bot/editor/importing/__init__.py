"""Import an agency's existing FAQ (saved web page, CSV/XLSX export, markdown folder) as kb files.

Readers (:mod:`.html_faq`, :mod:`.jsonld`, :mod:`.microdata`, :mod:`.plain_html`, :mod:`.tables`,
:mod:`.markdown_folder`) turn a source into questions with markdown answers (:mod:`.to_markdown`);
:mod:`.planning` gives them ids, sources and languages and applies the kb's limits; :mod:`.writer` writes
them all or nothing; :mod:`.importer` ties it together for ``auskunft kb import``.
"""

from bot.editor.importing.errors import FaqImportError
from bot.editor.importing.importer import FORMATS, MAX_BYTES, import_faq
from bot.editor.importing.planning import ImportOptions
from bot.editor.importing.report import ImportReport
from bot.editor.importing.tables import ColumnMap

__all__ = ["FORMATS", "MAX_BYTES", "ColumnMap", "FaqImportError", "ImportOptions", "ImportReport", "import_faq"]
