from odoo import api, models
from odoo.exceptions import AccessError

from .crm_lead_registration import REVIEW_ACTIVITY_TYPE


class MailActivity(models.Model):
    _inherit = "mail.activity"

    def _action_done(self, feedback=False, attachment_ids=None):
        """A done activity on a registered opportunity renews its lock."""
        self._check_registration_review_owner()
        lead_ids = {act.res_id for act in self if act.res_model == "crm.lead"}
        result = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        if lead_ids:
            self.env["crm.lead.registration"]._renew_from_follow_up(list(lead_ids), "activity")
        return result

    def write(self, vals):
        """Nobody but its approver reschedules, reassigns, re-types or archives
        an approver's review to-do."""
        self._check_registration_review_owner()
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_registration_review(self):
        self._check_registration_review_owner()

    def _check_registration_review_owner(self):
        """An approver's review to-do is closed by its approver (or a
        registration manager), never by the rep waiting for the decision."""
        if self.env.su or self.env.user.has_group(
            "opportunity_registration.group_registration_manager"
        ):
            return
        review_type = self.env.ref(REVIEW_ACTIVITY_TYPE, raise_if_not_found=False)
        foreign = self.filtered(
            lambda act: (
                review_type and act.activity_type_id == review_type and act.user_id != self.env.user
            )
        )
        if foreign:
            raise AccessError(
                self.env._(
                    "%(activity)s is %(user)s's review: only they or a registration manager "
                    "can close it.",
                    activity=foreign[:1].summary or foreign[:1].activity_type_id.name,
                    user=foreign[:1].user_id.name,
                )
            )
