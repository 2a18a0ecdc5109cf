import math
import re
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import email_normalize, format_date

from .crm_lead_registration import KEY_FIELDS

_PHONE = re.compile(r"\+?[\d\s().\-/]+(?:\s*(?:x|ext\.?)\s*\d{1,6})?", re.IGNORECASE)
MAX_PHONE_LENGTH = 64
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 500
# Amounts beyond this are typing errors (or attacks), not budgets.
MAX_AMOUNT = 1e13


def _plausible_amount(amount):
    return isinstance(amount, (int, float)) and math.isfinite(amount) and abs(amount) <= MAX_AMOUNT


class CrmLead(models.Model):
    """What a registration must carry (商机信息采集表): the data-capture
    fields, the amount in company currency, and the one-message completeness
    report.
    """

    _inherit = "crm.lead"

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

    registration_problems = fields.Text(
        "Missing to Submit",
        compute="_compute_registration_problems",
        help="What must be completed or corrected before this opportunity can be submitted.",
    )
    registration_problem_fields = fields.Char(compute="_compute_registration_problems")

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

    @api.depends("need_description", "key_person_identified", "expected_revenue")
    def _compute_is_valid_opportunity(self):
        for lead in self:
            lead.is_valid_opportunity = bool(
                (lead.need_description or "").strip()
                and lead.key_person_identified
                and lead.expected_revenue > 0
            )

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
        return [message for _field, message in self._registration_problem_items()]

    def _registration_problem_items(self):
        """``(field name, message)`` for every missing or invalid item, so that
        the form can point at the fields the report names."""
        self.ensure_one()
        company = self.company_id or self.env.company
        today = fields.Date.context_today(self)
        problems = []
        name = self._registration_customer_name()
        if not name:
            problems.append(
                ("partner_id", self.env._("Customer: set a customer or a company name."))
            )
        # the stored customer key answers for most; the other keys only without it
        elif not self.customer_key and not any(
            self._registration_keys()[field] for field in KEY_FIELDS
        ):
            problems.append(
                (
                    "partner_id",
                    self.env._(
                        "Customer: %(name)s does not identify a customer. Give the company's "
                        "name in letters, its tax ID, a company e-mail address (not a free "
                        "mail service) or a phone number.",
                        name=name[:80],
                    ),
                )
            )
        if len(self.partner_name or "") > MAX_NAME_LENGTH or len(self.name or "") > MAX_NAME_LENGTH:
            problems.append(
                (
                    "name" if len(self.name or "") > MAX_NAME_LENGTH else "partner_name",
                    self.env._(
                        "Names: a company or opportunity name is at most %(max)s characters long.",
                        max=MAX_NAME_LENGTH,
                    ),
                )
            )
        if company.registration_require_contact and not (self.phone or self.email_from):
            problems.append(
                ("email_from", self.env._("Contact: give a phone number or an e-mail address."))
            )
        if self.email_from and (
            len(self.email_from) > MAX_EMAIL_LENGTH or not email_normalize(self.email_from)
        ):
            problems.append(
                (
                    "email_from",
                    self.env._(
                        "E-mail: %(email)s is not a valid e-mail address.",
                        email=self.email_from[:80],
                    ),
                )
            )
        if self.phone and not self._registration_phone_is_valid(self.phone):
            problems.append(
                (
                    "phone",
                    self.env._(
                        "Phone: %(phone)s is not a valid phone number.", phone=self.phone[:80]
                    ),
                )
            )
        if company.registration_require_need and not (self.need_description or "").strip():
            problems.append(
                ("need_description", self.env._("Need description: describe the customer's need."))
            )
        if self._registration_amount() < 0 or (
            company.registration_require_budget and self._registration_amount() <= 0
        ):
            problems.append(
                (
                    "expected_revenue",
                    self.env._("Budget: the expected revenue must be greater than 0."),
                )
            )
        if company.registration_require_deadline and not self.date_deadline:
            problems.append(
                ("date_deadline", self.env._("Expected closing: set the expected closing date."))
            )
        if self.date_deadline and self.date_deadline < today:
            problems.append(
                (
                    "date_deadline",
                    self.env._(
                        "Expected closing: %(date)s is in the past.",
                        date=format_date(self.env, self.date_deadline),
                    ),
                )
            )
        elif self.date_deadline and self.date_deadline > today + timedelta(days=3660):
            problems.append(
                (
                    "date_deadline",
                    self.env._(
                        "Expected closing: %(date)s is more than ten years away.",
                        date=format_date(self.env, self.date_deadline),
                    ),
                )
            )
        if company.registration_require_key_person and not (
            self.key_person_identified and self.key_person_name
        ):
            problems.append(
                (
                    "key_person_name",
                    self.env._("Key person: identify the decision maker and give their name."),
                )
            )
        if company.registration_require_source and not self.registration_source:
            problems.append(
                ("registration_source", self.env._("Source: say where the opportunity comes from."))
            )
        if company.registration_require_category and not (
            self.deal_channel and self.deal_term and self.deal_type
        ):
            problems.append(
                ("deal_type", self.env._("Category: set the channel, the term and the deal type."))
            )
        if self.deal_type == "competitor" and not self.competitor_name:
            problems.append(
                (
                    "competitor_name",
                    self.env._("Competitor: name the competitor the customer uses."),
                )
            )
        return problems

    @api.depends(
        "type",
        "active",
        "won_status",
        "registration_state",
        "name",
        "partner_id",
        "partner_name",
        "contact_name",
        "email_from",
        "phone",
        "need_description",
        "expected_revenue",
        "budget_currency_id",
        "budget_amount_currency",
        "date_deadline",
        "key_person_identified",
        "key_person_name",
        "registration_source",
        "deal_channel",
        "deal_term",
        "deal_type",
        "competitor_name",
    )
    @api.depends_context("lang")
    def _compute_registration_problems(self):
        """What would stop a submission, refreshed as the rep types."""
        for lead in self:
            items = lead._registration_problem_items() if lead._registration_submittable() else []
            lead.registration_problems = "\n".join(message for _field, message in items) or False
            # space-delimited on both ends, so that the view can test ' name ' in it
            fields_named = sorted({field for field, _message in items})
            lead.registration_problem_fields = (
                " %s " % " ".join(fields_named) if fields_named else False
            )

    @api.onchange("expected_revenue", "email_from", "phone", "date_deadline", "name")
    def _onchange_registration_warn(self):
        """Say at once when a value just typed would be refused at submission."""
        today = fields.Date.context_today(self)
        messages = []
        if self.expected_revenue < 0:
            messages.append(self.env._("Budget: the expected revenue cannot be negative."))
        if self.email_from and (
            len(self.email_from) > MAX_EMAIL_LENGTH or not email_normalize(self.email_from)
        ):
            messages.append(
                self.env._(
                    "E-mail: %(email)s is not a valid e-mail address.", email=self.email_from[:80]
                )
            )
        if self.phone and not self._registration_phone_is_valid(self.phone):
            messages.append(
                self.env._("Phone: %(phone)s is not a valid phone number.", phone=self.phone[:80])
            )
        # a date the view gave (the Forecast column the rep created in) was not typed
        given = fields.Date.to_date(self.env.context.get("default_date_deadline") or None)
        if self.date_deadline and self.date_deadline < today and self.date_deadline != given:
            messages.append(
                self.env._(
                    "Expected closing: %(date)s is in the past.",
                    date=format_date(self.env, self.date_deadline),
                )
            )
        if len(self.name or "") > MAX_NAME_LENGTH:
            messages.append(
                self.env._(
                    "Names: a company or opportunity name is at most %(max)s characters long.",
                    max=MAX_NAME_LENGTH,
                )
            )
        if not messages:
            return None
        return {
            "warning": {
                "title": self.env._("Check this opportunity"),
                "message": "\n".join(messages),
            }
        }

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
