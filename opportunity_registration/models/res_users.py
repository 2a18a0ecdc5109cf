from odoo import models


class ResUsers(models.Model):
    _inherit = "res.users"

    def _registration_available(self):
        """The users who can still decide: active internal users (an archived or
        departed approver is skipped, never waited for)."""
        return self.filtered(lambda user: user.active and not user.share)
