"""The registration document (报备单) and the invariants it keeps.

What must hold for every caller, path, worker and server (README, "What always
holds"); each has tests that try to break it (test_trust, test_role_matrix,
test_rpc_surface):

1. Approval: only a user resolved for the registration's band at submission
   approves it (registration managers when the band resolves nobody), never
   its owner; no user writes the engine's reviews of registrations (record
   rules in security/), restart/request_validation are refused.
2. The band follows the amount: a pending review is re-routed, an approved one
   reviewed again on a raise (``_follow_amount``).
3. One active registration per customer key and scope, on every path: submit,
   re-keying (``_follow_identity``), partner rename and merge, opportunity
   merge; advisory lock per key, fresh-snapshot check, unique indexes. Lock
   history is never deleted.
4. Every lock ends: pending, approved, neglected, lost, archived and won
   registrations (``_cron_expire``, ``_end_with_leads``), warned beforehand.
5. The server decides: the module's transitions require the superuser
   (``_module_transition``); public methods accept plain ids and strings.
6. Need to know: record rules in security/; conflict messages name the owner,
   state and protection end only, in the user's companies.
7. Bad input never crashes, stalls or half-writes.
"""
import logging
from datetime import timedelta

import psycopg2.errors
from markupsafe import Markup, escape

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.fields import Domain
from odoo.tools import SQL, float_compare, format_amount, ormcache

_logger = logging.getLogger(__name__)

ACTIVE_STATES = ("submitted", "approved")
REVIEW_ACTIVITY_TYPE = "opportunity_registration.mail_activity_type_registration_review"
FOLLOW_UP_ACTIVITY_TYPE = "opportunity_registration.mail_activity_type_registration_follow_up"
# States of an opportunity in the public pool (公海), readable by every rep.
POOL_STATES = ("released", "expired")
# Keys that identify a customer, each unique among active registrations.
KEY_FIELDS = ("customer_key", "vat_key", "domain_key", "phone_key")
# What a registration's lock depends on besides its keys: a change of any of
# these goes through the same serialized conflict check as a submission.
SCOPE_FIELDS = ("company_id", "product_line_id", "scope_team_id")
REGISTRATION_STATES = [
    ("submitted", "Pending Review"),
    ("approved", "Registered"),
    ("won", "Won"),
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
# How far ahead a manager may extend a lock.
MAX_EXTENSION_DAYS = 3 * 366
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
        ondelete="restrict",
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
    name_key = fields.Char(
        "Person Name Key", readonly=True, index="btree_not_null",
        help="A private person's name, normalized: the same as a company's key "
        "means the company was typed in as a person. Two persons sharing a name "
        "are not one customer.",
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
    date_won = fields.Date(
        "Won On", readonly=True, copy=False,
        help="The opportunity was won on this day while registered; the customer "
        "stays with the winner until the protection end (Settings).",
    )
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
    second_approver_ids = fields.Many2many(
        "res.users", "crm_lead_registration_second_approver_rel", "registration_id", "user_id",
        "Second-step Approvers", readonly=True, copy=False,
        help="When the band has a second approval step: who decides once the "
        "approvers above have approved.",
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

    def _module_transition(self):
        """Whether this write is one of the module's own transitions.

        Those run as superuser after the module checked them; a context key
        sent by a client never counts on its own.
        """
        return self.env.su and self.env.context.get("skip_validation_check")

    def _check_state_conditions(self, vals):
        """The approval the module writes is the engine's own outcome (or an
        automatic band): it is not validated a second time."""
        if self._module_transition():
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
        if self._module_transition():
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
        """Without reviews, the approvers resolved for the band at submission
        decide (registration managers when the band resolved nobody), never the
        owner."""
        user = self.env.user
        for reg in self.sudo():
            if user in (reg.user_id | reg.submitted_by_id):
                raise AccessError(self.env._(
                    "You cannot approve or reject your own registration %(number)s.",
                    number=reg.name,
                ))
            approvers = reg.approver_ids or self._registration_managers()
            if user not in approvers:
                raise AccessError(self.env._(
                    "You are not an approver of registration %(number)s (%(band)s band).",
                    number=reg.name, band=self._band_label(reg.band),
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
                    number=reg.name, user=reg.submitted_by_id.name, amount=reg._format_amount(reg.amount),
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
            self._close_review_activities(
                self.env._("Approved by %(user)s.", user=self.env.user.name)
            )

    def _start_review(self):
        """Approve what its band approves automatically; ask the approvers for the rest."""
        bands = {reg: reg.company_id._registration_band_record(reg.amount) for reg in self}
        automatic = self.filtered(lambda r: bands[r].approval == "automatic")
        automatic._set_approved(automatic=True)
        to_review = self - automatic
        for reg in to_review:
            band = bands[reg]
            approvers = band._approvers(reg.team_id)._registration_available() \
                - reg.user_id - reg.submitted_by_id
            if not approvers:
                approvers = self._registration_managers() - reg.user_id - reg.submitted_by_id
            second = self.env["res.users"]
            if band.second_approval != "none":
                second = band._approvers(reg.team_id, step=2)._registration_available() \
                    - reg.user_id - reg.submitted_by_id - approvers
                if not second:
                    second = self._registration_managers() - reg.user_id \
                        - reg.submitted_by_id - approvers
            reg.sudo().write({
                "approver_ids": [(6, 0, approvers.ids)],
                "second_approver_ids": [(6, 0, second.ids)],
                # a re-routed review keeps its age: raising the amount again and
                # again never keeps a customer pending for ever
                "date_review_requested": reg.date_review_requested or reg._review_requested_since(),
            })
            if band.follow_up == "approver":
                reg.lead_id.sudo().message_subscribe(partner_ids=approvers.partner_id.ids)
        to_review.invalidate_recordset(["need_validation"])
        to_review.sudo().request_validation()
        to_review.invalidate_recordset(["need_validation", "validation_status"])
        to_review._schedule_review_activities(to_review.approver_ids)
        # approved ones were mirrored by _set_approved
        to_review.lead_id._sync_registration()

    def _review_requested_since(self):
        """When this customer started waiting for a decision: a pending
        registration its owner withdrew (or let expire undecided) and submitted
        again keeps its age, so that no customer stays pending for ever."""
        self.ensure_one()
        now = fields.Datetime.now()
        keys = [Domain(field, "=", self[field]) for field in KEY_FIELDS if self[field]]
        if not keys:
            return now
        earlier = self.sudo().search(
            Domain("id", "!=", self.id)
            & Domain("user_id", "=", self.user_id.id)
            & Domain("company_id", "=", self.company_id.id)
            & Domain("state", "in", ("withdrawn", "expired"))
            & Domain("date_approved", "=", False)
            & Domain("date_review_requested", "!=", False)
            & Domain("date_closed", ">=", now - timedelta(days=self.company_id.registration_pending_days))
            & Domain.OR(keys),
            order="date_review_requested", limit=1,
        )
        return min(earlier.date_review_requested, now) if earlier else now

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
            for user in users & (reg.approver_ids | reg.second_approver_ids):
                reg.lead_id.sudo().with_context(mail_activity_quick_update=not notify).activity_schedule(
                    REVIEW_ACTIVITY_TYPE,
                    user_id=user.id,
                    summary=self.env._("Review registration %(number)s", number=reg.name),
                    note=self.env._(
                        "%(owner)s registered %(customer)s for %(amount)s (%(band)s band).",
                        owner=reg.user_id.name, customer=reg.customer_name,
                        amount=reg._format_amount(reg.amount), band=self._band_label(reg.band),
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
                FOLLOW_UP_ACTIVITY_TYPE,
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
        reminded = {
            res_id for res_id, in self.env["mail.activity"].sudo()._read_group(
                [
                    ("res_model", "=", "crm.lead"),
                    ("res_id", "in", approved.lead_id.ids),
                    ("activity_type_id", "=", self.env.ref(FOLLOW_UP_ACTIVITY_TYPE).id),
                ],
                ["res_id"],
            )
        }
        stale = approved.filtered(
            lambda r: r.lead_id.id not in updated and r.lead_id.id not in reminded
        )
        stale._schedule_follow_up()
        return stale

    def _close_review_activities(self, feedback=False):
        """Mark the approvers' to-dos done with ``feedback`` (a decision), or
        cancel them (nothing left to decide, or another approver decides)."""
        activities = self._registration_activities(REVIEW_ACTIVITY_TYPE)
        if feedback:
            activities.action_feedback(feedback=feedback)
        else:
            activities.unlink()

    def _registration_activities(self, activity_type):
        return self.env["mail.activity"].sudo().search([
            ("res_model", "=", "crm.lead"),
            ("res_id", "in", self.lead_id.ids),
            ("activity_type_id", "=", self.env.ref(activity_type).id),
        ])

    # ------------------------------------------------------------
    # TIER VALIDATION
    # ------------------------------------------------------------

    def request_validation(self):
        """Reviews are requested by the module when a registration is submitted,
        for the band of its amount; nobody asks for them by hand."""
        if not self.env.su:
            raise AccessError(self.env._(
                "Reviews of registrations are requested when a registration is "
                "submitted: submit the opportunity instead."
            ))
        return super().request_validation()

    def restart_validation(self):
        """Resetting reviews would let anyone re-route a registration's approval."""
        if not self.env.su:
            raise AccessError(self.env._(
                "The review of a registration cannot be restarted: withdraw the "
                "registration and submit it again."
            ))
        return super().restart_validation()

    def validate_tier(self):
        self.ensure_one()
        self._check_transition("approve")
        self._check_reviewer()
        return super().validate_tier()

    def reject_tier(self):
        self.ensure_one()
        self._check_transition("reject")
        self._check_reviewer()
        return super().reject_tier()

    def _own_reviews(self, tiers):
        """Only this registration's reviews count, whatever a caller passed."""
        return (tiers or self.env["tier.review"]) & self.sudo().review_ids or False

    def _check_amount_unchanged(self):
        """Refuse to decide on an amount that is no longer the opportunity's."""
        for reg in self:
            band = reg.lead_id.sudo().registration_band
            if band != reg.band:
                raise UserError(self.env._(
                    "The amount of %(number)s changed since it was submitted (now in "
                    "the %(band)s band): reload the opportunity, its review was sent "
                    "to the approvers of that band.",
                    number=reg.name, band=self._band_label(band),
                ))

    def _decision_reviews(self):
        """The open reviews that may be decided now: all of them, or, when the
        band's steps go in order, those of the lowest step still open."""
        self.ensure_one()
        reviews = self.sudo().review_ids.filtered(lambda r: r.status in ("waiting", "pending"))
        if any(reviews.mapped("approve_sequence")):
            reviews = reviews.filtered(lambda r: r.sequence == min(reviews.mapped("sequence")))
        return reviews

    def _can_decide(self, user):
        """Whether ``user`` may approve or reject this pending registration now."""
        self.ensure_one()
        if self.state != "submitted" or user in (self.user_id | self.submitted_by_id):
            return False
        if self.sudo().review_ids:
            return any(user in review.reviewer_ids for review in self._decision_reviews())
        return user in (self.approver_ids or self._registration_managers())

    def _check_reviewer(self, tiers=False):
        """Only the assigned approvers decide, in the band's order, never on
        their own registration."""
        user = self.env.user
        for reg in self:
            if user in (reg.user_id | reg.submitted_by_id):
                raise AccessError(self.env._(
                    "You cannot approve or reject your own registration %(number)s.",
                    number=reg.name,
                ))
            if not reg._can_decide(user):
                waiting = reg._decision_reviews().reviewer_ids
                if user in reg.sudo().second_approver_ids and waiting:
                    raise AccessError(self.env._(
                        "Registration %(number)s waits for %(users)s first: you decide "
                        "at the next step.",
                        number=reg.name, users=", ".join(waiting.mapped("name")),
                    ))
                raise AccessError(self.env._(
                    "You are not an approver of registration %(number)s (%(band)s band).",
                    number=reg.name, band=self._band_label(reg.band),
                ))

    def _validate_tier(self, tiers=False):
        tiers = self._own_reviews(tiers)
        self._check_transition("approve")
        self._check_reviewer(tiers)
        self._check_amount_unchanged()
        # Checked above: the engine may now notify and subscribe as superuser.
        result = super(CrmLeadRegistration, self.sudo())._validate_tier(tiers and tiers.sudo())
        self.invalidate_recordset(["validation_status"])
        comment = (tiers or self.sudo().review_ids).filtered(
            lambda r: r.done_by == self.env.user and r.comment
        )[:1].comment
        if self.validation_status == "validated":
            self._set_approved(comment=comment)
        else:
            self._step_approved(comment)
        return result

    def _step_approved(self, comment):
        """A first step approved: the next step's approvers are asked."""
        self.ensure_one()
        next_approvers = self._decision_reviews().reviewer_ids
        body = self.env._(
            "Registration %(number)s approved by %(user)s; now waiting for %(next)s.",
            number=self.name, user=self.env.user.name,
            next=", ".join(next_approvers.mapped("name")) or "-",
        )
        if comment:
            body = self.env._("%(message)s Comment: %(comment)s", message=body, comment=comment)
        self.lead_id.sudo()._message_log(body=body)
        self._close_review_activities(self.env._("Approved by %(user)s.", user=self.env.user.name))
        self._schedule_review_activities(next_approvers)

    def _rejected_tier(self, tiers=False):
        tiers = self._own_reviews(tiers)
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
                extra = band._next_band()._approvers(reg.team_id)._registration_available() \
                    - reg.approver_ids - reg.user_id - reg.submitted_by_id
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

    def _restart_review(self):
        """Review again at the band of the opportunity's current amount.

        An approved registration whose amount entered a higher band goes back
        to review (the customer stays locked meanwhile, until its protection
        end); a pending one is re-routed to the new band's approvers, and the
        previous approvers can no longer decide.
        """
        for reg in self.sudo():
            lead = reg.lead_id
            band = lead.registration_band
            if reg.state == "approved":
                body = self.env._(
                    "Registration %(number)s goes back to review: the amount rose to "
                    "%(amount)s (%(band)s band). The customer stays locked meanwhile.",
                    number=reg.name, amount=reg._format_amount(lead._registration_amount()),
                    band=self._band_label(band),
                )
            else:
                body = self.env._(
                    "Registration %(number)s is now reviewed in the %(band)s band: its "
                    "amount changed from %(old)s to %(amount)s.",
                    number=reg.name, band=self._band_label(band), old=reg._format_amount(reg.amount),
                    amount=reg._format_amount(lead._registration_amount()),
                )
            lead._message_log(body=body)
            reg._close_review_activities()
            reg.review_ids.unlink()
            reg.with_context(skip_check_state_condition=True, skip_validation_check=True).write({
                "state": "submitted",
                "amount": lead._registration_amount(),
                "band": band,
                "date_approved": False,
                "approved_by_id": False,
                "approver_ids": [(5, 0, 0)],
                "second_approver_ids": [(5, 0, 0)],
                "date_review_requested": reg.state == "submitted" and reg.date_review_requested,
                "escalated": False,
                "expiry_warned": False,
            })
        self.env["crm.lead.registration.event"]._log(self, "amount_changed")
        self.sudo()._start_review()

    def _follow_amount(self):
        """Keep active registrations on the amount of their opportunity.

        The band decides who approves: a pending registration whose band
        changed is re-routed, an approved one whose band rose is reviewed
        again; any other change of amount is recorded, never left silent.
        """
        order = [code for code, _label in BANDS]
        review_again = self.browse()
        for reg in self.sudo().filtered(lambda r: r.state in ACTIVE_STATES):
            lead = reg.lead_id
            amount, band = lead._registration_amount(), lead.registration_band
            if band != reg.band and (
                reg.state == "submitted" or order.index(band) > order.index(reg.band)
            ):
                review_again |= reg
            elif float_compare(amount, reg.amount, precision_rounding=reg.currency_id.rounding):
                lead._message_log(body=self.env._(
                    "Registered amount of %(number)s changed from %(old)s to %(new)s "
                    "(%(band)s band).",
                    number=reg.name, old=reg._format_amount(reg.amount),
                    new=reg._format_amount(amount), band=self._band_label(band),
                ))
                reg.with_context(skip_validation_check=True).write({"amount": amount, "band": band})
                self.env["crm.lead.registration.event"]._log(reg, "amount_changed")
        review_again._restart_review()

    @api.model
    def _follow_identity(self, leads, new_customer_allowed, owner_only=False):
        """Re-key the active registrations of ``leads`` after their customer changed.

        The new keys go through the same serialized check as a submission: a
        customer someone else holds is refused, naming the holder. Changing
        which customer an active registration holds -- another account, company,
        name or tax ID -- would free the old one while its holder keeps the
        new: only ``new_customer_allowed`` callers (a registration manager's
        arbitration, a partner merge) do it. With ``owner_only`` (a change made
        on the shared customer account), the contact details of a registered
        customer change only through the registration's owner.
        """
        regs = leads.sudo().registration_id.filtered(lambda r: r.state in ACTIVE_STATES)
        changes = {}
        for reg in regs:
            vals = reg.lead_id._registration_identity_vals()
            old = {field: reg[field].id if reg._fields[field].type == "many2one" else reg[field]
                   for field in vals}
            if any((old[field] or False) != (vals[field] or False) for field in vals):
                changes[reg] = (old, vals)
        if not changes:
            return self.browse()
        for reg, (old, vals) in changes.items():
            other_customer = any(
                old[field] and old[field] != vals[field]
                for field in ("company_id", "partner_id", "customer_key", "name_key", "vat_key")
            )
            if other_customer and not new_customer_allowed:
                raise UserError(self.env._(
                    "%(name)s is registered for %(customer)s (%(number)s): its customer "
                    "cannot change. Release the registration and submit the opportunity "
                    "again, or ask a registration manager to move it to the other "
                    "customer account.",
                    name=reg.lead_id.name, customer=reg.customer_name, number=reg.name,
                ))
            if owner_only and not new_customer_allowed and reg.user_id != self.env.user:
                raise UserError(self.env._(
                    "%(customer)s is registered by %(owner)s (%(number)s): its contact "
                    "details change through %(owner)s or a registration manager.",
                    customer=reg.customer_name, owner=reg.user_id.name, number=reg.name,
                ))
        changed = self.browse([reg.id for reg in changes]).sudo()
        vals_list = [vals for _old, vals in changes.values()]
        self._check_conflicts(vals_list, exclude=changed)
        self._lock_customer_keys(vals_list)
        message, holder = self._check_conflicts_committed(vals_list, exclude=changed)
        if message:
            self._log_conflict_refused(holder, vals_list)
            raise UserError(message)
        try:
            with self.env.cr.savepoint():
                for reg, (old, vals) in changes.items():
                    reg.with_context(skip_validation_check=True).write(vals)
                changed.flush_recordset()
        except psycopg2.errors.UniqueViolation:
            raise UserError(self.env._(
                "Another registration of this customer was submitted at the same "
                "moment. Reload the opportunity to see who holds it."
            )) from None
        for reg, (old, vals) in changes.items():
            if old["customer_name"] != vals["customer_name"] or old["company_id"] != vals["company_id"]:
                note = self.env._("Customer %(old)s → %(new)s",
                                  old=old["customer_name"] or "-", new=vals["customer_name"] or "-")
            else:
                note = self.env._("Contact details of %(customer)s changed",
                                  customer=vals["customer_name"] or "-")
            self.env["crm.lead.registration.event"]._log(reg, "rekeyed", note=note)
        return changed

    @api.model
    def _end_with_leads(self, won_leads, lost_leads, lost_reason=False):
        """A lost or archived opportunity releases its lock; a won one closes its
        registration as won, the customer staying with the winner for the
        days Settings give."""
        lost = lost_leads.sudo().registration_id.filtered(lambda r: r.state in ACTIVE_STATES)
        for reg in lost:
            lead = reg.lead_id
            reason = lost_reason or lead.lost_reason_id.name or (
                self.env._("Opportunity archived") if not lead.active
                else self.env._("Opportunity lost")
            )
            if reg.state == "approved":
                reg._close("released", reason, self.env._(
                    "Registration %(number)s released: the opportunity was lost or archived."
                ))
            else:
                reg._close("withdrawn", reason, self.env._(
                    "Registration %(number)s withdrawn: the opportunity was lost or archived."
                ))
        won = won_leads.sudo().registration_id.filtered(lambda r: r.state in ACTIVE_STATES)
        today = fields.Date.context_today(self)
        kept = won.filtered(
            lambda r: r.state == "approved" and r.company_id.registration_won_keep_days
        )
        for reg in kept:
            end = today + timedelta(days=reg.company_id.registration_won_keep_days)
            reg.with_context(skip_validation_check=True).write({
                "date_won": today, "protection_end_date": end, "expiry_warned": False,
            })
            reg.lead_id._message_log(body=self.env._(
                "Opportunity won: %(owner)s keeps %(customer)s until %(date)s (%(number)s).",
                owner=reg.user_id.name, customer=reg.customer_name, date=end, number=reg.name,
            ))
        if kept:
            kept.lead_id._sync_registration()
            self.env["crm.lead.registration.event"]._log(kept, "won")
        (won - kept)._close("won", False, self.env._(
            "Registration %(number)s closed: the opportunity was won."
        ))

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
        self._close_review_activities(
            state == "rejected" and self.env._("Rejected by %(user)s.", user=self.env.user.name)
        )
        # nothing left to follow up once the registration has ended
        self._registration_activities(FOLLOW_UP_ACTIVITY_TYPE).unlink()
        bodies = {}
        for reg in self:
            body = message % {"number": reg.name, "user": self.env.user.name}
            if reason and state not in POOL_STATES:
                body = self.env._("%(message)s Reason: %(reason)s", message=body, reason=reason)
            elif reason:
                # every rep reads a pool opportunity's chatter: the reason stays
                # on the registration, for its owner and the managers
                body = self.env._("%(message)s The reason is kept on the registration.",
                                  message=body)
            bodies[reg.lead_id.id] = body
        self.lead_id._message_log_batch(bodies=bodies)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_approve(self, comment=False):
        """Approve a pending registration through the tier-validation engine.

        A registration without reviews is approved only by the approvers
        resolved for its band when it was submitted.
        """
        self._check_transition("approve")
        comment = self._clean_text(comment)
        for reg in self:
            if reg.sudo().review_ids:
                reg._check_reviewer()
                reg._check_amount_unchanged()
                reg._write_review_comment(comment)
                reg._validate_tier()
            else:
                reg._check_can_review()
                reg._check_amount_unchanged()
                reg._set_approved(comment=comment)
        return True

    def action_reject(self, reason=False):
        self._check_transition("reject")
        reason = self._clean_text(reason)
        if not reason:
            raise UserError(self.env._("Say why the registration is rejected."))
        for reg in self:
            if reg.sudo().review_ids:
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
            self.sudo().review_ids.filtered(
                lambda r: r.status in ("waiting", "pending") and self.env.user in r.reviewer_ids
            ).comment = comment

    @api.model
    def _band_label(self, code):
        """A band's name in the user's language."""
        return dict(self._fields["band"]._description_selection(self.env)).get(code, "-")

    def _format_amount(self, amount):
        """An amount as people read it: in the company currency, with its symbol."""
        return format_amount(self.env, amount or 0.0, self.currency_id or self.env.company.currency_id)

    @api.model
    def _clean_text(self, text, limit=2000):
        """A reason or comment typed by a user: a string, bounded, or False."""
        if text in (None, False):
            return False
        if not isinstance(text, str):
            raise UserError(self.env._("A reason or comment must be text."))
        text = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable()).strip()
        if len(text) > limit:
            raise UserError(self.env._(
                "A reason or comment is at most %(limit)s characters long.", limit=limit
            ))
        return text or False

    def action_withdraw(self, reason=False):
        self._check_transition("withdraw")
        reason = self._clean_text(reason)
        self._check_owner_or_manager()
        self._close("withdrawn", reason, self.env._(
            "Registration %(number)s withdrawn by %(user)s."
        ))
        return True

    def action_release(self, reason=False):
        self._check_transition("release")
        reason = self._clean_text(reason)
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
        expired = pending = won = self.browse()
        for company in self.env["res.company"].sudo().search([]):
            neglected_since = today - timedelta(days=company.registration_neglect_days)
            expired |= self.sudo().search([
                ("company_id", "=", company.id),
                ("state", "=", "approved"),
                ("date_won", "=", False),
                "|",
                ("protection_end_date", "<", today),
                ("last_follow_up_date", "<", neglected_since),
            ])
            undecided_since = fields.Datetime.now() - timedelta(days=company.registration_pending_days)
            pending |= self.sudo().search([
                ("company_id", "=", company.id),
                ("state", "=", "submitted"),
                "|",
                ("protection_end_date", "<", today),
                ("date_review_requested", "<", undecided_since),
            ])
            won |= self.sudo().search([
                ("company_id", "=", company.id),
                ("state", "=", "approved"),
                ("date_won", "!=", False),
                ("protection_end_date", "<", today),
            ])
        if expired:
            expired._close("expired", False, self.env._(
                "Registration %(number)s expired: its protection period ended or the "
                "customer was not followed up. The customer is back in the public pool."
            ))
        if pending:
            pending._close("expired", False, self.env._(
                "Registration %(number)s expired: it waited for a decision longer than "
                "allowed. Submit it again to ask for a new review."
            ))
        if won:
            won._close("won", False, self.env._(
                "Registration %(number)s closed: the customer's protection after the "
                "win ended."
            ))
        return expired | pending | won

    @api.model
    def _cron_warn_expiry(self):
        """Warn owners a few days before their lock ends (activity + e-mail)."""
        today = fields.Date.context_today(self)
        warned = self.browse()
        for company in self.env["res.company"].sudo().search([]):
            soon = today + timedelta(days=company.registration_warning_days)
            neglect_soon = soon - timedelta(days=company.registration_neglect_days)
            pending_soon = fields.Datetime.now() + timedelta(
                days=company.registration_warning_days - company.registration_pending_days
            )
            warned |= self.sudo().search([
                ("company_id", "=", company.id),
                ("expiry_warned", "=", False),
                "|", "|",
                "&", ("state", "=", "approved"), ("protection_end_date", "<=", soon),
                "&", "&", ("state", "=", "approved"), ("date_won", "=", False),
                ("last_follow_up_date", "<=", neglect_soon),
                "&", ("state", "=", "submitted"), ("date_review_requested", "<=", pending_soon),
            ])
        if not warned:
            return warned
        # the approvers of a pending registration are reminded by the engine
        warned.filtered(lambda r: r.state == "submitted").review_ids.filtered(
            lambda r: r.status in ("waiting", "pending")
        )._send_review_reminder()
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
                    number=reg.name, customer=reg.customer_name, date=reg._lock_end(),
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
            deadlines=[reg._lock_end() for reg in self],
            names=[names[reg.lead_id.id] for reg in self],
            summaries=[
                env._("Registration %(number)s expires on %(date)s",
                      number=reg.name, date=reg._lock_end())
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
        for owner, regs in self.filtered(lambda r: r._lock_end() <= today).grouped("user_id").items():
            owner._bus_send("mail.activity/updated", {"activity_created": True, "count_diff": len(regs)})

    def _lock_end(self):
        """The day this registration's lock ends if nothing happens: its
        protection end, the end of the neglect period, or the end of the wait
        for a decision, whichever comes first."""
        self.ensure_one()
        company = self.company_id
        ends = [self.protection_end_date] if self.protection_end_date else []
        if self.state == "approved" and self.last_follow_up_date and not self.date_won:
            ends.append(self.last_follow_up_date + timedelta(days=company.registration_neglect_days))
        if self.state == "submitted" and self.date_review_requested:
            ends.append(fields.Date.to_date(self.date_review_requested)
                        + timedelta(days=company.registration_pending_days))
        return min(ends) if ends else fields.Date.context_today(self)

    @api.model
    def _renew_from_follow_up(self, lead_ids, kind):
        """Extend the locks of these leads after a qualifying follow-up."""
        regs = self.sudo().search([
            ("lead_id", "in", lead_ids), ("state", "=", "approved"), ("date_won", "=", False),
        ])
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
        """A manager lets renewals go beyond the maximum protection until ``end_date``
        (a date or an ISO ``YYYY-MM-DD`` string)."""
        if not self.env.user.has_group("opportunity_registration.group_registration_manager"):
            raise AccessError(self.env._("Only registration managers can grant extensions."))
        self._check_transition("release")
        reason = self._clean_text(reason)
        try:
            end_date = fields.Date.to_date(end_date)
        except (TypeError, ValueError):
            end_date = None
        if not end_date:
            raise UserError(self.env._(
                "Give the last day of the extension as a date (YYYY-MM-DD)."
            ))
        today = fields.Date.context_today(self)
        if end_date <= today:
            raise UserError(self.env._("An extension must end after today."))
        if end_date > today + timedelta(days=MAX_EXTENSION_DAYS):
            raise UserError(self.env._(
                "An extension ends within %(days)s days from today.", days=MAX_EXTENSION_DAYS
            ))
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
        """Arbitration: give the registration to another rep (``user``, a user or
        its id) or another customer account (``partner``, a partner or its id)."""
        if not self.env.user.has_group("opportunity_registration.group_registration_manager"):
            raise AccessError(self.env._("Only registration managers can transfer registrations."))
        reason = self._clean_text(reason)
        if not reason:
            raise UserError(self.env._("Say why the registration is transferred."))
        if self.filtered(lambda r: r.state not in ACTIVE_STATES):
            raise UserError(self.env._("Only an active registration can be transferred."))
        user = self._browse_argument("res.users", user)
        partner = self._browse_argument("res.partner", partner)
        if not user and not partner:
            raise UserError(self.env._("Choose the new owner or the customer account."))
        if user and (user.share or not user.active or not user.has_group(
                "opportunity_registration.group_registration_user")):
            raise UserError(self.env._(
                "%(user)s cannot hold registrations: choose an active salesperson.",
                user=user.name,
            ))
        for reg in self:
            if user and reg.company_id not in user.sudo().company_ids:
                raise UserError(self.env._(
                    "%(user)s does not work for %(company)s.",
                    user=user.name, company=reg.company_id.name,
                ))
            note = []
            lead = reg.lead_id.sudo()
            if user and user != reg.user_id:
                note.append(self.env._("owner %(old)s → %(new)s", old=reg.user_id.name, new=user.name))
                lead.user_id = user
                reg.with_context(skip_validation_check=True).sudo().user_id = user
            if partner and partner != reg.partner_id:
                note.append(self.env._("customer %(old)s → %(new)s",
                                       old=reg.customer_name, new=partner.display_name))
                # re-keyed through the serialized conflict check (crm.lead.write)
                lead.partner_id = partner
            text = "; ".join(note)
            self.env["crm.lead.registration.event"]._log(reg, "transferred", note="%s. %s" % (text, reason))
            lead._message_log(body=self.env._(
                "Registration %(number)s transferred by %(user)s: %(changes)s. Reason: %(reason)s",
                number=reg.name, user=self.env.user.name, changes=text, reason=reason,
            ))
        self.lead_id._sync_registration()
        return True

    @api.model
    def _browse_argument(self, model, value):
        """A record from what an RPC client may send: a record, an id, a numeric string."""
        if value in (None, False, 0, ""):
            return self.env[model]
        if isinstance(value, models.BaseModel):
            if value._name != model or len(value) != 1:
                raise UserError(self.env._("Give one %(model)s.", model=model))
            record = value
        else:
            try:
                record_id = 0 if isinstance(value, (bool, float)) else int(value)
            except (TypeError, ValueError, OverflowError):
                record_id = 0
            if record_id <= 0 or record_id > 2**31 - 1:
                raise UserError(self.env._(
                    "%(value)s is not the id of a %(model)s record.", value=value, model=model
                ))
            record = self.env[model].browse(record_id)
        if not record.sudo().exists():
            raise UserError(self.env._(
                "%(model)s %(id)s does not exist.", model=model, id=record.id
            ))
        record.check_access("read")
        return record

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
        } | {
            # a person's name and a company's name collide: one lock for both
            "%s/customer_key/%s" % (v["company_id"], v["name_key"])
            for v in vals_list if v.get("name_key")
        })
        if keys:
            self.env.cr.execute(SQL(
                "SELECT pg_advisory_xact_lock(h) FROM "
                "(SELECT hashtext(k) AS h FROM unnest(%s::text[]) k ORDER BY k) s",
                keys,
            ))

    @api.model
    def _check_conflicts_committed(self, vals_list, exclude=None):
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
            if exclude:
                closed_here.update(exclude.ids)
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
        names = [v["name_key"] for v in vals_list if v.get("name_key")]
        if not any(keys.values()) and not names:
            return []
        self.flush_model()
        self.env.cr.execute(SQL(
            """
            SELECT id, lead_id, company_id, product_line_id, scope_team_id, customer_key, user_id,
                   name_key, vat_key, domain_key, phone_key, state, name, customer_name,
                   date_submitted, protection_end_date, user_name AS owner
              FROM crm_lead_registration
             WHERE state IN ('submitted', 'approved')
               AND company_id = ANY(%(companies)s)
               AND (customer_key = ANY(%(customer_key)s) OR vat_key = ANY(%(vat_key)s)
                    OR domain_key = ANY(%(domain_key)s) OR phone_key = ANY(%(phone_key)s)
                    OR customer_key = ANY(%(names)s) OR name_key = ANY(%(customer_key)s))
            """,
            companies=list({v["company_id"] for v in vals_list}), names=names, **keys,
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

        def same_customer(row):
            if any(vals.get(f) and row[f] == vals[f] for f in KEY_FIELDS):
                return True
            # a company typed in as a person is that company; two persons
            # who share a name are not one customer
            return bool(
                (vals.get("customer_key") and row["name_key"] == vals["customer_key"])
                or (vals.get("name_key") and row["customer_key"] == vals["name_key"])
            )

        return [
            row for row in rows
            if row["company_id"] == vals["company_id"]
            and overlaps(row, "product_line_id") and overlaps(row, "scope_team_id")
            and same_customer(row)
        ]
