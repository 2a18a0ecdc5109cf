import json

from markupsafe import Markup

from odoo import fields, models
from odoo.addons.mail.tools.discuss import Store
from odoo.tools import SQL
from odoo.tools.mail import html_sanitize


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

    def _registration_store_bodies(self, bodies):
        """Save ``{message id: {lang: text}}`` in one query."""
        if not bodies:
            return
        values = {
            str(message_id): {lang: html_sanitize(text) for lang, text in texts.items()}
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
