"""The first worksheet of an ``.xlsx`` file as rows of text, with ``zipfile`` and ``xml.etree`` only.

Shared strings (with rich-text runs), inline strings, numbers and booleans are read; formulas give their
cached value. Files that unpack to more than :data:`MAX_UNPACKED` bytes (zip bombs) and XML with a DOCTYPE
or entity declarations are refused before parsing.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET  # noqa: N817, S405 - DOCTYPE/ENTITY refused before parsing (see _xml)
import zipfile
from typing import Dict, Iterator, List, Optional, Tuple

from bot.editor.importing.errors import FaqImportError

MAX_UNPACKED = 200 * 1024 * 1024
Row = Tuple[int, List[str]]
_CELL_REF = re.compile(r"^([A-Z]+)(\d+)$")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_xlsx(raw: bytes, name: str) -> List[Row]:
    """The rows of the workbook's first sheet: (row number, cell texts), empty rows left out.

    Raises:
        FaqImportError: not an xlsx file, too large unpacked, or unreadable XML.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise FaqImportError(f"{name} is not a valid .xlsx file; save it again from the spreadsheet program as "
                             "'Excel workbook (.xlsx)' or 'CSV'") from None
    with archive:
        members = {info.filename: info for info in archive.infolist()}
        if sum(info.file_size for info in members.values()) > MAX_UNPACKED:
            raise FaqImportError(f"{name} unpacks to more than {MAX_UNPACKED // 2**20} MB; export the FAQ sheet "
                                 "alone as CSV")
        sheet = _first_sheet(archive, members, name)
        strings = _shared_strings(archive, members) if "xl/sharedStrings.xml" in members else []
        try:
            return list(_rows(_xml(archive, sheet), strings))
        except ET.ParseError as err:
            raise FaqImportError(f"{name}: the worksheet is not readable XML ({err}); save the file again as "
                                 ".xlsx or CSV") from None


def _xml(archive: zipfile.ZipFile, path: str) -> bytes:
    data = archive.read(path)
    if re.search(rb"<!DOCTYPE|<!ENTITY", data[:65536], re.IGNORECASE):
        raise FaqImportError(f"{path} in the workbook declares a DOCTYPE or entities, which spreadsheets never "
                             "do; refusing to read it. Export the sheet as CSV instead")
    return data


def _first_sheet(archive: zipfile.ZipFile, members: Dict[str, zipfile.ZipInfo], name: str) -> str:
    target: Optional[str] = None
    try:
        if "xl/workbook.xml" in members and "xl/_rels/workbook.xml.rels" in members:
            workbook = ET.fromstring(_xml(archive, "xl/workbook.xml"))  # noqa: S314
            first = next((el for el in workbook.iter() if _local(el.tag) == "sheet"), None)
            rel_id = next((v for k, v in (first.attrib.items() if first is not None else []) if _local(k) == "id"),
                          None)
            rels = ET.fromstring(_xml(archive, "xl/_rels/workbook.xml.rels"))  # noqa: S314
            for rel in rels.iter():
                if _local(rel.tag) == "Relationship" and rel.get("Id") == rel_id:
                    value = rel.get("Target", "")
                    target = value.lstrip("/") if value.startswith("/") else "xl/" + value
    except ET.ParseError:
        target = None
    if target not in members:
        sheets = sorted(path for path in members if re.match(r"xl/worksheets/[^/]+\.xml$", path))
        target = sheets[0] if sheets else None
    if target is None:
        raise FaqImportError(f"{name} has no worksheet; is it really a spreadsheet? Export the FAQ as CSV")
    return target


def _shared_strings(archive: zipfile.ZipFile, members: Dict[str, zipfile.ZipInfo]) -> List[str]:
    strings: List[str] = []
    for _, element in ET.iterparse(io.BytesIO(_xml(archive, "xl/sharedStrings.xml")), events=("end",)):  # noqa: S314
        if _local(element.tag) == "si":
            strings.append(_rich_text(element))
            element.clear()
    return strings


def _rich_text(element: ET.Element) -> str:
    """The text of a string item: its ``t``, or its runs' ``t``, leaving out phonetic guides (``rPh``)."""
    parts: List[str] = []
    for child in element:
        tag = _local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)


def _rows(data: bytes, strings: List[str]) -> Iterator[Row]:
    counter = 0
    for _, element in ET.iterparse(io.BytesIO(data), events=("end",)):  # noqa: S314
        if _local(element.tag) != "row":
            continue
        counter += 1
        given = element.get("r", "")
        number = int(given) if given.isdigit() else counter
        counter = number
        cells: Dict[int, str] = {}
        for position, cell in enumerate(c for c in element if _local(c.tag) == "c"):
            match = _CELL_REF.match(cell.get("r", ""))
            column = _column_index(match.group(1)) if match else position
            cells[column] = _cell_value(cell, strings)
        element.clear()
        if any(value.strip() for value in cells.values()):
            width = max(cells) + 1
            yield number, [cells.get(index, "") for index in range(width)]


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + (ord(letter) - ord("A") + 1)
    return index - 1


def _cell_value(cell: ET.Element, strings: List[str]) -> str:
    kind = cell.get("t", "n")
    value = next((child.text or "" for child in cell if _local(child.tag) == "v"), "")
    if kind == "s":
        try:
            return strings[int(value)]
        except (ValueError, IndexError):
            return ""
    if kind == "inlineStr":
        inline = next((child for child in cell if _local(child.tag) == "is"), None)
        return _rich_text(inline) if inline is not None else ""
    if kind == "b":
        return "TRUE" if value.strip() == "1" else "FALSE"
    if kind == "n" and re.fullmatch(r"-?\d+\.0+", value.strip()):
        return value.strip().split(".")[0]
    return value
