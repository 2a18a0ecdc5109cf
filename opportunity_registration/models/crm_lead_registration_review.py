from collections import defaultdict
from datetime import timedelta

from odoo import Command, api, fields, models

from .crm_lead_registration import REVIEW_ACTIVITY_TYPE


class CrmLeadRegistration(models.Model):
    """The approvers' side of a review: their to-dos, in their language, closed
    with the decision; and the escalation of reviews pending too long.
    """

    _inherit = "crm.lead.registration"

    def _schedule_review_activities(self, users, notify=False):
        """A to-do for each approver. The approval engine e-mails the approvers
        it asks, so the activity only e-mails those it does not (``notify``).
        Its texts name the owner and the customer as typed: plain text, escaped
        by ``crm.lead.activity_schedule``."""
        for reg in self:
            for user in users & (reg.approver_ids | reg.second_approver_ids):
                # written in the approver's language
                summary, note = reg._review_todo_texts(self.with_context(lang=user.lang).env)
                reg.lead_id.sudo().with_context(
                    mail_activity_quick_update=not notify
                ).activity_schedule(
                    REVIEW_ACTIVITY_TYPE, user_id=user.id, summary=summary, note=note
                )

    def _review_todo_texts(self, env):
        """The summary and note of an approver's review to-do, in ``env``'s language."""
        self.ensure_one()
        reg = self.with_env(env)
        return (
            env._("Review registration %(number)s", number=reg.name),
            env._(
                "%(owner)s registered %(customer)s for %(amount)s (%(band)s band).",
                owner=reg.user_id.name,
                customer=reg.customer_name,
                amount=reg._format_amount(reg.amount),
                band=reg._band_label(reg.band),
            ),
        )

    def _close_review_activities(self):
        """Remove the approvers' to-dos: the registration is decided, nothing is
        left to decide, or another approver decides.

        A decision is the registration note logged beside, which each reader
        reads in their language; a to-do marked done would add Odoo's "done"
        line, written once in the approver's language."""
        self._registration_activities(REVIEW_ACTIVITY_TYPE).unlink()

    @api.model
    def _cron_escalate(self):
        """Hand reviews pending too long to the next band's approvers as well.

        Like the expiry sweep: at most a batch per company and run (a quarter
        of theirs: every escalation sends e-mails, see ``_sweep_batch``), the longest
        waiting first, the job coming back at once for the rest; registrations
        being written are skipped and taken shortly after. One write per group
        of registrations escalated to the same approvers, not one per record.
        """
        found, more = self._sweep_find(
            lambda company: [
                ("state", "=", "submitted"),
                ("escalated", "=", False),
                (
                    "date_review_requested",
                    "<",
                    self._working_days_ago(company.registration_escalation_days),
                ),
            ],
            order="date_review_requested, id",
            mailing=True,
        )
        if more:
            self._sweep_again()
        pending = found._lock_for_sweep()
        if not pending:
            return pending
        Band = self.env["crm.lead.registration.band"]
        managers = self._registration_managers()
        next_bands = {}  # band -> the next band, looked up once per run
        extra_of = {}
        groups = defaultdict(pending.browse)  # the approvers added -> registrations
        for reg in pending:
            band = Band._record_for_amount(reg.company_id, reg.amount)
            if band not in next_bands:
                next_bands[band] = band._next_band()
            excluded = reg.approver_ids | reg.user_id | reg.submitted_by_id
            higher = next_bands[band]
            # the highest band has no next one: its reviews go to the managers
            extra = (
                higher._approvers(reg.team_id)._registration_available() - excluded
                if higher
                else managers.browse()
            )
            if not extra:
                extra = managers - excluded
            extra_of[reg.lead_id.id] = (reg, extra)
            groups[extra] |= reg
        for extra, regs in groups.items():
            regs.with_context(skip_validation_check=True).write(
                {
                    "approver_ids": [Command.link(user.id) for user in extra],
                    "escalated": True,
                }
            )
        # the reviews' reviewers follow approver_ids; the engine's recompute
        # would write them one review at a time
        reviews = pending.review_ids.filtered(lambda r: r.status in ("waiting", "pending"))
        for reviewers, same in reviews.grouped(lambda r: r._get_reviewers()).items():
            same.write({"reviewer_ids": [Command.set(reviewers.ids)]})
        for extra, regs in groups.items():
            regs._schedule_review_activities(extra, notify=True)

        def tracking(lead):
            reg, extra = extra_of[lead.id]
            return [
                (reg, "name", False, reg.name),
                (reg, "approver_ids", reg.approver_ids - extra, reg.approver_ids),
            ]

        pending.lead_id._registration_log(
            "opportunity_registration.mt_registration_escalated", tracking=tracking
        )
        return pending

    @api.model
    def _working_days_ago(self, days):
        moment = fields.Datetime.now()
        while days > 0:
            moment -= timedelta(days=1)
            if moment.weekday() < 5:
                days -= 1
        return moment
