from odoo import Command, api, fields, models
from odoo.exceptions import AccessError
from odoo.fields import Domain
from odoo.tools import format_date

# What the partner's e-mails say, by event: the mail template of each.
PARTNER_TEMPLATES = {
    "approved": "opportunity_registration.mail_template_partner_registration_approved",
    "rejected": "opportunity_registration.mail_template_partner_registration_rejected",
    "expiry_warning": "opportunity_registration.mail_template_partner_registration_expiry_warning",
    "expired": "opportunity_registration.mail_template_partner_registration_expired",
}


class CrmLeadRegistration(models.Model):
    """Channel partners' registrations: the partner company, the channel
    manager's first review before the amount bands, the partner's e-mails,
    and what the portal shows of a registration."""

    _name = "crm.lead.registration"
    _inherit = ["crm.lead.registration", "portal.mixin"]

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

    def _compute_access_url(self):
        for reg in self:
            reg.access_url = "/my/registrations/%s" % reg.id

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

    def _start_review(self):
        """A partner's registration waits for its channel manager first."""
        channel = self._channel_review_pending()
        for reg in channel.sudo().with_context(skip_validation_check=True):
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
            channel._schedule_review_activities(channel.sudo().approver_ids, notify=True)
        channel.lead_id._sync_registration()
        return super(CrmLeadRegistration, self - channel)._start_review()

    def _can_decide(self, user):
        """The channel manager holds the partner's registration and decides its
        first step; the partner never does."""
        if self._channel_review_pending():
            return (
                user in self.sudo().approver_ids and user != self.submitted_by_id and not user.share
            )
        return super()._can_decide(user)

    def _check_reviewer(self, tiers=False):
        channel = self._channel_review_pending()
        for reg in channel:
            if not reg._can_decide(self.env.user):
                raise AccessError(
                    self.env._(
                        "Registration %(number)s waits for its channel manager's review.",
                        number=reg.name,
                    )
                )
        return super(CrmLeadRegistration, self - channel)._check_reviewer(tiers)

    def action_approve(self, comment=False):
        channel = self._channel_review_pending()
        if channel:
            channel._check_transition("approve")
            comment = self._clean_text(comment)
            channel._check_reviewer()
            channel._channel_approve(comment)
        return super(CrmLeadRegistration, self - channel).action_approve(comment)

    def validate_tier(self):
        if self._channel_review_pending():
            return self.action_approve()
        return super().validate_tier()

    def reject_tier(self):
        if self._channel_review_pending():
            self._check_reviewer()
            return self.lead_id.with_context(
                registration_action="reject"
            ).action_open_registration_reason()
        return super().reject_tier()

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
    def _format_conflict(self, holder, decided=None):
        """A channel partner learns only that the customer is taken, and until
        when: never by whom, the number, the amount or the customer's name as
        someone else registered it."""
        if self.env.user.has_group("base.group_user"):  # cached: no query on the form
            return super()._format_conflict(holder, decided=decided)
        if holder["state"] == "approved" and holder["protection_end_date"]:
            return self.env._(
                "This customer is already registered until %(date)s.",
                date=format_date(self.env, holder["protection_end_date"]),
            )
        return self.env._(
            "This customer is already registered: its registration is being reviewed."
        )

    # ------------------------------------------------------------
    # The partner's e-mails
    # ------------------------------------------------------------

    def _set_approved(self, automatic=False, comment=False):
        result = super()._set_approved(automatic=automatic, comment=comment)
        self._notify_channel_partner("approved")
        return result

    def _close(self, state, reason, message, event=None):
        result = super()._close(state, reason, message, event=event)
        if state in ("rejected", "expired"):
            self._notify_channel_partner(state)
        return result

    @api.model
    def _cron_warn_expiry(self):
        warned = super()._cron_warn_expiry()
        warned.filtered(lambda r: r.state == "approved")._notify_channel_partner("expiry_warning")
        return warned

    def _notify_channel_partner(self, event):
        """E-mail the partner who registered, in their language."""
        regs = self.filtered(
            lambda r: (
                r.channel_partner_id
                and r.submitted_by_id.share
                and r.submitted_by_id.partner_id.email
            )
        )
        if not regs:
            return
        template = self.env.ref(PARTNER_TEMPLATES[event], raise_if_not_found=False)
        if not template:
            return
        for reg in regs.sudo():
            template.sudo().send_mail(
                reg.id,
                email_layout_xmlid="mail.mail_notification_light",
                email_values={"recipient_ids": [Command.set(reg.submitted_by_id.partner_id.ids)]},
            )

    # ------------------------------------------------------------
    # What the portal shows
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

    @api.model
    def _portal_domain(self, partner):
        """Registrations of a partner company, for its portal users."""
        return Domain("channel_partner_id", "=", partner.commercial_partner_id.id)

    def _portal_reviewer_comments(self):
        """What the reviewers said to the partner: the channel manager's and the
        approvers' comments, and the reason of a rejection."""
        self.ensure_one()
        reg = self.sudo()
        comments = [reg.channel_review_comment] if reg.channel_review_comment else []
        comments += [
            review.comment
            for review in reg.review_ids.sorted("sequence", reverse=True)
            if review.comment and review.status in ("approved", "rejected")
        ]
        if reg.state == "rejected" and reg.close_reason and reg.close_reason not in comments:
            comments.append(reg.close_reason)
        return comments

    def _portal_details(self):
        """The partner's own input, as registered: the deal, never internal notes."""
        self.ensure_one()
        lead = self.sudo().lead_id
        return {
            "customer_name": self.sudo().customer_name,
            "contact_name": lead.contact_name,
            "email": lead.email_from,
            "phone": lead.phone,
            "need": lead.need_description,
            "amount": self.sudo()._format_amount(self.sudo().amount),
            "date_deadline": lead.date_deadline and format_date(self.env, lead.date_deadline),
            "product_line": lead.registration_product_line_id.name,
        }

    def _portal_attach(self, files):
        """Attach the partner's files to the registration, in a message of theirs
        that the channel manager and the partner both see."""
        self.ensure_one()
        if not files:
            return
        reg = self.sudo()
        reg.message_post(
            body=self.env._("Documents sent with the registration."),
            author_id=self.env.user.partner_id.id,
            attachments=list(files),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
