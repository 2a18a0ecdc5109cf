"""SPEC §9.10 (text is text) and §9.11 (bounded work), for every text one
person types that reaches another: names, reasons, comments, uploaded cells.

Each test runs a whole class of inputs (the payloads) through every path of
its kind and checks what the other person gets: the chatter (the default body
and every language copy), the to-dos, the e-mails, the spreadsheet export.
"""

import csv
import io
import json
import math
from datetime import timedelta

import openpyxl
from lxml import html as lxml_html
from markupsafe import escape

from odoo import http
from odoo.exceptions import UserError, ValidationError
from odoo.tests import HttpCase, tagged

from ..models.crm_lead_channel import PORTAL_TEXT_LIMITS
from .common_channel import ChannelCase

PAYLOADS = (
    '<a href=x style="position:fixed;top:0;left:0;width:100%;height:100%">Win</a>',
    "<img src=http://x/p.png>",
    "<script>alert(1)</script>",
    "&lt;b&gt;",
    "see http://evil.example/x",
)
# what none of the payloads may become in HTML
FORBIDDEN = (
    "//script | //img | //iframe | //a[@href='x'] | //a[contains(@href, 'evil')]"
    " | //*[contains(@style, 'fixed')]"
)


class TextCase(ChannelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # two languages: every note is kept in both
        cls.env["res.lang"]._activate_lang("zh_CN")

    def assertShowsText(self, html, text, where):
        """``html`` shows ``text`` as typed, and contains no tag it carried."""
        tree = lxml_html.fragment_fromstring(str(html or ""), create_parent="div")
        self.assertFalse(tree.xpath(FORBIDDEN), "%s: markup from a user's text: %s" % (where, html))
        shown = " ".join("".join(tree.itertext()).split())
        self.assertIn(" ".join(text.split()), shown, "%s shows the text as typed" % where)

    def _html_shown(self, lead):
        """Everything on ``lead`` rendered as HTML for another person: every
        message body and language copy, every to-do note (open or done)."""
        shown = []
        lead = lead.sudo()
        messages = (
            self.env["mail.message"]
            .sudo()
            .search([("model", "=", "crm.lead"), ("res_id", "=", lead.id)])
        )  # notifications too
        for message in messages | lead.registration_ids.message_ids:
            shown.append(("message %s" % message.id, message.body))
            # a tracking value is a string the web client prints as text
            shown += [
                ("tracking %s" % value.id, escape(value.new_value_char))
                for value in message.sudo().tracking_value_ids
                if value.new_value_char
            ]
        activities = (
            self.env["mail.activity"]
            .sudo()
            .with_context(active_test=False)
            .search([("res_model", "=", "crm.lead"), ("res_id", "=", lead.id)])
        )
        shown += [("to-do %s" % act.summary, act.note) for act in activities]
        shown.append(("internal notes", lead.description))
        mails = self.env["mail.mail"].sudo().search([("mail_message_id", "in", messages.ids)])
        shown += [("e-mail %s" % mail.subject, mail.body_html) for mail in mails]
        return shown

    def assertLeadShowsText(self, lead, text):
        """Wherever ``text`` reaches on ``lead``, it is text; and it reaches."""
        shown = self._html_shown(lead)
        needle = text.split()[0]
        reached = 0
        for where, html in shown:
            tree = lxml_html.fragment_fromstring(str(html or ""), create_parent="div")
            self.assertFalse(
                tree.xpath(FORBIDDEN), "%s: markup from a user's text: %s" % (where, html)
            )
            if needle in "".join(tree.itertext()):
                self.assertShowsText(html, text, where)
                reached += 1
        self.assertTrue(reached, "the text reaches the chatter or a to-do")
        return reached


@tagged("post_install", "-at_install", "opportunity_registration")
class TestTextIsText(TextCase):
    def _approved(self, user=None, **overrides):
        lead = self._lead(user=user, expected_revenue=5000, **overrides)
        lead.with_user(user or self.rep).action_registration_submit()
        self.assertEqual(lead.registration_state, "approved")
        return lead

    def test_names_reach_chatter_and_todos_as_text(self):
        """A rep's name and a customer's name, through submission, the
        approver's to-do and the decision; the opportunity's and the contact's
        names nowhere become markup either."""
        for index, payload in enumerate(PAYLOADS):
            with self.subTest(payload=payload):
                self.rep.name = "Zrep%d %s" % (index, payload)
                customer = "Zcust%d %s" % (index, payload)
                lead = self._lead(
                    partner_id=False,
                    partner_name=customer,
                    expected_revenue=30000,
                    name="Zlead%d %s" % (index, payload),
                    contact_name="Zcontact%d %s" % (index, payload),
                )
                lead.with_user(self.rep).action_registration_submit()
                self.assertEqual(lead.registration_state, "submitted")
                todo = lead.activity_ids.filtered(lambda a: a.user_id == self.approver)[:1]
                self.assertShowsText(todo.note, customer, "the approver's to-do")
                self.assertShowsText(todo.note, self.rep.name, "the approver's to-do")
                # as escalation writes it: the to-do e-mailed to its assignee
                lead.registration_id._schedule_review_activities(self.approver, notify=True)
                mailed = [html for where, html in self._html_shown(lead) if where[:6] == "e-mail"]
                self.assertTrue(mailed, "the to-do is e-mailed")
                self.assertLeadShowsText(lead, self.rep.name)
                self.assertLeadShowsText(lead, customer)
                rejection = "Znope%d %s" % (index, payload)
                lead.with_user(self.approver).action_registration_reject(reason=rejection)
                self.assertLeadShowsText(lead, rejection)

    def test_the_jobs_todos_show_names_as_text(self):
        """The to-dos the scheduled jobs write (weekly follow-up, expiry
        warning, a review gone back to its owner) name the customer: as text."""
        for index, payload in enumerate(PAYLOADS):
            with self.subTest(payload=payload):
                customer = "Zjob%d %s" % (index, payload)
                lead = self._approved(partner_id=False, partner_name=customer)
                lead.registration_id._schedule_follow_up()
                lead.registration_id._create_warning_activities()
                self.assertGreaterEqual(self.assertLeadShowsText(lead, customer), 2)
                customer = "Zback%d %s" % (index, payload)
                pending = self._lead(
                    partner_id=False, partner_name=customer, expected_revenue=30000
                )
                pending.with_user(self.rep).action_registration_submit()
                pending.registration_id._return_to_owner()
                self.assertLeadShowsText(pending, customer)

    def test_reasons_reach_chatter_and_todos_as_text(self):
        """Every reason or comment someone types, on every path that logs it."""
        for index, payload in enumerate(PAYLOADS):
            reason = "Zwhy%d %s" % (index, payload)

            def fresh(amount=5000, user=None, index=index):
                name = "Reason Co %d %d" % (index, fresh.count)
                fresh.count += 1
                return self._lead(
                    user=user, partner_id=False, partner_name=name, expected_revenue=amount
                )

            fresh.count = 0
            with self.subTest(payload=payload, path="withdraw"):
                lead = fresh(amount=30000)
                lead.with_user(self.rep).action_registration_submit()
                lead.with_user(self.rep).action_registration_withdraw(reason=reason)
                self.assertLeadShowsText(lead, reason)
            with self.subTest(payload=payload, path="approve"):
                lead = fresh(amount=30000)
                lead.with_user(self.rep).action_registration_submit()
                lead.with_user(self.approver).action_registration_approve(comment=reason)
                self.assertLeadShowsText(lead, reason)
            with self.subTest(payload=payload, path="extension request"):
                lead = fresh()
                lead.with_user(self.rep).action_registration_submit()
                lead.with_user(self.rep).action_registration_request_extension(reason=reason)
                self.assertGreaterEqual(self.assertLeadShowsText(lead, reason), 2)
            with self.subTest(payload=payload, path="arbitration"):
                lead = fresh()
                lead.with_user(self.rep).action_registration_submit()
                self.env["crm.lead.registration.arbitration"].with_user(self.manager).with_context(
                    active_id=lead.id, default_lead_id=lead.id
                ).create({"decision": "keep", "reason": reason}).action_confirm()
                self.assertLeadShowsText(lead, reason)
            with self.subTest(payload=payload, path="transfer"):
                lead = fresh()
                lead.with_user(self.rep).action_registration_submit()
                lead.registration_id.with_user(self.manager).action_transfer(
                    user=self.rep2, reason=reason
                )
                self.assertLeadShowsText(lead, reason)

    def test_a_portal_name_reaches_the_internal_chatter_as_text(self):
        """A partner's own name, saved from /my/account, and the company names
        they type on the registration form."""
        for index, payload in enumerate(PAYLOADS):
            with self.subTest(payload=payload):
                self.portal_a.partner_id.name = "Zanna%d %s" % (index, payload)
                reg = self._portal_register(
                    company_name="Zharbour%d %s" % (index, payload),
                    vat="",
                    email="x%d@harbour%d.example.com" % (index, index),
                    phone="",
                    notes=payload,
                    budget="30000",
                )
                self.assertLeadShowsText(reg.lead_id, self.portal_a.partner_id.name)
                self.assertLeadShowsText(reg.lead_id, reg.customer_name)
                self.assertShowsText(reg.lead_id.description, payload, "the partner's notes")

    def test_emails_show_names_and_reasons_as_text(self):
        """Every e-mail template of the module and its add-ons (the partner
        portal's when installed), with user text in each field it shows."""
        templates = (
            self.env["mail.template"]
            .search([("model_id.model", "in", ("crm.lead.registration", "res.users"))])
            .filtered(lambda t: t.get_external_id()[t.id].startswith("opportunity_registration"))
        )
        portal = self.env["ir.module.module"]._get("opportunity_registration_portal")
        self.assertGreaterEqual(len(templates), 6 if portal.state == "installed" else 2)
        reg = self._portal_register()
        for payload in PAYLOADS:
            with self.subTest(payload=payload):
                self.portal_a.partner_id.name = "Anna %s" % payload
                reg.sudo().with_context(skip_validation_check=True).write(
                    {"customer_name": "Cust %s" % payload, "close_reason": "Why %s" % payload}
                )
                digest = [
                    {
                        "team": "Team %s" % payload,
                        "user": "User %s" % payload,
                        "unregistered": 1,
                        "late": 0,
                        "no_update": 0,
                        "under_quota": 0,
                    }
                ]
                for template in templates:
                    res = reg if template.model == "crm.lead.registration" else self.rep
                    body = template.with_context(
                        expiring_by_owner=[(self.rep.id, reg.ids)],
                        compliance_digest=[(self.rep.id, digest)],
                    )._render_field("body_html", res.ids)[res.id]
                    name = template.name
                    if template.model == "crm.lead.registration":
                        self.assertShowsText(body, "Anna %s" % payload, name)
                        self.assertShowsText(body, "Cust %s" % payload, name)
                        if "rejected" in name:
                            self.assertShowsText(body, "Why %s" % payload, name)
                    elif "expire" in name:
                        self.assertShowsText(body, "Cust %s" % payload, name)
                    else:
                        self.assertShowsText(body, "Team %s" % payload, name)


@tagged("post_install", "-at_install", "opportunity_registration")
class TestSpreadsheetFormulas(TextCase):
    FORMULAS = ("=1+1", "+1+1", "-1+1", "@SUM(1)", '  =HYPERLINK("http://x")', "\t=1+1")

    def _sheet(self, rows):
        header = "company_name,contact_name,email,phone,need,budget,date_deadline,notes"
        deadline = (self.today + timedelta(days=30)).isoformat()
        lines = [header]
        for index, (column, value) in enumerate(rows):
            cells = {
                "company_name": "Formula Co %d" % index,
                "contact_name": "Mr Fan",
                "email": "buy@formula%d.example.com" % index,
                "phone": "",
                "need": "Valves",
                "notes": "",
            }
            cells[column] = value
            out = io.StringIO()
            csv.writer(out).writerow(
                [
                    cells["company_name"],
                    cells["contact_name"],
                    cells["email"],
                    cells["phone"],
                    cells["need"],
                    "5000",
                    deadline,
                    cells["notes"],
                ]
            )
            lines.append(out.getvalue().rstrip("\r\n"))
        return "\n".join(lines).encode()

    def test_a_formula_cell_is_refused_per_row(self):
        """Every formula prefix, in every text column: that row is refused
        with a message naming the column; the other rows go through."""
        rows = [("notes", "A fine customer")]
        for column in ("company_name", "contact_name", "need", "notes", "phone"):
            rows += [(column, formula) for formula in self.FORMULAS]
        rows.append(("phone", "+86 (21) 5555-0000"))
        Lead = self.env["crm.lead"]
        parsed = Lead._registration_sheet_rows("deals.csv", self._sheet(rows))
        results = Lead.with_user(self.portal_a)._portal_register_rows(parsed)
        self.assertEqual(results[0]["result"], "pending", results[0]["message"])
        self.assertEqual(results[-1]["result"], "pending", results[-1]["message"])
        for (column, value), result in zip(rows[1:-1], results[1:-1], strict=True):
            with self.subTest(column=column, value=value):
                self.assertEqual(result["result"], "refused")
                self.assertIn("formula", result["message"])
                self.assertIn(Lead._portal_field_label(column), result["message"])
        typed = [value for _column, value in rows[1:-1]]
        leads = Lead.search([("partner_name", "like", "Formula Co")])
        for field in ("partner_name", "contact_name", "need_description", "phone"):
            self.assertFalse(set(leads.mapped(field)) & set(typed), field)

    def test_the_portal_form_refuses_formulas(self):
        for formula in self.FORMULAS:
            for field in ("company_name", "contact_name", "vat", "key_person", "competitor"):
                with self.subTest(field=field, formula=formula):
                    with self.assertRaisesRegex(ValidationError, "formula"):
                        self._portal_register(**{field: formula})
        reg = self._portal_register(phone="+86 574 8765 4321")
        self.assertEqual(reg.lead_id.phone, "+86 574 8765 4321")


@tagged("post_install", "-at_install", "opportunity_registration")
class TestExportKeepsText(HttpCase):
    def test_xlsx_and_csv_exports_write_text_not_formulas(self):
        """Whatever a stored string starts with, Odoo's export writes it as
        text: no formula, no hyperlink."""
        values = (
            '=HYPERLINK("http://x","y")',
            "{=1+1}",
            "+1+1",
            "-1+1",
            "@SUM(1)",
            " =1+1",
            "http://evil.example/x",
            "external:c:\\x.exe",
        )
        leads = self.env["crm.lead"].create(
            [{"name": value, "type": "opportunity"} for value in values]
        )
        self.authenticate("admin", "admin")
        data = {
            "model": "crm.lead",
            "fields": [{"name": "name", "label": "Name"}],
            "ids": leads.ids,
            "domain": [],
            "import_compat": False,
        }
        response = self.url_open(
            "/web/export/xlsx",
            data={"data": json.dumps(data), "csrf_token": http.Request.csrf_token(self)},
        )
        self.assertEqual(response.status_code, 200, response.text[:500])
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        cells = [sheet.cell(row=row, column=1) for row in range(2, len(values) + 2)]
        self.assertEqual(sorted(cell.value for cell in cells), sorted(values))
        for cell in cells:
            with self.subTest(value=cell.value):
                self.assertEqual(cell.data_type, "s", "written as text")
                self.assertIsNone(cell.hyperlink)
        response = self.url_open(
            "/web/export/csv",
            data={"data": json.dumps(data), "csrf_token": http.Request.csrf_token(self)},
        )
        self.assertEqual(response.status_code, 200, response.text[:500])
        for row in list(csv.reader(io.StringIO(response.text)))[1:]:
            with self.subTest(csv=row[0]):
                self.assertFalse(
                    row[0].lstrip(" \t").startswith(("=", "+", "-", "@")), "quoted as text"
                )


# ---------------------------------------------------------------------------
# §9.11: every text is bounded and typed, on every method taking one
# ---------------------------------------------------------------------------

BAD_TEXTS = (
    ("huge", "x" * 1_000_000),
    ("dict", {"a": 1}),
    ("list", ["a"]),
    ("nan", math.nan),
)


@tagged("post_install", "-at_install", "opportunity_registration")
class TestTextLimits(TextCase):
    def _lead_in(self, state, index):
        lead = self._lead(
            partner_id=False,
            partner_name="Limits Co %s %s" % (state, index),
            expected_revenue=30000 if state == "submitted" else 5000,
        )
        lead.with_user(self.rep).action_registration_submit()
        self.assertEqual(lead.registration_state, state)
        return lead

    def _calls(self):
        """``(name, state, user, call(lead, text), required)``: every public
        method (or wizard) taking a free text."""
        Arbitration = self.env["crm.lead.registration.arbitration"]
        Reason = self.env["crm.lead.registration.reason"]
        Override = self.env["crm.lead.stage.override"]
        stage = self.env["crm.stage"].search(
            [("is_won", "=", False)], limit=1, order="sequence desc"
        )

        def arbitrate(decision, **extra):
            return lambda lead, text: (
                Arbitration.with_user(self.manager)
                .with_context(active_id=lead.id, default_lead_id=lead.id)
                .create(dict({"decision": decision, "reason": text}, **extra))
                .action_confirm()
            )

        def reason_wizard(action, user):
            return lambda lead, text: (
                Reason.with_user(user)
                .create({"lead_id": lead.id, "action": action, "reason": text})
                .action_confirm()
            )

        end = self.today + timedelta(days=200)
        return [
            (
                "withdraw",
                "submitted",
                self.rep,
                lambda lead, text: lead.with_user(self.rep).action_registration_withdraw(
                    reason=text
                ),
                False,
            ),
            (
                "release",
                "approved",
                self.rep,
                lambda lead, text: lead.with_user(self.rep).action_registration_release(
                    reason=text
                ),
                False,
            ),
            (
                "reject",
                "submitted",
                self.approver,
                lambda lead, text: lead.with_user(self.approver).action_registration_reject(
                    reason=text
                ),
                True,
            ),
            (
                "approve",
                "submitted",
                self.approver,
                lambda lead, text: lead.with_user(self.approver).action_registration_approve(
                    comment=text
                ),
                False,
            ),
            (
                "request extension",
                "approved",
                self.rep,
                lambda lead, text: lead.with_user(self.rep).action_registration_request_extension(
                    reason=text
                ),
                True,
            ),
            (
                "grant extension",
                "approved",
                self.manager,
                lambda lead, text: lead.registration_id.with_user(
                    self.manager
                ).action_grant_extension(end, reason=text),
                False,
            ),
            (
                "transfer",
                "approved",
                self.manager,
                lambda lead, text: lead.registration_id.with_user(self.manager).action_transfer(
                    user=self.rep2, reason=text
                ),
                True,
            ),
            ("arbitration keep", "approved", self.manager, arbitrate("keep"), True),
            (
                "arbitration extend",
                "approved",
                self.manager,
                arbitrate("extend", extension_end_date=end),
                True,
            ),
            (
                "reason wizard withdraw",
                "submitted",
                self.rep,
                reason_wizard("withdraw", self.rep),
                False,
            ),
            (
                "reason wizard extension",
                "approved",
                self.rep,
                reason_wizard("request_extension", self.rep),
                True,
            ),
            (
                "stage override",
                "approved",
                self.manager,
                lambda lead, text: (
                    Override.with_user(self.manager)
                    .create({"lead_ids": [(6, 0, lead.ids)], "stage_id": stage.id, "reason": text})
                    .action_confirm()
                ),
                True,
            ),
            (
                "stage override context",
                "approved",
                self.manager,
                lambda lead, text: (
                    lead.with_user(self.manager)
                    .with_context(stage_gate_override_reason=text)
                    .write({"stage_id": stage.id})
                ),
                False,
            ),
            # the registration document's own methods, as an RPC client calls them
            (
                "registration withdraw",
                "submitted",
                self.rep,
                lambda lead, text: lead.registration_id.with_user(self.rep).action_withdraw(text),
                False,
            ),
            (
                "registration release",
                "approved",
                self.rep,
                lambda lead, text: lead.registration_id.with_user(self.rep).action_release(text),
                False,
            ),
            (
                "registration approve",
                "submitted",
                self.approver,
                lambda lead, text: lead.registration_id.with_user(self.approver).action_approve(
                    text
                ),
                False,
            ),
            (
                "registration reject",
                "submitted",
                self.approver,
                lambda lead, text: lead.registration_id.with_user(self.approver).action_reject(
                    text
                ),
                True,
            ),
        ]

    def _footprint(self, lead):
        lead.invalidate_recordset()
        return (
            lead.registration_state,
            lead.registration_id.id,
            len(lead.sudo().message_ids),
            len(lead.sudo().activity_ids),
            len(lead.sudo().registration_id.event_ids),
            lead.stage_id.id,
        )

    def test_every_free_text_is_typed_and_bounded(self):
        """(huge string, dict, list, NaN, None) → a clear UserError and
        nothing written, on every method taking a text; None is "no text",
        refused where a text is required."""
        for index, (name, state, _user, call, required) in enumerate(self._calls()):
            bad = list(BAD_TEXTS) + ([("none", None)] if required else [])
            for kind, text in bad:
                with self.subTest(method=name, text=kind):
                    lead = self._lead_in(state, "%d %s" % (index, kind))
                    before = self._footprint(lead)
                    with self.assertRaises(UserError) as error:
                        call(lead, text)
                    self.assertNotIn("Traceback", str(error.exception))
                    self.assertLess(len(str(error.exception)), 300, "a message, not the text")
                    self.assertEqual(self._footprint(lead), before, "nothing written")

    def test_every_portal_field_is_bounded(self):
        """Each text of the portal form (and of each uploaded row) has its
        length limit: one character more is refused, naming the field, and
        nothing is created."""
        Lead = self.env["crm.lead"]
        count = Lead.search_count([])
        for field, limit in PORTAL_TEXT_LIMITS.items():
            with self.subTest(field=field):
                with self.assertRaisesRegex(ValidationError, "at most %s characters" % limit):
                    self._portal_register(**{field: "7" * (limit + 1)})
        self.assertEqual(Lead.search_count([]), count)

    def test_an_extension_is_asked_once_at_a_time(self):
        """Repeated requests add no to-dos: the second, while the first is
        open, is refused with the day it was asked; once a manager has
        answered (extended), the owner may ask again."""
        lead = self._lead_in("approved", "once")
        extension = self.env.ref(
            "opportunity_registration.mail_activity_type_registration_extension"
        )

        def requests():
            return lead.activity_ids.filtered(lambda a: a.activity_type_id == extension)

        lead.with_user(self.rep).action_registration_request_extension(reason="Tender in March")
        todos = requests()
        self.assertIn(self.manager, todos.user_id)
        for _attempt in range(20):
            with self.assertRaisesRegex(UserError, "already asked on"):
                lead.with_user(self.rep).action_registration_request_extension(reason="again")
        self.assertEqual(requests(), todos)
        self.env["crm.lead.registration.arbitration"].with_user(self.manager).with_context(
            active_id=lead.id, default_lead_id=lead.id
        ).create(
            {
                "decision": "extend",
                "extension_end_date": self.today + timedelta(days=200),
                "reason": "Tender",
            }
        ).action_confirm()
        self.assertFalse(requests())
        lead.with_user(self.rep).action_registration_request_extension(reason="Longer tender")
        self.assertTrue(requests())


@tagged("post_install", "-at_install", "opportunity_registration")
class TestRefusedAttempts(TextCase):
    def test_refused_attempts_are_one_event_per_user_and_day(self):
        """20 refused attempts of one user on a held customer: one event in
        the holder's lock history, counting 20; another user has their own,
        and a new day starts a new one."""
        holder = self._lead(expected_revenue=5000)
        holder.with_user(self.rep).action_registration_submit()
        reg = holder.registration_id
        Event = self.env["crm.lead.registration.event"]
        logged = []
        original = type(Event)._log_refused

        def spy(model, values, note):
            logged.append(values)
            return original(model, values, note)

        # every refused submission goes through the one logging method; the
        # event itself is written by a transaction of its own, which a test's
        # savepoint rolls back: it is checked below, called directly
        self.patch(type(Event), "_log_refused", spy)
        for attempt in range(20):
            rival = self._lead(user=self.rep2, name="rival %d" % attempt)
            with self.assertRaisesRegex(UserError, "already registered"):
                rival.with_user(self.rep2).action_registration_submit()
        self.assertEqual(len(logged), 20)
        self.assertEqual(
            {(v["registration_id"], v["user_id"]) for v in logged}, {(reg.id, self.rep2.id)}
        )

        row = {
            "id": reg.id,
            "lead_id": holder.id,
            "company_id": reg.company_id.id,
            "user_id": reg.user_id.id,
            "protection_end_date": reg.protection_end_date,
        }
        before = reg.event_ids
        # the registry's new cursors wrap this test's: the holder is visible to them
        self.registry_enter_test_mode()
        Registration = self.env["crm.lead.registration"]
        for _attempt in range(20):
            Registration.with_user(self.rep2)._log_conflict_refused(row, [{"customer_name": "X"}])
        self.env.invalidate_all()
        refused = reg.event_ids - before
        self.assertEqual(len(refused), 1)
        self.assertEqual(
            (refused.event, refused.user_id, refused.attempts), ("conflict_refused", self.rep2, 20)
        )
        Registration.with_user(self.approver)._log_conflict_refused(row, [{"customer_name": "X"}])
        self.env.invalidate_all()
        self.assertEqual(len(reg.event_ids - before), 2, "another user: an event of their own")
        refused.date = refused.date - timedelta(days=1)
        self.env.flush_all()
        Registration.with_user(self.rep2)._log_conflict_refused(row, [{"customer_name": "X"}])
        self.env.invalidate_all()
        self.assertEqual(len(reg.event_ids - before), 3, "a new day: a new event")
