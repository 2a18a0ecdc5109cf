import logging
from datetime import timedelta

import psycopg2.errors
from markupsafe import Markup, escape

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.tools import SQL, ormcache

_logger = logging.getLogger(__name__)

ACTIVE_STATES = ("submitted", "approved")
# Keys that identify a customer, each unique among active registrations.
KEY_FIELDS = ("customer_key", "vat_key", "domain_key", "phone_key")
REGISTRATION_STATES = [
    ("submitted", "Pending Review"),
    ("approved", "Registered"),
    ("rejected", "Rejected"),
    ("withdrawn", "Withdrawn"),
    ("expired", "Expired"),
    ("released", "Released"),
]
# Which state each transition may start from.
TRANSITIONS = {
    "approve": ("submitted",),
    "reject": ("submitted",),
    "withdraw": ("submitted",),
    "release": ("approved",),
}
BANDS = [
    ("small", "Small"),
    ("ordinary", "Ordinary"),
    ("important", "Important"),
    ("major", "Major"),
]


class CrmLeadRegistration(models.Model):
    """One submission of an opportunity for registration (报备单).

    The approval engine lives here rather than on ``crm.lead`` so that stock
    batch operations on leads do not pay for it (SPEC §8). The lead mirrors the
    current registration in stored fields.
    """

    _name = "crm.lead.registration"
    _description = "Opportunity Registration"
    _inherit = ["mail.thread", "tier.validation"]
    _order = "date_submitted desc, id desc"

    _state_field = "state"
    _state_from = ["submitted"]
    _state_to = ["approved"]
    _cancel_state = "rejected"

    name = fields.Char(
        "Number", required=True, readonly=True, copy=False, default="/", index="trigram"
    )
    lead_id = fields.Many2one(
        "crm.lead", "Opportunity", required=True, readonly=True, index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(
        "res.company", "Company", required=True, readonly=True, index=True,
        default=lambda self: self.env.company,
    )
    user_id = fields.Many2one(
        "res.users", "Owner", required=True, readonly=True, index=True, tracking=True,
        help="Salesperson who holds the registration and, once approved, the "
        "lock on the customer.",
    )
    team_id = fields.Many2one("crm.team", "Sales Team", readonly=True)
    state = fields.Selection(
        REGISTRATION_STATES, "Status", required=True, readonly=True, copy=False,
        default="submitted", index=True, tracking=True,
    )
    partner_id = fields.Many2one("res.partner", "Customer", readonly=True)
    customer_name = fields.Char(
        "Customer Name", readonly=True, help="Company name as submitted."
    )
    customer_key = fields.Char(
        "Customer Key", readonly=True, index="btree_not_null",
        help="Normalized customer identity used to detect conflicting registrations.",
    )
    vat_key = fields.Char("Tax ID Key", readonly=True, index="btree_not_null")
    domain_key = fields.Char("E-mail Domain Key", readonly=True, index="btree_not_null")
    phone_key = fields.Char("Phone Key", readonly=True, index="btree_not_null")
    product_line_id = fields.Many2one(
        "crm.tag", "Product Line", readonly=True,
        help="When locks are scoped by product line, the line this registration locks.",
    )
    scope_team_id = fields.Many2one(
        "crm.team", "Locked for Team", readonly=True,
        help="When locks are scoped by sales team, the team this registration locks "
        "the customer for; other teams may register the same customer.",
    )
    last_follow_up_date = fields.Date(
        "Last Follow-up", readonly=True, copy=False,
        help="Last qualifying follow-up (done activity, logged note or meeting).",
    )
    expiry_warned = fields.Boolean("Expiry Warned", readonly=True, copy=False)
    extension_end_date = fields.Date(
        "Extension Granted Until", readonly=True, copy=False,
        help="A manager allowed renewals beyond the maximum protection until this date.",
    )
    event_ids = fields.One2many("crm.lead.registration.event", "registration_id", "Lock History")
    amount = fields.Monetary(
        "Amount", readonly=True, currency_field="currency_id",
        help="Expected revenue as submitted, in the company currency.",
    )
    currency_id = fields.Many2one(
        "res.currency", related="company_id.currency_id", string="Currency"
    )
    band = fields.Selection(BANDS, "Approval Band", readonly=True)
    date_submitted = fields.Datetime("Submitted On", readonly=True, copy=False)
    user_name = fields.Char(
        related="user_id.name", store=True, precompute=True, string="Owner Name",
        help="Kept with the registration so that the conflict check names the "
        "owner from the row it finds, in one query.",
    )
    submitted_by_id = fields.Many2one("res.users", "Submitted By", readonly=True)
    date_approved = fields.Datetime("Approved On", readonly=True, copy=False)
    approved_by_id = fields.Many2one("res.users", "Approved By", readonly=True)
    date_closed = fields.Datetime(
        "Closed On", readonly=True, copy=False,
        help="When the registration left the active states.",
    )
    protection_end_date = fields.Date(
        "Protection End", readonly=True, copy=False, index="btree_not_null",
        help="Last day of the owner's exclusive lock on the customer.",
    )
    close_reason = fields.Text("Reason", readonly=True)
    approver_ids = fields.Many2many(
        "res.users", "crm_lead_registration_approver_rel", "registration_id", "user_id",
        "Approvers", readonly=True, copy=False,
        help="Who may approve this registration: the approver of its band, plus the "
        "next band's approver once the review is escalated.",
    )
    date_review_requested = fields.Datetime("Review Requested On", readonly=True, copy=False)
    escalated = fields.Boolean("Escalated", readonly=True, copy=False)

    _one_active_per_lead = models.UniqueIndex(
        "(lead_id) WHERE state IN ('submitted', 'approved')",
        "An opportunity can have only one active registration.",
    )
    _one_active_per_customer = models.UniqueIndex(
        "(company_id, COALESCE(product_line_id, 0), COALESCE(scope_team_id, 0), customer_key)"
        " WHERE state IN ('submitted', 'approved')",
        "This customer already has an active registration.",
    )
    _one_active_per_vat = models.UniqueIndex(
        "(company_id, COALESCE(product_line_id, 0), COALESCE(scope_team_id, 0), vat_key)"
        " WHERE state IN ('submitted', 'approved')",
        "A customer with this tax ID already has an active registration.",
    )
    _one_active_per_domain = models.UniqueIndex(
        "(company_id, COALESCE(product_line_id, 0), COALESCE(scope_team_id, 0), domain_key)"
        " WHERE state IN ('submitted', 'approved')",
        "A customer with this e-mail domain already has an active registration.",
    )
    _one_active_per_phone = models.UniqueIndex(
        "(company_id, COALESCE(product_line_id, 0), COALESCE(scope_team_id, 0), phone_key)"
        " WHERE state IN ('submitted', 'approved')",
        "A customer with this phone number already has an active registration.",
    )

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                company = self.env["res.company"].browse(
                    vals.get("company_id") or self.env.company.id
                )
                vals["name"] = self._next_number(company)
        return super().create(vals_list)

    def write(self, vals):
        # Refuse on access rights before the approval engine looks at the values.
        if not self.env.su:
            self.check_access("write")
        return super().write(vals)

    def _check_state_conditions(self, vals):
        """The approval the module writes is the engine's own outcome (or an
        automatic band): it is not validated a second time."""
        if self.env.context.get("skip_validation_check"):
            return False
        return super()._check_state_conditions(vals)

    def _message_auto_subscribe_followers(self, updated_values, default_subtype_ids):
        """The owner follows the opportunity, where every registration event is
        logged; following the registration document too would only add a
        follower row per submission."""
        return []

    def _tier_validation_check_write_allowed(self, vals):
        """The module's own transitions (checked by its actions) skip the engine's
        field-by-field write checks, which cost two queries per record."""
        if self.env.context.get("skip_validation_check"):
            return None
        return super()._tier_validation_check_write_allowed(vals)

    @api.model
    def _next_number(self, company):
        """Number from the company's own sequence."""
        sequence = self.env["ir.sequence"].sudo().browse(self._company_sequence_id(company.id))
        try:
            return sequence.next_by_id()
        except MissingError:  # deleted by an administrator since it was cached
            self.env.registry.clear_cache()
            return self._company_sequence(company).next_by_id()

    @api.model
    @ormcache("company_id")
    def _company_sequence_id(self, company_id):
        return self._company_sequence(self.env["res.company"].browse(company_id)).id

    @api.model
    def _company_sequence(self, company):
        """The company's registration sequence, created from the template if missing.

        Created at install and with each new company, so that two first
        submissions never race to create two sequences numbering alike.
        """
        Sequence = self.env["ir.sequence"].sudo()
        sequence = Sequence.search(
            [("code", "=", "crm.lead.registration"), ("company_id", "=", company.id)],
            limit=1,
        )
        if not sequence:
            sequence = self.env.ref(
                "opportunity_registration.seq_crm_lead_registration"
            ).sudo().copy({
                "name": self.env._("Opportunity Registration"),
                "code": "crm.lead.registration",
                "company_id": company.id,
            })
        return sequence

    @api.ondelete(at_uninstall=False)
    def _unlink_except_active(self):
        if any(reg.state in ACTIVE_STATES for reg in self):
            raise UserError(self.env._(
                "An active registration cannot be deleted: withdraw or release it first."
            ))

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _check_transition(self, transition):
        allowed = TRANSITIONS[transition]
        labels = dict(self._fields["state"]._description_selection(self.env))
        for reg in self:
            if reg.state not in allowed:
                raise UserError(self.env._(
                    "Registration %(number)s is %(state)s: it cannot be %(action)s.",
                    number=reg.name,
                    state=labels[reg.state],
                    action=self._transition_label(transition),
                ))

    def _transition_label(self, transition):
        return {
            "approve": self.env._("approved"),
            "reject": self.env._("rejected"),
            "withdraw": self.env._("withdrawn"),
            "release": self.env._("released"),
        }[transition]

    def _check_can_review(self):
        """Approvers decide, never on their own registration (server-side)."""
        user = self.env.user
        if not user.has_group("opportunity_registration.group_registration_approver"):
            raise AccessError(self.env._(
                "Only registration approvers can approve or reject registrations."
            ))
        for reg in self:
            if reg.user_id == user or reg.submitted_by_id == user:
                raise AccessError(self.env._(
                    "You cannot approve or reject your own registration %(number)s.",
                    number=reg.name,
                ))

    def _protection_days(self):
        return self.company_id.registration_protection_days or 90

    def _set_approved(self, automatic=False, comment=False):
        # The engine caches need_validation; reviews created since make it stale.
        self.invalidate_recordset(["need_validation", "validation_status"])
        now = fields.Datetime.now()
        for reg in self:
            # the outcome of the approval itself (or of an automatic band)
            reg.sudo().with_context(skip_validation_check=True).write({
                "state": "approved",
                "date_approved": now,
                "approved_by_id": not automatic and self.env.user.id,
                "last_follow_up_date": fields.Date.context_today(reg),
                "expiry_warned": False,
                "protection_end_date": fields.Date.context_today(reg) + timedelta(
                    days=reg._protection_days()
                ),
            })
        self.lead_id._sync_registration()
        self.env["crm.lead.registration.event"]._log(self, "granted")
        self._schedule_follow_up()
        for reg in self:
            if automatic:
                body = self.env._(
                    "Registration %(number)s submitted by %(user)s and approved "
                    "automatically (small band, %(amount)s); the customer is protected "
                    "until %(date)s.",
                    number=reg.name, user=reg.submitted_by_id.name, amount=reg.amount,
                    date=reg.protection_end_date,
                )
            else:
                body = self.env._(
                    "Registration %(number)s approved by %(user)s; the customer is "
                    "protected until %(date)s.",
                    number=reg.name, user=self.env.user.name, date=reg.protection_end_date,
                )
                if comment:
                    body = self.env._("%(message)s Comment: %(comment)s", message=body, comment=comment)
            reg.lead_id._message_log(body=body)
        if not automatic:
            self._close_review_activities()

    def _start_review(self):
        """Approve what its band approves automatically; ask the approvers for the rest."""
        bands = {reg: reg.company_id._registration_band_record(reg.amount) for reg in self}
        automatic = self.filtered(lambda r: bands[r].approval == "automatic")
        automatic._set_approved(automatic=True)
        to_review = self - automatic
        for reg in to_review:
            band = bands[reg]
            approvers = band._approvers(reg.team_id) - reg.user_id - reg.submitted_by_id
            if not approvers:
                approvers = self._registration_managers() - reg.user_id - reg.submitted_by_id
            reg.sudo().write({
                "approver_ids": [(6, 0, approvers.ids)],
                "date_review_requested": fields.Datetime.now(),
            })
            if band.follow_up == "approver":
                reg.lead_id.sudo().message_subscribe(partner_ids=approvers.partner_id.ids)
        to_review.invalidate_recordset(["need_validation"])
        to_review.sudo().request_validation()
        to_review.invalidate_recordset(["need_validation", "validation_status"])
        to_review._schedule_review_activities(to_review.approver_ids)
        # approved ones were mirrored by _set_approved
        to_review.lead_id._sync_registration()

    @api.model
    def _registration_managers(self):
        """Active internal users who are registration managers, directly or not."""
        return self.env.ref(
            "opportunity_registration.group_registration_manager"
        ).sudo().all_user_ids.filtered(lambda u: u.active and not u.share)

    def _schedule_review_activities(self, users, notify=False):
        """A to-do for each approver. The approval engine e-mails the approvers
        it asks, so the activity only e-mails those it does not (``notify``)."""
        for reg in self:
            for user in users & reg.approver_ids:
                reg.lead_id.sudo().with_context(mail_activity_quick_update=not notify).activity_schedule(
                    "mail.mail_activity_data_todo",
                    user_id=user.id,
                    summary=self.env._("Review registration %(number)s", number=reg.name),
                    note=self.env._(
                        "%(owner)s registered %(customer)s for %(amount)s (%(band)s band).",
                        owner=reg.user_id.name, customer=reg.customer_name,
                        amount=reg.amount, band=dict(BANDS)[reg.band],
                    ),
                )

    def _follow_up_user(self):
        """Who must post the weekly update: the rep, or the approver personally (SPEC §3)."""
        self.ensure_one()
        band = self.company_id._registration_band_record(self.amount)
        if band.follow_up == "approver" and self.approved_by_id:
            return self.approved_by_id
        return self.user_id

    def _schedule_follow_up(self, users=None):
        for reg in self:
            user = users and users[reg] or reg._follow_up_user()
            reg.lead_id.sudo().activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=fields.Date.context_today(reg) + timedelta(days=7),
                user_id=user.id,
                summary=self.env._("Weekly follow-up of %(number)s", number=reg.name),
                note=self.env._(
                    "Log what happened with %(customer)s this week: registrations "
                    "need a weekly update.",
                    customer=reg.customer_name,
                ),
            )

    @api.model
    def _cron_remind_follow_up(self):
        """Remind who follows up registrations with no update for 7 days, set-based."""
        since = fields.Datetime.now() - timedelta(days=7)
        approved = self.sudo().search([
            ("state", "=", "approved"), ("date_approved", "<", since),
        ])
        if not approved:
            return self.browse()
        updated = {
            res_id for res_id, in self.env["mail.message"].sudo()._read_group(
                [
                    ("model", "=", "crm.lead"),
                    ("res_id", "in", approved.lead_id.ids),
                    ("message_type", "in", ("comment", "email")),
                    ("date", ">=", since),
                ],
                ["res_id"],
            )
        }
        summaries = [self.env._("Weekly follow-up of %(number)s", number=r.name) for r in approved]
        reminded = {
            res_id for res_id, in self.env["mail.activity"].sudo()._read_group(
                [
                    ("res_model", "=", "crm.lead"),
                    ("res_id", "in", approved.lead_id.ids),
                    ("summary", "in", summaries),
                ],
                ["res_id"],
            )
        }
        stale = approved.filtered(
            lambda r: r.lead_id.id not in updated and r.lead_id.id not in reminded
        )
        stale._schedule_follow_up()
        return stale

    def _close_review_activities(self):
        summaries = [self.env._("Review registration %(number)s", number=reg.name) for reg in self]
        activities = self.env["mail.activity"].sudo().search([
            ("res_model", "=", "crm.lead"),
            ("res_id", "in", self.lead_id.ids),
            ("summary", "in", summaries),
        ])
        activities.action_feedback(feedback=self.env._("Registration decided."))

    # ------------------------------------------------------------
    # TIER VALIDATION
    # ------------------------------------------------------------

    def _check_reviewer(self, tiers=False):
        """Only the assigned approvers decide, never on their own registration."""
        user = self.env.user
        for reg in self:
            if user in (reg.user_id | reg.submitted_by_id):
                raise AccessError(self.env._(
                    "You cannot approve or reject your own registration %(number)s.",
                    number=reg.name,
                ))
            reviews = (tiers or reg.review_ids).filtered(
                lambda r: r.status in ("waiting", "pending")
            )
            if not any(user in review.reviewer_ids for review in reviews):
                raise AccessError(self.env._(
                    "You are not an approver of registration %(number)s (%(band)s band).",
                    number=reg.name, band=dict(BANDS)[reg.band],
                ))

    def _validate_tier(self, tiers=False):
        self._check_transition("approve")
        self._check_reviewer(tiers)
        # Checked above: the engine may now notify and subscribe as superuser.
        result = super(CrmLeadRegistration, self.sudo())._validate_tier(tiers and tiers.sudo())
        self.invalidate_recordset(["validation_status"])
        if self.validation_status == "validated":
            comment = (tiers or self.review_ids).filtered(
                lambda r: r.done_by == self.env.user and r.comment
            )[:1].comment
            self._set_approved(comment=comment)
        return result

    def _rejected_tier(self, tiers=False):
        self._check_transition("reject")
        self._check_reviewer(tiers)
        result = super(CrmLeadRegistration, self.sudo())._rejected_tier(tiers and tiers.sudo())
        comment = (tiers or self.review_ids).filtered(
            lambda r: r.status == "rejected" and r.comment
        )[:1].comment
        self._close("rejected", comment, self.env._(
            "Registration %(number)s rejected by %(user)s."
        ))
        return result

    @api.model
    def _cron_escalate(self):
        """Hand reviews pending too long to the next band's approvers as well."""
        escalated = self.browse()
        for company in self.env["res.company"].sudo().search([]):
            limit = self._working_days_ago(company.registration_escalation_days)
            pending = self.sudo().search([
                ("company_id", "=", company.id),
                ("state", "=", "submitted"),
                ("escalated", "=", False),
                ("date_review_requested", "<", limit),
            ])
            for reg in pending:
                band = company._registration_band_record(reg.amount)
                extra = band._next_band()._approvers(reg.team_id) - reg.approver_ids \
                    - reg.user_id - reg.submitted_by_id
                if not extra:
                    extra = self._registration_managers() - reg.approver_ids \
                        - reg.user_id - reg.submitted_by_id
                reg.with_context(skip_validation_check=True).write({
                    "approver_ids": [(4, user.id) for user in extra],
                    "escalated": True,
                })
                reviews = reg.review_ids.filtered(lambda r: r.status in ("waiting", "pending"))
                self.env.add_to_compute(reviews._fields["reviewer_ids"], reviews)
                reg._schedule_review_activities(extra, notify=True)
                reg.lead_id._message_log(body=self.env._(
                    "Registration %(number)s waited more than %(days)s working days for "
                    "review: escalated to %(users)s.",
                    number=reg.name, days=company.registration_escalation_days,
                    users=", ".join(extra.mapped("name")) or "-",
                ))
                escalated |= reg
        return escalated

    @api.model
    def _working_days_ago(self, days):
        moment = fields.Datetime.now()
        while days > 0:
            moment -= timedelta(days=1)
            if moment.weekday() < 5:
                days -= 1
        return moment

    def _request_reapproval(self):
        """An approved registration whose amount entered a higher band is reviewed again."""
        for reg in self:
            reg.lead_id._message_log(body=self.env._(
                "Registration %(number)s goes back to review: the amount rose to the "
                "%(band)s band. The customer stays locked meanwhile.",
                number=reg.name, band=dict(BANDS)[reg.lead_id.registration_band],
            ))
            reg.sudo().with_context(skip_check_state_condition=True).write({
                "state": "submitted",
                "amount": reg.lead_id._registration_amount(),
                "band": reg.lead_id.registration_band,
                "date_approved": False,
                "approved_by_id": False,
            })
            reg.sudo().review_ids.unlink()
        self._start_review()

    def _close(self, state, reason, message):
        """Move to a closed state, record why, and mirror it on the lead."""
        if state != self._cancel_state:
            # Withdrawn, released or expired: open reviews have nothing left to decide.
            self.sudo().review_ids.filtered(
                lambda r: r.status in ("waiting", "pending")
            ).unlink()
        self.sudo().with_context(skip_validation_check=True).write({
            "state": state,
            "date_closed": fields.Datetime.now(),
            "close_reason": reason or False,
            "protection_end_date": False,
        })
        self.lead_id._sync_registration()
        self.env["crm.lead.registration.event"]._log(self, state, note=reason)
        self._close_review_activities()
        bodies = {}
        for reg in self:
            body = message % {"number": reg.name, "user": self.env.user.name}
            if reason:
                body = self.env._("%(message)s Reason: %(reason)s", message=body, reason=reason)
            bodies[reg.lead_id.id] = body
        self.lead_id._message_log_batch(bodies=bodies)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_approve(self, comment=False):
        """Approve a pending registration through the tier-validation engine.

        A registration without reviews (its band's approver could not be
        resolved when it was submitted) is approved by a registration approver.
        """
        self._check_transition("approve")
        for reg in self:
            if reg.review_ids:
                reg._write_review_comment(comment)
                reg._validate_tier()
            else:
                reg._check_can_review()
                reg._set_approved(comment=comment)
        return True

    def action_reject(self, reason=False):
        self._check_transition("reject")
        if not reason:
            raise UserError(self.env._("Say why the registration is rejected."))
        for reg in self:
            if reg.review_ids:
                reg._check_reviewer()
                reg._write_review_comment(reason)
                reg._rejected_tier()
            else:
                reg._check_can_review()
                reg._close("rejected", reason, self.env._(
                    "Registration %(number)s rejected by %(user)s."
                ))
        return True

    def _write_review_comment(self, comment):
        if comment:
            self.review_ids.filtered(
                lambda r: r.status in ("waiting", "pending") and self.env.user in r.reviewer_ids
            ).sudo().comment = comment

    def action_withdraw(self, reason=False):
        self._check_transition("withdraw")
        self._check_owner_or_manager()
        self._close("withdrawn", reason, self.env._(
            "Registration %(number)s withdrawn by %(user)s."
        ))
        return True

    def action_release(self, reason=False):
        self._check_transition("release")
        self._check_owner_or_manager()
        self._close("released", reason, self.env._(
            "Registration %(number)s released to the public pool by %(user)s."
        ))
        return True

    def _check_owner_or_manager(self):
        user = self.env.user
        if user.has_group("opportunity_registration.group_registration_manager"):
            return
        for reg in self:
            if reg.user_id != user:
                raise AccessError(self.env._(
                    "Only %(owner)s or a registration manager can do this on "
                    "registration %(number)s.",
                    owner=reg.user_id.name,
                    number=reg.name,
                ))

    @api.model
    def _cron_expire(self):
        """Expire neglected or ended locks in one set-based pass per company."""
        today = fields.Date.context_today(self)
        expired = self.browse()
        for company in self.env["res.company"].sudo().search([]):
            neglected_since = today - timedelta(days=company.registration_neglect_days)
            expired |= self.sudo().search([
                ("company_id", "=", company.id),
                ("state", "=", "approved"),
                "|",
                ("protection_end_date", "<", today),
                ("last_follow_up_date", "<", neglected_since),
            ])
        if expired:
            expired._close("expired", False, self.env._(
                "Registration %(number)s expired: its protection period ended or the "
                "customer was not followed up. The customer is back in the public pool."
            ))
        return expired

    @api.model
    def _cron_warn_expiry(self):
        """Warn owners a few days before their lock ends (activity + e-mail)."""
        today = fields.Date.context_today(self)
        warned = self.browse()
        for company in self.env["res.company"].sudo().search([]):
            soon = today + timedelta(days=company.registration_warning_days)
            warned |= self.sudo().search([
                ("company_id", "=", company.id),
                ("state", "=", "approved"),
                ("expiry_warned", "=", False),
                ("protection_end_date", "<=", soon),
            ])
        if not warned:
            return warned
        # In batch: one INSERT of activities, then one e-mail per owner listing
        # their registrations about to expire.
        warned._create_warning_activities()
        mails = []
        for owner, regs in warned.grouped("user_id").items():
            if not owner.email:
                continue
            lines = "".join(
                "<li>%s</li>" % escape(self.env._(
                    "%(number)s, %(customer)s: protected until %(date)s",
                    number=reg.name, customer=reg.customer_name, date=reg.protection_end_date,
                )) for reg in regs
            )
            mails.append({
                "subject": self.env._("Registrations about to expire"),
                "body_html": "<p>%s</p><ul>%s</ul>" % (escape(self.env._(
                    "Follow these customers up (a done activity, a logged note or a "
                    "meeting) to keep them, or release them:")), lines),
                "email_to": owner.email_formatted,
                "auto_delete": True,
            })
        self.env["mail.mail"].sudo().create(mails)
        warned.with_context(skip_validation_check=True).write({"expiry_warned": True})
        return warned

    def _create_warning_activities(self):
        """A to-do for each owner on each opportunity whose lock ends soon, in one INSERT.

        ``mail.activity.create()`` costs about a millisecond per activity
        (computed fields, then a follower subscription per assignee): 12,000
        warnings on a busy day took 14 s. The rows inserted are the ones
        create() stores; owners who do not follow their opportunity yet are
        subscribed with the default subtypes, as create() would do.
        """
        if not self:
            return
        env = self.env
        env.flush_all()
        leads = self.lead_id.sudo()
        names = dict(zip(leads.ids, leads.mapped("display_name")))
        todo = env.ref("mail.mail_activity_data_todo")
        subtypes = env["mail.message.subtype"].default_subtypes("crm.lead")[0].ids
        env.cr.execute(SQL(
            """
            WITH todo AS (
                SELECT * FROM unnest(%(leads)s::int[], %(users)s::int[], %(deadlines)s::date[],
                                     %(names)s::text[], %(summaries)s::text[], %(notes)s::text[])
                         AS t(res_id, user_id, date_deadline, res_name, summary, note)
            ), activities AS (
                INSERT INTO mail_activity (
                    res_model_id, res_model, res_id, res_name, activity_type_id, user_id, user_tz,
                    summary, note, date_deadline, automated, active,
                    create_uid, create_date, write_uid, write_date)
                SELECT %(model_id)s, 'crm.lead', t.res_id, t.res_name, %(type_id)s, t.user_id, p.tz,
                       t.summary, t.note, t.date_deadline, TRUE, TRUE,
                       %(uid)s, now() at time zone 'UTC', %(uid)s, now() at time zone 'UTC'
                  FROM todo t
                  JOIN res_users u ON u.id = t.user_id
                  JOIN res_partner p ON p.id = u.partner_id
            ), followers AS (
                INSERT INTO mail_followers (res_model, res_id, partner_id)
                SELECT DISTINCT 'crm.lead', t.res_id, u.partner_id
                  FROM todo t JOIN res_users u ON u.id = t.user_id
                    ON CONFLICT DO NOTHING
             RETURNING id
            )
            INSERT INTO mail_followers_mail_message_subtype_rel (mail_followers_id, mail_message_subtype_id)
            SELECT f.id, s.id FROM followers f, unnest(%(subtypes)s::int[]) AS s(id)
            """,
            leads=[reg.lead_id.id for reg in self],
            users=[reg.user_id.id for reg in self],
            deadlines=[reg.protection_end_date for reg in self],
            names=[names[reg.lead_id.id] for reg in self],
            summaries=[
                env._("Registration %(number)s expires on %(date)s",
                      number=reg.name, date=reg.protection_end_date)
                for reg in self
            ],
            notes=[
                str(Markup("<p>%s</p>") % env._(
                    "Follow up %(customer)s (a done activity, a logged note or a meeting) "
                    "to keep it, or release it.", customer=reg.customer_name,
                ))
                for reg in self
            ],
            model_id=env["ir.model"]._get_id("crm.lead"), type_id=todo.id, uid=env.uid,
            subtypes=subtypes,
        ))
        for model in ("mail.activity", "mail.followers", "crm.lead"):
            env[model].invalidate_model()
        today = fields.Date.context_today(self)
        for owner, regs in self.filtered(lambda r: r.protection_end_date <= today).grouped("user_id").items():
            owner._bus_send("mail.activity/updated", {"activity_created": True, "count_diff": len(regs)})

    @api.model
    def _renew_from_follow_up(self, lead_ids, kind):
        """Extend the locks of these leads after a qualifying follow-up."""
        regs = self.sudo().search([("lead_id", "in", lead_ids), ("state", "=", "approved")])
        regs = regs.filtered(lambda r: r.company_id["registration_renew_on_%s" % kind])
        if not regs:
            return regs
        today = fields.Date.context_today(self)
        renewed = self.browse()
        for reg in regs:
            company = reg.company_id
            ceiling = max(
                fields.Date.to_date(reg.date_approved) + timedelta(days=company.registration_max_days),
                reg.extension_end_date or today,
            )
            end = min(max(reg.protection_end_date, today + timedelta(days=company.registration_renewal_days)), ceiling)
            vals = {"last_follow_up_date": today, "expiry_warned": False}
            if end > reg.protection_end_date:
                vals["protection_end_date"] = end
                renewed |= reg
            reg.with_context(skip_validation_check=True).write(vals)
        if renewed:
            renewed.lead_id._sync_registration()
            self.env["crm.lead.registration.event"]._log(renewed, "renewed", note=kind)
        return renewed

    def action_grant_extension(self, end_date, reason=False):
        """A manager lets renewals go beyond the maximum protection until ``end_date``."""
        if not self.env.user.has_group("opportunity_registration.group_registration_manager"):
            raise AccessError(self.env._("Only registration managers can grant extensions."))
        self._check_transition("release")
        end_date = fields.Date.to_date(end_date)
        if end_date <= fields.Date.context_today(self):
            raise UserError(self.env._("An extension must end after today."))
        self.with_context(skip_validation_check=True).sudo().write({
            "extension_end_date": end_date,
            "protection_end_date": end_date,
            "expiry_warned": False,
        })
        self.lead_id._sync_registration()
        self.env["crm.lead.registration.event"]._log(self, "extended", note=reason)
        for reg in self:
            reg.lead_id._message_log(body=self.env._(
                "Protection of %(number)s extended until %(date)s by %(user)s.",
                number=reg.name, date=end_date, user=self.env.user.name,
            ))
        return True

    def action_transfer(self, user=None, partner=None, reason=False):
        """Arbitration: give the registration to another rep or another customer account."""
        if not self.env.user.has_group("opportunity_registration.group_registration_manager"):
            raise AccessError(self.env._("Only registration managers can transfer registrations."))
        if not reason:
            raise UserError(self.env._("Say why the registration is transferred."))
        if self.filtered(lambda r: r.state not in ACTIVE_STATES):
            raise UserError(self.env._("Only an active registration can be transferred."))
        for reg in self:
            note = []
            lead = reg.lead_id.sudo()
            if user and user != reg.user_id:
                note.append(self.env._("owner %(old)s → %(new)s", old=reg.user_id.name, new=user.name))
                lead.with_context(registration_transfer=True).user_id = user
                reg.with_context(skip_validation_check=True).sudo().user_id = user
            if partner and partner != reg.partner_id:
                note.append(self.env._("customer %(old)s → %(new)s",
                                       old=reg.customer_name, new=partner.display_name))
                lead.partner_id = partner
                vals = {k: v for k, v in lead._prepare_registration_vals().items() if k in (
                    "partner_id", "customer_name") + KEY_FIELDS}
                self._check_conflicts([dict(vals, company_id=reg.company_id.id,
                                            product_line_id=reg.product_line_id.id,
                                            scope_team_id=reg.scope_team_id.id)], exclude=reg)
                reg.with_context(skip_validation_check=True).sudo().write(vals)
            text = "; ".join(note)
            self.env["crm.lead.registration.event"]._log(reg, "transferred", note="%s. %s" % (text, reason))
            lead._message_log(body=self.env._(
                "Registration %(number)s transferred by %(user)s: %(changes)s. Reason: %(reason)s",
                number=reg.name, user=self.env.user.name, changes=text, reason=reason,
            ))
        self.lead_id._sync_registration()
        return True

    # ------------------------------------------------------------
    # SUBMISSION
    # ------------------------------------------------------------

    @api.model
    def _create_from_leads(self, leads):
        """Create one submitted registration per lead, refusing conflicts.

        The first check reads this transaction's snapshot. Submissions of one
        customer are then serialized by an advisory lock, and checked again
        in a fresh snapshot, so that the loser of a race is refused cleanly,
        naming the owner. The partial unique indexes stay the real guard: an
        insert that still collides is refused the same way.
        """
        vals_list = [lead._prepare_registration_vals() for lead in leads]
        self._check_conflicts(vals_list)
        self._lock_customer_keys(vals_list)
        message, holder = self._check_conflicts_committed(vals_list)
        if message:
            self._log_conflict_refused(holder, vals_list)
            raise UserError(message)
        try:
            with self.env.cr.savepoint():
                registrations = self.sudo().with_context(
                    mail_create_nolog=True, mail_create_nosubscribe=True,
                    mail_notrack=True,
                ).create(vals_list)
        except psycopg2.errors.UniqueViolation:
            message, holder = self._check_conflicts_committed(vals_list)
            if holder:
                self._log_conflict_refused(holder, vals_list)
            raise UserError(message or self.env._(
                "Another registration of this customer was submitted at the same "
                "moment. Reload the opportunity to see who holds it."
            )) from None
        return registrations

    @api.model
    def _check_conflicts(self, vals_list, exclude=None):
        rows = [r for r in self._active_holders(vals_list) if not exclude or r["id"] not in exclude.ids]
        holder = self._first_holder(vals_list, rows)
        if holder:
            self._log_conflict_refused(holder, vals_list)
            raise UserError(self._format_conflict(holder))
        seen = {}
        for vals in vals_list:
            for field in KEY_FIELDS:
                key = (vals["company_id"], vals.get("product_line_id"), vals.get("scope_team_id"),
                       field, vals.get(field))
                if vals.get(field) and key in seen:
                    raise UserError(self.env._(
                        "Two of the selected opportunities are for the same customer "
                        "(%(customer)s): register only one of them.",
                        customer=vals.get("customer_name"),
                    ))
                seen[key] = vals

    @api.model
    def _lock_customer_keys(self, vals_list):
        """Serialize submissions of one customer across workers and servers.

        Transaction-scoped advisory locks, taken in a fixed order (no deadlock),
        released at commit or rollback. Whatever the product line: a lock
        without line and one with a line of the same customer exclude each
        other (see _holders_of), which the unique indexes cannot express.
        """
        keys = sorted({
            "%s/%s/%s" % (v["company_id"], f, v[f])
            for v in vals_list for f in KEY_FIELDS if v.get(f)
        })
        if keys:
            self.env.cr.execute(SQL(
                "SELECT pg_advisory_xact_lock(h) FROM "
                "(SELECT hashtext(k) AS h FROM unnest(%s::text[]) k ORDER BY k) s",
                keys,
            ))

    @api.model
    def _check_conflicts_committed(self, vals_list):
        """Who holds the customer in what other transactions committed since ours began.

        Odoo's transactions read a snapshot (repeatable read): a registration
        committed by a concurrent submission is invisible to this cursor, so the
        check runs in a fresh one. Registrations this transaction has closed
        meanwhile (an arbitration releasing the holder) do not count. While
        the registry is loading (module install), there is no other transaction
        and a fresh cursor would not see the tables being created.
        """
        if not self.env.registry.ready:
            return None, None
        try:
            with self.env.registry.cursor() as cr:
                fresh = self.with_env(self.env(cr=cr))
                rows = fresh._active_holders(vals_list)
        except psycopg2.Error:
            _logger.warning("Could not re-check registration conflicts", exc_info=True)
            return None, None
        if rows:
            self.flush_model(["state"])
            self.env.cr.execute(SQL(
                "SELECT id FROM crm_lead_registration WHERE id = ANY(%s)"
                " AND state NOT IN ('submitted', 'approved')",
                [row["id"] for row in rows],
            ))
            closed_here = {row_id for row_id, in self.env.cr.fetchall()}
            rows = [row for row in rows if row["id"] not in closed_here]
        holder = self._first_holder(vals_list, rows)
        if holder:
            return self._format_conflict(holder), holder
        return None, None

    @api.model
    def _log_conflict_refused(self, holder, vals_list):
        """Keep a trace of the refusal, which the caller's rollback would erase.

        ``holder`` is a row of :meth:`_active_holders`: it may come from a
        snapshot newer than this transaction's.
        """
        notes = ", ".join(str(v.get("customer_name")) for v in vals_list)
        values = {
            "registration_id": holder["id"],
            "lead_id": holder["lead_id"],
            "company_id": holder["company_id"],
            "event": "conflict_refused",
            "user_id": self.env.uid,
            "owner_id": holder["user_id"],
            "protection_end_date": holder["protection_end_date"],
            "note": self.env._("Refused for %(user)s (%(customers)s)",
                               user=self.env.user.name, customers=notes),
        }
        try:
            with self.env.registry.cursor() as cr:
                self.env(cr=cr, user=SUPERUSER_ID)["crm.lead.registration.event"].create(values)
        except Exception:  # noqa: BLE001 - a failed trace must not hide the conflict
            _logger.warning("Could not log a refused registration conflict: %s", values,
                            exc_info=True)

    def _conflict_message(self):
        self.ensure_one()
        return self._format_conflict({
            "customer_name": self.customer_name,
            "owner": self.user_id.name,
            "name": self.name,
            "state": self.state,
            "protection_end_date": self.protection_end_date,
            "date_submitted": self.date_submitted,
        })

    @api.model
    def _format_conflict(self, holder):
        """What a rep may know of someone else's registration: owner, state, expiry."""
        if holder["state"] == "approved":
            return self.env._(
                "%(customer)s is already registered by %(owner)s (%(number)s), "
                "protected until %(date)s. Ask a registration manager to arbitrate "
                "if you think this is wrong.",
                customer=holder["customer_name"],
                owner=holder["owner"],
                number=holder["name"],
                date=holder["protection_end_date"],
            )
        labels = dict(self._fields["state"]._description_selection(self.env))
        return self.env._(
            "%(customer)s already has a registration by %(owner)s (%(number)s, "
            "%(state)s since %(date)s). Ask a registration manager to arbitrate if "
            "you think this is wrong.",
            customer=holder["customer_name"],
            owner=holder["owner"],
            number=holder["name"],
            state=labels[holder["state"]],
            date=fields.Date.to_date(holder["date_submitted"]),
        )

    @api.model
    def _active_holders(self, vals_list):
        """Active registrations sharing a key with ``vals_list``: one indexed query.

        Returns plain rows, so that the form can show a conflict to a rep who
        may not read the other rep's opportunity.
        """
        keys = {field: [v[field] for v in vals_list if v.get(field)] for field in KEY_FIELDS}
        if not any(keys.values()):
            return []
        self.flush_model()
        self.env.cr.execute(SQL(
            """
            SELECT id, lead_id, company_id, product_line_id, scope_team_id, customer_key, user_id,
                   vat_key, domain_key, phone_key, state, name, customer_name,
                   date_submitted, protection_end_date, user_name AS owner
              FROM crm_lead_registration
             WHERE state IN ('submitted', 'approved')
               AND company_id = ANY(%(companies)s)
               AND (customer_key = ANY(%(customer_key)s) OR vat_key = ANY(%(vat_key)s)
                    OR domain_key = ANY(%(domain_key)s) OR phone_key = ANY(%(phone_key)s))
            """,
            companies=list({v["company_id"] for v in vals_list}), **keys,
        ))
        return self.env.cr.dictfetchall()

    @api.model
    def _first_holder(self, vals_list, rows):
        """The first row holding the customer of any of ``vals_list``, or None."""
        for vals in vals_list:
            holders = self._holders_of(vals, rows)
            if holders:
                return holders[0]
        return None

    @api.model
    def _holders_of(self, vals, rows):
        """The rows locking the customer of ``vals``.

        A lock without product line (or sales team) covers every line (or
        team): locks granted while the scope was the whole customer keep their
        promise after the admin narrows the scope, and the other way round.
        """
        def overlaps(row, field):
            mine = vals.get(field) or False
            return not mine or not row[field] or row[field] == mine

        return [
            row for row in rows
            if row["company_id"] == vals["company_id"]
            and overlaps(row, "product_line_id") and overlaps(row, "scope_team_id")
            and any(vals.get(f) and row[f] == vals[f] for f in KEY_FIELDS)
        ]
