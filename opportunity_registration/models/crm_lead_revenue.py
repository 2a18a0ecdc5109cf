from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain

from .crm_lead_capture import MAX_AMOUNT, _plausible_amount


class CrmLeadRevenue(models.Model):
    """Actual revenue (折后实际收入) of a won opportunity, one dated line per
    invoice, payment or confirmed order: what the commitment achievement rate
    and the forecast accuracy are measured against.
    """

    _name = "crm.lead.revenue"
    _description = "Opportunity Actual Revenue"
    _order = "date desc, id desc"
    _check_company_auto = True

    lead_id = fields.Many2one(
        "crm.lead",
        "Opportunity",
        required=True,
        ondelete="cascade",
        index=True,
        check_company=True,
    )
    company_id = fields.Many2one(related="lead_id.company_id", store=True, index=True)
    company_currency_id = fields.Many2one("res.currency", compute="_compute_company_currency_id")
    date = fields.Date(
        default=fields.Date.context_today,
        help="When the revenue was earned; foreign amounts are converted at this date.",
    )
    currency_id = fields.Many2one(
        "res.currency",
        default=lambda self: self.env.company.currency_id,
        required=True,
    )
    amount_currency = fields.Monetary(
        "Amount in Currency",
        currency_field="currency_id",
        help="Revenue after discounts, taxes excluded, in the currency it was earned in.",
    )
    amount = fields.Monetary(
        currency_field="company_currency_id",
        compute="_compute_amount",
        store=True,
        help="Revenue after discounts, taxes excluded, in company currency at the line's date.",
    )
    source = fields.Selection(
        [("manual", "Entered by Finance"), ("import", "Imported"), ("sale", "Sale Order")],
        default="manual",
        required=True,
    )
    name = fields.Char("Reference", help="Invoice, contract or order this revenue comes from.")

    _lead_date_index = models.Index("(lead_id, date)")
    _date_index = models.Index("(date) INCLUDE (lead_id, amount)")

    # ------------------------------------------------------------------
    # Read access: never looser than the opportunity's (SPEC §9.9)
    # ------------------------------------------------------------------

    @api.model
    def _search(self, domain, *args, bypass_access=False, **kwargs):
        """A revenue line is read only where its opportunity is, by crm.lead's
        own record rules whatever they are (stock, this module's or another
        module's), on top of this model's rules: the lead's rules run as the
        caller in a sub-query (searching, reading and grouping all come here)."""
        if not (self.env.su or bypass_access):
            leads = self.env["crm.lead"].with_context(active_test=False)._search([])
            domain = Domain(domain) & Domain("lead_id", "in", leads)
        return super()._search(domain, *args, bypass_access=bypass_access, **kwargs)

    def _check_access(self, operation):
        result = super()._check_access(operation)
        if result or self.env.su or operation != "read" or not any(self._ids):
            return result
        leads = self.sudo().lead_id
        hidden = leads - leads.with_env(self.env)._filtered_access("read")
        forbidden = self.filtered(lambda line: line.sudo().lead_id in hidden)
        if forbidden:
            return forbidden, lambda: self.env["ir.rule"]._make_access_error("read", forbidden)
        return None

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_amount_input(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_amount_input(vals)
        return super().write(vals)

    def _check_amount_input(self, vals):
        """Refuse an amount that would crash the write itself (infinite, not a number)."""
        value = vals.get("amount_currency")
        if value in (None, False):
            return
        try:
            plausible = _plausible_amount(float(value)) and float(value) >= 0
        except (TypeError, ValueError):
            plausible = False
        if not plausible:
            raise ValidationError(self._amount_message(self.env._("this opportunity")))

    def _amount_message(self, name):
        return self.env._(
            "The actual revenue of %(name)s must be between 0 and %(max)s; "
            "record a refund by correcting the line it reduces.",
            name=name,
            max=f"{MAX_AMOUNT:,.0f}",
        )

    @api.depends("lead_id.company_id")
    def _compute_company_currency_id(self):
        for line in self:
            line.company_currency_id = (line.lead_id.company_id or self.env.company).currency_id

    @api.depends("amount_currency", "currency_id", "date", "lead_id.company_id")
    def _compute_amount(self):
        for line in self:
            company = line.lead_id.company_id or self.env.company
            if not line.date or not line.currency_id or line.currency_id == company.currency_id:
                line.amount = line.amount_currency
            else:
                line.amount = line.currency_id._convert(
                    line.amount_currency, company.currency_id, company, line.date
                )

    @api.constrains("lead_id", "date", "amount_currency")
    def _check_revenue(self):
        for line in self:
            if not line.date:
                raise ValidationError(
                    self.env._(
                        "The actual revenue of %(name)s needs the date it was earned.",
                        name=line.lead_id.name,
                    )
                )
            if not _plausible_amount(line.amount_currency or 0.0) or line.amount_currency < 0:
                raise ValidationError(self._amount_message(line.lead_id.name))
            if line.lead_id.won_status != "won":
                raise ValidationError(
                    self.env._(
                        "Actual revenue is recorded on won opportunities only: "
                        "%(name)s is not won.",
                        name=line.lead_id.name,
                    )
                )
