import math
from datetime import date

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from .crm_lead_capture import MAX_AMOUNT, MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, MAX_PHONE_LENGTH
from .crm_lead_message import text_to_html

# The portal form's fields, in the order of the bulk spreadsheet's columns.
PORTAL_FORM_FIELDS = (
    "company_name",
    "vat",
    "contact_name",
    "email",
    "phone",
    "need",
    "budget",
    "date_deadline",
    "product_line",
    "notes",
    "key_person",
    "deal_term",
    "deal_type",
    "competitor",
)
# What a channel partner types in, and how long each text may be.
PORTAL_TEXT_LIMITS = {
    "company_name": MAX_NAME_LENGTH,
    "vat": 64,
    "contact_name": 200,
    "email": MAX_EMAIL_LENGTH,
    "phone": MAX_PHONE_LENGTH,
    "need": 4000,
    "notes": 8000,
    "key_person": 200,
    "competitor": 200,
}


class CrmLead(models.Model):
    """Channel partners (渠道报备): the partner company an opportunity was
    registered by, and the portal's way into the one submission engine."""

    _inherit = "crm.lead"

    channel_partner_id = fields.Many2one(
        "res.partner",
        index="btree_not_null",
        copy=False,
        help="The partner company that registered this opportunity from the portal; "
        "its commission depends on a registration approved before the win.",
    )

    def _check_channel_partner_change(self, vals):
        """Called by _check_protected_fields: the partner a deal's commission
        depends on is recorded by the partner's own registration."""
        if "channel_partner_id" in vals and not self.env.user.has_group(
            "opportunity_registration.group_registration_manager"
        ):
            raise UserError(
                self.env._(
                    "The channel partner of an opportunity is recorded when the partner "
                    "registers it; only a registration manager changes it."
                )
            )

    # ------------------------------------------------------------
    # Portal submission
    # ------------------------------------------------------------

    @api.model
    def _portal_channel_partner(self):
        """The portal user's partner company, if a registration manager enrolled
        it as a channel partner; an AccessError for anyone else. Portal access
        is given for many reasons (invoices, tickets): it never opens deal
        registration by itself."""
        user = self.env.user
        if not user.share or not user._is_portal():
            raise AccessError(self.env._("Only channel partners register deals from the portal."))
        partner = user.partner_id.commercial_partner_id
        if not partner.sudo().is_channel_partner:
            raise AccessError(
                self.env._(
                    "%(company)s is not enrolled as a channel partner, so it cannot register "
                    "deals. Ask your vendor's channel manager to enroll your company.",
                    company=partner.sudo().name,
                )
            )
        return partner

    @api.model
    def _portal_channel_manager(self, partner):
        """Who holds a partner's registrations: the channel manager of the
        partner's sales team, else the company's (Settings)."""
        company = self.env.user.company_id
        team = partner.sudo().registration_team_id
        # the team's first; an archived one gives way to the company's
        candidates = (team.channel_manager_id if team else self.env["res.users"]) | (
            company.sudo().registration_channel_manager_id
        )
        manager = candidates.sudo()._registration_available()[:1]
        if not manager:
            raise UserError(
                self.env._(
                    "Deal registration is not open yet: your vendor has not named a channel "
                    "manager. Please contact your vendor."
                )
            )
        return manager, team

    @api.model
    def _portal_clean_values(self, values):
        """The portal form's values, checked and typed, or a ValidationError
        listing every problem (in the partner's language)."""
        problems = []
        clean = {}
        for name, limit in PORTAL_TEXT_LIMITS.items():
            value = values.get(name) or ""
            if not isinstance(value, str):
                value = str(value)
            value = "".join(ch for ch in value if ch in "\n\t" or ch.isprintable()).strip()
            if len(value) > limit:
                problems.append(
                    self.env._(
                        "%(field)s: at most %(limit)s characters.",
                        field=self._portal_field_label(name),
                        limit=limit,
                    )
                )
                value = value[:limit]
            try:  # a text a spreadsheet would read as a formula is refused
                self._registration_cell_text(value, name)
            except ValidationError as error:
                problems.append(str(error))
            clean[name] = value
        if not clean["company_name"]:
            problems.append(self.env._("Company name: give the customer's company name."))
        budget = str(values.get("budget") or "").strip().replace(",", "")
        clean["budget"] = 0.0
        if budget:
            try:
                amount = float(budget[:40])
            except ValueError:
                amount = None
            if amount is None or not math.isfinite(amount) or not 0 <= amount <= MAX_AMOUNT:
                problems.append(
                    self.env._(
                        "Budget: give an amount between 0 and %(max)s.",
                        max=f"{MAX_AMOUNT:,.0f}",
                    )
                )
            else:
                clean["budget"] = amount
        closing = str(values.get("date_deadline") or "").strip()
        clean["date_deadline"] = False
        if closing:
            try:
                clean["date_deadline"] = date.fromisoformat(closing[:10])
            except ValueError:
                problems.append(
                    self.env._(
                        "Expected closing: give a date as YYYY-MM-DD (%(value)s).",
                        value=closing[:20],
                    )
                )
        clean["product_line_id"] = False
        line = str(values.get("product_line") or "").strip()[:200]
        if line:
            tags = self.env["crm.tag"].sudo().search([("registration_portal", "=", True)])
            tag = tags.filtered(lambda t: str(t.id) == line or t.name.lower() == line.lower())
            if not tag:
                problems.append(self.env._("Product line: choose one of the lines offered."))
            else:
                clean["product_line_id"] = tag[:1].id
        for name, field in (("deal_term", "deal_term"), ("deal_type", "deal_type")):
            value = str(values.get(name) or "").strip()
            allowed = dict(self._fields[field]._description_selection(self.env))
            # a spreadsheet may give the code or the label
            codes = {code: code for code in allowed} | {
                str(label).lower(): code for code, label in allowed.items()
            }
            clean[name] = codes.get(value.lower(), False) if value else False
            if value and not clean[name]:
                problems.append(
                    self.env._(
                        "%(field)s: choose one of %(choices)s.",
                        field=self._fields[field]._description_string(self.env),
                        choices=", ".join(allowed.values()),
                    )
                )
        if problems:
            raise ValidationError(
                "\n".join(
                    [self.env._("The registration cannot be submitted:")]
                    + ["- " + p for p in problems]
                )
            )
        return clean

    @api.model
    def _portal_field_label(self, name):
        return {
            "company_name": self.env._("Company name"),
            "vat": self.env._("Tax ID"),
            "contact_name": self.env._("Contact"),
            "email": self.env._("E-mail"),
            "phone": self.env._("Phone"),
            "need": self.env._("Need"),
            "notes": self.env._("Notes"),
            "key_person": self.env._("Key person"),
            "competitor": self.env._("Competitor"),
        }[name]

    @api.model
    def _portal_customer(self, clean):
        """A new customer account for the deal, created as superuser inside the
        caller's savepoint. Never an existing account found by what the partner
        typed: that would show the partner how another account is named. The
        customer keys (name, tax ID, domain, phone) still find every holder."""
        return (
            self.env["res.partner"]
            .sudo()
            .create(
                {
                    "name": clean["company_name"],
                    "is_company": True,
                    "vat": clean["vat"] or False,
                    "email": clean["email"] or False,
                    "phone": clean["phone"] or False,
                }
            )
        )

    @api.model
    def _registration_lead_vals(self, clean, customer):
        """An opportunity's values from a registration form or spreadsheet row."""
        return {
            "name": clean["company_name"],
            "type": "opportunity",
            "partner_id": customer.id,
            "partner_name": clean["company_name"],
            "contact_name": clean["contact_name"] or False,
            "email_from": clean["email"] or False,
            "phone": clean["phone"] or False,
            "need_description": clean["need"] or False,
            "expected_revenue": clean["budget"],
            "date_deadline": clean["date_deadline"],
            "registration_product_line_id": clean["product_line_id"],
            "description": clean["notes"] and text_to_html(clean["notes"]),  # no link either
            "key_person_identified": bool(clean["key_person"]),
            "key_person_name": clean["key_person"] or False,
            "deal_term": clean["deal_term"],
            "deal_type": clean["deal_type"],
            "competitor_name": clean["competitor"] or False,
        }

    @api.model
    def _portal_register(self, values):
        """Create and submit a channel partner's registration through the one
        engine (completeness, customer identity, lock, review).

        Runs for the portal user; records are written as superuser, scoped to
        what this method builds. Nothing is left behind when it fails: the
        caller runs it in a savepoint. Returns the registration.
        """
        channel_partner = self._portal_channel_partner()
        clean = self._portal_clean_values(values)
        manager, team = self._portal_channel_manager(channel_partner)
        customer = self._portal_customer(clean)
        lead_vals = dict(
            self._registration_lead_vals(clean, customer),
            registration_source="partner",
            deal_channel="indirect",
            channel_partner_id=channel_partner.id,
            user_id=manager.id,
            company_id=self.env.user.company_id.id,
        )
        if team:
            lead_vals["team_id"] = team.id
        lead = (
            self.sudo()
            .with_context(mail_create_nosubscribe=True, tracking_disable=True)
            .create(lead_vals)
        )
        lead._registration_submit()
        registration = lead.registration_id
        # the partner and the channel manager talk on the registration
        registration.message_subscribe(
            partner_ids=(self.env.user.partner_id | manager.partner_id).ids
        )
        return registration
