from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import SQL

from .crm_lead_capture import (
    MAX_AMOUNT,
    MAX_EMAIL_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PHONE_LENGTH,
    _plausible_amount,
)
from .crm_lead_registration import ACTIVE_STATES, BANDS, REGISTRATION_STATES

# Fields only the registration actions may change (they run as superuser).
PROTECTED_FIELDS = {
    "registration_id",
    "registration_state",
    "registration_number",
    "protection_end_date",
}
# Fields of an opportunity that decide which customer its registration locks.
IDENTITY_FIELDS = {
    "partner_id",
    "partner_name",
    "email_from",
    "phone",
    "company_id",
    "team_id",
    "registration_product_line_id",
}
AMOUNT_FIELDS = {"expected_revenue", "budget_amount_currency", "budget_currency_id", "company_id"}
OUTCOME_FIELDS = {"active", "stage_id", "probability", "won_status", "lost_reason_id"}


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # ------------------------------------------------------------
    # Registration (mirrors the current crm.lead.registration)
    # ------------------------------------------------------------

    registration_ids = fields.One2many(
        "crm.lead.registration", "lead_id", "Registrations", readonly=True
    )

    registration_id = fields.Many2one(
        "crm.lead.registration",
        "Current Registration",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )

    registration_state = fields.Selection(
        [("draft", "Unregistered")] + REGISTRATION_STATES,
        "Registration Status",
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        index=True,
        help="Status of the current registration; Unregistered when the "
        "opportunity was never submitted.",
    )

    registration_number = fields.Char(readonly=True, copy=False, index="btree_not_null")

    # The public pool and the reviews waiting are a few rows among a million:
    # without these, PostgreSQL walks the whole table for a page of them.
    _public_pool_idx = models.Index(
        "(priority DESC, id DESC) WHERE registration_state IN ('released', 'expired')"
        " AND won_status = 'pending' AND active IS TRUE"
    )
    _pending_review_idx = models.Index(
        "(priority DESC, id DESC) WHERE registration_state = 'submitted'"
    )
    # Expiring in 7 Days filters on the protection end alone (set only while
    # approved, see _sync_registration): its page walks the protected
    # opportunities in the list's order, its count reads the ends alone
    # (index-only). Won Without Registration walks and counts the won ones, a
    # quarter of the table, which a count otherwise scans.
    _expiring_idx = models.Index("(priority DESC, id DESC) WHERE protection_end_date IS NOT NULL")
    _expiring_count_idx = models.Index(
        "(protection_end_date) INCLUDE (company_id, type, active)"
        " WHERE protection_end_date IS NOT NULL"
    )
    _won_order_idx = models.Index(
        "(priority DESC, id DESC) INCLUDE (company_id, type, active, date_closed)"
        " WHERE won_status = 'won'"
    )

    protection_end_date = fields.Date(
        "Protection End",
        readonly=True,
        copy=False,
        help="Last day of the owner's exclusive lock on this customer; empty "
        "when the customer is not locked.",
    )

    registration_product_line_id = fields.Many2one(
        "crm.tag",
        "Product Line",
        help="When locks are scoped by product line (Settings), the line this "
        "opportunity is registered for.",
    )

    registration_event_ids = fields.One2many(
        "crm.lead.registration.event", "lead_id", "Lock History", readonly=True
    )

    registration_visible_ids = fields.Many2many(
        "crm.lead.registration",
        string="Registrations of this Opportunity",
        compute="_compute_registration_visible",
        compute_sudo=True,
        help="The registrations of this opportunity that you may read.",
    )

    registration_event_visible_ids = fields.Many2many(
        "crm.lead.registration.event",
        string="Lock History of this Opportunity",
        compute="_compute_registration_visible",
        compute_sudo=True,
    )

    registration_user_id = fields.Many2one(
        related="registration_id.user_id", string="Registration Owner"
    )

    registration_is_mine = fields.Boolean(
        "My Registration",
        compute="_compute_registration_is_mine",
        help="The current registration is yours (the form's buttons): its row "
        "only, not its owner's user and partner records.",
    )

    registration_customer_name = fields.Char(
        related="registration_id.customer_name", string="Registered Customer"
    )

    registration_date_submitted = fields.Datetime(
        related="registration_id.date_submitted", string="Submitted On"
    )

    registration_date_closed = fields.Datetime(
        related="registration_id.date_closed", string="Released On"
    )

    registration_band = fields.Selection(
        BANDS,
        "Approval Band",
        compute="_compute_registration_band",
        help="Approval band that the expected revenue falls in.",
    )

    registration_approver_names = fields.Char(
        "Approved By",
        compute="_compute_registration_approver_names",
        help="Who will approve a registration of this opportunity at its current "
        "amount and sales team.",
    )

    registration_can_review = fields.Boolean(
        "Can Review Registration",
        compute="_compute_registration_can_review",
        help="The current user is an approver of the pending registration.",
    )

    registration_to_approve = fields.Boolean(
        "To Approve",
        compute="_compute_registration_to_approve",
        search="_search_registration_to_approve",
        help="The registration waits for a review and you are one of its approvers, "
        "at the first or the second step.",
    )

    won_unregistered = fields.Boolean(
        "Won Without Registration",
        compute="_compute_won_unregistered",
        search="_search_won_unregistered",
        help="Won without a registration approved before the win: no commission "
        "for a partner (未报备不得发放).",
    )

    @api.depends("expected_revenue", "company_id", "budget_currency_id", "budget_amount_currency")
    def _compute_registration_band(self):
        Band = self.env["crm.lead.registration.band"]
        for lead in self:
            lead.registration_band = Band._code_for_amount(
                lead.company_id or self.env.company, lead._registration_amount()
            )

    @api.depends_context("uid")
    @api.depends("registration_ids", "registration_event_ids")
    def _compute_registration_visible(self):
        """What the current user may read of the registrations and lock history
        (record rules apply to searches, not to one2many values).

        Computed as superuser, searched as the user: the searches apply the
        user's record rules once, in SQL, and the values are then set without
        checking the same rules again in Python."""
        leads = self._origin
        as_user = self.env(su=False)
        # an opportunity never submitted has no registration (its lock history
        # may still tell an arbitration about its customer)
        submitted = leads.filtered(lambda lead: lead.registration_state != "draft")
        registrations = (
            as_user["crm.lead.registration"]
            .search_fetch([("lead_id", "in", submitted.ids)], ["lead_id"])
            .grouped("lead_id")
            if submitted
            else {}
        )
        events = (
            as_user["crm.lead.registration.event"]
            .search_fetch([("lead_id", "in", leads.ids)], ["lead_id"])
            .grouped("lead_id")
        )
        Registration = self.env["crm.lead.registration"]
        Event = self.env["crm.lead.registration.event"]
        for lead in self:
            lead.registration_visible_ids = registrations.get(lead._origin, Registration)
            lead.registration_event_visible_ids = events.get(lead._origin, Event)

    def _registration_submittable(self):
        """Whether the form offers a submission (or a claim): what is missing
        and who would approve are worked out for these only."""
        self.ensure_one()
        return (
            self.type == "opportunity"
            and self.active
            and self.won_status == "pending"
            and self.registration_state not in ACTIVE_STATES
        )

    @api.depends_context("uid")
    @api.depends("registration_id.user_id")
    def _compute_registration_is_mine(self):
        uid = self.env.uid
        for lead in self:
            lead.registration_is_mine = lead.sudo().registration_id.user_id.id == uid

    def _action_open_lead_list(self, model, name, view_xmlid=None, context=None):
        """A list of this opportunity's ``model`` records, read when the user
        opens it (as the user: record rules apply)."""
        self.ensure_one()
        view = self.env.ref(view_xmlid).id if view_xmlid else False
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "view_mode": "list,form",
            "views": [(view, "list"), (False, "form")],
            "domain": [("lead_id", "=", self.id)],
            "context": context or {"create": False},
        }

    def action_open_registrations(self):
        return self._action_open_lead_list(
            "crm.lead.registration",
            self.env._("Registrations of %(name)s", name=self.name),
        )

    def action_open_lock_history(self):
        action = self._action_open_lead_list(
            "crm.lead.registration.event",
            self.env._("Lock History of %(name)s", name=self.name),
            "opportunity_registration.crm_lead_registration_event_view_list",
        )
        action["view_mode"] = "list"
        action["views"] = action["views"][:1]
        return action

    @api.depends(
        "expected_revenue",
        "company_id",
        "team_id",
        "budget_currency_id",
        "budget_amount_currency",
        "user_id",
        "registration_state",
        "type",
        "active",
        "won_status",
    )
    def _compute_registration_approver_names(self):
        """Who would decide a submission now, while one can be made (an ongoing
        opportunity not registered): the band's cached preview of names."""
        Band = self.env["crm.lead.registration.band"]
        Registration = self.env["crm.lead.registration"]
        for lead in self:
            if not lead._registration_submittable():
                lead.registration_approver_names = False
                continue
            company = lead.company_id or self.env.company
            _lower, code, band_id = Band._bound_for_amount(company, lead._registration_amount())
            if Band._routing(band_id)[0][0] == "automatic":
                lead.registration_approver_names = self.env._("Automatic")
                continue
            first, second, managers = Band._approver_preview(
                band_id, lead.team_id.id, (lead.user_id or self.env.user).id
            )
            if first and second:
                lead.registration_approver_names = self.env._(
                    "%(first)s, then %(second)s", first=", ".join(first), second=", ".join(second)
                )
            elif first:
                lead.registration_approver_names = ", ".join(first)
            else:
                lead.registration_approver_names = self.env._(
                    "Registration managers (%(names)s): the %(band)s band names no "
                    "approver for this sales team",
                    names=", ".join(managers) or "-",
                    band=Registration._band_label(code),
                )

    @api.depends_context("uid")
    @api.depends(
        "registration_id.state",
        "registration_id.approver_ids",
        "registration_id.second_approver_ids",
        "registration_id.review_ids.status",
    )
    def _compute_registration_can_review(self):
        user = self.env.user
        for lead in self:
            reg = lead.sudo().registration_id
            lead.registration_can_review = bool(reg) and reg._can_decide(user)

    @api.depends_context("uid")
    @api.depends(
        "registration_id.state",
        "registration_id.approver_ids",
        "registration_id.second_approver_ids",
    )
    def _compute_registration_to_approve(self):
        uid = self.env.uid
        for lead in self:
            reg = lead.sudo().registration_id
            lead.registration_to_approve = (
                reg.state == "submitted" and uid in (reg.approver_ids | reg.second_approver_ids).ids
            )

    def _search_registration_to_approve(self, operator, value):
        """From the approver's own rows of the approver relations: an approver
        has a few pending reviews among tens of thousands."""
        if operator not in ("in", "not in"):
            return NotImplemented
        mine = SQL(
            """SELECT r.lead_id FROM crm_lead_registration r
                WHERE r.state = 'submitted'
                  AND r.id IN (SELECT registration_id FROM crm_lead_registration_approver_rel
                                WHERE user_id = %(uid)s
                               UNION
                               SELECT registration_id FROM crm_lead_registration_second_approver_rel
                                WHERE user_id = %(uid)s)""",
            uid=self.env.uid,
        )
        domain = Domain("registration_state", "=", "submitted") & Domain("id", "in", mine)
        wanted = {bool(v) for v in value}
        if len(wanted) == 2:
            domain = Domain.TRUE
        elif wanted == {False}:
            domain = ~domain
        return domain if operator == "in" else ~domain

    @api.model_create_multi
    def create(self, vals_list):
        self._check_new_system_dates(vals_list)
        for vals in vals_list:
            self._check_input_values(vals)
            if not self.env.su:
                self._check_protected_fields(vals)
        leads = super().create(vals_list)
        leads._stage_after_create()
        return leads

    def _check_input_values(self, vals):
        """Refuse what would crash the write itself: a non-finite or absurd
        amount (the ORM rounds it; a 1e308 overflows every report), and contact
        details too long for any index; a forecast category override the
        administrator has locked."""
        self._check_forecast_override_allowed([vals])
        for field, limit in (
            ("email_from", MAX_EMAIL_LENGTH + 66),
            ("phone", 2 * MAX_PHONE_LENGTH),
            ("partner_name", 2 * MAX_NAME_LENGTH),
        ):
            value = vals.get(field)
            if isinstance(value, str) and len(value) > limit:
                raise ValidationError(
                    self.env._(
                        "%(field)s is at most %(limit)s characters long.",
                        field=self._fields[field]._description_string(self.env),
                        limit=limit,
                    )
                )
        for field in ("expected_revenue", "budget_amount_currency", "competitor_fee"):
            value = vals.get(field)
            if value in (None, False):
                continue
            try:
                plausible = _plausible_amount(float(value))
            except (TypeError, ValueError):
                plausible = False
            if not plausible:
                raise ValidationError(
                    self.env._(
                        "%(field)s must be a number between -%(max)s and %(max)s.",
                        field=self._fields[field]._description_string(self.env),
                        max=f"{MAX_AMOUNT:,.0f}",
                    )
                )
        # a date the ORM cannot read would end in a traceback, not a message
        for name, value in vals.items():
            field = self._fields.get(name)
            if field is None or field.type not in ("date", "datetime") or not value:
                continue
            try:
                field.convert_to_cache(value, self)
            except (TypeError, ValueError):
                raise ValidationError(
                    self.env._(
                        "%(field)s is not a date: %(value)s.",
                        field=field._description_string(self.env),
                        value=str(value)[:40],
                    )
                ) from None

    def write(self, vals):
        """The module's one write path for opportunities, in this order:

        1. input that would crash the write, fields only the registration
           actions change, and the salesperson of a locked customer;
        2. stage gates and the stage's probability (crm_lead_stage.py);
        3. the write itself;
        4. the stage history (crm_lead_stage.py);
        5. active registrations follow their opportunity's outcome, customer
           and amount (crm_lead_registration_*.py).
        """
        self._check_input_values(vals)
        if not self.env.su:
            self._check_protected_fields(vals)
            if "user_id" in vals:
                self._check_takeover(vals["user_id"])
            if "team_id" in vals:
                self._check_registration_team_change(vals)
        vals, stage_before = self._stage_before_write(vals)
        watched = (IDENTITY_FIELDS | AMOUNT_FIELDS | OUTCOME_FIELDS) & vals.keys()
        registered = (
            self.filtered(lambda lead: lead.registration_state in ACTIVE_STATES)
            if watched
            else self.browse()
        )
        before = {lead.id: (lead.active, lead.won_status) for lead in registered}
        result = super().write(vals)
        self._stage_after_write(stage_before)
        if registered:
            registered._registration_follow_write(vals, before)
        return result

    def _registration_follow_write(self, vals, before):
        """Active registrations follow what was just written on their opportunity."""
        Registration = self.env["crm.lead.registration"]
        if OUTCOME_FIELDS & vals.keys():
            ended = self.filtered(
                lambda lead: (
                    (lead.active, lead.won_status) != before[lead.id]
                    and (not lead.active or lead.won_status != "pending")
                )
            )
            won = ended.filtered(lambda lead: lead.active and lead.won_status == "won")
            Registration._end_with_leads(won, ended - won)
            self -= ended
        if IDENTITY_FIELDS & vals.keys():
            Registration._follow_identity(
                self,
                self.env.su
                or self.env.user.has_group("opportunity_registration.group_registration_manager"),
            )
        if AMOUNT_FIELDS & vals.keys():
            self.sudo().registration_id._follow_amount()

    def action_set_lost(self, **additional_values):
        """The lock is released with the lost reason before the opportunity is
        archived (crm archives first, then writes the reason)."""
        registered = self.filtered(lambda lead: lead.registration_state in ACTIVE_STATES)
        if registered:
            registered.check_access("write")
            reason = (
                self.env["crm.lost.reason"]
                .sudo()
                .browse(additional_values.get("lost_reason_id") or [])
                .exists()
            )
            self.env["crm.lead.registration"]._end_with_leads(
                self.browse(),
                registered,
                lost_reason=reason.name,
            )
        return super().action_set_lost(**additional_values)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_registered(self):
        """Registrations and their lock history are never deleted with an opportunity."""
        registered = self.sudo().filtered("registration_ids")
        if registered:
            raise UserError(
                self.env._(
                    "%(name)s has registrations (%(numbers)s): archive it instead of deleting "
                    "it, so that the lock history is kept.",
                    name=registered[:1].name,
                    numbers=", ".join(registered[:1].registration_ids.mapped("name")),
                )
            )

    def _merge_opportunity(self, user_id=False, team_id=False, auto_unlink=True, max_length=5):
        """Merging keeps every registration and its history on the surviving
        opportunity; two opportunities that both hold a registration are not merged."""
        self.check_access("write")
        active = self.sudo().registration_id.filtered(lambda r: r.state in ACTIVE_STATES)
        if len(active) > 1:
            raise UserError(
                self.env._(
                    "These opportunities hold %(count)s active registrations (%(numbers)s): "
                    "withdraw or release all but one before merging them, or ask a "
                    "registration manager to arbitrate.",
                    count=len(active),
                    numbers=", ".join(active.mapped("name")),
                )
            )
        if active and not user_id:
            user_id = active.user_id.id  # the lock stays with its owner
        return super()._merge_opportunity(
            user_id=user_id, team_id=team_id, auto_unlink=auto_unlink, max_length=max_length
        )

    def _merge_dependences(self, opportunities):
        result = super()._merge_dependences(opportunities)
        registrations = opportunities.sudo().registration_ids
        if registrations:
            self.env["crm.lead.registration.event"].sudo().search(
                [("lead_id", "in", opportunities.ids)]
            ).lead_id = self
            registrations.with_context(skip_validation_check=True).lead_id = self
            self._sync_registration()
            self.env["crm.lead.registration.event"]._log(
                registrations,
                "merged",
                note=self.name,
            )
        return result

    def _check_takeover(self, user_id):
        """While a customer is locked, only a manager may give it to someone else."""
        locked = self.filtered(
            lambda lead: (
                lead.registration_state in ACTIVE_STATES
                and lead.sudo().registration_id.user_id.id != user_id
            )
        )
        if locked and not self.env.user.has_group(
            "opportunity_registration.group_registration_manager"
        ):
            reg = locked[:1].registration_id.sudo()
            raise UserError(
                self.env._(
                    "%(name)s is registered by %(owner)s (%(number)s) until %(date)s: its "
                    "salesperson cannot change. Ask a registration manager to transfer it.",
                    name=locked[:1].name,
                    owner=reg.user_id.name,
                    number=reg.name,
                    date=reg.protection_end_date or "-",
                )
            )

    def _message_post_after_hook(self, message, msg_vals):
        """A logged note on a registered opportunity renews its lock."""
        result = super()._message_post_after_hook(message, msg_vals)
        if self.registration_state == "approved" and message.message_type == "comment":
            self.env["crm.lead.registration"]._renew_from_follow_up(self.ids, "note")
        return result

    def _check_protected_fields(self, vals):
        """What no form or RPC call writes directly: the registration mirror,
        the channel partner (crm_lead_channel) and the system dates
        (crm_lead_commission)."""
        protected = PROTECTED_FIELDS.intersection(vals)
        if protected:
            raise UserError(
                self.env._(
                    "The registration status of an opportunity changes only through "
                    "its registration actions (Submit, Withdraw, Release, Approve, "
                    "Reject); it cannot be written directly (%(fields)s).",
                    fields=", ".join(sorted(protected)),
                )
            )
        self._check_channel_partner_change(vals)
        self._check_system_dates(vals)

    def _sync_registration(self):
        """Mirror each lead's latest registration in its stored fields, in one UPDATE.

        SQL rather than write(), which would run the opportunity's whole write
        path (stage gates, history, registrations following it) for fields
        only this method sets; like write(), it stamps who changed the row and
        when, and only on rows whose mirror changes.
        """
        if not self:
            return
        self.env["crm.lead.registration"].flush_model()
        self.flush_recordset([*PROTECTED_FIELDS, "write_date", "write_uid"])
        self.env.cr.execute(
            SQL(
                """
            UPDATE crm_lead l
               SET registration_id = m.registration_id,
                   registration_state = m.registration_state,
                   registration_number = m.registration_number,
                   protection_end_date = m.protection_end_date,
                   write_uid = %(uid)s,
                   write_date = %(now)s
              FROM (
                    SELECT l2.id, r.id AS registration_id,
                           COALESCE(r.state, 'draft') AS registration_state,
                           r.name AS registration_number,
                           CASE WHEN r.state = 'approved' THEN r.protection_end_date END
                               AS protection_end_date
                      FROM crm_lead l2
                      LEFT JOIN LATERAL (
                            SELECT id, state, name, protection_end_date
                              FROM crm_lead_registration
                             WHERE lead_id = l2.id
                          ORDER BY id DESC LIMIT 1
                      ) r ON TRUE
                     WHERE l2.id IN %(ids)s
                   ) m
             WHERE l.id = m.id
               AND (l.registration_id, l.registration_state, l.registration_number,
                    l.protection_end_date)
                   IS DISTINCT FROM
                   (m.registration_id, m.registration_state, m.registration_number,
                    m.protection_end_date)
            """,
                ids=tuple(self.ids),
                uid=self.env.uid,
                now=self.env.cr.now(),
            )
        )
        self.invalidate_recordset(
            [*PROTECTED_FIELDS, "registration_user_id", "write_date", "write_uid"]
        )
