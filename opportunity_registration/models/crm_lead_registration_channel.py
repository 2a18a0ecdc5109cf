from odoo import Command, api, fields, models
from odoo.exceptions import AccessError
from odoo.fields import Domain
from odoo.tools import format_date


class CrmLeadRegistration(models.Model):
    """Channel partners' registrations: the partner company, and the channel
    manager's first review before the amount bands. The approval path calls
    these steps by name (crm_lead_registration_approval); the partner's pages
    and e-mails are the portal add-on's (opportunity_registration_portal)."""

    _inherit = "crm.lead.registration"

    channel_partner_id = fields.Many2one(
        "res.partner",
        readonly=True,
        index="btree_not_null",
        help="The partner company that registered the opportunity from the portal.",
    )
    date_channel_reviewed = fields.Datetime(
        "Channel Review On",
        readonly=True,
        copy=False,
        help="When the channel manager passed the partner's registration on to the "
        "approvers of its amount band.",
    )
    channel_reviewed_by_id = fields.Many2one("res.users", "Channel Review By", readonly=True)
    channel_review_comment = fields.Text(readonly=True)

    @api.model
    def _registration_held_by(self, field, ids):
        """The registrations the cap and the cooldown count for holders (see
        crm.lead._registration_limit_holder): a rep holds their own deals, not
        the partner deals held for a channel, which count against the partner
        company."""
        domain = Domain(field, "in", list(ids))
        if field == "user_id":
            domain &= Domain("channel_partner_id", "=", False)
        return domain

    def _channel_review_pending(self):
        """Partner registrations the channel manager has not reviewed yet."""
        return self.filtered(
            lambda r: (
                r.channel_partner_id
                and r.submitted_by_id.share
                and not r.date_channel_reviewed
                and r.state == "submitted"
            )
        )

    # ------------------------------------------------------------
    # The channel manager's review, a first step before the bands
    # ------------------------------------------------------------

    def _start_channel_review(self):
        """A partner's registration waits for its channel manager first
        (called by _start_review, which routes the rest by band)."""
        for reg in self.sudo().with_context(skip_validation_check=True):
            manager = reg.user_id._registration_available() - reg.submitted_by_id
            approvers = manager or (self._registration_managers() - reg.submitted_by_id)
            reg.write(
                {
                    "approver_ids": [Command.set(approvers.ids)],
                    "second_approver_ids": [Command.clear()],
                    "date_review_requested": reg.date_review_requested or fields.Datetime.now(),
                }
            )
        if not self.env.context.get("registration_upload_id"):
            # an uploaded file's deals get one to-do for the whole file
            # (crm.lead.registration.upload._upload_done), not one per row
            self._schedule_review_activities(self.sudo().approver_ids, notify=True)
        self.lead_id._sync_registration()

    def _can_decide_channel_review(self, user):
        """The channel manager holds the partner's registration and decides its
        first step; the partner never does."""
        self.ensure_one()
        return user in self.sudo().approver_ids and user != self.submitted_by_id and not user.share

    def _check_channel_reviewer(self):
        for reg in self:
            if not reg._can_decide(self.env.user):
                raise AccessError(
                    self.env._(
                        "Registration %(number)s waits for its channel manager's review.",
                        number=reg.name,
                    )
                )

    def _channel_approve(self, comment):
        """Pass the partner's registrations on to the approvers of their band
        (small ones are then approved automatically)."""
        self.sudo().with_context(skip_validation_check=True).write(
            {
                "date_channel_reviewed": fields.Datetime.now(),
                "channel_reviewed_by_id": self.env.user.id,
                "channel_review_comment": comment or False,
                "approver_ids": [Command.clear()],
            }
        )
        self._close_review_activities()
        reg_by_lead = {reg.lead_id: reg for reg in self}
        self.lead_id.sudo()._registration_log(
            "opportunity_registration.mt_registration_channel_reviewed",
            body=comment,
            tracking=lambda lead: reg_by_lead[lead]._registration_tracking("name", "amount"),
        )
        self.sudo()._start_review()

    @api.model
    def _format_conflict_for_partner(self, holder):
        """A channel partner learns only that the customer is taken, and until
        when: never by whom, the number, the amount or the customer's name as
        someone else registered it."""
        if holder["state"] == "approved" and holder["protection_end_date"]:
            return self.env._(
                "This customer is already registered until %(date)s.",
                date=format_date(self.env, holder["protection_end_date"]),
            )
        return self.env._(
            "This customer is already registered: its registration is being reviewed."
        )

    # ------------------------------------------------------------
    # Who reads a partner's registration
    # ------------------------------------------------------------

    def _portal_is_member(self, user):
        """Whether ``user`` is a logged-in portal user of this registration's
        partner company, and that company is enrolled as a channel partner."""
        self.ensure_one()
        partner = self.sudo().channel_partner_id
        return bool(
            partner
            and user._is_portal()
            and user.partner_id.commercial_partner_id == partner
            and partner.is_channel_partner
        )

    @api.model
    def _get_thread_with_access(self, thread_id, *, mode="read", **kwargs):
        """The chatter of a registration is for the internal users who may read
        it and for the logged-in portal users of its enrolled partner company.

        An access token or a signed partner link (``token``, ``hash``/``pid``)
        opens nothing by itself: the partner's page passes its token to the
        portal chatter, but a token copied from a URL or a forwarded e-mail
        would otherwise let anyone read the deal, and post in it under the
        customer's name.
        """
        user = self.env.user
        if not user.share:
            return super()._get_thread_with_access(thread_id, mode=mode)
        reg = self.sudo().browse(thread_id).exists()
        if reg and reg._portal_is_member(user):
            return reg
        return self.browse()
