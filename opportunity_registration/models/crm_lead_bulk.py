import csv
import io
import logging
import re

import openpyxl

from odoo import api, models
from odoo.exceptions import UserError, ValidationError

from .crm_lead_channel import PORTAL_FORM_FIELDS, PORTAL_TEXT_LIMITS

_logger = logging.getLogger(__name__)

MAX_ROWS = 1000
# A spreadsheet of 1,000 deals is far below this; anything larger is refused unread.
MAX_SHEET_SIZE = 5 * 1024 * 1024
# What a spreadsheet reads as the start of a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@")
# A phone number may start with "+": a plus, then digits, spaces, dots, ()/-.
PHONE_TEXT = re.compile(r"\+[\d\s().\-]*\Z")


class CrmLead(models.Model):
    """Bulk registration: a spreadsheet of deals, each row through the one
    submission engine in its own savepoint."""

    _inherit = "crm.lead"

    @api.model
    def _registration_sheet_template(self):
        """The CSV header partners fill in."""
        out = io.StringIO()
        csv.writer(out).writerow(PORTAL_FORM_FIELDS)
        return "\ufeff" + out.getvalue()

    @api.model
    def _registration_cell_text(self, value, column=None):
        """A spreadsheet cell or portal form field as the text it is, or a
        ValidationError if a spreadsheet would read it as a formula.

        Decision: refused, not prefixed. A text starting with ``=``, ``+``,
        ``-`` or ``@`` (also after spaces or tabs) comes back as a formula in
        whoever exports or copies it to a spreadsheet; silently adding a
        quote would change a name that is also a customer key. The row (or
        the form) is refused with a message naming the field, and the partner
        types it again. Only a phone number may start with ``+`` followed by
        digits, spaces and ``()-.``. Numbers, dates and empty cells pass as
        they are. Called for every text of the portal form and of each
        uploaded row (``_portal_clean_values``), so a refused row never blocks
        the others.
        """
        if not isinstance(value, str):
            return value
        text = value.lstrip(" \t\r\n\u3000")
        if not text.startswith(FORMULA_PREFIXES):
            return value
        if column in (None, "phone", "mobile") and PHONE_TEXT.match(text.rstrip()):
            return value
        raise ValidationError(
            self.env._(
                "%(field)s starts with %(char)s, which a spreadsheet reads as a formula: "
                "remove it or start with a letter or a digit.",
                field=self._portal_field_label(column)
                if column in PORTAL_TEXT_LIMITS
                else column or self.env._("A cell"),
                char=text[0],
            )
        )

    @api.model
    def _registration_sheet_rows(self, filename, data):
        """``[{column: value}]`` from a CSV or XLSX file, or a UserError."""
        name = (filename or "").lower()
        if name.endswith(".xlsx"):
            table = self._registration_read_xlsx(data)
        elif name.endswith(".csv"):
            table = self._registration_read_csv(data)
        else:
            raise UserError(self.env._("Upload a CSV or XLSX file."))
        table = [row for row in table if any(str(cell or "").strip() for cell in row)]
        if not table:
            raise UserError(self.env._("The file is empty."))
        header = [str(cell or "").strip().lower() for cell in table[0]]
        missing = [column for column in ("company_name",) if column not in header]
        if missing:
            raise UserError(
                self.env._(
                    "The first row must name the columns (%(columns)s); download the template.",
                    columns=", ".join(PORTAL_FORM_FIELDS),
                )
            )
        rows = table[1:]
        if not rows:
            raise UserError(self.env._("The file has no deal below its header row."))
        if len(rows) > MAX_ROWS:
            raise UserError(
                self.env._(
                    "A file holds at most %(max)s deals; this one has %(count)s.",
                    max=MAX_ROWS,
                    count=len(rows),
                )
            )
        columns = [
            (index, column) for index, column in enumerate(header) if column in PORTAL_FORM_FIELDS
        ]
        return [
            {column: row[index] if index < len(row) else "" for index, column in columns}
            for row in rows
        ]

    @api.model
    def _registration_read_csv(self, data):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise UserError(self.env._("The CSV file is neither UTF-8 nor GB18030 text."))
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        try:
            return list(csv.reader(io.StringIO(text), dialect))
        except csv.Error as error:
            raise UserError(
                self.env._("The CSV file cannot be read: %(error)s", error=error)
            ) from None

    @api.model
    def _registration_read_xlsx(self, data):
        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            sheet = book.worksheets[0]
            table = []
            for row in sheet.iter_rows(values_only=True):
                table.append(list(row))
                if len(table) > MAX_ROWS + 1:
                    break
            return table
        except Exception as error:  # whatever breaks in a damaged file is the user's to fix
            _logger.info("Unreadable XLSX upload: %s", error)
            raise UserError(self.env._("The XLSX file cannot be read.")) from None

    @api.model
    def _portal_register_rows(self, rows):
        """A channel partner's spreadsheet, row by row (see _register_rows)."""
        partner = self._portal_channel_partner()
        self._portal_channel_manager(partner)
        return self._register_rows(rows, self._portal_register)

    @api.model
    def _internal_register_rows(self, rows):
        """A rep's spreadsheet, row by row (see _register_rows)."""
        if not self.env.user.has_group("opportunity_registration.group_registration_user"):
            raise UserError(self.env._("Only registration users can submit registrations."))
        return self._register_rows(rows, self._internal_register)

    @api.model
    def _internal_register(self, values):
        """Create a rep's opportunity from a spreadsheet row and submit it, as the rep."""
        clean = self._portal_clean_values(values)
        customer = self._portal_customer(clean)
        lead = self.create(
            dict(
                self._registration_lead_vals(clean, customer),
                registration_source="rep",
                user_id=self.env.user.id,
            )
        )
        lead.action_registration_submit()
        return lead.registration_id

    @api.model
    def _register_rows(self, rows, register):
        """Register each row as a single registration would be, in its own
        savepoint: one refused row never blocks or half-writes the others.

        Returns one result per row: ``{"row", "customer", "result", "reason",
        "message", "number"}``; result ``registered``, ``pending`` or
        ``refused``, reason ``incomplete`` or ``conflict`` for a refused row.
        """
        results = []
        for index, values in enumerate(rows, start=2):
            customer = str(values.get("company_name") or "").strip()[:200]
            result = {"row": index, "customer": customer, "reason": False, "message": ""}
            try:
                with self.env.cr.savepoint():
                    reg = register(values)
            except ValidationError as error:
                result.update(result="refused", reason="incomplete", message=str(error))
            except UserError as error:
                result.update(result="refused", reason="conflict", message=str(error))
            else:
                result.update(
                    result="registered" if reg.state == "approved" else "pending",
                    number=reg.name,
                )
            results.append(result)
        return results
