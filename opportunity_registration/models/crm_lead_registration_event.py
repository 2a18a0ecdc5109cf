from odoo import api, fields, models

LOCK_EVENTS = [
    ("submitted", "Submitted"),
    ("granted", "Lock Granted"),
    ("renewed", "Lock Renewed"),
    ("extended", "Extension Granted"),
    ("expired", "Lock Expired"),
    ("released", "Released"),
    ("lost", "Opportunity Lost"),
    ("withdrawn", "Withdrawn"),
    ("rejected", "Rejected"),
    ("transferred", "Transferred"),
    ("kept", "Holder Kept by Arbitration"),
    ("rekeyed", "Customer Changed"),
    ("amount_changed", "Amount Changed"),
    ("won", "Won"),
    ("merged", "Opportunities Merged"),
    ("conflict_refused", "Conflict Refused"),
]


class CrmLeadRegistrationEvent(models.Model):
    """Lock history: every change of who holds a customer, and every refusal.

    Written by the module only (as superuser) and never deleted: opportunities
    and registrations that have a history cannot be deleted either.
    """

    _name = "crm.lead.registration.event"
    _description = "Registration Lock Event"
    _order = "date desc, id desc"

    registration_id = fields.Many2one("crm.lead.registration", index=True, ondelete="restrict")
    lead_id = fields.Many2one("crm.lead", "Opportunity", index=True, ondelete="restrict")
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    event = fields.Selection(LOCK_EVENTS, required=True)
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    user_id = fields.Many2one("res.users", "By", default=lambda self: self.env.user)
    owner_id = fields.Many2one("res.users")
    protection_end_date = fields.Date("Protection End")
    note = fields.Text(translate=True)

    @api.model
    def _log(self, registrations, event, note=False, **extra):
        """One event per registration, in one INSERT.

        ``note`` is a text typed by someone, or ``note(env)`` giving it in
        ``env``'s language: then it is kept in every installed language.
        """
        render = note if callable(note) else None
        events = self.sudo().create(
            [
                dict(
                    {
                        "registration_id": reg.id,
                        "lead_id": reg.lead_id.id,
                        "company_id": reg.company_id.id,
                        "event": event,
                        "owner_id": reg.user_id.id,
                        "protection_end_date": reg.protection_end_date,
                        "note": render(self.env) if render else note,
                    },
                    **extra,
                )
                for reg in registrations
            ]
        )
        if render:
            events._translate_note(render)
        return events

    def _translate_note(self, render):
        """Write ``render(env)`` as the note in each other installed language."""
        for code, _name in self.env["res.lang"].get_installed():
            if code != self.env.lang:
                self.with_context(lang=code).note = render(self.with_context(lang=code).env)
