import csv
import io
import re

from odoo.addons.opportunity_registration.tests.common_channel import ChannelCase
from odoo.tests import JsonRpcException, tagged

from .common import PortalPagesCase


@tagged("post_install", "-at_install", "opportunity_registration_portal")
class TestChannelPortal(PortalPagesCase, ChannelCase):
    """The partner's portal pages, and what a partner cannot reach through them."""

    def test_home_shows_deal_registrations_with_their_count(self):
        self._portal_register()
        self._portal_register(
            user=self.portal_a2,
            company_name="Wuxi Motor Parts",
            vat="",
            email="",
            phone="+86 510 1234 5678",
        )
        self._rival_register()
        self._login(self.portal_a)
        self.assertIn("/my/registrations", self.url_open("/my/home").text)
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["registration_count"]})
        self.assertEqual(counters["registration_count"], 2)

    def test_list_shows_the_partner_company_only(self):
        own = self._portal_register()
        colleague = self._portal_register(
            user=self.portal_a2,
            company_name="Wuxi Motor Parts",
            vat="",
            email="",
            phone="+86 510 1234 5678",
        )
        other = self._rival_register()
        self._login(self.portal_a)
        page = self.url_open("/my/registrations").text
        self.assertIn(own.name, page)
        self.assertIn(colleague.name, page)
        self.assertNotIn(other.name, page)
        self.assertNotIn("Suzhou Silk", page)
        searched = self.url_open("/my/registrations?search=Wuxi").text
        self.assertIn(colleague.name, searched)
        self.assertNotIn(own.name, searched)
        own.with_user(self.channel_manager).action_approve()
        approved = self.url_open("/my/registrations?filterby=approved").text
        self.assertIn(own.name, approved)
        self.assertNotIn(colleague.name, approved)
        self.assertEqual(
            self.url_open("/my/registrations?sortby=protection&filterby=x").status_code, 200
        )

    def test_detail_of_another_company_is_not_found(self):
        own = self._portal_register()
        other = self._rival_register()
        self._login(self.portal_a)
        response = self.url_open("/my/registrations/%s" % own.id)
        self.assertEqual(response.status_code, 200)
        self.assertIn(own.name, response.text)
        self.assertIn("o_portal_chatter", response.text)
        for guess in (other.id, other.id + 1000, 0):
            response = self.url_open("/my/registrations/%s" % guess)
            self.assertEqual(response.status_code, 404)
            self.assertNotIn("Suzhou Silk", response.text)

    def test_detail_hides_internal_fields(self):
        reg = self._portal_register(budget="30000")
        reg.with_user(self.channel_manager).action_approve("Passed to the team leader")
        reg.lead_id.message_post(
            body="Internal: margin is thin", message_type="comment", subtype_xmlid="mail.mt_note"
        )
        self._login(self.portal_a)
        page = self.url_open("/my/registrations/%s" % reg.id).text
        self.assertIn("Passed to the team leader", page)
        for internal in ("margin is thin", reg.customer_key, self.approver.name):
            self.assertNotIn(internal, page)

    def test_partner_registers_a_deal_from_the_form(self):
        self._login(self.portal_a)
        response = self._post_form(
            channel_partner_id=str(self.reseller_b.id),
            partner_id=str(self.reseller_b.id),
            user_id=str(self.rep.id),
        )
        self.assertEqual(response.status_code, 200)
        reg = self.env["crm.lead.registration"].search(
            [("customer_name", "=", "Ningbo Harbour Logistics Co., Ltd.")]
        )
        self.assertEqual(len(reg), 1)
        self.assertIn("/my/registrations/%s" % reg.id, response.url)
        self.assertEqual(reg.channel_partner_id, self.reseller_a, "forged ids are ignored")
        self.assertEqual(reg.submitted_by_id, self.portal_a)
        self.assertEqual(reg.user_id, self.channel_manager)

    def test_incomplete_form_comes_back_with_the_input(self):
        self._login(self.portal_a)
        response = self._post_form(need="", budget="", company_name="Hefei <b>Solar</b> Glass")
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_registration_errors", response.text)
        self.assertIn("Need description", response.text)
        self.assertIn("Hefei &lt;b&gt;Solar&lt;/b&gt; Glass", response.text)
        self.assertFalse(self.env["crm.lead"].search([("name", "ilike", "Hefei")]))

    def test_conflict_on_the_form_says_only_until_when(self):
        rep_lead = self._lead(
            partner_id=False,
            partner_name="Ningbo Harbour Logistics Co., Ltd.",
            expected_revenue=10000,
        )
        rep_lead.with_user(self.rep).action_registration_submit()
        self._login(self.portal_a)
        page = self._post_form().text
        self.assertIn("already registered until", page)
        self.assertNotIn(self.rep.name, page)
        self.assertNotIn(rep_lead.registration_number, page)

    def test_forbidden_attachment_is_refused(self):
        self._login(self.portal_a)
        response = self._post_form(
            files={"attachments": ("evil.exe", b"MZ\x90\x00", "application/octet-stream")}
        )
        self.assertIn("cannot be attached", response.text)
        self.assertFalse(
            self.env["crm.lead"].search([("name", "=", "Ningbo Harbour Logistics Co., Ltd.")])
        )

    def test_attachment_is_sent_with_the_registration(self):
        self._login(self.portal_a)
        response = self._post_form(
            files={"attachments": ("brief.pdf", b"%PDF-1.4 brief", "application/pdf")}
        )
        self.assertNotIn("o_registration_errors", response.text)
        reg = self.env["crm.lead.registration"].search(
            [("customer_name", "=", "Ningbo Harbour Logistics Co., Ltd.")]
        )
        self.assertEqual(reg.message_ids.attachment_ids.mapped("name"), ["brief.pdf"])

    def test_post_without_csrf_token_is_refused(self):
        self._login(self.portal_a)
        response = self._post_form(with_csrf=False)
        self.assertEqual(response.status_code, 400)
        self.assertFalse(
            self.env["crm.lead"].search([("name", "=", "Ningbo Harbour Logistics Co., Ltd.")])
        )

    def test_bulk_upload_reports_each_row(self):
        holder = self._lead(
            partner_id=False, partner_name="Taken Trading Ltd", expected_revenue=10000
        )
        holder.with_user(self.rep).action_registration_submit()
        deadline = self._form()["date_deadline"]
        sheet = "\n".join(
            [
                "company_name,vat,contact_name,email,phone,need,budget,date_deadline,product_line,notes",
                "Good Pumps Ltd,,Ms Li,li@goodpumps.example.com,,New pumps,5000,%s,Cloud ERP,"
                % deadline,
                "Missing Need Ltd,,Mr Wu,wu@missing.example.com,,,5000,%s,," % deadline,
                "Taken Trading Ltd,,Mr Ma,,+86 20 3333 4444,Trucks,5000,%s,," % deadline,
            ]
        )
        self._login(self.portal_a)
        response = self.url_open(
            "/my/registrations/bulk",
            data={"csrf_token": self._csrf("/my/registrations/bulk")},
            files={"sheet": ("deals.csv", sheet.encode(), "text/csv")},
        )
        self.assertEqual(response.status_code, 200)
        upload = self.env["crm.lead.registration.upload"].search(
            [("user_id", "=", self.portal_a.id)]
        )
        self.assertIn("/my/registrations/uploads/%s" % upload.id, response.url)
        self.assertIn("o_registration_upload_progress", response.text, "queued, not yet done")
        Lead = self.env["crm.lead"]
        self.assertFalse(Lead.search([("name", "=", "Good Pumps Ltd")]), "nothing in the request")
        self._run_uploads()
        page = self.url_open(response.url).text
        results = re.findall(r'data-result="(\w+)"', page)
        self.assertEqual(results, ["pending", "refused", "refused"])
        self.assertIn("Refused: incomplete", page)
        self.assertIn("Refused: conflict", page)
        self.assertNotIn(self.rep.name, page, "a partner is never told who holds a customer")
        self.assertTrue(Lead.search([("name", "=", "Good Pumps Ltd")]))
        self.assertFalse(Lead.search([("name", "in", ("Missing Need Ltd",))]))
        self.assertEqual(Lead.search_count([("partner_name", "=", "Taken Trading Ltd")]), 1)
        result = self.url_open("/my/registrations/uploads/%s/result.csv" % upload.id)
        self.assertEqual(result.status_code, 200)
        self.assertIn("text/csv", result.headers["Content-Type"])
        lines = list(csv.reader(io.StringIO(result.content.decode("utf-8-sig"))))
        self.assertEqual(lines[0], ["row", "customer", "result", "reason", "number", "message"])
        self.assertEqual(
            [line[:4] for line in lines[1:]],
            [
                ["2", "Good Pumps Ltd", "Pending Review", ""],
                ["3", "Missing Need Ltd", "Refused", "Incomplete"],
                ["4", "Taken Trading Ltd", "Refused", "Conflict"],
            ],
        )
        # another partner's portal user does not reach the upload
        self._login(self.portal_b)
        for url in (response.url, result.url):
            self.assertEqual(self.url_open(url).status_code, 404)

    def test_internal_user_is_refused_the_partner_pages(self):
        self._login(self.rep)
        self.assertEqual(self.url_open("/my/registrations").status_code, 403)
        self.assertEqual(self.url_open("/my/registrations/new").status_code, 403)

    def test_rpc_as_portal_user_is_refused(self):
        reg = self._portal_register(budget="30000")
        reg.with_user(self.channel_manager).action_approve()
        review = reg.review_ids
        self.assertTrue(review, "the band's review exists")
        self._login(self.portal_a)
        calls = [
            ("crm.lead.registration", "search_read", [[]], {"fields": ["name"]}),
            ("crm.lead.registration", "read", [reg.ids, ["name", "amount"]], {}),
            ("crm.lead.registration", "action_approve", [reg.ids], {}),
            ("crm.lead", "search_read", [[]], {"fields": ["name"]}),
            ("crm.lead", "read", [reg.lead_id.ids, ["name"]], {}),
            (
                "crm.lead",
                "write",
                [reg.lead_id.ids, {"channel_partner_id": self.reseller_b.id}],
                {},
            ),
            ("crm.lead", "_portal_register", [self._form()], {}),
            ("crm.lead", "create", [{"name": "Forged", "type": "opportunity"}], {}),
            ("tier.review", "read", [review.ids, ["status", "comment"]], {}),
            ("tier.review", "write", [review.ids, {"status": "approved"}], {}),
            ("crm.lead.commission.report", "search_read", [[]], {}),
        ]
        for model, method, args, kwargs in calls:
            with self.subTest(model=model, method=method), self.assertRaises(JsonRpcException):
                self.make_jsonrpc_request(
                    "/web/dataset/call_kw",
                    {"model": model, "method": method, "args": args, "kwargs": kwargs},
                )
        reviews = self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {"model": "tier.review", "method": "search_read", "args": [[]], "kwargs": {}},
        )
        self.assertEqual(reviews, [], "the engine's reviews of registrations stay internal")
        self.assertEqual(reg.state, "submitted")
        self.assertEqual(review.status, "pending")
        self.assertEqual(reg.lead_id.channel_partner_id, self.reseller_a)

    def test_portal_chatter_reaches_only_the_own_registration(self):
        own = self._portal_register()
        other = self._rival_register()
        own._portal_ensure_token()
        other._portal_ensure_token()
        other.message_post(
            body="Beta's own question", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self._login(self.portal_a)
        post = {
            "thread_model": "crm.lead.registration",
            "post_data": {"body": "When will you decide?", "message_type": "comment"},
        }
        self.make_jsonrpc_request(
            "/mail/message/post", dict(post, thread_id=own.id, token=own.access_token)
        )
        self.assertIn("When will you decide?", own.message_ids.mapped(lambda m: str(m.body))[0])
        self.assertEqual(own.message_ids[0].author_id, self.portal_a.partner_id)
        self.assertIn(
            self.channel_manager.partner_id,
            own.message_ids[0].notification_ids.res_partner_id | own.message_partner_ids,
        )
        for params in (
            dict(post, thread_id=other.id),
            dict(post, thread_id=other.id, token=own.access_token),
        ):
            with self.assertRaises(JsonRpcException):
                self.make_jsonrpc_request("/mail/message/post", params)
        fetched = self.make_jsonrpc_request(
            "/mail/thread/messages",
            {"thread_model": "crm.lead.registration", "thread_id": other.id},
        )
        self.assertEqual(fetched["messages"], [], "no message of another company's registration")
        self.assertNotIn("When will you decide?", str(other.message_ids.mapped("body")))

    def test_a_partners_portal_message_is_text(self):
        """The portal composer sends HTML: the channel manager's chatter shows
        it as text, never as a link, image or overlay (SPEC §9.10)."""
        own = self._portal_register()
        own._portal_ensure_token()
        self._login(self.portal_a)
        payload = (
            '<a href="https://attk.example/x" style="position:fixed;inset:0">Click me</a>'
            '<img src="https://attk.example/p.png"><b>bold</b>'
        )
        self.make_jsonrpc_request(
            "/mail/message/post",
            {
                "thread_model": "crm.lead.registration",
                "thread_id": own.id,
                "token": own.access_token,
                "post_data": {"body": payload, "message_type": "comment"},
            },
        )
        body = str(own.message_ids[0].body)
        self.assertIn("Click me", body)
        for tag in ("<a", "<img", "<b>", "position:fixed"):
            self.assertNotIn(tag, body)

    def test_a_chinese_partner_reads_the_portal_in_chinese(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(
            ["opportunity_registration", "opportunity_registration_portal"], ["zh_CN"]
        )
        self.portal_a.lang = "zh_CN"
        rep_lead = self._lead(
            partner_id=False,
            partner_name="Ningbo Harbour Logistics Co., Ltd.",
            expected_revenue=10000,
        )
        rep_lead.with_user(self.rep).action_registration_submit()
        self._login(self.portal_a)
        form = self.url_open("/my/registrations/new").text
        self.assertIn("企业名称", form)
        self.assertIn("统一社会信用代码", form)
        page = self._post_form().text
        self.assertIn("该客户已被报备，保护至", page)
        refused = self._post_form(budget="-1", company_name="Hefei Glass").text
        self.assertIn("采购预算", refused)

    def _suzhou(self, **overrides):
        values = {
            "user": self.portal_b,
            "company_name": "Suzhou Silk",
            "vat": "",
            "email": "buy@suzhousilk.example.com",
            "phone": "+86 512 1234 5678",
            "budget": "27182",
            "need": "Beta's confidential need",
            "notes": "Beta's own notes",
        }
        values.update(overrides)
        return self._portal_register(**values)

    def test_a_token_opens_the_chatter_only_to_its_partner(self):
        """Posting needs the partner's own login; a token held by anyone else
        (another partner, a non-enrolled portal user, a visitor) opens nothing."""
        other = self._suzhou()
        other._portal_ensure_token()
        other.message_post(
            body="Beta's own question", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        token = other.access_token
        outsider_co = self.env["res.partner"].create(
            {"name": "Invoice Only Ltd", "is_company": True}
        )
        outsider = self._portal_user("opreg_portal_out", "Outsider Ou", outsider_co)
        thread = {"thread_model": "crm.lead.registration", "thread_id": other.id}
        post = dict(thread, post_data={"body": "Forged words", "message_type": "comment"})
        for user in (self.portal_a, outsider, None):
            with self.subTest(user=user and user.name):
                if user:
                    self._login(user)
                else:
                    self.authenticate(None, None)
                for params in (
                    dict(post, token=token),
                    dict(post, token=token, pid=self.customer.id, hash="forged"),
                ):
                    with self.assertRaises(JsonRpcException):
                        self.make_jsonrpc_request("/mail/message/post", params)
                with self.assertRaises(JsonRpcException):
                    self.make_jsonrpc_request("/mail/chatter_fetch", dict(thread, token=token))
                init = self.make_jsonrpc_request("/portal/chatter_init", dict(thread, token=token))
                self.assertNotIn("can_react", str(init), "no access to the thread")
                if user:
                    fetched = self.make_jsonrpc_request("/mail/thread/messages", thread)
                    self.assertEqual(fetched["messages"], [])
        self.assertNotIn("Forged words", str(other.message_ids.mapped("body")))
        # the partner's own login reads and posts
        self._login(self.portal_b)
        self.make_jsonrpc_request(
            "/mail/message/post",
            dict(
                post,
                token=token,
                post_data={
                    "body": "Our reply",
                    "message_type": "comment",
                    "subtype_xmlid": "mail.mt_comment",
                },
            ),
        )
        self.assertEqual(other.message_ids[0].author_id, self.portal_b.partner_id)
        fetched = self.make_jsonrpc_request("/mail/chatter_fetch", dict(thread, token=token))
        self.assertIn(other.message_ids[0].id, fetched["messages"])
        # a partner whose enrollment ended loses the chatter as well
        self.reseller_b.with_user(self.manager).is_channel_partner = False
        with self.assertRaises(JsonRpcException):
            self.make_jsonrpc_request("/mail/message/post", dict(post, token=token))

    def test_two_partners_never_see_each_other_or_internal_data(self):
        """With two enrolled partners: lists, searches, filters and details of
        one never show the other's deals, amounts or needs, the internal
        owner, the approvers, or internal notes."""
        own = self._portal_register(budget="31415")
        other = self._suzhou()
        own.with_user(self.channel_manager).action_approve("Passed for Alpha")
        other.with_user(self.channel_manager).action_approve("Passed for Beta")
        own.message_post(
            body="Internal: Alpha's margin is thin",
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        own.lead_id.message_post(
            body="Lead note: discount 12 percent",
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        own._portal_ensure_token()
        self._login(self.portal_a)
        pages = [
            self.url_open(url).text
            for url in (
                "/my/registrations",
                "/my/registrations?search=Suzhou",
                "/my/registrations?filterby=submitted",
                "/my/registrations?filterby=approved&sortby=name",
                "/my/registrations/%s" % own.id,
            )
        ]
        fetched = self.make_jsonrpc_request(
            "/mail/chatter_fetch",
            {
                "thread_model": "crm.lead.registration",
                "thread_id": own.id,
                "token": own.access_token,
            },
        )
        pages.append(str(fetched))
        for index, page in enumerate(pages):
            for secret in (
                other.name,
                "Suzhou Silk",
                "27,182",
                "27182",
                "Beta's confidential need",
                "Beta's own notes",
                "Passed for Beta",
                self.channel_manager.name if index < 5 else "Leader Wang",
                self.approver.name,
                "Alpha's margin is thin",
                "discount 12 percent",
                own.customer_key,
            ):
                with self.subTest(page=index, secret=secret):
                    self.assertNotIn(secret, page)
        self.assertIn("Passed for Alpha", pages[4])
        self.assertIn(own.name, pages[0])
