"""The registration document (报备单): its fields, states and transitions.

The model is split by concern, one file each:

* ``crm_lead_registration.py`` -- the document, its numbering and state machine,
  the owner's and the manager's actions (withdraw, release, transfer);
* ``crm_lead_registration_lock.py`` -- one active registration per customer key:
  detection and serialized enforcement on every path;
* ``crm_lead_registration_approval.py`` -- the approval engine's glue, who
  decides in which band and order, the review following the amount;
* ``crm_lead_registration_review.py`` -- the approvers' to-dos and the
  escalation of reviews pending too long;
* ``crm_lead_registration_lifetime.py`` -- renewal, warnings, and how every
  lock ends.

Invariants they keep together: SPEC §9's eleven, listed in the README ("What
always holds") with the file that keeps each; tests/test_attacker.py checks
them all after every step of a model-based attacker, and the test_trust*,
test_role_matrix and test_rpc_surface tests try each by hand.
"""

import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.tools import format_amount, html2plaintext, ormcache

_logger = logging.getLogger(__name__)

ACTIVE_STATES = ("submitted", "approved")
# Opportunities filled per transaction by the install's backfill jobs. Odoo
# calls a job up to ten times in a row while it reports work left, so a batch
# must take well under a tenth of the cron worker's time limit (120 s), under
# load too: 50,000 took 20 s during the soak at 1M, and the worker, whose
# limit covers every job of its pass, was killed.
BACKFILL_BATCH = 5000
REVIEW_ACTIVITY_TYPE = "opportunity_registration.mail_activity_type_registration_review"
FOLLOW_UP_ACTIVITY_TYPE = "opportunity_registration.mail_activity_type_registration_follow_up"
# States of an opportunity in the public pool (公海), listed to every rep by crm.lead.pool.
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
    batch operations on leads do not pay for it. The lead mirrors the
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
        "crm.lead",
        "Opportunity",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        index=True,
        default=lambda self: self.env.company,
    )
    user_id = fields.Many2one(
        "res.users",
        "Owner",
        required=True,
        readonly=True,
        index=True,
        tracking=True,
        help="Salesperson who holds the registration and, once approved, the lock on the customer.",
    )
    team_id = fields.Many2one("crm.team", "Sales Team", readonly=True)
    state = fields.Selection(
        REGISTRATION_STATES,
        "Status",
        required=True,
        readonly=True,
        copy=False,
        default="submitted",
        index=True,
        tracking=True,
    )
    partner_id = fields.Many2one("res.partner", "Customer", readonly=True)
    customer_name = fields.Char(readonly=True, help="Company name as submitted.")
    customer_key = fields.Char(
        readonly=True,
        index="btree_not_null",
        help="Normalized customer identity used to detect conflicting registrations.",
    )
    name_key = fields.Char(
        "Person Name Key",
        readonly=True,
        index="btree_not_null",
        help="A private person's name, normalized: the same as a company's key "
        "means the company was typed in as a person. Two persons sharing a name "
        "are not one customer.",
    )
    vat_key = fields.Char("Tax ID Key", readonly=True, index="btree_not_null")
    domain_key = fields.Char("E-mail Domain Key", readonly=True, index="btree_not_null")
    phone_key = fields.Char(readonly=True, index="btree_not_null")
    product_line_id = fields.Many2one(
        "crm.tag",
        readonly=True,
        help="When locks are scoped by product line, the line this registration locks.",
    )
    scope_team_id = fields.Many2one(
        "crm.team",
        "Locked for Team",
        readonly=True,
        help="When locks are scoped by sales team, the team this registration locks "
        "the customer for; other teams may register the same customer.",
    )
    last_follow_up_date = fields.Date(
        "Last Follow-up",
        readonly=True,
        copy=False,
        help="Last qualifying follow-up (done activity, logged note or meeting).",
    )
    expiry_warned = fields.Boolean(readonly=True, copy=False)
    date_won = fields.Date(
        "Won On",
        readonly=True,
        copy=False,
        help="The opportunity was won on this day while registered; the customer "
        "stays with the winner until the protection end (Settings).",
    )
    extension_end_date = fields.Date(
        "Extension Granted Until",
        readonly=True,
        copy=False,
        help="A manager allowed renewals beyond the maximum protection until this date.",
    )
    event_ids = fields.One2many("crm.lead.registration.event", "registration_id", "Lock History")
    amount = fields.Monetary(
        readonly=True,
        currency_field="currency_id",
        help="Expected revenue as submitted, in the company currency.",
    )
    currency_id = fields.Many2one(
        "res.currency", related="company_id.currency_id", string="Currency"
    )
    band = fields.Selection(BANDS, "Approval Band", readonly=True)
    date_submitted = fields.Datetime("Submitted On", readonly=True, copy=False)
    user_name = fields.Char(
        related="user_id.name",
        store=True,
        precompute=True,
        string="Owner Name",
        help="Kept with the registration so that the conflict check names the "
        "owner from the row it finds, in one query.",
    )
    submitted_by_id = fields.Many2one("res.users", readonly=True)
    date_approved = fields.Datetime("Approved On", readonly=True, copy=False)
    approved_band = fields.Selection(
        BANDS,
        readonly=True,
        copy=False,
        help="The band this registration was last approved in: while it is reviewed "
        "again after an amount raise, an amount back within that band restores the "
        "approval as it was (same approval date and protection end).",
    )
    approved_by_id = fields.Many2one("res.users", readonly=True)
    date_closed = fields.Datetime(
        "Closed On",
        readonly=True,
        copy=False,
        help="When the registration left the active states.",
    )
    protection_end_date = fields.Date(
        "Protection End",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Last day of the owner's exclusive lock on the customer.",
    )
    close_reason = fields.Text("Reason", readonly=True)
    approver_ids = fields.Many2many(
        "res.users",
        "crm_lead_registration_approver_rel",
        "registration_id",
        "user_id",
        "Approvers",
        readonly=True,
        copy=False,
        help="Who may approve this registration: the approver of its band, plus the "
        "next band's approver once the review is escalated.",
    )
    second_approver_ids = fields.Many2many(
        "res.users",
        "crm_lead_registration_second_approver_rel",
        "registration_id",
        "user_id",
        "Second-step Approvers",
        readonly=True,
        copy=False,
        help="When the band has a second approval step: who decides once the "
        "approvers above have approved.",
    )
    date_review_requested = fields.Datetime("Review Requested On", readonly=True, copy=False)
    escalated = fields.Boolean(readonly=True, copy=False)

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
    # the registrations that can have held their customer at a win: a few
    # among every registration ever made (Won Without Registration, commissions)
    _held_at_win_idx = models.Index(
        "(lead_id, date_approved) WHERE date_approved IS NOT NULL"
        " AND (state = 'won' OR date_won IS NOT NULL)"
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

    def _message_auto_subscribe_followers(self, updated_values, default_subtype_ids):
        """The owner follows the opportunity, where every registration event is
        logged; following the registration document too would only add a
        follower row per submission."""
        return []

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
            sequence = (
                self.env.ref("opportunity_registration.seq_crm_lead_registration")
                .sudo()
                .copy(
                    {
                        "name": self.env._("Opportunity Registration"),
                        "code": "crm.lead.registration",
                        "company_id": company.id,
                    }
                )
            )
        return sequence

    @api.ondelete(at_uninstall=False)
    def _unlink_except_active(self):
        if any(reg.state in ACTIVE_STATES for reg in self):
            raise UserError(
                self.env._(
                    "An active registration cannot be deleted: withdraw or release it first."
                )
            )

    def _check_transition(self, transition):
        allowed = TRANSITIONS[transition]
        labels = dict(self._fields["state"]._description_selection(self.env))
        for reg in self:
            if reg.state not in allowed:
                raise UserError(
                    self.env._(
                        "Registration %(number)s is %(state)s: it cannot be %(action)s.",
                        number=reg.name,
                        state=labels[reg.state],
                        action=self._transition_label(transition),
                    )
                )

    def _transition_label(self, transition):
        return {
            "approve": self.env._("approved"),
            "reject": self.env._("rejected"),
            "withdraw": self.env._("withdrawn"),
            "release": self.env._("released"),
        }[transition]

    @api.model
    def _registration_managers(self):
        """Active internal users who are registration managers, directly or not."""
        group_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "opportunity_registration.group_registration_manager"
        )
        return (
            self.env["res.groups"]
            .sudo()
            .browse(group_id)
            .all_user_ids.filtered(lambda u: u.active and not u.share)
        )

    def _registration_activities(self, activity_type):
        return (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "crm.lead"),
                    ("res_id", "in", self.lead_id.ids),
                    ("activity_type_id", "=", self.env.ref(activity_type).id),
                ]
            )
        )

    def _close(self, state, reason, message, event=None):
        """Move to a closed state, record why (as ``event`` in the lock
        history, the state by default), and mirror it on the lead.

        ``message`` is the XML id of the chatter note's subtype, which says
        what happened in each reader's language; the reason is its text,
        except for the public pool, whose claimant reads the chatter."""
        if state != self._cancel_state:
            # Withdrawn, released or expired: open reviews have nothing left to decide.
            self.sudo().review_ids.filtered(lambda r: r.status in ("waiting", "pending")).unlink()
        self.sudo().with_context(skip_validation_check=True).write(
            {
                "state": state,
                "date_closed": fields.Datetime.now(),
                "close_reason": reason or False,
                "protection_end_date": False,
            }
        )
        self.lead_id._sync_registration()
        self.env["crm.lead.registration.event"]._log(self, event or state, note=reason)
        self._close_review_activities()
        # nothing left to follow up once the registration has ended
        self._registration_activities(FOLLOW_UP_ACTIVITY_TYPE).unlink()
        reg_by_lead = {reg.lead_id: reg for reg in self}
        self.lead_id._registration_log(
            message,
            # whoever claims the opportunity reads its chatter: the reason stays
            # on the registration, for its owner and the managers
            body=state not in POOL_STATES and reason,
            tracking=lambda lead: reg_by_lead[lead]._registration_tracking("name"),
        )
        if state in ("rejected", "expired"):
            self._notify_channel_partner(state)

    def _notify_channel_partner(self, event):
        """Tell the channel partner who registered these deals that ``event``
        happened (``approved``, ``rejected``, ``expiry_warning``, ``expired``).

        The core has no way to reach a partner: the portal add-on
        (opportunity_registration_portal) e-mails them a link to the
        registration's page."""

    def _registration_tracking(self, *names):
        """Tracking values of a registration note: the registration's ``names``
        as they are now."""
        self.ensure_one()
        return [(self, name, False, self[name]) for name in names]

    @api.model
    def _band_label(self, code):
        """A band's name in the user's language."""
        return dict(self._fields["band"]._description_selection(self.env)).get(code, "-")

    def _format_amount(self, amount):
        """An amount as people read it: in the company currency, with its symbol."""
        return format_amount(
            self.env, amount or 0.0, self.currency_id or self.env.company.currency_id
        )

    @api.model
    def _clean_text(self, text, limit=2000):
        """A reason or comment typed by a user: a string, bounded, or False."""
        if text in (None, False):
            return False
        if not isinstance(text, str):
            raise UserError(self.env._("A reason or comment must be text."))
        text = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable()).strip()
        if len(text) > limit:
            raise UserError(
                self.env._("A reason or comment is at most %(limit)s characters long.", limit=limit)
            )
        return text or False

    def message_post(self, **kwargs):
        """A partner's message is text (SPEC §9.10): the portal's composer
        sends HTML, which the channel manager's chatter would show as links
        and images."""
        if self.env.user.share and kwargs.get("body"):
            from .crm_lead_message import text_to_html

            kwargs["body"] = text_to_html(html2plaintext(kwargs["body"]))
        return super().message_post(**kwargs)

    def action_archive(self):
        """A registration has no archive: it ends by its own actions."""
        raise UserError(
            self.env._(
                "Registrations are never archived: withdraw or release them, or archive the "
                "opportunity."
            )
        )

    def action_unarchive(self):
        return self.action_archive()

    def action_withdraw(self, reason=False):
        self._check_transition("withdraw")
        reason = self._clean_text(reason)
        self._check_owner_or_manager()
        self._close("withdrawn", reason, "opportunity_registration.mt_registration_withdrawn")
        return True

    def action_release(self, reason=False):
        self._check_transition("release")
        reason = self._clean_text(reason)
        self._check_owner_or_manager()
        self._close(
            "released",
            reason,
            "opportunity_registration.mt_registration_released",
        )
        return True

    def _check_owner_or_manager(self):
        user = self.env.user
        if user.has_group("opportunity_registration.group_registration_manager"):
            return
        for reg in self:
            if reg.user_id != user:
                raise AccessError(
                    self.env._(
                        "Only %(owner)s or a registration manager can do this on "
                        "registration %(number)s.",
                        owner=reg.user_id.name,
                        number=reg.name,
                    )
                )

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
        if user and (
            user.share
            or not user.active
            or not user.has_group("opportunity_registration.group_registration_user")
        ):
            raise UserError(
                self.env._(
                    "%(user)s cannot hold registrations: choose an active salesperson.",
                    user=user.name,
                )
            )
        for reg in self:
            if user and reg.company_id not in user.sudo().company_ids:
                raise UserError(
                    self.env._(
                        "%(user)s does not work for %(company)s.",
                        user=user.name,
                        company=reg.company_id.name,
                    )
                )
            lead = reg.lead_id.sudo()
            new_owner = user if user and user != reg.user_id else None
            new_customer = partner if partner and partner != reg.partner_id else None
            tracking = [(reg, "name", False, reg.name)]
            if new_owner:
                tracking.append((reg, "user_id", reg.user_id, new_owner))
            if new_customer:
                tracking.append((reg, "partner_id", reg.partner_id, new_customer))
            if new_owner:
                lead.user_id = new_owner
                reg.with_context(skip_validation_check=True).sudo().user_id = new_owner
            if new_customer:
                # re-keyed through the serialized conflict check (crm.lead.write)
                lead.partner_id = new_customer
            self.env["crm.lead.registration.event"]._log(reg, "transferred", note=reason)
            lead._registration_log(
                "opportunity_registration.mt_registration_transferred",
                body=reason,
                tracking=lambda _lead, tracking=tracking: tracking,
            )
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
                raise UserError(
                    self.env._(
                        "%(value)s is not the id of a %(model)s record.", value=value, model=model
                    )
                )
            record = self.env[model].browse(record_id)
        if not record.sudo().exists():
            raise UserError(
                self.env._("%(model)s %(id)s does not exist.", model=model, id=record.id)
            )
        record.check_access("read")
        return record
