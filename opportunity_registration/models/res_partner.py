from odoo import SUPERUSER_ID, models

from .crm_lead_registration import ACTIVE_STATES

# What identifies a customer account (name, kind, company, tax ID) and its
# contact details, which every opportunity of the partner shares.
PARTNER_IDENTITY_FIELDS = {"name", "is_company", "parent_id", "vat", "email", "phone"}


class ResPartner(models.Model):
    _inherit = "res.partner"

    def write(self, vals):
        """Renaming a customer, or changing its tax ID, e-mail or phone, re-keys
        its active registrations through the serialized conflict check: a
        rename never gives one customer two holders."""
        result = super().write(vals)
        if PARTNER_IDENTITY_FIELDS & vals.keys():
            self._registration_follow_identity()
        return result

    def _registration_follow_identity(self):
        leads = (
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
        if leads:
            # renaming a registered account, changing its tax ID or moving a
            # contact to another company changes which customer is held: a
            # registration manager's decision; its contact details change
            # through the registration's owner; all of it through the check
            # judged on the real user: Odoo copies a company's tax ID to its
            # contacts as superuser, which must not make it a manager's change
            self.env["crm.lead.registration"]._follow_identity(
                leads,
                self.env.uid == SUPERUSER_ID
                or self.env.user.has_group("opportunity_registration.group_registration_manager"),
                owner_only=True,
            )


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _merge(self, partner_ids, dst_partner=None, extra_checks=True):
        """After a merge, the merged customers' registrations are re-keyed: two
        holders of what is now one customer make the merge fail, naming them."""
        partners = self.env["res.partner"].browse(partner_ids).exists()
        commercial = partners.commercial_partner_id
        leads = (
            self.env["crm.lead"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("registration_state", "in", ACTIVE_STATES),
                    "|",
                    ("partner_id", "in", partners.ids),
                    ("partner_id.commercial_partner_id", "in", commercial.ids),
                ]
            )
        )
        result = super()._merge(partner_ids, dst_partner=dst_partner, extra_checks=extra_checks)
        if leads:
            self.env.invalidate_all()
            self.env["crm.lead.registration"]._follow_identity(leads.exists(), True)
        return result
