import logging

from odoo import SUPERUSER_ID, api, fields, models
from odoo.sql_db import Cursor
from odoo.tools import SQL, format_date

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
    note = fields.Text(help="What people typed: a reason, a comment, a customer's name.")
    description = fields.Text(
        compute="_compute_description",
        help="What happened, in the reader's language, from the event's own fields.",
    )
    attempts = fields.Integer(
        default=1,
        help="Refused attempts of this user on this registration this day (UTC), "
        "counted on one event.",
    )

    @api.depends(
        "event", "user_id", "owner_id", "protection_end_date", "attempts", "registration_id.name"
    )
    @api.depends_context("lang")
    def _compute_description(self):
        for event in self:
            event.description = event._describe(
                user=event.user_id.name or "-",
                owner=event.owner_id.name or "-",
                number=event.registration_id.name or "-",
                date=format_date(self.env, event.protection_end_date) or "-",
                attempts=event.attempts,
            )

    def _describe(self, **args):
        """The sentence of this event, in the environment's language."""
        _ = self.env._
        match self.event:
            case "submitted":
                return _("%(user)s submitted %(number)s.", **args)
            case "granted":
                return _("%(owner)s holds the customer until %(date)s.", **args)
            case "renewed":
                return _("A follow-up renewed the lock of %(owner)s until %(date)s.", **args)
            case "extended":
                return _("%(user)s extended the protection of %(owner)s until %(date)s.", **args)
            case "expired":
                return _(
                    "The lock of %(owner)s expired: the customer is back in the public pool.",
                    **args,
                )
            case "released":
                return _("%(user)s released the customer to the public pool.", **args)
            case "lost":
                return _(
                    "The opportunity was lost or archived: the lock of %(owner)s ended.", **args
                )
            case "withdrawn":
                return _("%(number)s was withdrawn.", **args)
            case "rejected":
                return _("%(user)s rejected %(number)s.", **args)
            case "transferred":
                return _("%(user)s transferred %(number)s to %(owner)s.", **args)
            case "kept":
                return _("Arbitration by %(user)s: %(owner)s keeps the customer.", **args)
            case "rekeyed":
                return _("%(user)s changed the customer of %(number)s.", **args)
            case "amount_changed":
                return _("%(user)s changed the amount of %(number)s.", **args)
            case "won" if self.protection_end_date:
                return _(
                    "The opportunity was won: %(owner)s keeps the customer until %(date)s.", **args
                )
            case "won":
                return _("The opportunity was won: %(number)s is closed.", **args)
            case "merged":
                return _("%(user)s merged opportunities of %(number)s into this one.", **args)
            case "conflict_refused":
                return _(
                    "%(user)s was refused the customer %(owner)s holds (%(attempts)s attempts).",
                    **args,
                )
        return dict(self._fields["event"]._description_selection(self.env)).get(self.event, "")

    @api.model
    def _log(self, registrations, event, note=False, **extra):
        """One event per registration, in one INSERT. ``note`` is what people
        typed (a reason, a name); the sentence is computed when read."""
        return self.sudo().create(
            [
                dict(
                    {
                        "registration_id": reg.id,
                        "lead_id": reg.lead_id.id,
                        "company_id": reg.company_id.id,
                        "event": event,
                        "owner_id": reg.user_id.id,
                        "protection_end_date": reg.protection_end_date,
                        "note": note,
                    },
                    **extra,
                )
                for reg in registrations
            ]
        )

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
                self.env(cr=cr, user=SUPERUSER_ID)[self._name].create(dict(values, note=note))
        except Exception:
            _logger.warning(
                "Could not log a refused registration conflict: %s", values, exc_info=True
            )
