from markupsafe import Markup

from odoo.addons.web.controllers.export import (
    CSVExport,
    ExcelExport,
    ExportXlsxWriter,
    GroupExportXlsxWriter,
)


def _write_text(worksheet, row, col, token, cell_format=None):
    """xlsxwriter write handler: a non-empty string is written as a string."""
    if not token:
        return None  # an empty cell, as Odoo writes it
    return worksheet.write_string(row, col, token, cell_format)


class TextCells:
    """Every string is written as a string cell (SPEC §9.10: text is text).

    Odoo's XLSX export writes cells with xlsxwriter's ``worksheet.write()``,
    which makes a formula of a string starting with ``=`` (and of ``{=…}``,
    whatever the workbook options) and a hyperlink of one starting with
    ``http://``, ``mailto:`` or ``external:`` — whatever field it comes from:
    a partner's company name ``=HYPERLINK(…)`` became a live formula in the
    export of the pipeline. A write handler for strings sends them to
    ``write_string``: what was stored, as text. Numbers, dates and booleans
    keep their types and styles; Odoo's own ``write`` is untouched.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for text_type in (str, Markup):
            self.worksheet.add_write_handler(text_type, _write_text)


class TextXlsxWriter(TextCells, ExportXlsxWriter):
    pass


class TextGroupXlsxWriter(TextCells, GroupExportXlsxWriter):
    pass


class TextExcelExport(ExcelExport):
    """The XLSX export with :class:`TextCells` writers, for every model: a
    name typed by one person must not become a formula in another person's
    spreadsheet, whichever list it is exported from. The bodies are Odoo's
    ``from_group_data`` and ``from_data`` with the writers swapped."""

    def from_group_data(self, fields, columns_headers, groups):
        with TextGroupXlsxWriter(fields, columns_headers, groups.count) as xlsx_writer:
            x, y = 1, 0
            for group_name, group in groups.children.items():
                x, y = xlsx_writer.write_group(x, y, group_name, group)
        return xlsx_writer.value

    def from_data(self, fields, columns_headers, rows):
        with TextXlsxWriter(fields, columns_headers, len(rows)) as xlsx_writer:
            for row_index, row in enumerate(rows):
                for cell_index, cell_value in enumerate(row):
                    xlsx_writer.write_cell(row_index + 1, cell_index, cell_value)
        return xlsx_writer.value


FORMULA_PREFIXES = ("=", "+", "-", "@")


class TextCSVExport(CSVExport):
    """Odoo's CSV export quotes a cell starting with ``=``, ``+`` or ``-``;
    a spreadsheet also reads ``@…`` and a formula after leading spaces or
    tabs. Those get the same leading quote."""

    def from_data(self, fields, columns_headers, rows):
        return super().from_data(
            fields, columns_headers, [[self._text_cell(cell) for cell in row] for row in rows]
        )

    @staticmethod
    def _text_cell(cell):
        if (
            isinstance(cell, str)
            and not cell.startswith(("=", "+", "-"))  # quoted by Odoo already
            and cell.lstrip(" \t\r\n").startswith(FORMULA_PREFIXES)
        ):
            return "'" + cell
        return cell
