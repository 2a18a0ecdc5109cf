import json

from markupsafe import Markup

from odoo import api, fields, models
from odoo.addons.mail.tools.discuss import Store
from odoo.exceptions import AccessError
from odoo.tools import SQL
from odoo.tools.mail import html_sanitize

from .crm_lead_message import text_to_html


class MailMessage(models.Model):
    """A registration note is written once per installed language, and each
    reader gets it in their own: a Chinese rep reads Chinese whoever acted."""

    _inherit = "mail.message"

    registration_bodies = fields.Json(
        "Body per Language",
        copy=False,
        help="The note rendered in every installed language, by language code.",
    )

    def _to_store_defaults(self, target):
        names = super()._to_store_defaults(target)
        return [
            Store.Attr("body", value=lambda message: message._registration_body())
            if name == "body"
            else name
            for name in names
        ]

    def _registration_body(self):
        bodies = self.registration_bodies
        if bodies and self.env.lang in bodies:
            # sanitized when stored
            return Markup(bodies[self.env.lang])
        return self.body

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su and any("registration_bodies" in vals for vals in vals_list):
            raise AccessError(
                self.env._("Only the registration module writes the per-language copies of a note.")
            )
        return super().create(vals_list)

    def write(self, vals):
        """Nobody writes the per-language copies but the module (in SQL): they
        are shown as HTML to every reader. A message whose body changes (its
        author edits it) loses its copies, so every reader sees the edit."""
        if "registration_bodies" in vals and not self.env.su:
            raise AccessError(
                self.env._("Only the registration module writes the per-language copies of a note.")
            )
        if "body" in vals and "registration_bodies" not in vals:
            vals = dict(vals, registration_bodies=False)
        return super().write(vals)

    def _registration_store_bodies(self, bodies):
        """Save ``{message id: {lang: body}}`` in one query.

        A body is HTML only if it is ``Markup`` (a sentence escaped by
        ``_registration_log``, a template rendered with escaping); a plain
        ``str`` is text and escaped. Both are sanitized once more, so what is
        stored is safe to show as it is."""
        if not bodies:
            return
        values = {
            str(message_id): {
                lang: html_sanitize(text if isinstance(text, Markup) else text_to_html(text))
                for lang, text in texts.items()
            }
            for message_id, texts in bodies.items()
        }
        self.env.cr.execute(
            SQL(
                """UPDATE mail_message m
                      SET registration_bodies = e.value
                     FROM jsonb_each(%s::jsonb) e
                    WHERE m.id = e.key::int""",
                json.dumps(values),
            )
        )
        self.browse(list(bodies)).invalidate_recordset(["registration_bodies"])
