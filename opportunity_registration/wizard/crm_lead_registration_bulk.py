import base64
import binascii

from odoo import Command, fields, models
from odoo.exceptions import UserError

from ..models.crm_lead_bulk import MAX_SHEET_SIZE


class CrmLeadRegistrationBulk(models.TransientModel):
    """A rep uploads a spreadsheet of deals; each row is created and submitted
    like a single registration, and the result shown per row."""

    _name = "crm.lead.registration.bulk"
    _description = "Bulk Registration"

    file = fields.Binary("Spreadsheet", help="CSV or XLSX, up to 1,000 deals, one per row.")
    filename = fields.Char()
    line_ids = fields.One2many("crm.lead.registration.bulk.line", "wizard_id", "Results")
    done = fields.Boolean()

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
        Lead = self.env["crm.lead"]
        rows = Lead._registration_sheet_rows(self.filename, data)
        results = Lead._internal_register_rows(rows)
        self.write(
            {
                "done": True,
                "file": False,
                "line_ids": [
                    Command.create(
                        {
                            "row": result["row"],
                            "customer": result["customer"],
                            "result": result["result"],
                            "reason": result["reason"],
                            "number": result.get("number") or False,
                            "message": result["message"],
                        },
                    )
                    for result in results
                ],
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Bulk Registration"),
        }


class CrmLeadRegistrationBulkLine(models.TransientModel):
    _name = "crm.lead.registration.bulk.line"
    _description = "Bulk Registration Result"
    _order = "row"

    wizard_id = fields.Many2one("crm.lead.registration.bulk", required=True, ondelete="cascade")
    row = fields.Integer()
    customer = fields.Char()
    result = fields.Selection(
        [("registered", "Registered"), ("pending", "Pending Review"), ("refused", "Refused")]
    )
    reason = fields.Selection([("incomplete", "Incomplete"), ("conflict", "Conflict")])
    number = fields.Char()
    message = fields.Text()
