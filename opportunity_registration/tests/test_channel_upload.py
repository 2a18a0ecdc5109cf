import base64
import csv
import io
import zipfile

import openpyxl

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from ..models.crm_lead_bulk import MAX_ROWS, MAX_XLSX_UNPACKED_SIZE
from .common_channel import ChannelCase


@tagged("post_install", "-at_install", "opportunity_registration")
class TestChannelUpload(ChannelCase):
    """Spreadsheets of deals: checked and queued in the request, registered by
    a background job in batches, each row through the one engine."""

    def _queue(self, data, filename="deals.csv", user=None):
        return (
            self.env["crm.lead.registration.upload"]
            .with_user(user or self.portal_a)
            ._queue(filename, data, portal=True)
        )

    def _rows(self, count, prefix="Queued Co"):
        return [
            self._row("%s %s" % (prefix, i), email="buy@q%s.example.com" % i) for i in range(count)
        ]

    def test_upload_is_queued_in_the_request_and_registered_by_the_job(self):
        cron = self.env.ref("opportunity_registration.ir_cron_registration_upload")
        Registration = self.env["crm.lead.registration"]
        before = Registration.search_count([])
        self.env.flush_all()
        start = self.cr.sql_log_count
        upload = self._queue(self._sheet(*self._rows(120)))
        self.env.flush_all()
        self.assertLess(self.cr.sql_log_count - start, 40, "a few queries, whatever the rows")
        self.assertEqual(Registration.search_count([]), before, "nothing registered yet")
        self.assertEqual((upload.state, upload.row_count, upload.done_count), ("queued", 120, 0))
        self.assertEqual(upload.sudo().partner_id, self.reseller_a)
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
        self._run_uploads()
        upload = upload.sudo()
        self.assertEqual((upload.state, upload.done_count, upload.progress), ("done", 120, 100))
        self.assertEqual(len(upload.line_ids), 120)
        self.assertEqual(upload.line_ids.mapped("row"), list(range(2, 122)))
        self.assertEqual(set(upload.line_ids.mapped("result")), {"pending"})
        regs = upload.line_ids.registration_id
        self.assertEqual(len(regs), 120)
        self.assertEqual(regs.channel_partner_id, self.reseller_a)
        self.assertEqual(regs.submitted_by_id, self.portal_a)
        self.assertFalse(upload.rows_data, "the stored rows are dropped once done")

    def test_the_channel_manager_gets_one_todo_per_upload(self):
        upload = self._queue(self._sheet(*self._rows(5), self._row("")))
        notified = self.env["mail.notification"].search_count(
            [("res_partner_id", "=", self.channel_manager.partner_id.id)]
        )
        self._run_uploads()
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.assertLessEqual(
            self.env["mail.notification"].search_count(
                [("res_partner_id", "=", self.channel_manager.partner_id.id)]
            )
            - notified,
            1,
            "no message per row to the channel manager",
        )
        upload = upload.sudo()
        self.assertEqual(upload.pending_count, 5)
        self.assertEqual(upload.refused_count, 1)
        leads = upload.line_ids.registration_id.lead_id
        self.assertFalse(
            self.env["mail.activity"].search(
                [("res_model", "=", "crm.lead"), ("res_id", "in", leads.ids)]
            ),
            "no to-do per row",
        )
        todo = upload.activity_ids
        self.assertEqual(len(todo), 1)
        self.assertEqual(todo.user_id, self.channel_manager)
        self.assertIn("5", todo.summary)
        # the manager reaches the upload and its rows; the channel review is still theirs
        as_manager = upload.with_user(self.channel_manager)
        self.assertEqual(len(as_manager.line_ids), 6)
        reg = upload.line_ids.registration_id[:1]
        reg.with_user(self.channel_manager).action_approve()
        self.assertEqual(reg.state, "approved")
        # a single registration from the form still gets its own to-do
        single = self._portal_register(
            company_name="Single Deal Ltd", vat="", email="", phone="+86 10 1234 0000"
        )
        self.assertTrue(single.lead_id.activity_ids)

    def test_each_row_runs_in_its_own_savepoint(self):
        holder = self._lead(partner_id=False, partner_name="Held Row Ltd", expected_revenue=10000)
        holder.with_user(self.rep).action_registration_submit()
        upload = self._queue(
            self._sheet(
                self._row("Good Row Ltd", email="a@goodrow.example.com"),
                self._row("Held Row Ltd", phone="+86 10 9999 8888"),
                self._row("No Need Row Ltd", email="c@noneed.example.com", need=""),
                self._row("Late Row Ltd", email="d@laterow.example.com"),
            )
        )
        self._run_uploads()
        lines = upload.sudo().line_ids
        self.assertEqual(
            [(line.customer, line.result, line.reason) for line in lines],
            [
                ("Good Row Ltd", "pending", False),
                ("Held Row Ltd", "refused", "conflict"),
                ("No Need Row Ltd", "refused", "incomplete"),
                ("Late Row Ltd", "pending", False),
            ],
        )
        self.assertIn("already registered", lines[1].message)
        self.assertNotIn(self.rep.name, lines[1].message, "a partner never learns the holder")
        Lead = self.env["crm.lead"]
        self.assertEqual(Lead.search_count([("partner_name", "=", "Held Row Ltd")]), 1)
        self.assertFalse(Lead.search([("partner_name", "=", "No Need Row Ltd")]))

    def test_job_works_in_batches(self):
        upload = self._queue(self._sheet(*self._rows(7)))
        self.patch(self.registry["ir.cron"], "_commit_progress", lambda cron, *a, **kw: 0)
        self.env["crm.lead.registration.upload"]._cron_process(batch_size=3)
        self.assertEqual((upload.sudo().state, upload.sudo().done_count), ("running", 3))
        self.env["crm.lead.registration.upload"]._cron_process(batch_size=3)
        self.assertEqual(upload.sudo().done_count, 6)
        self._run_uploads()
        self.assertEqual((upload.sudo().state, len(upload.sudo().line_ids)), ("done", 7))

    def test_a_partner_no_longer_enrolled_fails_the_queued_upload(self):
        upload = self._queue(self._sheet(*self._rows(3)))
        self.reseller_a.with_user(self.manager).is_channel_partner = False
        self._run_uploads()
        self.assertEqual(upload.sudo().state, "failed")
        self.assertIn("not enrolled", upload.sudo().error)
        self.assertFalse(self.env["crm.lead"].search([("partner_name", "like", "Queued Co")]))

    def test_too_many_rows_are_refused_whole(self):
        with self.assertRaisesRegex(UserError, "at most %s deals" % MAX_ROWS):
            self._queue(self._sheet(*self._rows(MAX_ROWS + 1)))
        with self.assertRaisesRegex(UserError, "larger than 5 MB"):
            self._queue(self._sheet(self._row("Big Co", need="x" * (6 * 1024 * 1024))))
        # blank lines do not count, and a flood of them is not stored
        data = self._sheet(*self._rows(2)) + b"\n" * 2_000_000
        self.assertEqual(self._queue(data).row_count, 2)
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(self.SHEET_HEADER.split(","))
        for i in range(MAX_ROWS + 1):
            sheet.append(["Xlsx Co %s" % i])
        out = io.BytesIO()
        book.save(out)
        with self.assertRaisesRegex(UserError, "at most %s deals" % MAX_ROWS):
            self._queue(out.getvalue(), filename="deals.xlsx")
        self.assertFalse(self.env["crm.lead.registration.upload"].search([("row_count", ">", 2)]))

    def _zip(self, members):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in members:
                archive.writestr(name, content)
        return out.getvalue()

    def test_zip_bombs_are_refused_before_they_are_opened(self):
        """Checked on the zip's directory: openpyxl never sees these files."""
        self.patch(
            openpyxl,
            "load_workbook",
            lambda *a, **kw: self.fail("a refused file must not be opened"),
        )
        bomb = self._zip([("xl/worksheets/sheet1.xml", b"<c>0</c>" * (4 * 1024 * 1024))])
        self.assertLess(len(bomb), 200_000)
        big = self._zip(
            [("xl/worksheets/sheet%s.xml" % i, bytes(range(256)) * 4096 * 5) for i in range(5)]
        )
        many = self._zip([("xl/media/%s.txt" % i, b"x") for i in range(1500)])
        for name, data in (("ratio", bomb), ("size", big), ("members", many)):
            with self.subTest(name), self.assertRaisesRegex(UserError, "unpacks to more than"):
                self._queue(data, filename="deals.xlsx")
        self.assertGreater(5 * 256 * 4096 * 5, MAX_XLSX_UNPACKED_SIZE)
        self.assertFalse(self.env["crm.lead.registration.upload"].search([]))

    def test_a_forged_sheet_dimension_does_not_expand_rows(self):
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(self.SHEET_HEADER.split(","))
        sheet.append(["Wide Co", None, "Ms Wu", "wu@wide.example.com"])
        sheet.cell(row=2, column=16000, value="far away")
        out = io.BytesIO()
        book.save(out)
        rows = self.env["crm.lead"]._registration_sheet_rows("deals.xlsx", out.getvalue())
        self.assertEqual(rows[0]["company_name"], "Wide Co")
        self.assertEqual(rows[0]["email"], "wu@wide.example.com")

    def test_uploads_are_read_by_their_uploader_and_the_channel_manager(self):
        upload = self._queue(self._sheet(*self._rows(2)))
        self._run_uploads()
        Upload = self.env["crm.lead.registration.upload"]
        self.assertEqual(Upload.with_user(self.channel_manager).search([]), upload)
        self.assertEqual(Upload.with_user(self.manager).search([]), upload)
        self.assertFalse(Upload.with_user(self.rep2).search([]))
        self.assertFalse(
            self.env["crm.lead.registration.upload.line"].with_user(self.rep2).search([])
        )
        with self.assertRaises(AccessError):
            upload.with_user(self.rep2).read(["name"])
        for user in (self.portal_a, self.portal_b):
            with self.subTest(user=user.name), self.assertRaises(AccessError):
                upload.with_user(user).read(["name", "line_ids"])
        with self.assertRaises(AccessError):
            upload.with_user(self.channel_manager).write({"state": "queued"})
        # a rep's own upload is theirs
        rep_upload = Upload.with_user(self.rep)._queue(
            "mine.csv", self._sheet(self._row("Rep Row Ltd", email="r@reprow.example.com"))
        )
        self.assertEqual(Upload.with_user(self.rep).search([]), rep_upload)
        with self.assertRaisesRegex(UserError, "Only registration users"):
            Upload.with_user(self.portal_a)._queue("x.csv", self._sheet(self._row("X Co")))

    def test_the_uploader_downloads_the_result_from_the_upload(self):
        upload = (
            self.env["crm.lead.registration.upload"]
            .with_user(self.rep)
            ._queue(
                "mine.csv",
                self._sheet(
                    self._row("Rep Row Ltd", email="r@reprow.example.com"),
                    self._row("=HYPERLINK(1)", email="f@formula.example.com", need=""),
                ),
            )
        )
        self.assertFalse(upload.result_file, "no result before the job ran")
        self._run_uploads()
        upload.invalidate_recordset()
        content = base64.b64decode(upload.result_file).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(content)))
        self.assertEqual(rows[0], ["row", "customer", "result", "reason", "number", "message"])
        self.assertEqual([row[2] for row in rows[1:]], ["Registered", "Refused"])
        self.assertEqual(upload.result_filename, "mine.result.csv")
        self.assertFalse(
            any(cell[:1] in "=+-@" for row in rows[1:] for cell in row if cell),
            "no cell starts a formula",
        )
