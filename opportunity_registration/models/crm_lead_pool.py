from odoo import fields, models
from odoo.tools import SQL

from .crm_lead_registration import POOL_STATES


class CrmLeadPool(models.Model):
    """The public pool (公海): who a customer is and why it is there.

    Reps claim customers from here, not from the previous owner's
    opportunity: its amount, notes, chatter and reasons stay behind the
    opportunity's own rules (SPEC §9.9). A lost or won deal is not in the
    pool, nor an archived one.
    """

    _name = "crm.lead.pool"
    _description = "Public Pool Customer"
    _auto = False
    _order = "date_pooled desc, id desc"
    _rec_name = "customer_name"
    # what the view reads: flushed before it is searched or read
    _depends = {
        "crm.lead": [
            "active",
            "type",
            "won_status",
            "registration_state",
            "registration_id",
            "city",
            "country_id",
            "team_id",
            "company_id",
        ],
        "crm.lead.registration": ["customer_name", "user_id", "state", "date_closed"],
    }

    # the opportunity itself, for those who may read it anyway
    lead_id = fields.Many2one(
        "crm.lead",
        "Opportunity",
        readonly=True,
        groups="sales_team.group_sale_salesman_all_leads",
    )
    customer_name = fields.Char("Customer", readonly=True)
    city = fields.Char(readonly=True)
    country_id = fields.Many2one("res.country", readonly=True)
    team_id = fields.Many2one("crm.team", "Sales Team", readonly=True)
    previous_user_id = fields.Many2one("res.users", "Previous Owner", readonly=True)
    pool_reason = fields.Selection(
        [
            ("released", "Released by its owner"),
            ("expired", "Expired (protection ended or not followed up)"),
        ],
        "Why in the Pool",
        readonly=True,
    )
    date_pooled = fields.Datetime("In the Pool Since", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)

    def init(self):
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW crm_lead_pool AS (
                    SELECT lead.id,
                           lead.id AS lead_id,
                           reg.customer_name,
                           lead.city,
                           lead.country_id,
                           lead.team_id,
                           reg.user_id AS previous_user_id,
                           reg.state AS pool_reason,
                           reg.date_closed AS date_pooled,
                           lead.company_id
                      FROM crm_lead lead
                      JOIN crm_lead_registration reg ON reg.id = lead.registration_id
                     WHERE lead.active
                       AND lead.type = 'opportunity'
                       AND lead.won_status = 'pending'
                       AND lead.registration_state IN %(states)s
                )
                """,
                states=POOL_STATES,
            )
        )

    def action_claim(self):
        """Claim this customer: its opportunity becomes the rep's and is registered."""
        self.ensure_one()
        lead = self.sudo().lead_id.with_env(self.env)
        lead.action_registration_claim()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": lead.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
