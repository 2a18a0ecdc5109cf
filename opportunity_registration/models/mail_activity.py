from odoo import models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    def _action_done(self, feedback=False, attachment_ids=None):
        """A done activity on a registered opportunity renews its lock."""
        lead_ids = {act.res_id for act in self if act.res_model == "crm.lead"}
        result = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        if lead_ids:
            self.env["crm.lead.registration"]._renew_from_follow_up(list(lead_ids), "activity")
        return result
