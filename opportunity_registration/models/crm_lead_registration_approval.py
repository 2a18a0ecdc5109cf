import logging
from collections import defaultdict
from datetime import timedelta

from odoo import Command, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain
from odoo.tools import float_compare

from .crm_lead_registration import (
    ACTIVE_STATES,
    BANDS,
    KEY_FIELDS,
)

_logger = logging.getLogger(__name__)


class CrmLeadRegistration(models.Model):
    """Approval: the glue to the tier-validation engine, who decides in
    which band and order, and the review following the amount.
    """

    _inherit = "crm.lead.registration"

    def _check_state_conditions(self, vals):
        """The approval the module writes is the engine's own outcome (or an
        automatic band): it is not validated a second time."""
        if self._module_transition():
            return False
        return super()._check_state_conditions(vals)

    def _tier_validation_check_write_allowed(self, vals):
        """The module's own transitions (checked by its actions) skip the engine's
        field-by-field write checks, which cost two queries per record."""
        if self._module_transition():
            return None
        return super()._tier_validation_check_write_allowed(vals)

    def _set_approved(self, automatic=False, comment=False):
        # The engine caches need_validation; reviews created since make it stale.
        self.invalidate_recordset(["need_validation", "validation_status"])
        now = fields.Datetime.now()
        # the outcome of the approval itself (or of an automatic band), written
        # once per band and company rather than per registration
        for (company, band), regs in self.grouped(lambda r: (r.company_id, r.band)).items():
            today = fields.Date.context_today(regs)
            regs.sudo().with_context(skip_validation_check=True).write(
                {
                    "state": "approved",
                    "approved_band": band,
                    "date_approved": now,
                    "approved_by_id": not automatic and self.env.user.id,
                    "last_follow_up_date": today,
                    "expiry_warned": False,
                    "protection_end_date": today
                    + timedelta(days=company.registration_protection_days or 90),
                }
            )
        self.lead_id._sync_registration()
        self.env["crm.lead.registration.event"]._log(self, "granted")
        self._schedule_follow_up()
        reg_by_lead = {reg.lead_id: reg for reg in self}
        if automatic:
            self.lead_id._registration_log(
                "opportunity_registration.mt_registration_auto_approved",
                tracking=lambda lead: reg_by_lead[lead]._registration_tracking(
                    "name", "amount", "protection_end_date"
                ),
            )
        else:
            self.lead_id._registration_log(
                "opportunity_registration.mt_registration_approved",
                body=comment,
                tracking=lambda lead: reg_by_lead[lead]._registration_tracking(
                    "name", "protection_end_date"
                ),
            )
            self._close_review_activities()
        self._notify_channel_partner("approved")

    def _start_review(self):
        """Route each registration to whoever decides it next: a channel
        partner's deal to its channel manager first (crm_lead_registration_channel);
        then what its band approves automatically is approved, and the rest
        goes to the band's approvers."""
        channel = self._channel_review_pending()
        channel._start_channel_review()
        self -= channel
        Band = self.env["crm.lead.registration.band"]
        bands = {reg: Band._record_for_amount(reg.company_id, reg.amount) for reg in self}
        automatic = self.filtered(lambda r: bands[r].approval == "automatic")
        # back within the band it was approved in: the approval it had, not a new one
        restored = automatic.filtered("approved_band")
        restored._restore_approval()
        (automatic - restored)._set_approved(automatic=True)
        to_review = self - automatic
        since = (to_review - to_review.filtered("date_review_requested"))._review_requested_since()
        routes = defaultdict(lambda: self.browse())
        for reg in to_review:
            band = bands[reg]
            requester = reg.user_id | reg.submitted_by_id
            approvers = band._approvers(reg.team_id)._registration_available() - requester
            if not approvers:
                approvers = self._registration_managers() - requester
            second = self.env["res.users"]
            if band.second_approval != "none":
                excluded = requester | approvers
                second = band._approvers(reg.team_id, step=2)._registration_available() - excluded
                if not second:
                    second = self._registration_managers() - excluded
            # a re-routed review keeps its age: raising the amount again and
            # again never keeps a customer pending for ever
            requested = reg.date_review_requested or since[reg]
            watchers = approvers if band.follow_up == "approver" else self.env["res.users"]
            routes[approvers, second, requested, watchers] |= reg
        for (approvers, second, requested, watchers), regs in routes.items():
            regs.sudo().with_context(skip_validation_check=True).write(
                {
                    "approver_ids": [Command.set(approvers.ids)],
                    "second_approver_ids": [Command.set(second.ids)],
                    "date_review_requested": requested,
                }
            )
            if watchers:
                regs.lead_id.sudo().message_subscribe(partner_ids=watchers.partner_id.ids)
        to_review.invalidate_recordset(["need_validation"])
        to_review.sudo().request_validation()
        to_review.invalidate_recordset(["need_validation", "validation_status"])
        to_review._schedule_review_activities(to_review.approver_ids)
        # approved ones were mirrored by _set_approved
        to_review.lead_id._sync_registration()

    def _review_requested_since(self):
        """When each customer started waiting for a decision, by registration:
        a pending registration its owner withdrew (or let expire undecided) and
        submitted again keeps its age, so that no customer stays pending for
        ever. One search for the whole batch."""
        now = fields.Datetime.now()
        since = dict.fromkeys(self, now)
        keyed = self.filtered(lambda reg: any(reg[field] for field in KEY_FIELDS))
        if not keyed:
            return since
        longest = max(keyed.company_id.mapped("registration_pending_days"))
        earlier = self.sudo().search(
            Domain("id", "not in", keyed.ids)
            & Domain("user_id", "in", keyed.user_id.ids)
            & Domain("company_id", "in", keyed.company_id.ids)
            & Domain("state", "in", ("withdrawn", "expired"))
            & Domain("date_approved", "=", False)
            & Domain("date_review_requested", "!=", False)
            & Domain("date_closed", ">=", now - timedelta(days=longest))
            & Domain.OR(
                Domain(field, "in", list(values))
                for field in KEY_FIELDS
                if (values := set(keyed.mapped(field)) - {False})
            ),
            order="date_review_requested",
        )
        # the earlier attempts of each owner, oldest request first
        by_owner = earlier.grouped(lambda old: (old.user_id, old.company_id))
        for reg in keyed:
            oldest = now - timedelta(days=reg.company_id.registration_pending_days)
            for old in by_owner.get((reg.user_id, reg.company_id), ()):
                if old.date_closed >= oldest and any(
                    reg[f] and old[f] == reg[f] for f in KEY_FIELDS
                ):
                    since[reg] = min(old.date_review_requested, now)
                    break
        return since

    def request_validation(self):
        """Reviews are requested by the module when a registration is submitted,
        for the band of its amount; nobody asks for them by hand."""
        if not self.env.su:
            raise AccessError(
                self.env._(
                    "Reviews of registrations are requested when a registration is "
                    "submitted: submit the opportunity instead."
                )
            )
        return super().request_validation()

    def restart_validation(self):
        """Resetting reviews would let anyone re-route a registration's approval."""
        if not self.env.su:
            raise AccessError(
                self.env._(
                    "The review of a registration cannot be restarted: withdraw the "
                    "registration and submit it again."
                )
            )
        return super().restart_validation()

    def validate_tier(self):
        self.ensure_one()
        if self._channel_review_pending():
            # the channel manager's step is the module's, not a tier of the engine
            return self.action_approve()
        self._check_transition("approve")
        self._check_reviewer()
        return super().validate_tier()

    def reject_tier(self):
        self.ensure_one()
        self._check_transition("reject")
        self._check_reviewer()
        if self._channel_review_pending():
            return self.lead_id.with_context(
                registration_action="reject"
            ).action_open_registration_reason()
        return super().reject_tier()

    def _own_reviews(self, tiers):
        """Only this registration's reviews count, whatever a caller passed."""
        return (tiers or self.env["tier.review"]) & self.sudo().review_ids or False

    def _check_amount_unchanged(self):
        """Refuse to decide on an amount that is no longer the opportunity's."""
        for reg in self:
            band = reg.lead_id.sudo().registration_band
            if band != reg.band:
                raise UserError(
                    self.env._(
                        "The amount of %(number)s changed since it was submitted (now in "
                        "the %(band)s band): reload the opportunity, its review was sent "
                        "to the approvers of that band.",
                        number=reg.name,
                        band=self._band_label(band),
                    )
                )

    def _decision_reviews(self):
        """The open reviews that may be decided now: all of them, or, when the
        band's steps go in order, those of the lowest step still open."""
        self.ensure_one()
        reviews = self.sudo().review_ids.filtered(lambda r: r.status in ("waiting", "pending"))
        if any(reviews.mapped("approve_sequence")):
            reviews = reviews.filtered(lambda r: r.sequence == min(reviews.mapped("sequence")))
        return reviews

    def _can_decide(self, user):
        """Whether ``user`` may approve or reject this pending registration now."""
        self.ensure_one()
        if self._channel_review_pending():
            return self._can_decide_channel_review(user)
        if self.state != "submitted" or user in (self.user_id | self.submitted_by_id):
            return False
        if self.sudo().review_ids:
            return any(user in review.reviewer_ids for review in self._decision_reviews())
        return user in (self.approver_ids or self._registration_managers())

    def _check_reviewer(self, tiers=False):
        """Only the assigned approvers decide, in the band's order, never on
        their own registration; a channel partner's deal waits for its
        channel manager first."""
        user = self.env.user
        channel = self._channel_review_pending()
        channel._check_channel_reviewer()
        for reg in self - channel:
            if user in (reg.user_id | reg.submitted_by_id):
                raise AccessError(
                    self.env._(
                        "You cannot approve or reject your own registration %(number)s.",
                        number=reg.name,
                    )
                )
            if not reg._can_decide(user):
                waiting = reg._decision_reviews().reviewer_ids
                if user in reg.sudo().second_approver_ids and waiting:
                    raise AccessError(
                        self.env._(
                            "Registration %(number)s waits for %(users)s first: you decide "
                            "at the next step.",
                            number=reg.name,
                            users=", ".join(waiting.mapped("name")),
                        )
                    )
                raise AccessError(
                    self.env._(
                        "You are not an approver of registration %(number)s (%(band)s band).",
                        number=reg.name,
                        band=self._band_label(reg.band),
                    )
                )

    def _validate_tier(self, tiers=False):
        tiers = self._own_reviews(tiers)
        self._check_transition("approve")
        self._check_reviewer(tiers)
        self._check_amount_unchanged()
        # Checked above: the engine may now notify and subscribe as superuser.
        result = super(CrmLeadRegistration, self.sudo())._validate_tier(tiers and tiers.sudo())
        self.invalidate_recordset(["validation_status"])
        comment = (
            (tiers or self.sudo().review_ids)
            .filtered(lambda r: r.done_by == self.env.user and r.comment)[:1]
            .comment
        )
        if self.validation_status == "validated":
            self._set_approved(comment=comment)
        else:
            self._step_approved(comment)
        return result

    def _step_approved(self, comment):
        """A first step approved: the next step's approvers are asked."""
        self.ensure_one()
        next_approvers = self._decision_reviews().reviewer_ids
        self.lead_id.sudo()._registration_log(
            "opportunity_registration.mt_registration_step_approved",
            body=comment,
            tracking=lambda _lead: [
                (self, "name", False, self.name),
                (self, "second_approver_ids", False, next_approvers),
            ],
        )
        self._close_review_activities()
        self._schedule_review_activities(next_approvers)

    def _rejected_tier(self, tiers=False):
        tiers = self._own_reviews(tiers)
        self._check_transition("reject")
        self._check_reviewer(tiers)
        result = super(CrmLeadRegistration, self.sudo())._rejected_tier(tiers and tiers.sudo())
        comment = (
            (tiers or self.review_ids)
            .filtered(lambda r: r.status == "rejected" and r.comment)[:1]
            .comment
        )
        self._close("rejected", comment, "opportunity_registration.mt_registration_rejected")
        return result

    def _drop_reviews(self):
        """Nobody decides on these reviews any more: cancel the approvers'
        to-dos and delete the reviews."""
        if not self:
            return
        self._close_review_activities()
        self.sudo().review_ids.unlink()

    def _restart_review(self):
        """Review again at the band of the opportunity's current amount.

        An approved registration whose amount entered a higher band goes back
        to review (the customer stays locked meanwhile, until its protection
        end); a pending one is re-routed to the new band's approvers, and the
        previous approvers can no longer decide.
        """
        for reg in self.sudo():
            lead = reg.lead_id
            band = lead.registration_band
            amount = lead._registration_amount()

            lead._registration_log(
                "opportunity_registration.mt_registration_review_again"
                if reg.state == "approved"
                else "opportunity_registration.mt_registration_rerouted",
                tracking=lambda _lead, reg=reg, amount=amount: [
                    (reg, "name", False, reg.name),
                    (reg, "amount", reg.amount, amount),
                ],
            )
            reg._drop_reviews()
            reg.with_context(skip_check_state_condition=True, skip_validation_check=True).write(
                {
                    "state": "submitted",
                    "amount": lead._registration_amount(),
                    "band": band,
                    "approver_ids": [(5, 0, 0)],
                    "second_approver_ids": [(5, 0, 0)],
                    "date_review_requested": reg.state == "submitted" and reg.date_review_requested,
                    "escalated": False,
                    "expiry_warned": False,
                }
            )
        self.env["crm.lead.registration.event"]._log(self, "amount_changed")
        self.sudo()._start_review()

    def _restore_approval(self):
        """A registration reviewed again after an amount raise whose amount came
        back within its approved band is approved as it was: same approval date,
        approver and protection end, so that raising and lowering the amount
        never renews a lock."""
        self._drop_reviews()
        for reg in self.sudo():
            reg.with_context(skip_validation_check=True).write(
                {
                    "state": "approved",
                    "approver_ids": [(5, 0, 0)],
                    "second_approver_ids": [(5, 0, 0)],
                    "date_review_requested": False,
                }
            )
            reg.lead_id._registration_log(
                "opportunity_registration.mt_registration_approval_restored",
                tracking=lambda _lead, reg=reg: reg._registration_tracking(
                    "name", "amount", "protection_end_date"
                ),
            )
        self.lead_id._sync_registration()

    def _follow_amount(self):
        """Keep active registrations on the amount of their opportunity.

        The band decides who approves: a pending registration whose band
        changed is re-routed, an approved one whose band rose is reviewed
        again; any other change of amount is recorded, never left silent.
        """
        order = [code for code, _label in BANDS]
        review_again = back_in_band = self.browse()
        for reg in self.sudo().filtered(lambda r: r.state in ACTIVE_STATES):
            lead = reg.lead_id
            amount, band = lead._registration_amount(), lead.registration_band
            if (
                reg.state == "submitted"
                and reg.approved_band
                and (order.index(band) <= order.index(reg.approved_band))
            ):
                back_in_band |= reg
                reg.with_context(skip_validation_check=True).write({"amount": amount, "band": band})
            elif band != reg.band and (
                reg.state == "submitted" or order.index(band) > order.index(reg.band)
            ):
                review_again |= reg
            elif float_compare(amount, reg.amount, precision_rounding=reg.currency_id.rounding):
                lead._registration_log(
                    "opportunity_registration.mt_registration_amount_changed",
                    tracking=lambda _lead, reg=reg, amount=amount: [
                        (reg, "name", False, reg.name),
                        (reg, "amount", reg.amount, amount),
                    ],
                )
                reg.with_context(skip_validation_check=True).write({"amount": amount, "band": band})
                self.env["crm.lead.registration.event"]._log(reg, "amount_changed")
        back_in_band._restore_approval()
        review_again._restart_review()

    def action_approve(self, comment=False):
        """Approve a pending registration through the tier-validation engine.

        A registration without reviews is approved only by the approvers
        resolved for its band when it was submitted.
        """
        self._check_transition("approve")
        comment = self._clean_text(comment)
        channel = self._channel_review_pending()
        if channel:
            channel._check_reviewer()
            channel._channel_approve(comment)
        for reg in self - channel:
            reg._check_reviewer()
            reg._check_amount_unchanged()
            if reg.sudo().review_ids:
                reg._write_review_comment(comment)
                reg._validate_tier()
            else:
                reg._set_approved(comment=comment)
        return True

    def action_reject(self, reason=False):
        self._check_transition("reject")
        reason = self._clean_text(reason)
        if not reason:
            raise UserError(self.env._("Say why the registration is rejected."))
        for reg in self:
            reg._check_reviewer()
            if reg.sudo().review_ids:
                reg._write_review_comment(reason)
                reg._rejected_tier()
            else:
                reg._close(
                    "rejected",
                    reason,
                    "opportunity_registration.mt_registration_rejected",
                )
        return True

    def _write_review_comment(self, comment):
        if comment:
            self.sudo().review_ids.filtered(
                lambda r: r.status in ("waiting", "pending") and self.env.user in r.reviewer_ids
            ).comment = comment
