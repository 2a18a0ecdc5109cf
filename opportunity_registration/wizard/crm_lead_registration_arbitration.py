from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.crm_lead_submission import EXTENSION_ACTIVITY_TYPE
from .crm_lead_registration_reason import REASON_LIMIT, clean_text_vals

# room for "Arbitration: " before the reason, when it is given to the release
ARBITRATION_REASON_LIMIT = REASON_LIMIT - 100


class CrmLeadRegistrationArbitration(models.TransientModel):
    """A manager settles who holds a customer, with a reason that is logged."""

    _name = "crm.lead.registration.arbitration"
    _description = "Registration Arbitration"

    lead_id = fields.Many2one("crm.lead", "Opportunity", required=True, readonly=True)
    registration_id = fields.Many2one(
        "crm.lead.registration", "Holding Registration", required=True, readonly=True
    )
    holder_lead_id = fields.Many2one(related="registration_id.lead_id", string="Held Opportunity")
    holder_user_id = fields.Many2one(related="registration_id.user_id", string="Holder")
    holder_date_submitted = fields.Datetime(
        related="registration_id.date_submitted", string="Registered On"
    )
    holder_last_follow_up = fields.Date(
        related="registration_id.last_follow_up_date", string="Last Follow-up"
    )
    holder_protection_end = fields.Date(
        related="registration_id.protection_end_date", string="Protected Until"
    )
    holder_event_ids = fields.One2many(
        related="registration_id.event_ids", string="Holder's Timeline"
    )
    challenger_user_id = fields.Many2one(related="lead_id.user_id", string="Challenger")
    challenger_create_date = fields.Datetime(
        related="lead_id.create_date", string="Challenger's Opportunity Created"
    )
    challenger_activity_date = fields.Datetime(
        related="lead_id.date_last_stage_update", string="Challenger's Last Stage Change"
    )
    decision = fields.Selection(
        [
            ("keep", "Keep the holder"),
            ("give_to_challenger", "Give the customer to the challenger"),
            ("transfer_user", "Transfer the registration to another rep"),
            ("transfer_partner", "Move the registration to another customer account"),
            ("extend", "Extend the protection"),
        ],
        required=True,
        default="keep",
    )
    new_user_id = fields.Many2one("res.users", "New Owner", domain="[('share', '=', False)]")
    new_partner_id = fields.Many2one("res.partner", "Customer Account")
    extension_end_date = fields.Date("Protect Until")
    reason = fields.Text(required=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        lead = self.env["crm.lead"].browse(
            values.get("lead_id") or self.env.context.get("active_id")
        )
        if lead and not values.get("registration_id"):
            values["registration_id"] = self._holder(lead).id
        return values

    @api.model
    def _holder(self, lead):
        """The registration that holds the opportunity's customer: its own, or a conflicting one."""
        if lead.registration_state in ("submitted", "approved"):
            return lead.registration_id
        return lead.registration_conflict_ids[:1].registration_id

    @api.model
    def _reason_missing(self, env):
        return env._("Give the reason for your decision.")

    def write(self, vals):
        return super().write(
            clean_text_vals(
                self, [dict(vals)], ARBITRATION_REASON_LIMIT, required=self._reason_missing
            )[0]
        )

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = clean_text_vals(
            self, vals_list, ARBITRATION_REASON_LIMIT, required=self._reason_missing
        )
        # The holder may have let the customer go since the manager looked:
        # say so rather than fail on the missing registration.
        for vals in vals_list:
            if vals.get("registration_id"):
                continue
            lead = self.env["crm.lead"].browse(
                vals.get("lead_id") or self.env.context.get("active_id")
            )
            vals["registration_id"] = self._holder(lead).id
            if not vals["registration_id"]:
                raise UserError(
                    self.env._(
                        "Nobody holds the customer of %(name)s any more: there is nothing to "
                        "arbitrate. Its salesperson can submit it.",
                        name=lead.display_name,
                    )
                )
        return super().create(vals_list)

    def action_confirm(self):
        self.ensure_one()
        holder = self.registration_id
        # the reason as stored is checked; a record from before is checked again
        reason = self.env["crm.lead.registration"]._clean_text(
            self.reason, limit=ARBITRATION_REASON_LIMIT
        )
        if not reason:
            raise UserError(self._reason_missing(self.env))
        if self.decision == "transfer_user":
            if not self.new_user_id:
                raise UserError(self.env._("Choose the new owner."))
            holder.action_transfer(user=self.new_user_id, reason=reason)
        elif self.decision == "transfer_partner":
            if not self.new_partner_id:
                raise UserError(self.env._("Choose the customer account."))
            holder.action_transfer(partner=self.new_partner_id, reason=reason)
        elif self.decision == "extend":
            if not self.extension_end_date:
                raise UserError(self.env._("Choose until when the customer stays protected."))
            holder.action_grant_extension(self.extension_end_date, reason=reason)
            # the owner's request is answered: they may ask again later
            holder._registration_activities(EXTENSION_ACTIVITY_TYPE).unlink()
        elif self.decision == "give_to_challenger":
            if self.lead_id == holder.lead_id:
                raise UserError(
                    self.env._("Open the challenger's opportunity to give it the customer.")
                )
            holder.action_release(reason=self.env._("Arbitration: %(reason)s", reason=reason))
            self.lead_id.sudo().with_user(
                self.lead_id.user_id or self.env.user
            ).action_registration_submit()
            self.lead_id.sudo()._registration_log(
                "opportunity_registration.mt_registration_arbitration_given",
                body=reason,
                tracking=lambda _lead: [(holder, "user_id", holder.user_id, self.lead_id.user_id)],
            )
        else:
            Event = self.env["crm.lead.registration.event"]
            Event._log(holder, "kept", note=reason)
            if self.lead_id != holder.lead_id:
                # the challenger's opportunity shows the decision too
                Event._log(holder, "kept", note=reason, lead_id=self.lead_id.id)
            self.lead_id._registration_log(
                "opportunity_registration.mt_registration_arbitration_kept",
                body=reason,
                tracking=lambda _lead: [(holder, "user_id", False, holder.user_id)],
            )
        return {"type": "ir.actions.act_window_close"}
