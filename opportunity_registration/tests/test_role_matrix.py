"""Who may do what: every role against every registration operation.

One table of cells ``(role, operation, fixture, expected[, check])``. Each cell
runs as the real user (``with_user``), in its own savepoint that is always
rolled back, so the cells do not affect each other. ``expected`` is
``ALLOWED`` or the exact exception class: ``AccessError`` where access is
refused, ``UserError`` (exactly, not a subclass) where a business rule refuses.
"""

from datetime import timedelta

from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import RegistrationCase

ALLOWED = "allowed"
REG = "crm.lead.registration"

# fixture key -> (expected revenue, sales team attribute, customer name)
FIXTURES = {
    "ordinary": (30000, "team", "Matrix Ordinary Trading Ltd"),
    "important": (80000, "team", "Matrix Important Machinery Ltd"),
    "major": (500000, "team", "Matrix Major Holdings Ltd"),
    "approved": (10000, "team", "Matrix Small Approved Ltd"),
    # a team whose leader is nobody: the band resolves no approver, so the
    # registration managers decide
    "unresolved": (30000, "solo_team", "Matrix Unresolved Leader Ltd"),
}
PENDING = ("ordinary", "important", "major", "unresolved")
ROLES = (
    "rep",
    "rep2",
    "rep_other_team",
    "rep_other_company",
    "reg_user_only",
    "leader_other_team",
    "approver",
    "deputy",
    "branch",
    "manager",
)
# who is resolved as the approver of each pending fixture
BAND_APPROVER = {
    "ordinary": "approver",
    "important": "deputy",
    "major": "branch",
    "unresolved": "manager",
}
# who reads every registration of company A (all-documents sales users and
# registration managers); the others read only their own / those they approve
SEES_ALL = ("approver", "deputy", "branch", "manager")


@tagged("post_install", "-at_install", "opportunity_registration")
class TestRoleMatrix(RegistrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Matrix Company B"})
        cls.leader_other_team = mail_new_test_user(
            cls.env,
            login="opreg_west_leader",
            name="Leader Qian",
            groups="sales_team.group_sale_salesman,"
            "opportunity_registration.group_registration_approver",
        )
        cls.rep_other_team = mail_new_test_user(
            cls.env,
            login="opreg_rep_west",
            name="Rep Zhou",
            groups="sales_team.group_sale_salesman",
        )
        cls.west = cls.env["crm.team"].create(
            {
                "name": "West",
                "user_id": cls.leader_other_team.id,
                "member_ids": [(6, 0, cls.rep_other_team.ids)],
            }
        )
        cls.rep_other_company = mail_new_test_user(
            cls.env,
            login="opreg_rep_b",
            name="Rep Wu (Company B)",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
        )
        cls.reg_user_only = mail_new_test_user(
            cls.env,
            login="opreg_reg_only",
            name="Registration User Only",
            groups="opportunity_registration.group_registration_user",
        )
        # the rep also works in a team with no one in its roles
        cls.env["ir.config_parameter"].sudo().set_param("sales_team.membership_multi", True)
        cls.solo_team = cls.env["crm.team"].create(
            {
                "name": "Solo",
                "user_id": False,
                "deputy_manager_id": False,
                "branch_manager_id": False,
                "member_ids": [(4, cls.rep.id)],
            }
        )
        # a channel partner's portal user: no access to any of it, whatever the call
        cls.portal_partner = mail_new_test_user(
            cls.env,
            login="opreg_matrix_portal",
            name="Matrix Portal Partner",
            groups="base.group_portal",
        )
        cls.users = {role: getattr(cls, role) for role in ROLES + ("portal_partner",)}

        cls.fx = {}
        for key, (amount, team, customer) in FIXTURES.items():
            lead = (
                cls.env["crm.lead"]
                .with_user(cls.rep)
                .create(
                    cls._lead_vals(
                        name="Matrix %s" % key,
                        partner_id=False,
                        partner_name=customer,
                        expected_revenue=amount,
                        team_id=getattr(cls, team).id,
                    )
                )
            )
            lead.with_user(cls.rep).action_registration_submit()
            cls.fx[key] = lead.with_env(cls.env)
        cls.fixture_leads = cls.env["crm.lead"].union(*cls.fx.values())
        cls.fixture_regs = cls.fixture_leads.registration_id
        cls.extension_end = (cls.today + timedelta(days=400)).isoformat()

    # ------------------------------------------------------------
    # fixtures and operations
    # ------------------------------------------------------------

    def _fixture(self, name):
        """The crm.lead of a fixture (superuser env); prepared inside the cell's savepoint."""
        if name in (None, "-"):
            return None
        if name == "released":
            lead = self.fx["approved"]
            lead.with_user(self.rep).action_registration_release(reason="no budget")
            self.assertEqual(lead.registration_state, "released")
            return lead
        return self.fx[name]

    def _review(self, lead):
        reviews = lead.registration_id.sudo().review_ids
        self.assertTrue(reviews, "the fixture has a review")
        return reviews[:1]

    def _operations(self):
        Reg = self.env[REG]
        Lead = self.env["crm.lead"]
        fixture_regs = self.fixture_regs

        def reg(lead, user):
            return lead.registration_id.with_user(user)

        def review_vals(lead, user):
            review = self._review(lead)
            return {
                "model": REG,
                "res_id": lead.registration_id.id,
                "definition_id": review.definition_id.id,
                "sequence": 99,
                "status": "approved",
                "requested_by": user.id,
                "done_by": user.id,
            }

        def merge(lead, user):
            pair = self.fx["ordinary"] | self.fx["approved"]
            return pair.with_user(user).merge_opportunity()

        def comment_wizard(lead, user):
            wizard = (
                self.env["comment.wizard"]
                .with_user(user)
                .create(
                    {
                        "res_model": REG,
                        "res_id": lead.registration_id.id,
                        "validate_reject": "validate",
                        "comment": "fine by me",
                    }
                )
            )
            return wizard.add_comment()

        def onchange_conflict(lead, user, company=None):
            """What the lead form shows a user typing in the customer of the
            ordinary fixture (held by Rep Zhang in company A): the client's
            onchange call, with the company the client chose."""
            same = self._lead_vals(partner_id=False, partner_name=FIXTURES["ordinary"][2])
            vals = {
                "name": "Same customer",
                "type": "opportunity",
                "partner_name": same["partner_name"],
                "email_from": same["email_from"],
                "phone": same["phone"],
                "expected_revenue": 30000,
                "user_id": user.id,
                "company_id": (company or user.company_id).id,
            }
            spec = {field: {} for field in vals}
            spec["registration_conflict_message"] = {}
            # every value is new to the form, so the result holds the message
            result = (
                Lead.with_user(user)
                .with_company(user.company_id)
                .onchange(
                    vals,
                    list(vals),
                    spec,
                )
            )
            return result["value"].get("registration_conflict_message") or False

        return {
            # --- reading -------------------------------------------------
            "read registration": lambda lead, u: reg(lead, u).read(
                ["amount", "close_reason", "customer_key"]
            ),
            "search registrations": lambda lead, u: (
                Reg.with_user(u).search_count([]),
                Reg.with_user(u).search_count([("id", "in", fixture_regs.ids)]),
            ),
            "read_group registrations by state": lambda lead, u: {
                group["state"]: (group["__count"], group["amount:sum"])
                for group in Reg.with_user(u).formatted_read_group(
                    [], ["state"], ["__count", "amount:sum"]
                )
            },
            "read lock history": lambda lead, u: (
                self.env["crm.lead.registration.event"]
                .with_user(u)
                .search([("lead_id", "in", self.fixture_leads.ids)])
                .ids
            ),
            "read conflicting opportunities": lambda lead, u: lead.with_user(u).read(
                ["registration_conflict_ids"]
            ),
            "onchange conflict message (own company)": onchange_conflict,
            "onchange conflict message (forged company A)": lambda lead, u: onchange_conflict(
                lead, u, company=self.company
            ),
            # --- protected fields ----------------------------------------
            "write lead registration_state": lambda lead, u: lead.with_user(u).write(
                {"registration_state": "approved"}
            ),
            "write lead protection_end_date": lambda lead, u: lead.with_user(u).write(
                {"protection_end_date": "2031-12-31"}
            ),
            "create lead with registration_state": lambda lead, u: Lead.with_user(u).create(
                self._lead_vals(
                    partner_id=False,
                    partner_name="Forged Status Ltd",
                    user_id=u.id,
                    registration_state="approved",
                )
            ),
            "write registration state": lambda lead, u: reg(lead, u).write({"state": "approved"}),
            # --- decisions -----------------------------------------------
            "approve (registration)": lambda lead, u: reg(lead, u).action_approve(),
            "approve (lead)": lambda lead, u: lead.with_user(u).action_registration_approve(),
            "reject (registration)": lambda lead, u: reg(lead, u).action_reject(reason="x"),
            "validate_tier": lambda lead, u: reg(lead, u).validate_tier(),
            "comment wizard approve": comment_wizard,
            "restart_validation": lambda lead, u: reg(lead, u).restart_validation(),
            "request_validation": lambda lead, u: reg(lead, u).request_validation(),
            # --- the engine's reviews ------------------------------------
            "tier.review write status": lambda lead, u: (
                self._review(lead).with_user(u).write({"status": "approved", "done_by": u.id})
            ),
            "tier.review create": lambda lead, u: (
                self.env["tier.review"].with_user(u).create(review_vals(lead, u))
            ),
            "tier.review unlink": lambda lead, u: self._review(lead).with_user(u).unlink(),
            # --- lock lifecycle ------------------------------------------
            "release": lambda lead, u: reg(lead, u).action_release(reason="r"),
            "withdraw": lambda lead, u: reg(lead, u).action_withdraw(reason="r"),
            "transfer (int id)": lambda lead, u: reg(lead, u).action_transfer(
                user=self.rep2.id, reason="r"
            ),
            "transfer (str id)": lambda lead, u: reg(lead, u).action_transfer(
                user=str(self.rep2.id), reason="r"
            ),
            "transfer to other company's rep": lambda lead, u: reg(lead, u).action_transfer(
                user=self.rep_other_company.id, reason="r"
            ),
            "transfer without reason": lambda lead, u: reg(lead, u).action_transfer(
                user=self.rep2.id
            ),
            "transfer to a non-id": lambda lead, u: reg(lead, u).action_transfer(
                user="rep2", reason="r"
            ),
            "extend (str date)": lambda lead, u: reg(lead, u).action_grant_extension(
                self.extension_end, reason="tender"
            ),
            "extend (date)": lambda lead, u: reg(lead, u).action_grant_extension(
                self.today + timedelta(days=200)
            ),
            "extend beyond 3 years": lambda lead, u: reg(lead, u).action_grant_extension(
                (self.today + timedelta(days=4 * 366)).isoformat()
            ),
            "claim": lambda lead, u: lead.with_user(u).action_registration_claim(),
            # --- the opportunity -----------------------------------------
            "change salesperson": lambda lead, u: lead.with_user(u).write(
                {"user_id": self.rep2.id}
            ),
            "change customer": lambda lead, u: lead.with_user(u).write(
                {"partner_name": "Other Co", "partner_id": False}
            ),
            "merge two registered opportunities": merge,
            "create opportunity": lambda lead, u: (
                Lead.with_user(u)
                .create(
                    self._lead_vals(
                        partner_id=False,
                        partner_name="New Co of %s" % u.login,
                        user_id=u.id,
                        team_id=False,
                        company_id=u.company_id.id,
                    )
                )
                .id
            ),
            "create opportunity in company A": lambda lead, u: (
                Lead.with_user(u)
                .create(
                    self._lead_vals(
                        partner_id=False,
                        partner_name="Foothold Co",
                        user_id=u.id,
                        team_id=False,
                        company_id=self.company.id,
                    )
                )
                .id
            ),
            "create opportunity with an absurd amount": lambda lead, u: (
                Lead.with_user(u)
                .create(
                    self._lead_vals(
                        partner_id=False,
                        partner_name="Huge Co",
                        user_id=u.id,
                        expected_revenue=1e20,
                    )
                )
                .id
            ),
            # --- forged context keys -------------------------------------
            "forged context: change salesperson": lambda lead, u: (
                lead.with_user(u)
                .with_context(
                    registration_transfer=True,
                    skip_validation_check=True,
                )
                .write({"user_id": self.rep2.id})
            ),
            "forged context: write lead registration_state": lambda lead, u: (
                lead.with_user(u)
                .with_context(skip_validation_check=True)
                .write({"registration_state": "approved"})
            ),
            "forged context: write registration state": lambda lead, u: (
                reg(lead, u)
                .with_context(
                    skip_validation_check=True,
                    skip_check_state_condition=True,
                )
                .write({"state": "approved"})
            ),
            "forged context: approve own": lambda lead, u: (
                reg(lead, u)
                .with_context(
                    skip_validation_check=True,
                    skip_check_state_condition=True,
                )
                .action_approve()
            ),
            "forged context: tier.review write": lambda lead, u: (
                self._review(lead)
                .with_user(u)
                .with_context(skip_validation_check=True)
                .write({"status": "approved"})
            ),
        }

    # ------------------------------------------------------------
    # checks of allowed cells
    # ------------------------------------------------------------

    def _check_state(self, state):
        def check(result, lead):
            self.assertEqual(lead.registration_id.state, state)
            self.assertEqual(lead.registration_state, state)

        return check

    def _check_search(self, role):
        def check(result, lead):
            total, fixtures = result
            if role == "rep":
                self.assertEqual(result, (len(self.fixture_regs), len(self.fixture_regs)))
            elif role in SEES_ALL:
                company_total = self.env[REG].search_count([("company_id", "=", self.company.id)])
                self.assertEqual(result, (company_total, len(self.fixture_regs)))
            else:
                self.assertEqual(result, (0, 0), "sees none of the other reps' registrations")

        return check

    def _check_read_group(self, role):
        def check(result, lead):
            if role == "rep":
                visible = self.fixture_regs
            elif role in SEES_ALL:
                visible = self.env[REG].search([("company_id", "=", self.company.id)])
            else:
                visible = self.env[REG]
            expected = {}
            for state, regs in visible.grouped("state").items():
                expected[state] = (len(regs), sum(regs.mapped("amount")))
            self.assertEqual(result, expected, "sums only what the user may read")

        return check

    def _check_events(self, role):
        def check(result, lead):
            events = self.env["crm.lead.registration.event"].search(
                [("lead_id", "in", self.fixture_leads.ids)]
            )
            self.assertTrue(events)
            if role == "rep" or role in SEES_ALL:
                self.assertEqual(sorted(result), sorted(events.ids))
            else:
                self.assertEqual(result, [], "no lock history of other reps")

        return check

    def _check_read(self, result, lead):
        self.assertEqual(result[0]["amount"], lead.registration_id.amount)

    def _check_claimed(self, role):
        def check(result, lead):
            self.assertEqual(lead.user_id, self.users[role])
            self.assertEqual(lead.registration_id.user_id, self.users[role])
            self.assertEqual(lead.registration_state, "approved")

        return check

    def _check_transferred(self, result, lead):
        self.assertEqual(lead.registration_id.user_id, self.rep2)
        self.assertEqual(lead.user_id, self.rep2)
        self.assertEqual(lead.registration_state, "approved")

    def _check_extended(self, end):
        def check(result, lead):
            self.assertEqual(lead.protection_end_date.isoformat(), end)
            self.assertEqual(lead.registration_id.extension_end_date.isoformat(), end)

        return check

    def _check_no_conflict(self, result, lead):
        self.assertFalse(result, "nothing learned of another company's registration")

    def _check_conflict_named(self, result, lead):
        self.assertIn("Rep Zhang", result or "")
        self.assertNotIn("30000", result)
        self.assertNotIn("30,000", result)

    # ------------------------------------------------------------
    # the matrix
    # ------------------------------------------------------------

    def _cells(self):
        cells = []

        def add(role, op, fixture, expected, check=None):
            cells.append((role, op, fixture, expected, check))

        def refused_unless(allowed_roles, role, check=None):
            return (ALLOWED, check) if role in allowed_roles else (AccessError, None)

        # reading
        for role in ROLES:
            for fixture in FIXTURES:
                expected, check = refused_unless(("rep",) + SEES_ALL, role, self._check_read)
                add(role, "read registration", fixture, expected, check)
            add(role, "search registrations", "-", ALLOWED, self._check_search(role))
            add(
                role,
                "read_group registrations by state",
                "-",
                ALLOWED,
                self._check_read_group(role),
            )
            add(role, "read lock history", "-", ALLOWED, self._check_events(role))
        add("rep", "read conflicting opportunities", "approved", AccessError)
        add("approver", "read conflicting opportunities", "approved", AccessError)
        add("manager", "read conflicting opportunities", "approved", ALLOWED)
        add(
            "rep_other_company",
            "onchange conflict message (own company)",
            "-",
            ALLOWED,
            self._check_no_conflict,
        )
        add(
            "rep_other_company",
            "onchange conflict message (forged company A)",
            "-",
            ALLOWED,
            self._check_no_conflict,
        )
        add(
            "rep2",
            "onchange conflict message (own company)",
            "-",
            ALLOWED,
            self._check_conflict_named,
        )
        add(
            "rep_other_team",
            "onchange conflict message (own company)",
            "-",
            ALLOWED,
            self._check_conflict_named,
        )

        # protected fields
        for role in ("rep", "approver", "manager"):
            add(role, "write lead registration_state", "ordinary", UserError)
            add(role, "write lead protection_end_date", "approved", UserError)
            add(role, "create lead with registration_state", "-", UserError)
        for role in ("rep", "rep2", "approver", "manager"):
            add(role, "write registration state", "ordinary", AccessError)
        add("rep", "create opportunity with an absurd amount", "-", ValidationError)

        # decisions: only the approver resolved for the band
        for role in ROLES:
            for fixture in PENDING:
                approver = BAND_APPROVER[fixture] == role
                add(
                    role,
                    "approve (registration)",
                    fixture,
                    ALLOWED if approver else AccessError,
                    self._check_state("approved") if approver else None,
                )
                add(
                    role,
                    "approve (lead)",
                    fixture,
                    ALLOWED if approver else AccessError,
                    self._check_state("approved") if approver else None,
                )
                add(
                    role,
                    "reject (registration)",
                    fixture,
                    ALLOWED if approver else AccessError,
                    self._check_state("rejected") if approver else None,
                )
                add(
                    role,
                    "validate_tier",
                    fixture,
                    ALLOWED if approver else AccessError,
                    self._check_state("submitted") if approver else None,
                )
            add(role, "restart_validation", "ordinary", AccessError)
            add(role, "request_validation", "ordinary", AccessError)
        for role in ("rep", "approver", "manager"):
            add(role, "approve (registration)", "approved", UserError)
        add("rep", "comment wizard approve", "ordinary", AccessError)
        add("manager", "comment wizard approve", "ordinary", AccessError)
        add("leader_other_team", "comment wizard approve", "ordinary", AccessError)
        add("deputy", "comment wizard approve", "ordinary", AccessError)
        add(
            "approver", "comment wizard approve", "ordinary", ALLOWED, self._check_state("approved")
        )

        # the engine's reviews: no internal user writes them
        for role in ROLES:
            for op in ("tier.review write status", "tier.review create", "tier.review unlink"):
                add(role, op, "ordinary", AccessError)
        add("deputy", "tier.review write status", "important", AccessError)
        add("branch", "tier.review unlink", "major", AccessError)

        # lock lifecycle
        for role in ROLES:
            add(
                role,
                "release",
                "approved",
                *refused_unless(("rep", "manager"), role, self._check_state("released")),
            )
            add(
                role,
                "withdraw",
                "ordinary",
                *refused_unless(("rep", "manager"), role, self._check_state("withdrawn")),
            )
            add(
                role,
                "transfer (int id)",
                "approved",
                *refused_unless(("manager",), role, self._check_transferred),
            )
            add(
                role,
                "extend (str date)",
                "approved",
                *refused_unless(("manager",), role, self._check_extended(self.extension_end)),
            )
        add("rep", "release", "ordinary", UserError)
        add("rep", "withdraw", "approved", UserError)
        add("manager", "transfer (str id)", "approved", ALLOWED, self._check_transferred)
        add("manager", "transfer to other company's rep", "approved", UserError)
        add("manager", "transfer without reason", "approved", UserError)
        add("manager", "transfer to a non-id", "approved", UserError)
        add(
            "manager",
            "extend (date)",
            "approved",
            ALLOWED,
            self._check_extended((self.today + timedelta(days=200)).isoformat()),
        )
        add("manager", "extend beyond 3 years", "approved", UserError)
        add("manager", "extend (str date)", "ordinary", UserError)

        # the public pool
        for role in ROLES:
            if role == "rep":
                expected, check = UserError, None  # the re-claim cooldown
            elif role in ("rep_other_company", "reg_user_only"):
                expected, check = AccessError, None
            else:
                expected, check = ALLOWED, self._check_claimed(role)
            add(role, "claim", "released", expected, check)
        add("approver", "claim", "approved", UserError)

        # the opportunity
        for role in ROLES:
            if role == "manager":
                expected = ALLOWED
            elif role in ("rep", "approver", "deputy", "branch"):
                expected = UserError  # may write the lead, not give the lock away
            else:
                expected = AccessError
            add(role, "change salesperson", "approved", expected)
        add("rep", "change salesperson", "ordinary", UserError)
        add("manager", "change salesperson", "ordinary", ALLOWED)
        add("rep", "change customer", "approved", UserError)
        add("approver", "change customer", "approved", UserError)
        add("rep2", "change customer", "approved", AccessError)
        add("manager", "change customer", "approved", ALLOWED)
        add("rep", "merge two registered opportunities", "-", UserError)
        add("approver", "merge two registered opportunities", "-", UserError)
        add("manager", "merge two registered opportunities", "-", UserError)
        add("rep2", "merge two registered opportunities", "-", AccessError)
        for role in ROLES:
            add(
                role, "create opportunity", "-", AccessError if role == "reg_user_only" else ALLOWED
            )
        add("rep_other_company", "create opportunity in company A", "-", AccessError)

        # a portal user (channel partner) reaches nothing through the ORM: the
        # portal pages are its only way in
        for op in (
            "read registration",
            "search registrations",
            "read_group registrations by state",
            "read lock history",
            "read conflicting opportunities",
            "write registration state",
            "approve (registration)",
            "approve (lead)",
            "reject (registration)",
            "validate_tier",
            "comment wizard approve",
            "restart_validation",
            "request_validation",
            "tier.review write status",
            "tier.review create",
            "tier.review unlink",
            "withdraw",
            "transfer (int id)",
            "extend (str date)",
            "change salesperson",
            "change customer",
            "create opportunity",
            "forged context: approve own",
            "forged context: write registration state",
        ):
            add("portal_partner", op, "ordinary", AccessError)
        for op in ("release", "claim"):
            add("portal_partner", op, "approved" if op == "release" else "released", AccessError)
        add("portal_partner", "write lead registration_state", "ordinary", UserError)

        # forged context keys widen nothing
        add("rep", "forged context: change salesperson", "approved", UserError)
        add("approver", "forged context: change salesperson", "approved", UserError)
        add("rep", "forged context: write lead registration_state", "ordinary", UserError)
        add("manager", "forged context: write registration state", "ordinary", AccessError)
        add("rep", "forged context: approve own", "ordinary", AccessError)
        add("approver", "forged context: tier.review write", "ordinary", AccessError)
        return cells

    def _run_cell(self, operations, role, op, fixture, expected, check):
        user = self.users[role]
        lead = self._fixture(fixture)
        if expected == ALLOWED:
            result = operations[op](lead, user)
            self.env.flush_all()
            self.env.invalidate_all()
            if check:
                check(result, lead)
            return
        with self.assertRaises(expected) as caught:
            operations[op](lead, user)
            self.env.flush_all()
        self.assertIs(
            type(caught.exception),
            expected,
            "%s instead of %s: %s"
            % (type(caught.exception).__name__, expected.__name__, caught.exception),
        )

    def test_role_matrix(self):
        # the fixtures are what the matrix assumes
        for key in PENDING:
            reg = self.fx[key].registration_id
            self.assertEqual(reg.state, "submitted", key)
            self.assertEqual(len(reg.review_ids), 1, key)
        self.assertEqual(self.fx["ordinary"].registration_id.review_ids.reviewer_ids, self.approver)
        self.assertEqual(self.fx["important"].registration_id.review_ids.reviewer_ids, self.deputy)
        self.assertEqual(self.fx["major"].registration_id.review_ids.reviewer_ids, self.branch)
        self.assertIn(self.manager, self.fx["unresolved"].registration_id.approver_ids)
        self.assertNotIn(self.approver, self.fx["unresolved"].registration_id.approver_ids)
        self.assertEqual(self.fx["approved"].registration_state, "approved")
        self.assertTrue(
            self.manager.has_group("opportunity_registration.group_registration_manager")
        )
        self.assertFalse(self.reg_user_only.has_group("sales_team.group_sale_salesman"))
        self.assertEqual(self.rep_other_company.company_ids, self.company_b)

        operations = self._operations()
        cells = self._cells()
        self.env.flush_all()
        # pytest (without pytest-subtests) stops a test at its first failing
        # subTest: failures are collected so that every cell runs, and listed
        # together at the end.
        reports_subtests = getattr(self._outcome, "result_supports_subtests", False)
        failures = []
        for role, op, fixture, expected, check in cells:
            label = expected if expected == ALLOWED else expected.__name__
            with self.subTest(role=role, op=op, fixture=fixture, expected=label):
                with self.env.cr.savepoint() as savepoint:
                    try:
                        self._run_cell(operations, role, op, fixture, expected, check)
                    except Exception as exc:
                        failures.append(
                            "%s | %s | %s | expected %s: %s: %s"
                            % (
                                role,
                                op,
                                fixture,
                                label,
                                type(exc).__name__,
                                str(exc).strip().replace("\n", " ")[:400],
                            )
                        )
                        if reports_subtests:
                            raise
                    finally:
                        savepoint.close(rollback=True)
                        self.env.invalidate_all()
        self.assertEqual(len(cells), 445, "the size of the matrix")
        if failures and not reports_subtests:
            self.fail(
                "%d of %d cells failed:\n%s" % (len(failures), len(cells), "\n".join(failures))
            )
