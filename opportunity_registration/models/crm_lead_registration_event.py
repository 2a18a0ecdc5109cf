import logging

from odoo import SUPERUSER_ID, api, fields, models
from odoo.sql_db import Cursor
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

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
    attempts = fields.Integer(
        default=1,
        help="Refused attempts of this user on this registration this day (UTC), "
        "counted on one event.",
    )

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

    @api.model
    def _log_refused(self, values, note):
        """Keep a trace of a refused (conflicting) attempt, in its own
        transaction: the caller's is rolled back with the refusal.

        At most one event per attempting user, held registration and day
        (UTC): a 200-row upload of a held customer is one line in the holder's
        lock history, its ``attempts`` saying how many. One cursor, read
        committed: each statement after the advisory lock sees the event a
        concurrent attempt has just committed (Odoo's repeatable read would
        keep the snapshot taken before waiting for the lock).
        """
        midnight = fields.Datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
        try:
            with self.env.registry.cursor() as cr:
                if isinstance(cr, Cursor):  # not a test cursor, which shares its transaction
                    cr.execute(SQL("SET TRANSACTION ISOLATION LEVEL READ COMMITTED"))
                cr.execute(
                    SQL(
                        "SELECT pg_advisory_xact_lock(%s, %s)",
                        values["registration_id"],
                        values["user_id"],
                    )
                )
                cr.execute(
                    SQL(
                        """UPDATE crm_lead_registration_event
                              SET attempts = COALESCE(attempts, 1) + 1,
                                  write_uid = %(uid)s,
                                  write_date = now() at time zone 'UTC'
                            WHERE id = (SELECT id FROM crm_lead_registration_event
                                         WHERE event = 'conflict_refused'
                                           AND registration_id = %(reg)s
                                           AND user_id = %(uid)s
                                           AND date >= %(since)s
                                      ORDER BY id LIMIT 1)
                        RETURNING id""",
                        reg=values["registration_id"],
                        uid=values["user_id"],
                        since=midnight,
                    )
                )
                if cr.fetchone():
                    return
                Event = self.env(cr=cr, user=SUPERUSER_ID)[self._name]
                Event.create(dict(values, note=note(Event.env)))._translate_note(note)
        except Exception:
            _logger.warning(
                "Could not log a refused registration conflict: %s", values, exc_info=True
            )
