import csv
import io
import logging
import re
import zipfile

import openpyxl

from odoo import api, models
from odoo.exceptions import UserError, ValidationError

from .crm_lead_channel import PORTAL_FORM_FIELDS, PORTAL_TEXT_LIMITS

_logger = logging.getLogger(__name__)

# Deals in one file: what the background job registers in a few minutes.
MAX_ROWS = 500
# A file of 500 deals is far below this (CSV or XLSX as uploaded); anything
# larger is refused unread.
MAX_SHEET_SIZE = 5 * 1024 * 1024
# An XLSX is a zip: what it unpacks to is checked before openpyxl opens it,
# so a small file that expands to gigabytes (a zip bomb) is refused unread.
MAX_XLSX_UNPACKED_SIZE = 20 * 1024 * 1024
MAX_XLSX_MEMBERS = 1000
# Spreadsheet XML compresses about 5-20 times; a large member packed far more
# than this is built to explode.
MAX_XLSX_RATIO = 100
XLSX_RATIO_FLOOR = 1024 * 1024  # small members may compress as they like
# Columns read per row: the template has 14; a forged sheet dimension of
# 16,384 columns must not expand every row.
MAX_COLUMNS = 50
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
        if len(data) > MAX_SHEET_SIZE:
            raise UserError(
                self.env._(
                    "The file is larger than %(size)s MB: split it into several files.",
                    size=MAX_SHEET_SIZE // (1024 * 1024),
                )
            )
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
                    "A file holds at most %(max)s deals; this one has more: split it into "
                    "several files.",
                    max=MAX_ROWS,
                )
            )
        columns = [
            (index, column) for index, column in enumerate(header) if column in PORTAL_FORM_FIELDS
        ]
        # stored for the background job as JSON; each cell is checked as text
        # (_registration_cell_text) with its row, so a bad cell refuses its row only
        return [
            {
                column: self._registration_cell(row[index]) if index < len(row) else ""
                for index, column in columns
            }
            for row in rows
        ]

    @api.model
    def _registration_cell(self, value):
        """A spreadsheet cell as JSON can store it: texts and numbers as they
        are, dates as ISO text (as the portal form sends them), empty as ""."""
        if value is None:
            return ""
        if isinstance(value, (str, int, float)):
            return value
        return str(value)

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
        table = []
        try:
            for row in csv.reader(io.StringIO(text), dialect):
                # blank lines are skipped; counting stops past the limit
                if any(cell.strip() for cell in row):
                    table.append(row[:MAX_COLUMNS])
                    if len(table) > MAX_ROWS + 1:
                        break
        except csv.Error as error:
            raise UserError(
                self.env._("The CSV file cannot be read: %(error)s", error=error)
            ) from None
        return table

    @api.model
    def _registration_check_xlsx(self, data):
        """Refuse an XLSX whose members unpack to more than the limit, or that
        is packed like a zip bomb, before anything decompresses it."""
        try:
            members = zipfile.ZipFile(io.BytesIO(data)).infolist()
        except (zipfile.BadZipFile, ValueError, OSError):
            raise UserError(self.env._("The XLSX file cannot be read.")) from None
        too_big = self.env._(
            "The XLSX file unpacks to more than %(size)s MB: save it again without "
            "pictures or empty formatted cells, or split it.",
            size=MAX_XLSX_UNPACKED_SIZE // (1024 * 1024),
        )
        if len(members) > MAX_XLSX_MEMBERS:
            raise UserError(too_big)
        if sum(member.file_size for member in members) > MAX_XLSX_UNPACKED_SIZE:
            raise UserError(too_big)
        for member in members:
            if member.file_size > XLSX_RATIO_FLOOR and member.file_size > MAX_XLSX_RATIO * max(
                member.compress_size, 1
            ):
                raise UserError(too_big)

    @api.model
    def _registration_read_xlsx(self, data):
        self._registration_check_xlsx(data)
        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            sheet = book.worksheets[0]
            table = []
            for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
                if any(str(cell if cell is not None else "").strip() for cell in row):
                    table.append(list(row))
                    if len(table) > MAX_ROWS + 1:
                        break
            book.close()
            return table
        except Exception as error:  # whatever breaks in a damaged file is the user's to fix
            _logger.info("Unreadable XLSX upload: %s", error)
            raise UserError(self.env._("The XLSX file cannot be read.")) from None

    @api.model
    def _portal_check_upload(self, partner):
        """The uploader is still a portal user of ``partner``, enrolled, and
        the partner's deals have a channel manager; else a UserError."""
        if self._portal_channel_partner() != partner:
            raise UserError(
                self.env._(
                    "%(user)s no longer belongs to %(partner)s.",
                    user=self.env.user.name,
                    partner=partner.sudo().name,
                )
            )
        self._portal_channel_manager(partner)

    @api.model
    def _portal_register_rows(self, rows):
        """A channel partner's rows, registered at once (see _register_rows).
        Uploads go through crm.lead.registration.upload, in the background."""
        partner = self._portal_channel_partner()
        self._portal_channel_manager(partner)
        return self._register_rows(rows, self._portal_register)

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
    def _register_rows(self, rows, register, first_row=2):
        """Register each row as a single registration would be, in its own
        savepoint: one refused row never blocks or half-writes the others.

        Returns one result per row: ``{"row", "customer", "result", "reason",
        "message", "number", "registration_id"}``; result ``registered``,
        ``pending`` or ``refused``, reason ``incomplete``, ``conflict`` or
        ``error`` (something unexpected, logged) for a refused row.
        """
        results = []
        for index, values in enumerate(rows, start=first_row):
            customer = str(values.get("company_name") or "").strip()[:200]
            result = {"row": index, "customer": customer, "reason": False, "message": ""}
            try:
                with self.env.cr.savepoint():
                    reg = register(values)
            except ValidationError as error:
                result.update(result="refused", reason="incomplete", message=str(error))
            except UserError as error:
                result.update(result="refused", reason="conflict", message=str(error))
            except Exception:  # a background job goes on with the next row
                _logger.exception("Registration of spreadsheet row %s failed", index)
                result.update(
                    result="refused",
                    reason="error",
                    message=self.env._(
                        "This row could not be registered because of an unexpected error; "
                        "please submit it again."
                    ),
                )
            else:
                result.update(
                    result="registered" if reg.state == "approved" else "pending",
                    number=reg.name,
                    registration_id=reg.id,
                )
            results.append(result)
        return results
