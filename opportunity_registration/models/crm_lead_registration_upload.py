import base64
import csv
import io
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

# Rows registered per transaction of the background job.
UPLOAD_BATCH_SIZE = 50
RESULT_COLUMNS = ("row", "customer", "result", "reason", "number", "message")


def _cell(text):
    """A text cell of the result CSV; one that a spreadsheet would read as a
    formula (=, +, -, @, tab, return) is quoted as text."""
    text = text or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class CrmLeadRegistrationUpload(models.Model):
    """A spreadsheet of deals, registered in the background.

    The request only checks the file (size, rows, columns) and stores it; a
    scheduled action registers its rows in batches, each row through the one
    submission engine in its own savepoint, and records every row's outcome.
    It is an ``ir.cron`` woken by ``_trigger()`` rather than a ``queue_job``:
    no extra dependency to install, and Odoo 19's cron progress API
    (``_commit_progress``) commits each batch, reports how much is left and
    comes back at once for the rest, so a 500-row file never hits the request
    time limits and a crash loses at most one batch.
    """

    _name = "crm.lead.registration.upload"
    _description = "Registration Upload"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char("File Name", required=True, readonly=True)
    user_id = fields.Many2one(
        "res.users",
        "Uploaded By",
        required=True,
        readonly=True,
        index=True,
        default=lambda self: self.env.user,
    )
    partner_id = fields.Many2one(
        "res.partner",
        "Channel Partner",
        readonly=True,
        index="btree_not_null",
        help="The partner company whose portal user uploaded the file; empty for a rep's upload.",
    )
    channel_manager_id = fields.Many2one(
        "res.users",
        readonly=True,
        index="btree_not_null",
        help="Holds and first reviews the partner's deals of this file.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, default=lambda self: self.env.company
    )
    file = fields.Binary("Spreadsheet", attachment=True, readonly=True)
    rows_data = fields.Json(readonly=True, copy=False, groups="base.group_system")
    state = fields.Selection(
        [("queued", "Queued"), ("running", "Running"), ("done", "Done"), ("failed", "Failed")],
        default="queued",
        required=True,
        readonly=True,
        index=True,
    )
    row_count = fields.Integer("Rows", readonly=True)
    done_count = fields.Integer("Rows Done", readonly=True)
    progress = fields.Integer(compute="_compute_progress", help="Percentage of rows done.")
    error = fields.Text(readonly=True, help="Why the whole file could not be processed.")
    line_ids = fields.One2many(
        "crm.lead.registration.upload.line", "upload_id", "Results", readonly=True
    )
    registered_count = fields.Integer(compute="_compute_outcome_counts")
    pending_count = fields.Integer(compute="_compute_outcome_counts")
    refused_count = fields.Integer(compute="_compute_outcome_counts")
    result_file = fields.Binary(compute="_compute_result_file", help="One line per row, as CSV.")
    result_filename = fields.Char(compute="_compute_result_file")

    @api.depends("row_count", "done_count")
    def _compute_progress(self):
        for upload in self:
            upload.progress = 100 * upload.done_count // upload.row_count if upload.row_count else 0

    @api.depends("line_ids.result")
    def _compute_outcome_counts(self):
        counts = {
            (upload, result): count
            for upload, result, count in self.env["crm.lead.registration.upload.line"]
            .sudo()
            ._read_group([("upload_id", "in", self.ids)], ["upload_id", "result"], ["__count"])
        }
        for upload in self:
            upload.registered_count = counts.get((upload, "registered"), 0)
            upload.pending_count = counts.get((upload, "pending"), 0)
            upload.refused_count = counts.get((upload, "refused"), 0)

    @api.depends("state", "line_ids")
    def _compute_result_file(self):
        for upload in self:
            upload.result_file = upload.state == "done" and base64.b64encode(
                upload._result_csv().encode()
            )
            upload.result_filename = "%s.result.csv" % upload.name.rsplit(".", 1)[0]

    def _result_csv(self):
        """The per-row outcome as CSV text (UTF-8 with BOM, for spreadsheets)."""
        self.ensure_one()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(RESULT_COLUMNS)
        Line = self.env["crm.lead.registration.upload.line"]
        results = dict(Line._fields["result"]._description_selection(self.env))
        reasons = dict(Line._fields["reason"]._description_selection(self.env))
        for line in self.sudo().line_ids:
            writer.writerow(
                [
                    line.row,
                    _cell(line.customer),
                    results.get(line.result, ""),
                    reasons.get(line.reason, ""),
                    _cell(line.number),
                    _cell(line.message),
                ]
            )
        return "\ufeff" + out.getvalue()

    # ------------------------------------------------------------
    # Queueing (in the request)
    # ------------------------------------------------------------

    @api.model
    def _queue(self, filename, data, portal=False):
        """Check a spreadsheet and store it for the background job; nothing is
        registered here. Refuses a file that is not readable, too large once
        unpacked or has too many rows, with a UserError that says why."""
        Lead = self.env["crm.lead"]
        vals = {}
        if portal:
            partner = Lead._portal_channel_partner()
            manager, _team = Lead._portal_channel_manager(partner)
            vals = {"partner_id": partner.id, "channel_manager_id": manager.id}
        elif not self.env.user.has_group("opportunity_registration.group_registration_user"):
            raise UserError(self.env._("Only registration users can submit registrations."))
        rows = Lead._registration_sheet_rows(filename, data)
        name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1][:200] or "upload"
        upload = self.sudo().create(
            dict(
                vals,
                name=name,
                user_id=self.env.user.id,
                company_id=self.env.company.id,
                file=base64.b64encode(data),
                rows_data=rows,
                row_count=len(rows),
            )
        )
        self.env.ref("opportunity_registration.ir_cron_registration_upload")._trigger()
        return upload.with_env(self.env)

    # ------------------------------------------------------------
    # Processing (the scheduled action)
    # ------------------------------------------------------------

    @api.model
    def _cron_process(self, batch_size=UPLOAD_BATCH_SIZE):
        """Register the rows of queued uploads, one batch per transaction."""
        Cron = self.env["ir.cron"]
        while True:
            upload = self.search([("state", "in", ("queued", "running"))], order="id", limit=1)
            if not upload:
                return
            done = upload._process_batch(batch_size)
            pending = self.search([("state", "in", ("queued", "running"))])
            remaining = sum(max(u.row_count - u.done_count, 0) for u in pending)
            if not Cron._commit_progress(done, remaining=remaining):
                return

    def _process_batch(self, batch_size):
        """Register the next rows of this upload as its uploader. Returns how
        many rows were processed."""
        self.ensure_one()
        Lead = (
            self.env["crm.lead"]
            .with_user(self.user_id)
            .with_company(self.company_id)
            .with_context(registration_upload_id=self.id)
        )
        try:
            if self.partner_id:
                Lead._portal_check_upload(self.partner_id)
                register = Lead._portal_register
            else:
                if not self.user_id.has_group("opportunity_registration.group_registration_user"):
                    raise UserError(self.env._("Only registration users can submit registrations."))
                register = Lead._internal_register
        except UserError as error:
            self.write({"state": "failed", "error": str(error)})
            return 0
        rows = self.rows_data or []
        start = self.done_count
        batch = rows[start : start + batch_size]
        results = Lead._register_rows(batch, register, first_row=start + 2)
        done = start + len(batch)
        self.write(
            {
                "state": "done" if done >= len(rows) else "running",
                "done_count": done,
                "line_ids": [
                    fields.Command.create(
                        {
                            "row": result["row"],
                            "customer": result["customer"],
                            "result": result["result"],
                            "reason": result["reason"],
                            "number": result.get("number") or False,
                            "registration_id": result.get("registration_id") or False,
                            "message": result["message"],
                        }
                    )
                    for result in results
                ],
            }
        )
        if self.state == "done":
            self._upload_done()
        return len(batch)

    def _upload_done(self):
        """One to-do for the channel manager per upload (never one per row),
        and the stored rows dropped: the results remain."""
        self.ensure_one()
        self.rows_data = False
        pending = self.line_ids.filtered(lambda line: line.result == "pending")
        if not (self.channel_manager_id and pending):
            return
        manager = self.channel_manager_id
        env = self.with_context(lang=manager.lang).env
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            user_id=manager.id,
            summary=env._(
                "Review %(count)s deals uploaded by %(partner)s",
                count=len(pending),
                partner=self.partner_id.name,
            ),
            note=env._(
                "%(user)s (%(partner)s) uploaded %(file)s: %(count)s deals wait for your "
                "channel review (filter Channel Review to Do).",
                user=self.user_id.name,
                partner=self.partner_id.name,
                file=self.name,
                count=len(pending),
            ),
        )


class CrmLeadRegistrationUploadLine(models.Model):
    _name = "crm.lead.registration.upload.line"
    _description = "Registration Upload Result"
    _order = "upload_id, row"

    upload_id = fields.Many2one(
        "crm.lead.registration.upload", required=True, index=True, ondelete="cascade"
    )
    row = fields.Integer()
    customer = fields.Char()
    result = fields.Selection(
        [("registered", "Registered"), ("pending", "Pending Review"), ("refused", "Refused")]
    )
    reason = fields.Selection(
        [("incomplete", "Incomplete"), ("conflict", "Conflict"), ("error", "Error")]
    )
    number = fields.Char()
    registration_id = fields.Many2one("crm.lead.registration", index="btree_not_null")
    message = fields.Text()
