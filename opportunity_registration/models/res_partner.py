from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError

from .crm_lead_registration import ACTIVE_STATES

# What identifies a customer account (name, kind, company, tax ID) and its
# contact details, which every opportunity of the partner shares.
PARTNER_IDENTITY_FIELDS = {"name", "is_company", "parent_id", "vat", "email", "phone"}
# Who may register deals from the portal, and whose channel manager holds
# them: a registration manager's decision, never a rep's or the partner's.
CHANNEL_ENROLLMENT_FIELDS = {"is_channel_partner", "registration_team_id"}


class ResPartner(models.Model):
    _inherit = "res.partner"

    registration_team_id = fields.Many2one(
        "crm.team",
        "Channel Sales Team",
        tracking=True,
        help="For a channel partner: the sales team whose channel manager holds and "
        "first reviews the deals the partner registers from the portal.",
    )
    is_channel_partner = fields.Boolean(
        "Channel Partner",
        copy=False,
        tracking=True,
        help="Enrolled by a registration manager: the portal users of this company may "
        "register deals and upload spreadsheets of deals. Portal access alone (to read "
        "invoices, for instance) does not let anyone register deals.",
    )

    @api.model
    def _check_channel_enrollment_rights(self, vals):
        """Enrollment is a registration manager's decision: any internal user
        edits partners, and the portal's account form writes the partner's own
        record as superuser, so the real user is judged, not the environment."""
        if CHANNEL_ENROLLMENT_FIELDS.isdisjoint(vals):
            return
        if self.env.uid == SUPERUSER_ID or self.env.user.has_group(
            "opportunity_registration.group_registration_manager"
        ):
            return
        if not any(vals.get(field) for field in CHANNEL_ENROLLMENT_FIELDS) and not self:
            return  # a new partner that is not enrolled: nothing decided
        raise AccessError(
            self.env._(
                "Only a registration manager enrolls a company as a channel partner or "
                "chooses its channel sales team: ask your sales administrator."
            )
        )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_channel_enrollment_rights(vals)
        return super().create(vals_list)

    def write(self, vals):
        """Renaming a customer, or changing its tax ID, e-mail or phone, re-keys
        its active registrations through the serialized conflict check: a
        rename never gives one customer two holders."""
        self._check_channel_enrollment_rights(vals)
        result = super().write(vals)
        if "name" in vals and self.sudo().with_context(active_test=False).user_ids:
            self.env.registry.clear_cache()  # an approver renamed: the form's preview
        if PARTNER_IDENTITY_FIELDS & vals.keys():
            leads = self._registered_leads()
            if leads:
                # Which customer is held (name, tax ID, company of a contact) is
                # a registration manager's decision, its contact details the
                # owner's; all of it goes through the check. Judged on the real
                # user: Odoo copies a company's tax ID to its contacts as
                # superuser, which must not make it a manager's change.
                self.env["crm.lead.registration"]._follow_identity(
                    leads,
                    self.env.uid == SUPERUSER_ID
                    or self.env.user.has_group(
                        "opportunity_registration.group_registration_manager"
                    ),
                    owner_only=True,
                )
        return result

    def _registered_leads(self):
        """Opportunities with an active registration whose customer is one of
        these partners or their company."""
        return (
            self.env["crm.lead"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("registration_state", "in", ACTIVE_STATES),
                    "|",
                    ("partner_id", "in", self.ids),
                    ("partner_id.commercial_partner_id", "in", self.commercial_partner_id.ids),
                ]
            )
        )


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _merge(self, partner_ids, dst_partner=None, extra_checks=True):
        """After a merge, the merged customers' registrations are re-keyed: two
        holders of what is now one customer make the merge fail, naming them."""
        leads = self.env["res.partner"].browse(partner_ids).exists()._registered_leads()
        result = super()._merge(partner_ids, dst_partner=dst_partner, extra_checks=extra_checks)
        if leads:
            self.env.invalidate_all()
            self.env["crm.lead.registration"]._follow_identity(leads.exists(), True)
        return result
