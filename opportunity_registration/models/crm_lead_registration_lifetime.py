import logging
from datetime import timedelta

import psycopg2.errors
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain
from odoo.tools import SQL, format_date

from .crm_lead_registration import (
    ACTIVE_STATES,
    FOLLOW_UP_ACTIVITY_TYPE,
    MAX_EXTENSION_DAYS,
)

_logger = logging.getLogger(__name__)
# A sweep runs again this soon for what it skipped (being written by someone).
SWEEP_RETRY_MINUTES = 10
# What one run of the expiry sweep handles of each kind, per company.
SWEEP_BATCH = 2000


class CrmLeadRegistration(models.Model):
    """The lock's lifetime: renewal by follow-up, the weekly update, the
    warnings, and how every lock ends (expiry, pool, loss, win).
    """

    _inherit = "crm.lead.registration"

    def _follow_up_user(self):
        """Who must post the weekly update: the rep, or the approver personally."""
        self.ensure_one()
        band = self.env["crm.lead.registration.band"]._record_for_amount(
            self.company_id, self.amount
        )
        if band.follow_up == "approver" and self.approved_by_id:
            return self.approved_by_id
        return self.user_id

    def _schedule_follow_up(self, users=None):
        for reg in self:
            user = users and users[reg] or reg._follow_up_user()
            env = self.with_context(lang=user.lang).env  # the assignee's language
            reg.lead_id.sudo().activity_schedule(
                FOLLOW_UP_ACTIVITY_TYPE,
                date_deadline=fields.Date.context_today(reg) + timedelta(days=7),
                user_id=user.id,
                summary=env._("Weekly follow-up of %(number)s", number=reg.name),
                note=env._(
                    "Log what happened with %(customer)s this week: registrations "
                    "need a weekly update.",
                    customer=reg.customer_name,
                ),
            )

    @api.model
    def _cron_remind_follow_up(self):
        """Remind who follows up the registrations with no update for 7 days.

        Like the other sweeps, at most a batch per run (a quarter of theirs:
        each reminder is a to-do e-mailed to its assignee), those approved the
        longest ago first, the job coming back at once for the rest: at a
        hundred thousand locks one transaction outlived the cron worker's time
        limit. The stale ones are found in one query."""
        since = fields.Datetime.now() - timedelta(days=7)
        batch_size = self._sweep_batch(mailing=True)
        for model in ("mail.message", "mail.activity", "crm.lead.registration"):
            self.env[model].flush_model()
        self.env.cr.execute(
            SQL(
                """
            SELECT r.id FROM crm_lead_registration r
             WHERE r.state = 'approved' AND r.date_approved < %(since)s
               AND NOT EXISTS (SELECT 1 FROM mail_message m
                                WHERE m.model = 'crm.lead' AND m.res_id = r.lead_id
                                  AND m.message_type IN ('comment', 'email')
                                  AND m.date >= %(since)s)
               AND NOT EXISTS (SELECT 1 FROM mail_activity a
                                WHERE a.res_model = 'crm.lead' AND a.res_id = r.lead_id
                                  AND a.activity_type_id = %(type_id)s AND a.active)
             ORDER BY r.date_approved, r.id
             LIMIT %(limit)s
            """,
                since=since,
                type_id=self.env.ref(FOLLOW_UP_ACTIVITY_TYPE).id,
                limit=batch_size,
            )
        )
        stale = self.sudo().browse(row[0] for row in self.env.cr.fetchall())
        if len(stale) == batch_size:
            self._sweep_again()
        stale = stale._lock_for_sweep()
        stale._schedule_follow_up()
        return stale

    @api.model
    def _end_with_leads(self, won_leads, lost_leads, lost_reason=False):
        """A lost or archived opportunity releases its lock; a won one closes its
        registration as won, the customer staying with the winner for the
        days Settings give."""
        lost = lost_leads.sudo().registration_id.filtered(lambda r: r.state in ACTIVE_STATES)
        for reg in lost:
            lead = reg.lead_id
            reason = (
                lost_reason
                or lead.lost_reason_id.name
                or (
                    self.env._("Opportunity archived")
                    if not lead.active
                    else self.env._("Opportunity lost")
                )
            )
            if reg.state == "approved":
                reg._close(
                    "released",
                    reason,
                    "opportunity_registration.mt_registration_lost",
                    event="lost",
                )
            else:
                reg._close(
                    "withdrawn",
                    reason,
                    "opportunity_registration.mt_registration_lost",
                )
        won = won_leads.sudo().registration_id.filtered(lambda r: r.state in ACTIVE_STATES)
        today = fields.Date.context_today(self)
        kept = won.filtered(
            lambda r: r.state == "approved" and r.company_id.registration_won_keep_days
        )
        for reg in kept:
            end = today + timedelta(days=reg.company_id.registration_won_keep_days)
            reg.with_context(skip_validation_check=True).write(
                {
                    "date_won": today,
                    "protection_end_date": end,
                    "expiry_warned": False,
                }
            )
            reg.lead_id._registration_log(
                "opportunity_registration.mt_registration_won_kept",
                tracking=lambda _lead, reg=reg: reg._registration_tracking(
                    "name", "user_id", "protection_end_date"
                ),
            )
        if kept:
            kept.lead_id._sync_registration()
            self.env["crm.lead.registration.event"]._log(kept, "won")
        (won - kept)._close(
            "won",
            False,
            "opportunity_registration.mt_registration_won",
        )

    def _lock_for_sweep(self):
        """The registrations a scheduled sweep may change now, locked until it commits.

        A sweep reads its registrations, works for seconds (activities, e-mail),
        then writes them: a rep or an approver saving one of them meanwhile made
        the whole sweep fail on a serialization error, so nobody was warned or
        expired until the next day. Registrations (or opportunities) another
        transaction is writing are skipped instead, and the job runs again
        shortly for them. One of them changed since the sweep's snapshot (its
        search takes a while on a large database) skips the whole run the same way.
        """
        try:
            with self.env.cr.savepoint(flush=False):
                regs = self.try_lock_for_update(allow_referencing=True)
                leads = set(regs.lead_id.try_lock_for_update(allow_referencing=True).ids)
            regs = regs.filtered(lambda reg: reg.lead_id.id in leads)
        except psycopg2.errors.SerializationFailure:
            regs = self.browse()
        if len(regs) < len(self):
            self._sweep_again(minutes=SWEEP_RETRY_MINUTES)
        return regs

    @api.model
    def _sweep_batch(self, mailing=False):
        """How many registrations of each kind one run of a sweep handles, per
        company: a quarter for a sweep that e-mails each one (a to-do assigned
        by e-mail costs about 13 ms), so a run stays within seconds."""
        return max(SWEEP_BATCH // 4, 1) if mailing else SWEEP_BATCH

    @api.model
    def _sweep_find(self, domain_of, order=None, mailing=False):
        """``(registrations, more left)``: what one run of a sweep handles, at
        most a batch per company, ``domain_of(company)`` saying which."""
        limit = self._sweep_batch(mailing)
        found = self.browse()
        more = False
        for company in self.env["res.company"].sudo().search([]):
            batch = self.sudo().search(
                Domain("company_id", "=", company.id) & Domain(domain_of(company)),
                order=order,
                limit=limit,
            )
            found |= batch
            more = more or len(batch) == limit
        return found, more

    @api.model
    def _sweep_again(self, minutes=0):
        """Run the scheduled job that is running this sweep again in ``minutes``."""
        cron = self.env["ir.cron"].sudo().browse(self.env.context.get("cron_id"))
        if cron.exists():
            cron._trigger(fields.Datetime.now() + timedelta(minutes=minutes))

    @api.model
    def _cron_expire(self):
        """Expire neglected or ended locks in set-based passes per company.

        At most SWEEP_BATCH registrations of each kind per run, the job coming
        back at once for the rest: one transaction over a backlog of thousands
        outlived a cron worker's time limit and held its locks for minutes.
        """
        today = fields.Date.context_today(self)
        expired, more_expired = self._sweep_find(
            lambda company: [
                ("state", "=", "approved"),
                ("date_won", "=", False),
                "|",
                ("protection_end_date", "<", today),
                (
                    "last_follow_up_date",
                    "<",
                    today - timedelta(days=company.registration_neglect_days),
                ),
            ]
        )
        # Nobody decided: the review goes back to its owner (SPEC §9.8), never
        # into the pool; an approved lock reviewed again after an amount raise
        # keeps the protection it was granted, to its end.
        pending, more_pending = self._sweep_find(
            lambda company: [
                ("state", "=", "submitted"),
                ("approved_band", "=", False),
                (
                    "date_review_requested",
                    "<",
                    fields.Datetime.now() - timedelta(days=company.registration_pending_days),
                ),
            ]
        )
        reviewed_again, more_reviewed_again = self._sweep_find(
            lambda company: [
                ("state", "=", "submitted"),
                ("approved_band", "!=", False),
                ("protection_end_date", "<", today),
            ]
        )
        won, more_won = self._sweep_find(
            lambda company: [
                ("state", "=", "approved"),
                ("date_won", "!=", False),
                ("protection_end_date", "<", today),
            ]
        )
        if more_expired or more_pending or more_reviewed_again or more_won:
            self._sweep_again()
        expired = (expired | reviewed_again)._lock_for_sweep()
        pending = pending._lock_for_sweep()
        won = won._lock_for_sweep()
        if expired:
            expired._close(
                "expired",
                False,
                "opportunity_registration.mt_registration_expired",
            )
        if pending:
            pending._return_to_owner()
        if won:
            won._close(
                "won",
                False,
                "opportunity_registration.mt_registration_won_ended",
            )
        return expired | pending | won

    def _return_to_owner(self):
        """A review nobody decided in time goes back to its owner: the
        registration is withdrawn for them (not released: the customer stays
        theirs, out of the pool, with no cooldown) and they get a to-do to
        submit it again, which starts a new review."""
        self._close(
            "withdrawn",
            False,
            "opportunity_registration.mt_registration_timed_out",
        )
        # a new review, not the old one's age: the wait was not the owner's doing
        self.sudo().with_context(skip_validation_check=True).write({"date_review_requested": False})
        for reg in self.sudo():
            env = self.with_context(lang=reg.user_id.lang).env  # the owner's language
            reg.lead_id.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=reg.user_id.id,
                summary=env._("Submit %(number)s again", number=reg.name),
                note=env._(
                    "Nobody decided on the registration of %(customer)s in time. "
                    "The customer is still yours: submit the opportunity again.",
                    customer=reg.customer_name,
                ),
            )

    @api.model
    def _cron_warn_expiry(self):
        """Warn owners a few days before their lock ends (activity + e-mail).

        At most SWEEP_BATCH registrations per company and run, the nearest
        ends first; the job comes back at once for the rest, so a backlog never
        holds one long transaction."""
        today = fields.Date.context_today(self)

        def due(company):
            soon = today + timedelta(days=company.registration_warning_days)
            neglect_soon = soon - timedelta(days=company.registration_neglect_days)
            pending_soon = fields.Datetime.now() + timedelta(
                days=company.registration_warning_days - company.registration_pending_days
            )
            return [
                ("expiry_warned", "=", False),
                "|",
                "|",
                "&",
                ("state", "=", "approved"),
                ("protection_end_date", "<=", soon),
                "&",
                "&",
                ("state", "=", "approved"),
                ("date_won", "=", False),
                ("last_follow_up_date", "<=", neglect_soon),
                "&",
                ("state", "=", "submitted"),
                ("date_review_requested", "<=", pending_soon),
            ]

        warned, more = self._sweep_find(due, order="protection_end_date, id")
        if more:
            self._sweep_again()
        warned = warned._lock_for_sweep()
        if not warned:
            return warned
        # the approvers of a pending registration are reminded by the engine
        warned.filtered(lambda r: r.state == "submitted").review_ids.filtered(
            lambda r: r.status in ("waiting", "pending")
        )._send_review_reminder()
        # In batch: one create of activities, then one e-mail per owner listing
        # their registrations about to expire, in the owner's language.
        warned._create_warning_activities()
        # one batch: the template lists each owner's own registrations
        by_owner = tuple(
            (owner.id, tuple(regs.ids))
            for owner, regs in warned.grouped("user_id").items()
            if owner.email
        )
        if by_owner:
            self.env.ref("opportunity_registration.mail_template_registration_expiry").with_context(
                expiring_by_owner=by_owner
            ).send_mail_batch([owner_id for owner_id, _ids in by_owner])
        warned.with_context(skip_validation_check=True).write({"expiry_warned": True})
        warned.filtered(lambda r: r.state == "approved")._notify_channel_partner("expiry_warning")
        return warned

    def _create_warning_activities(self):
        """A to-do for each owner on each opportunity whose lock ends soon, in
        one ``mail.activity`` create: Odoo subscribes the owners (one
        subscription per owner) and updates their systray. No e-mail per to-do
        (``mail_activity_quick_update``): each owner gets one e-mail listing
        them all."""
        if not self:
            return
        texts = self._warning_texts()
        # given, not computed one to-do at a time (then written again)
        names = dict(zip(self.lead_id.ids, self.lead_id.sudo().mapped("display_name"), strict=True))
        model_id = self.env["ir.model"]._get_id("crm.lead")
        todo = self.env.ref("mail.mail_activity_data_todo")
        self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": reg.lead_id.id,
                    "res_name": names[reg.lead_id.id],
                    "activity_type_id": todo.id,
                    "user_id": reg.user_id.id,
                    "user_tz": reg.user_id.tz,
                    "summary": texts[reg][0],
                    "note": texts[reg][1],
                    "date_deadline": reg._lock_end(),
                    "automated": True,
                }
                for reg in self
            ]
        )

    def _warning_texts(self):
        """``{registration: (summary, note)}`` of each owner's warning to-do, in
        the owner's language, the date in the owner's format."""
        texts = {}
        for lang, regs in self.grouped(lambda reg: reg.user_id.lang or "en_US").items():
            env = self.with_context(lang=lang).env
            dates = {}  # a sweep's locks end on a few days
            for reg in regs:
                end = reg._lock_end()
                if end not in dates:
                    dates[end] = format_date(env, end)
                texts[reg] = (
                    env._(
                        "Registration %(number)s expires on %(date)s",
                        number=reg.name,
                        date=dates[end],
                    ),
                    Markup("<p>%s</p>")
                    % env._(
                        "Follow up %(customer)s (a done activity, a logged note or a meeting) "
                        "to keep it, or release it.",
                        customer=reg.customer_name,
                    ),
                )
        return texts

    def _lock_end(self):
        """The day this registration's lock ends if nothing happens: its
        protection end, the end of the neglect period, or the end of the wait
        for a decision, whichever comes first."""
        self.ensure_one()
        company = self.company_id
        ends = [self.protection_end_date] if self.protection_end_date else []
        if self.state == "approved" and self.last_follow_up_date and not self.date_won:
            ends.append(
                self.last_follow_up_date + timedelta(days=company.registration_neglect_days)
            )
        if self.state == "submitted" and self.date_review_requested and not self.approved_band:
            ends.append(
                fields.Date.to_date(self.date_review_requested)
                + timedelta(days=company.registration_pending_days)
            )
        return min(ends) if ends else fields.Date.context_today(self)

    @api.model
    def _renew_from_follow_up(self, lead_ids, kind):
        """Extend the locks of these leads after a qualifying follow-up."""
        regs = self.sudo().search(
            [
                ("lead_id", "in", lead_ids),
                ("state", "=", "approved"),
                ("date_won", "=", False),
            ]
        )
        regs = regs.filtered(lambda r: r.company_id["registration_renew_on_%s" % kind])
        if not regs:
            return regs
        today = fields.Date.context_today(self)
        renewed = self.browse()
        by_end = {}  # new protection end (None: unchanged) -> registrations, one write each
        for reg in regs:
            company = reg.company_id
            ceiling = max(
                fields.Date.to_date(reg.date_approved)
                + timedelta(days=company.registration_max_days),
                reg.extension_end_date or today,
            )
            end = min(
                max(
                    reg.protection_end_date,
                    today + timedelta(days=company.registration_renewal_days),
                ),
                ceiling,
            )
            if end > reg.protection_end_date:
                renewed |= reg
            else:
                end = None
            by_end[end] = by_end.get(end, regs.browse()) | reg
        for end, group in by_end.items():
            vals = {"last_follow_up_date": today, "expiry_warned": False}
            if end:
                vals["protection_end_date"] = end
            group.with_context(skip_validation_check=True).write(vals)
        if renewed:
            renewed.lead_id._sync_registration()
            self.env["crm.lead.registration.event"]._log(renewed, "renewed", note=kind)
        return renewed

    def action_grant_extension(self, end_date, reason=False):
        """A manager lets renewals go beyond the maximum protection until ``end_date``
        (a date or an ISO ``YYYY-MM-DD`` string)."""
        if not self.env.user.has_group("opportunity_registration.group_registration_manager"):
            raise AccessError(self.env._("Only registration managers can grant extensions."))
        self._check_transition("release")
        reason = self._clean_text(reason)
        try:
            end_date = fields.Date.to_date(end_date)
        except (TypeError, ValueError):
            end_date = None
        if not end_date:
            raise UserError(
                self.env._("Give the last day of the extension as a date (YYYY-MM-DD).")
            )
        today = fields.Date.context_today(self)
        if end_date <= today:
            raise UserError(self.env._("An extension must end after today."))
        if end_date > today + timedelta(days=MAX_EXTENSION_DAYS):
            raise UserError(
                self.env._(
                    "An extension ends within %(days)s days from today.", days=MAX_EXTENSION_DAYS
                )
            )
        self.with_context(skip_validation_check=True).sudo().write(
            {
                "extension_end_date": end_date,
                "protection_end_date": end_date,
                "expiry_warned": False,
            }
        )
        self.lead_id._sync_registration()
        self.env["crm.lead.registration.event"]._log(self, "extended", note=reason)
        reg_by_lead = {reg.lead_id: reg for reg in self}
        self.lead_id._registration_log(
            "opportunity_registration.mt_registration_extended",
            tracking=lambda lead: reg_by_lead[lead]._registration_tracking(
                "name", "protection_end_date"
            ),
        )
        return True
