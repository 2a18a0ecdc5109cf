from odoo import Command, api, models
from odoo.fields import Domain
from odoo.tools import format_date

# What the partner's e-mails say, by event: the mail template of each.
PARTNER_TEMPLATES = {
    "approved": "opportunity_registration_portal.mail_template_partner_registration_approved",
    "rejected": "opportunity_registration_portal.mail_template_partner_registration_rejected",
    "expiry_warning": (
        "opportunity_registration_portal.mail_template_partner_registration_expiry_warning"
    ),
    "expired": "opportunity_registration_portal.mail_template_partner_registration_expired",
}


class CrmLeadRegistration(models.Model):
    """What a channel partner sees of their registrations: its page on the
    portal, the e-mails that link to it, the reviewers' comments and the
    documents they sent."""

    _name = "crm.lead.registration"
    _inherit = ["crm.lead.registration", "portal.mixin"]

    def _compute_access_url(self):
        for reg in self:
            reg.access_url = "/my/registrations/%s" % reg.id

    def _notify_channel_partner(self, event):
        """E-mail the partner who registered, in their language, with a link to
        the registration's page."""
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
