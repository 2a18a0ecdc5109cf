import base64
import io
from datetime import timedelta

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import format_date

from .common_channel import ChannelCase


@tagged("post_install", "-at_install", "opportunity_registration")
class TestChannelRegistration(ChannelCase):
    def test_partner_registration_is_held_by_the_channel_manager(self):
        reg = self._portal_register()
        lead = reg.lead_id
        self.assertEqual(reg.state, "submitted")
        self.assertEqual(reg.channel_partner_id, self.reseller_a)
        self.assertEqual(reg.submitted_by_id, self.portal_a)
        self.assertEqual(reg.user_id, self.channel_manager)
        self.assertEqual(reg.approver_ids, self.channel_manager)
        self.assertEqual(lead.user_id, self.channel_manager)
        self.assertEqual(lead.channel_partner_id, self.reseller_a)
        self.assertEqual(lead.registration_source, "partner")
        self.assertEqual(lead.registration_product_line_id, self.product_line)
        self.assertEqual(lead.partner_id.vat, "91330200MA2H4XYZ1K")
        self.assertEqual(lead.registration_state, "submitted")
        self.assertIn(self.portal_a.partner_id, reg.message_partner_ids)

    def test_small_deal_is_registered_once_the_channel_manager_approves(self):
        reg = self._portal_register(budget="10000")
        self.assertEqual(reg.state, "submitted", "the small band waits for the channel review")
        reg.with_user(self.channel_manager).action_approve("Known customer")
        self.assertEqual(reg.state, "approved")
        self.assertEqual(reg.channel_reviewed_by_id, self.channel_manager)
        self.assertEqual(reg.lead_id.registration_state, "approved")
        self.assertTrue(reg.protection_end_date)
        self.assertEqual(reg.channel_review_comment, "Known customer")

    def test_bands_apply_after_the_channel_review(self):
        reg = self._portal_register(budget="30000")
        reg.with_user(self.channel_manager).action_approve()
        self.assertEqual(reg.state, "submitted")
        self.assertEqual(reg.approver_ids, self.approver, "the ordinary band's team leader")
        with self.assertRaises(AccessError):
            reg.with_user(self.channel_manager).action_approve()
        reg.with_user(self.approver).action_approve("Budget confirmed")
        self.assertEqual(reg.state, "approved")

    def test_only_the_channel_manager_decides_the_first_step(self):
        reg = self._portal_register(budget="30000")
        for user in (self.approver, self.rep, self.portal_a):
            with self.assertRaises(AccessError), self.cr.savepoint():
                reg.with_user(user).action_approve()
        self.assertFalse(reg.with_user(self.approver).lead_id.registration_can_review)
        self.assertTrue(reg.with_user(self.channel_manager).lead_id.registration_can_review)

    def test_channel_manager_rejects_with_a_reason_the_partner_reads(self):
        reg = self._portal_register()
        reg.with_user(self.channel_manager).action_reject("Customer already served directly")
        self.assertEqual(reg.state, "rejected")
        self.assertEqual(reg.lead_id.registration_state, "rejected")
        self.assertEqual(reg.close_reason, "Customer already served directly")

    def test_no_channel_manager_refuses_clearly(self):
        self.company.registration_channel_manager_id = False
        with self.assertRaisesRegex(UserError, "has not named a channel manager"):
            self._portal_register()

    def test_team_channel_manager_comes_before_the_company_one(self):
        other = self.env["res.users"].create(
            {"name": "Team Channel Li", "login": "opreg_team_channel"}
        )
        other.group_ids |= self.env.ref("sales_team.group_sale_salesman")
        self.team.channel_manager_id = other
        self.reseller_a.registration_team_id = self.team
        reg = self._portal_register()
        self.assertEqual(reg.user_id, other)
        self.assertEqual(reg.lead_id.team_id, self.team)
        other.active = False
        reg = self._portal_register(
            company_name="Wenzhou Valve Works", vat="", email="", phone="+86 577 1111 2222"
        )
        self.assertEqual(reg.user_id, self.channel_manager, "an archived one gives way")

    def test_incomplete_form_lists_every_problem_and_creates_nothing(self):
        leads_before = self.env["crm.lead"].search_count([])
        partners_before = self.env["res.partner"].search_count([])
        with self.assertRaises(ValidationError) as caught, self.cr.savepoint():
            self._portal_register(
                need="", budget="", date_deadline="", email="", phone="", contact_name=""
            )
        message = str(caught.exception)
        for expected in ("Contact", "Need description", "Budget", "Expected closing"):
            self.assertIn(expected, message)
        self.assertEqual(self.env["crm.lead"].search_count([]), leads_before)
        self.assertEqual(self.env["res.partner"].search_count([]), partners_before)

    def test_bad_values_are_refused_before_the_engine(self):
        for overrides, expected in (
            ({"budget": "1e400"}, "Budget"),
            ({"budget": "-5"}, "Budget"),
            ({"budget": "nan"}, "Budget"),
            ({"date_deadline": "31/12/2027"}, "Expected closing"),
            ({"company_name": "x" * 600}, "Company name"),
            ({"product_line": str(self.internal_tag.id)}, "Product line"),
            ({"product_line": "999999999999"}, "Product line"),
            ({"company_name": "  "}, "Company name"),
        ):
            with self.subTest(overrides=overrides):
                with self.assertRaisesRegex(ValidationError, expected), self.cr.savepoint():
                    self._portal_register(**overrides)

    def test_the_same_mandatory_fields_apply_to_partners(self):
        self.company.registration_require_key_person = True
        self.company.registration_require_category = True
        with self.assertRaises(ValidationError) as caught, self.cr.savepoint():
            self._portal_register()
        self.assertIn("Key person", str(caught.exception))
        self.assertIn("Category", str(caught.exception))
        reg = self._portal_register(
            key_person="Mr Xu, COO", deal_term="long", deal_type="Demand-type"
        )
        lead = reg.lead_id
        self.assertEqual(
            (lead.key_person_identified, lead.key_person_name, lead.deal_term, lead.deal_type),
            (True, "Mr Xu, COO", "long", "demand"),
        )
        self.assertEqual(lead.deal_channel, "indirect")
        self.assertTrue(lead.is_valid_opportunity)

    def test_unknown_choices_are_refused(self):
        with self.assertRaisesRegex(ValidationError, "Term"), self.cr.savepoint():
            self._portal_register(deal_term="forever")
        with self.assertRaisesRegex(ValidationError, "Competitor"), self.cr.savepoint():
            self._portal_register(deal_type="competitor")

    def test_past_closing_date_is_refused_by_the_engine(self):
        past = (self.today - timedelta(days=3)).isoformat()
        with self.assertRaisesRegex(ValidationError, "is in the past"), self.cr.savepoint():
            self._portal_register(date_deadline=past)

    def test_script_in_notes_is_stored_as_text(self):
        reg = self._portal_register(notes="<script>alert(1)</script>")
        self.assertNotIn("<script>", str(reg.lead_id.description))
        self.assertIn("&lt;script&gt;", str(reg.lead_id.description))

    def test_conflict_tells_the_partner_only_until_when(self):
        rep_lead = self._lead(
            partner_id=False,
            partner_name="Ningbo Harbour Logistics Co., Ltd.",
            expected_revenue=10000,
        )
        rep_lead.with_user(self.rep).action_registration_submit()
        self.assertEqual(rep_lead.registration_state, "approved")
        with self.assertRaises(UserError) as caught, self.cr.savepoint():
            self._portal_register()
        message = str(caught.exception)
        self.assertIn("already registered until", message)
        self.assertIn(format_date(self.env, rep_lead.protection_end_date), message)
        for secret in (self.rep.name, rep_lead.registration_number, "10,000", "10000"):
            self.assertNotIn(secret, message)

    def test_pending_conflict_tells_the_partner_nothing_more(self):
        reg = self._portal_register()
        with self.assertRaises(UserError) as caught, self.cr.savepoint():
            self._portal_register(user=self.portal_b, vat="", email="", phone="+86 21 5555 0000")
        message = str(caught.exception)
        self.assertIn("is already registered", message)
        for secret in (reg.name, self.reseller_a.name, self.channel_manager.name):
            self.assertNotIn(secret, message)

    def test_rep_conflicting_with_a_partner_sees_the_holder(self):
        self._portal_register()
        lead = self._lead(partner_id=False, partner_name="Ningbo Harbour Logistics Co., Ltd.")
        with self.assertRaisesRegex(UserError, self.channel_manager.name):
            lead.with_user(self.rep).action_registration_submit()

    def test_partner_deals_count_against_the_partner_company(self):
        """The cap reps get applies to each partner company (all its portal
        users together), never to the channel manager who holds the deals."""
        self.company.registration_max_active = 2
        self._portal_register()
        self._portal_register(
            user=self.portal_a2,
            company_name="Wenzhou Valve Works",
            vat="",
            email="",
            phone="+86 577 1111 2222",
        )
        with self.assertRaisesRegex(UserError, "Alpha Reseller Ltd already holds 2 active"):
            self._portal_register(
                company_name="Jinan Boilers", vat="", email="", phone="+86 531 1111 2222"
            )
        # another partner company has its own count
        reg = self._rival_register()
        self.assertEqual(reg.user_id, self.channel_manager)
        # the channel manager holds three partner deals and still registers their own
        own = self._lead(self.channel_manager, partner_id=False, partner_name="Own Deal Ltd")
        own.with_user(self.channel_manager).action_registration_submit()
        self.assertIn(own.registration_state, ("submitted", "approved"))

    def test_partner_company_waits_for_the_cooldown(self):
        """A partner company that let a customer go re-claims it only after the
        cooldown, whichever of its portal users tries; others are not held."""
        self.company.registration_claim_cooldown_days = 30
        reg = self._portal_register()
        reg.with_user(self.channel_manager).action_approve()
        self.assertEqual(reg.state, "approved")
        reg.lead_id.with_user(self.channel_manager).action_registration_release()
        for user in (self.portal_a, self.portal_a2):
            with self.subTest(user=user.name):
                with self.assertRaisesRegex(UserError, "may register it again from"):
                    self._portal_register(user=user)
        other = self._portal_register(user=self.portal_b)
        self.assertEqual(other.channel_partner_id, self.reseller_b)

    def test_only_a_manager_sets_the_channel_partner(self):
        lead = self._lead()
        with self.assertRaises(UserError):
            lead.with_user(self.rep).write({"channel_partner_id": self.reseller_a.id})
        lead.with_user(self.manager).write({"channel_partner_id": self.reseller_a.id})
        self.assertEqual(lead.channel_partner_id, self.reseller_a)

    def test_internal_users_cannot_use_the_portal_path(self):
        with self.assertRaises(AccessError):
            self.env["crm.lead"].with_user(self.rep)._portal_register(self._form())


@tagged("post_install", "-at_install", "opportunity_registration")
class TestBulkRegistration(ChannelCase):
    def test_rep_uploads_from_the_opportunity_list(self):
        holder = self._lead(partner_id=False, partner_name="Held Steel Ltd", expected_revenue=10000)
        holder.with_user(self.rep).action_registration_submit()
        sheet = self._sheet(
            self._row("Fresh Paper Ltd", email="buy@freshpaper.example.com"),
            self._row("Ordinary Glass Ltd", email="buy@glass.example.com", budget="30000"),
            self._row("No Need Ltd", email="buy@noneed.example.com", need=""),
            self._row("Held Steel Ltd", phone="+86 22 7777 8888"),
        )
        wizard = (
            self.env["crm.lead.registration.bulk"]
            .with_user(self.rep2)
            .create({"file": base64.b64encode(sheet), "filename": "deals.csv"})
        )
        action = wizard.action_register()
        upload = self.env["crm.lead.registration.upload"].browse(action["res_id"])
        self.assertEqual((upload.state, upload.row_count, upload.user_id), ("queued", 4, self.rep2))
        self.assertFalse(upload.line_ids, "nothing is registered in the request")
        self._run_uploads()
        self.assertEqual(upload.state, "done")
        results = [(line.customer, line.result, line.reason) for line in upload.line_ids]
        self.assertEqual(
            results,
            [
                ("Fresh Paper Ltd", "registered", False),
                ("Ordinary Glass Ltd", "pending", False),
                ("No Need Ltd", "refused", "incomplete"),
                ("Held Steel Ltd", "refused", "conflict"),
            ],
        )
        self.assertIn(self.rep.name, upload.line_ids[3].message, "a rep is told the holder")
        Lead = self.env["crm.lead"]
        self.assertEqual(Lead.search_count([("partner_name", "=", "No Need Ltd")]), 0)
        self.assertEqual(Lead.search_count([("partner_name", "=", "Held Steel Ltd")]), 1)
        fresh = Lead.search([("partner_name", "=", "Fresh Paper Ltd")])
        self.assertEqual(fresh.user_id, self.rep2)
        self.assertEqual(fresh.registration_id.user_id, self.rep2)

    def test_partner_rows_go_through_the_engine_one_by_one(self):
        rows = self.env["crm.lead"]._registration_sheet_rows(
            "deals.csv",
            self._sheet(
                self._row("Row One Ltd", email="a@rowone.example.com"),
                self._row("Row One Ltd", email="b@rowone.example.com"),
                self._row("", email="c@rowthree.example.com"),
            ),
        )
        results = self.env["crm.lead"].with_user(self.portal_a)._portal_register_rows(rows)
        self.assertEqual([r["result"] for r in results], ["pending", "refused", "refused"])
        self.assertEqual([r["row"] for r in results], [2, 3, 4])
        self.assertIn("already registered", results[1]["message"])
        self.assertEqual(results[2]["reason"], "incomplete")

    def test_xlsx_is_read(self):
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(self.SHEET_HEADER.split(","))
        sheet.append(
            [
                "Xlsx Valves Ltd",
                None,
                "Mr Fan",
                "fan@xlsxvalves.example.com",
                8657188889999,
                "Valves",
                5000,
                self.today + timedelta(days=20),
                "Cloud ERP",
                None,
            ]
        )
        out = io.BytesIO()
        book.save(out)
        rows = self.env["crm.lead"]._registration_sheet_rows("deals.xlsx", out.getvalue())
        results = self.env["crm.lead"].with_user(self.portal_a)._portal_register_rows(rows)
        self.assertEqual(results[0]["result"], "pending", results[0]["message"])
        reg = self.env["crm.lead.registration"].search([("name", "=", results[0]["number"])])
        self.assertEqual(reg.lead_id.registration_product_line_id, self.product_line)
        self.assertEqual(reg.lead_id.expected_revenue, 5000)

    def test_bad_files_are_refused_whole(self):
        Lead = self.env["crm.lead"]
        too_many = self._sheet(*[self._row("Co %s" % i) for i in range(501)])
        for filename, data, expected in (
            ("deals.csv", too_many, "at most 500 deals"),
            ("deals.csv", b"", "empty"),
            ("deals.csv", b"name,city\nAcme,Paris", "must name the columns"),
            ("deals.csv", self.SHEET_HEADER.encode(), "no deal below"),
            ("deals.xlsx", b"not a zip", "cannot be read"),
            ("deals.exe", b"MZ", "CSV or XLSX"),
        ):
            with self.subTest(filename=filename, expected=expected):
                with self.assertRaisesRegex(UserError, expected):
                    Lead._registration_sheet_rows(filename, data)

    def test_gb18030_csv_is_read(self):
        data = self._sheet(self._row("宁波港口物流有限公司", email="x@nbport.example.com"))
        rows = self.env["crm.lead"]._registration_sheet_rows(
            "deals.csv", data.decode().encode("gb18030")
        )
        self.assertEqual(rows[0]["company_name"], "宁波港口物流有限公司")
