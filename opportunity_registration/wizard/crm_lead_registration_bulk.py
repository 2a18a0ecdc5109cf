import base64
import binascii

from odoo import fields, models
from odoo.exceptions import UserError

from ..models.crm_lead_bulk import MAX_ROWS, MAX_SHEET_SIZE


class CrmLeadRegistrationBulk(models.TransientModel):
    """A rep uploads a spreadsheet of deals. The file is checked and queued
    here; its rows are registered in the background like single
    registrations (crm.lead.registration.upload), with each row's outcome."""

    _name = "crm.lead.registration.bulk"
    _description = "Bulk Registration"

    file = fields.Binary("Spreadsheet", help="CSV or XLSX, up to %s deals, one per row." % MAX_ROWS)
    filename = fields.Char()

    def action_register(self):
        self.ensure_one()
        if not self.file:
            raise UserError(self.env._("Choose a CSV or XLSX file to upload."))
        try:
            data = base64.b64decode(self.file, validate=True)
        except (binascii.Error, ValueError):
            raise UserError(self.env._("The file cannot be read.")) from None
        if len(data) > MAX_SHEET_SIZE:
            raise UserError(self.env._("The file is larger than 5 MB."))
        upload = self.env["crm.lead.registration.upload"]._queue(self.filename, data)
        return {
            "type": "ir.actions.act_window",
            "res_model": upload._name,
            "res_id": upload.id,
            "view_mode": "form",
            "target": "current",
            "name": self.env._("Bulk Registration"),
        }
