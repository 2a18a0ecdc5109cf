import math
import re
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import SQL, email_normalize

from .crm_lead_registration import ACTIVE_STATES, BANDS, KEY_FIELDS, REGISTRATION_STATES
from .customer_identity import (
    email_domain_key,
    normalize_company_name,
    normalize_phone,
    normalize_tax_id,
)

# Fields only the registration actions may change (they run as superuser).
PROTECTED_FIELDS = {
    "registration_id",
    "registration_state",
    "registration_number",
    "protection_end_date",
}
_PHONE = re.compile(r"\+?[\d\s().\-/]+(?:\s*(?:x|ext\.?)\s*\d{1,6})?", re.IGNORECASE)
MAX_PHONE_LENGTH = 64
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 500
# Amounts beyond this are typing errors (or attacks), not budgets.
MAX_AMOUNT = 1e13
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


def _plausible_amount(amount):
    return isinstance(amount, (int, float)) and math.isfinite(amount) and abs(amount) <= MAX_AMOUNT


def _names_a_company(name):
    """Whether a person's name carries a legal form ("Acme Co., Ltd.", "云图科技有限公司"):
    then it is a company typed into the Contact field, not a private person."""
    key = normalize_company_name(name)
    marked = normalize_company_name("%s qzxq" % name) if key else False
    return bool(marked) and marked.endswith("qzxq") and marked[:-4] != key


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
        help="The registrations of this opportunity that you may read.",
    )
    registration_event_visible_ids = fields.Many2many(
        "crm.lead.registration.event",
        string="Lock History of this Opportunity",
        compute="_compute_registration_visible",
    )
    registration_user_id = fields.Many2one(
        related="registration_id.user_id", string="Registration Owner"
    )
    customer_key = fields.Char(
        compute="_compute_customer_key",
        store=True,
        copy=False,
        help="Normalized customer identity used to find conflicting registrations.",
    )
    registration_conflict_ids = fields.Many2many(
        "crm.lead",
        string="Conflicting Opportunities",
        compute="_compute_registration_conflicts",
        compute_sudo=True,
        context={"active_test": False},
        groups="opportunity_registration.group_registration_manager",
        help="Other opportunities whose active registration claims the same customer. "
        "Managers only: reps see who holds the customer in the conflict message.",
    )
    registration_conflict_message = fields.Text(
        compute="_compute_registration_conflicts",
        compute_sudo=True,
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
    won_unregistered = fields.Boolean(
        "Won Without Registration",
        compute="_compute_won_unregistered",
        search="_search_won_unregistered",
        help="Won although no registration of it was ever approved.",
    )

    # ------------------------------------------------------------
    # Registration information (商机信息采集表)
    # ------------------------------------------------------------
    need_description = fields.Text(help="The customer's main need or pain point.")
    key_person_identified = fields.Boolean(help="The decision maker (KP) is known.")
    key_person_name = fields.Char("Key Person", help="Name and role of the decision maker.")
    registration_source = fields.Selection(
        [
            ("rep", "Reported by Rep"),
            ("leader", "Assigned by Leader"),
            ("partner", "Channel Partner"),
        ],
        "Opportunity Source",
        default="rep",
    )
    deal_channel = fields.Selection([("direct", "Direct"), ("indirect", "Indirect")], "Channel")
    deal_term = fields.Selection([("short", "Short-term"), ("long", "Long-term")], "Term")
    deal_type = fields.Selection(
        [("demand", "Demand-type"), ("competitor", "Competitor-type")],
        help="Competitor-type: the customer currently uses a competitor.",
    )
    budget_currency_id = fields.Many2one(
        "res.currency",
        help="Currency the customer's budget is quoted in, when it is not the "
        "company's; the registration converts it at the submission date.",
    )
    budget_amount_currency = fields.Monetary(
        "Budget in Currency",
        currency_field="budget_currency_id",
        help="The customer's budget in the budget currency.",
    )
    competitor_name = fields.Char("Competitor")
    competitor_fee = fields.Monetary("Competitor's Current Fee", currency_field="company_currency")
    competitor_contract_end = fields.Date()
    is_valid_opportunity = fields.Boolean(
        "Valid Opportunity",
        compute="_compute_is_valid_opportunity",
        store=True,
        help="A valid opportunity (有效商机) has a confirmed need, an identified key "
        "person and a budget.",
    )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends(
        "partner_id.commercial_partner_id.name",
        "partner_id.commercial_partner_id.is_company",
        "partner_name",
    )
    def _compute_customer_key(self):
        for lead in self:
            lead.customer_key = lead._get_customer_key()

    def _get_customer_key(self):
        """Company name of the customer, normalized; a private person's partner id."""
        return self._customer_identity()[0]

    def _customer_identity(self):
        """``(customer_key, name_key)`` of this lead's customer.

        A company (or a company name on the lead, or a person record whose
        name carries a legal form) is its normalized name. A private person is
        their partner id, with their normalized name as ``name_key``: it
        collides with a company of that name, never with another person.
        """
        commercial = self.partner_id.commercial_partner_id
        if commercial.is_company:
            return normalize_company_name(commercial.name), False
        if self.partner_name:
            return normalize_company_name(self.partner_name), False
        if commercial:
            if _names_a_company(commercial.name):
                return normalize_company_name(commercial.name), False
            return "partner:%d" % commercial.id, normalize_company_name(commercial.name)
        return False, False

    @api.depends(
        "customer_key",
        "company_id",
        "email_from",
        "phone",
        "registration_product_line_id",
        "team_id",
        "partner_id.commercial_partner_id.vat",
        "partner_id.commercial_partner_id.email",
        "partner_id.commercial_partner_id.phone",
    )
    def _compute_registration_conflicts(self):
        Registration = self.env["crm.lead.registration"]
        # only what identifies the customers, not their whole records (one
        # query when the customer is a company, its own commercial entity)
        identity = ["commercial_partner_id", "name", "is_company", "vat", "email", "phone"]
        self.partner_id.fetch(identity)
        self.partner_id.commercial_partner_id.fetch(identity)
        # a user learns who holds a customer only in the companies they work in,
        # whatever company the form sends
        allowed = self.env.user.company_ids.ids
        vals_by_lead = {lead: lead._registration_keys() for lead in self}
        vals_by_lead = {
            lead: vals for lead, vals in vals_by_lead.items() if vals["company_id"] in allowed
        }
        rows = Registration._active_holders(list(vals_by_lead.values()))
        for lead in self:
            vals = vals_by_lead.get(lead)
            if not vals:
                lead.registration_conflict_ids = False
                lead.registration_conflict_message = False
                continue
            mine = [
                row
                for row in Registration._holders_of(vals, rows)
                if row["lead_id"] != lead._origin.id
            ]
            lead.registration_conflict_ids = [(6, 0, [row["lead_id"] for row in mine])]
            lead.registration_conflict_message = (
                "\n".join(Registration._format_conflict(row) for row in mine) or False
            )

    def _registration_amount(self, date=None):
        """The budget in company currency: a foreign-currency budget is converted."""
        self.ensure_one()
        company = self.company_id or self.env.company
        currency = self.budget_currency_id
        if currency and currency != company.currency_id and self.budget_amount_currency:
            if not _plausible_amount(self.budget_amount_currency):
                return 0.0
            amount = currency._convert(
                self.budget_amount_currency,
                company.currency_id,
                company,
                date or fields.Date.context_today(self),
            )
            return amount if _plausible_amount(amount) else 0.0
        return self.expected_revenue if _plausible_amount(self.expected_revenue) else 0.0

    def _registration_keys(self):
        """Every identity key of this lead's customer, and the lock scope."""
        self.ensure_one()
        company_id = (self.company_id or self.env.company).id
        scope, free_mail_domains = self.env["res.company"]._registration_lock_settings(company_id)
        commercial = self.partner_id.commercial_partner_id
        customer_key, name_key = self._customer_identity()
        return {
            "company_id": company_id,
            "product_line_id": scope == "product_line"
            and self.registration_product_line_id.id
            or False,
            "scope_team_id": scope == "team" and self.team_id.id or False,
            "customer_key": customer_key,
            "name_key": name_key,
            "vat_key": normalize_tax_id(commercial.vat),
            "domain_key": email_domain_key(self.email_from or commercial.email, free_mail_domains),
            "phone_key": normalize_phone(self.phone or commercial.phone),
        }

    def _registration_identity_vals(self):
        """What a registration stores of its customer: the keys, the scope, the
        customer account and name."""
        self.ensure_one()
        return dict(
            self._registration_keys(),
            partner_id=self.partner_id.commercial_partner_id.id,
            customer_name=self._registration_customer_name(),
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
        (record rules apply to searches, not to one2many values)."""
        leads = self._origin
        registrations = (
            self.env["crm.lead.registration"]
            .search([("lead_id", "in", leads.ids)])
            .grouped("lead_id")
        )
        events = (
            self.env["crm.lead.registration.event"]
            .search([("lead_id", "in", leads.ids)])
            .grouped("lead_id")
        )
        Registration = self.env["crm.lead.registration"]
        Event = self.env["crm.lead.registration.event"]
        for lead in self:
            lead.registration_visible_ids = registrations.get(lead._origin, Registration)
            lead.registration_event_visible_ids = events.get(lead._origin, Event)

    @api.depends(
        "expected_revenue",
        "company_id",
        "team_id",
        "budget_currency_id",
        "budget_amount_currency",
        "user_id",
    )
    def _compute_registration_approver_names(self):
        Band = self.env["crm.lead.registration.band"]
        Registration = self.env["crm.lead.registration"]
        for lead in self:
            company = lead.company_id or self.env.company
            band = Band._record_for_amount(company, lead._registration_amount())
            if band.approval == "automatic":
                lead.registration_approver_names = self.env._("Automatic")
                continue
            owner = lead.user_id or self.env.user
            approvers = band._approvers(lead.team_id)._registration_available() - owner
            second = band.second_approval != "none" and (
                band._approvers(lead.team_id, step=2)._registration_available() - owner - approvers
            )
            if approvers and second:
                lead.registration_approver_names = self.env._(
                    "%(first)s, then %(second)s",
                    first=", ".join(approvers.mapped("name")),
                    second=", ".join(second.mapped("name")),
                )
            elif approvers:
                lead.registration_approver_names = ", ".join(approvers.mapped("name"))
            else:
                managers = Registration._registration_managers() - owner
                lead.registration_approver_names = self.env._(
                    "Registration managers (%(names)s): the %(band)s band names no "
                    "approver for this sales team",
                    names=", ".join(managers.mapped("name")) or "-",
                    band=band._label(),
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

    @api.depends("won_status", "registration_ids.date_approved")
    def _compute_won_unregistered(self):
        for lead in self:
            lead.won_unregistered = lead.won_status == "won" and not any(
                lead.registration_ids.mapped("date_approved")
            )

    def _search_won_unregistered(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on Won Without Registration."))
        approved = SQL("SELECT lead_id FROM crm_lead_registration WHERE date_approved IS NOT NULL")
        domain = Domain("won_status", "=", "won") & Domain("id", "not in", approved)
        return domain if (operator == "=") == value else ~domain

    @api.model
    def _cron_backfill_customer_key(self, batch_size=50000):
        """Fill the customer keys of opportunities that existed before the install.

        Works downwards from the highest id the install found, one id range per
        transaction, so a database with millions of opportunities installs in
        seconds and gets its keys within minutes.
        """
        from ..hooks import BACKFILL_PARAM, fill_customer_keys

        Param = self.env["ir.config_parameter"].sudo()
        Cron = self.env["ir.cron"]
        below = int(Param.get_param(BACKFILL_PARAM, 0))
        while below > 0:
            self.flush_model()
            low = max(below - batch_size, 0)
            fill_customer_keys(self.env.cr, low, below)
            below = low
            Param.set_param(BACKFILL_PARAM, below)
            self.invalidate_model(["customer_key"])
            remaining = (below + batch_size - 1) // batch_size
            if not Cron._commit_progress(1, remaining=remaining):
                break
        return below

    @api.depends("need_description", "key_person_identified", "expected_revenue")
    def _compute_is_valid_opportunity(self):
        for lead in self:
            lead.is_valid_opportunity = bool(
                (lead.need_description or "").strip()
                and lead.key_person_identified
                and lead.expected_revenue > 0
            )

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.constrains("expected_revenue", "budget_amount_currency")
    def _check_registration_amounts(self):
        for lead in self:
            for field in ("expected_revenue", "budget_amount_currency"):
                if not _plausible_amount(lead[field] or 0.0):
                    raise ValidationError(
                        self.env._(
                            "%(field)s of %(name)s must be a number between -%(max)s and %(max)s.",
                            field=self._fields[field]._description_string(self.env),
                            name=lead.name,
                            max=f"{MAX_AMOUNT:,.0f}",
                        )
                    )

    @api.model_create_multi
    def create(self, vals_list):
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
        details too long for any index."""
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
                note=self.env._("Merged into %(name)s", name=self.name),
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

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _sync_registration(self):
        """Mirror each lead's latest registration in its stored fields, in one UPDATE."""
        if not self:
            return
        self.env["crm.lead.registration"].flush_model()
        self.flush_recordset(list(PROTECTED_FIELDS))
        self.env.cr.execute(
            SQL(
                """
            UPDATE crm_lead l
               SET registration_id = r.id,
                   registration_state = COALESCE(r.state, 'draft'),
                   registration_number = r.name,
                   protection_end_date = CASE WHEN r.state = 'approved'
                                              THEN r.protection_end_date END
              FROM crm_lead l2
              LEFT JOIN LATERAL (
                    SELECT id, state, name, protection_end_date
                      FROM crm_lead_registration
                     WHERE lead_id = l2.id
                  ORDER BY id DESC LIMIT 1
              ) r ON TRUE
             WHERE l.id = l2.id AND l.id IN %s
            """,
                tuple(self.ids),
            )
        )
        self.invalidate_recordset(list(PROTECTED_FIELDS) + ["registration_user_id"])

    def _prepare_registration_vals(self):
        self.ensure_one()
        return dict(
            self._registration_keys(),
            lead_id=self.id,
            user_id=(self.user_id or self.env.user).id,
            team_id=self.team_id.id,
            partner_id=self.partner_id.commercial_partner_id.id,
            customer_name=self._registration_customer_name(),
            amount=self._registration_amount(),
            band=self.registration_band,
            date_submitted=fields.Datetime.now(),
            submitted_by_id=self.env.user.id,
        )

    def _registration_customer_name(self):
        commercial = self.partner_id.commercial_partner_id
        name = (
            (commercial.is_company and commercial.name)
            or self.partner_name
            or commercial.name
            or self.contact_name
            or False
        )
        return name and name[:MAX_NAME_LENGTH]

    def _registration_problems(self):
        """Every missing or invalid item of this lead, in one list."""
        self.ensure_one()
        company = self.company_id or self.env.company
        today = fields.Date.context_today(self)
        problems = []
        name = self._registration_customer_name()
        keys = self._registration_keys()
        if not name:
            problems.append(self.env._("Customer: set a customer or a company name."))
        elif not any(keys[field] for field in KEY_FIELDS):
            problems.append(
                self.env._(
                    "Customer: %(name)s does not identify a customer. Give the company's "
                    "name in letters, its tax ID, a company e-mail address (not a free "
                    "mail service) or a phone number.",
                    name=name[:80],
                )
            )
        if len(self.partner_name or "") > MAX_NAME_LENGTH or len(self.name or "") > MAX_NAME_LENGTH:
            problems.append(
                self.env._(
                    "Names: a company or opportunity name is at most %(max)s characters long.",
                    max=MAX_NAME_LENGTH,
                )
            )
        if company.registration_require_contact and not (self.phone or self.email_from):
            problems.append(self.env._("Contact: give a phone number or an e-mail address."))
        if self.email_from and (
            len(self.email_from) > MAX_EMAIL_LENGTH or not email_normalize(self.email_from)
        ):
            problems.append(
                self.env._(
                    "E-mail: %(email)s is not a valid e-mail address.", email=self.email_from[:80]
                )
            )
        if self.phone and not self._registration_phone_is_valid(self.phone):
            problems.append(
                self.env._("Phone: %(phone)s is not a valid phone number.", phone=self.phone[:80])
            )
        if company.registration_require_need and not (self.need_description or "").strip():
            problems.append(self.env._("Need description: describe the customer's need."))
        if self._registration_amount() < 0 or (
            company.registration_require_budget and self._registration_amount() <= 0
        ):
            problems.append(self.env._("Budget: the expected revenue must be greater than 0."))
        if company.registration_require_deadline and not self.date_deadline:
            problems.append(self.env._("Expected closing: set the expected closing date."))
        if self.date_deadline and self.date_deadline < today:
            problems.append(
                self.env._("Expected closing: %(date)s is in the past.", date=self.date_deadline)
            )
        elif self.date_deadline and self.date_deadline > today + timedelta(days=3660):
            problems.append(
                self.env._(
                    "Expected closing: %(date)s is more than ten years away.",
                    date=self.date_deadline,
                )
            )
        if company.registration_require_key_person and not (
            self.key_person_identified and self.key_person_name
        ):
            problems.append(
                self.env._("Key person: identify the decision maker and give their name.")
            )
        if company.registration_require_source and not self.registration_source:
            problems.append(self.env._("Source: say where the opportunity comes from."))
        if company.registration_require_category and not (
            self.deal_channel and self.deal_term and self.deal_type
        ):
            problems.append(self.env._("Category: set the channel, the term and the deal type."))
        if self.deal_type == "competitor" and not self.competitor_name:
            problems.append(self.env._("Competitor: name the competitor the customer uses."))
        return problems

    @staticmethod
    def _registration_phone_is_valid(phone):
        if len(phone) > MAX_PHONE_LENGTH:
            return False
        digits = sum(ch.isdigit() for ch in phone)
        return bool(_PHONE.fullmatch(phone.strip())) and 6 <= digits <= 20

    def _check_registration_complete(self):
        messages = []
        for lead in self:
            problems = lead._registration_problems()
            if problems:
                header = self.env._("%(name)s cannot be submitted:", name=lead.name)
                messages.append("\n".join([header] + ["- " + p for p in problems]))
        if messages:
            raise ValidationError("\n\n".join(messages))

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_registration_submit(self):
        """Submit (or resubmit) the registration of these opportunities."""
        if not self.env.user.has_group("opportunity_registration.group_registration_user"):
            raise UserError(self.env._("Only registration users can submit registrations."))
        self.check_access("write")
        is_manager = self.env.user.has_group("opportunity_registration.group_registration_manager")
        for lead in self:
            if lead.user_id and lead.user_id != self.env.user and not is_manager:
                raise UserError(
                    self.env._(
                        "%(name)s is %(owner)s's opportunity: only %(owner)s or a registration "
                        "manager submits its registration.",
                        name=lead.name,
                        owner=lead.user_id.name,
                    )
                )
            if lead.type != "opportunity":
                raise UserError(
                    self.env._(
                        "%(name)s is a lead: convert it to an opportunity before registering it.",
                        name=lead.name,
                    )
                )
            if not lead.active or lead.won_status != "pending":
                raise UserError(
                    self.env._(
                        "%(name)s is closed: only ongoing opportunities can be registered.",
                        name=lead.name,
                    )
                )
            if lead.registration_state in ACTIVE_STATES:
                raise UserError(
                    self.env._(
                        "%(name)s already has an active registration (%(number)s).",
                        name=lead.name,
                        number=lead.registration_number,
                    )
                )
        self._check_registration_complete()
        self._check_registration_limits()
        # an unassigned opportunity becomes its submitter's: the registration's
        # owner and the opportunity's salesperson are one person
        unassigned = self.filtered(lambda lead: not lead.user_id)
        if unassigned:
            unassigned.sudo().user_id = self.env.user
        registrations = self.env["crm.lead.registration"]._create_from_leads(self)
        # automatic approvals log one line saying both (see _set_approved)
        registrations._start_review()  # mirrors the registrations on their leads
        for reg in registrations.filtered(lambda r: r.state == "submitted"):
            reg.lead_id._message_log(
                body=self.env._(
                    "Registration %(number)s submitted by %(user)s (%(band)s band, %(amount)s).",
                    number=reg.name,
                    user=self.env.user.name,
                    band=reg._band_label(reg.band),
                    amount=reg._format_amount(reg.amount),
                )
            )
        return True

    def _check_registration_limits(self):
        """The cap on active registrations per rep, and the re-claim cooldown."""
        Registration = self.env["crm.lead.registration"].sudo()
        owners = self.mapped(lambda lead: lead.user_id or self.env.user)
        capped = any((lead.company_id or self.env.company).registration_max_active for lead in self)
        counts = (
            dict(
                Registration._read_group(
                    [("user_id", "in", owners.ids), ("state", "in", ACTIVE_STATES)],
                    ["user_id"],
                    ["__count"],
                )
            )
            if capped
            else {}
        )
        today = fields.Date.context_today(self)
        for lead in self:
            owner = lead.user_id or self.env.user
            company = lead.company_id or self.env.company
            cap = company.registration_max_active
            counts[owner] = counts.get(owner, 0) + 1
            if cap and counts[owner] > cap:
                raise UserError(
                    self.env._(
                        "%(owner)s already holds %(count)s active registrations, the most "
                        "allowed: release or close one first.",
                        owner=owner.name,
                        count=cap,
                    )
                )
            cooldown = company.registration_claim_cooldown_days
            if not cooldown:
                continue
            vals = lead._registration_keys()
            keys = [Domain(f, "=", vals[f]) for f in KEY_FIELDS if vals.get(f)]
            if not keys:
                continue
            recent = Registration.search(
                Domain("user_id", "=", owner.id)
                & Domain("company_id", "=", company.id)
                & Domain("state", "in", ("expired", "released"))
                & Domain("date_closed", ">=", today - timedelta(days=cooldown))
                & Domain.OR(keys),
                order="date_closed desc",
                limit=1,
            )
            if recent:
                raise UserError(
                    self.env._(
                        "%(owner)s let %(customer)s go on %(date)s (%(number)s): they may "
                        "register it again from %(again)s.",
                        owner=owner.name,
                        customer=recent.customer_name,
                        date=fields.Date.to_date(recent.date_closed),
                        number=recent.name,
                        again=fields.Date.to_date(recent.date_closed) + timedelta(days=cooldown),
                    )
                )

    def action_registration_claim(self):
        """Claim a customer from the public pool: take the opportunity, then register it."""
        self.ensure_one()
        if (
            self.registration_state not in ("released", "expired")
            or not self.active
            or self.won_status != "pending"
        ):
            raise UserError(
                self.env._("Only released or expired ongoing opportunities can be claimed.")
            )
        self.check_access("read")
        if not self.env.user.has_group("opportunity_registration.group_registration_user"):
            raise UserError(self.env._("Only registration users can claim customers."))
        previous = self.user_id
        self.sudo().user_id = self.env.user
        self.sudo()._message_log(
            body=self.env._(
                "Claimed from the public pool by %(user)s (previous salesperson: %(previous)s).",
                user=self.env.user.name,
                previous=previous.name or "-",
            )
        )
        self.with_user(self.env.user).action_registration_submit()
        return True

    def action_registration_request_extension(self, reason=False):
        """The owner asks a registration manager to protect the customer longer."""
        registrations = self._registration_current("approved")
        for reg in registrations.sudo():
            if reg.user_id != self.env.user:
                raise UserError(
                    self.env._(
                        "Only %(owner)s can ask to extend registration %(number)s.",
                        owner=reg.user_id.name,
                        number=reg.name,
                    )
                )
            managers = reg._registration_managers() - reg.user_id
            for manager in managers:
                reg.lead_id.activity_schedule(
                    "mail.mail_activity_data_todo",
                    user_id=manager.id,
                    summary=self.env._("Extension requested for %(number)s", number=reg.name),
                    note=self.env._(
                        "%(owner)s asks to keep %(customer)s beyond %(date)s. Use "
                        "Arbitrate → Extend the protection. Reason: %(reason)s",
                        owner=reg.user_id.name,
                        customer=reg.customer_name,
                        date=reg.protection_end_date,
                        reason=reason or "-",
                    ),
                )
            reg.lead_id._message_log(
                body=self.env._(
                    "%(owner)s requested an extension of %(number)s. Reason: %(reason)s",
                    owner=reg.user_id.name,
                    number=reg.name,
                    reason=reason or "-",
                )
            )
        return True

    def action_registration_withdraw(self, reason=False):
        self._registration_current("submitted").action_withdraw(reason)
        return True

    def action_registration_release(self, reason=False):
        self._registration_current("approved").action_release(reason)
        return True

    def action_registration_approve(self, comment=False):
        self._registration_current("submitted").action_approve(comment)
        return True

    def action_registration_reject(self, reason=False):
        self._registration_current("submitted").action_reject(reason)
        return True

    def _registration_current(self, state):
        """The current registrations of these leads, all in ``state``."""
        self.check_access("read")
        labels = dict(self._fields["registration_state"]._description_selection(self.env))
        for lead in self:
            if lead.registration_state != state:
                raise UserError(
                    self.env._(
                        "%(name)s is %(state)s: this action needs a registration that is "
                        "%(needed)s.",
                        name=lead.name,
                        state=labels[lead.registration_state],
                        needed=labels[state],
                    )
                )
        return self.sudo().registration_id.with_env(self.env)

    def action_open_registration_reason(self):
        """Ask for a reason before withdrawing, releasing or rejecting."""
        self.ensure_one()
        action = self.env.context.get("registration_action")
        titles = dict(
            self.env["crm.lead.registration.reason"]
            ._fields["action"]
            ._description_selection(self.env)
        )
        return {
            "type": "ir.actions.act_window",
            "name": titles.get(action) or self.env._("Registration"),
            "res_model": "crm.lead.registration.reason",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_lead_id": self.id,
                "default_action": action,
            },
        }
