from odoo import api, models


class CalendarEvent(models.Model):
    _inherit = "calendar.event"

    @api.model_create_multi
    def create(self, vals_list):
        """A meeting planned on a registered opportunity renews its lock."""
        events = super().create(vals_list)
        lead_ids = events.opportunity_id.ids
        if lead_ids:
            self.env["crm.lead.registration"]._renew_from_follow_up(lead_ids, "meeting")
        return events
