from markupsafe import Markup

from odoo import models


def text_to_html(text):
    """Text someone typed (or a sentence built from it) as HTML that shows
    exactly that text: escaped, its line breaks kept, nothing turned into a
    tag or a link (SPEC §9.10: text is text). Unlike ``plaintext2html`` no URL
    becomes clickable."""
    lines = str(text if text not in (None, False) else "").splitlines() or [""]
    return Markup("<p>%s</p>") % Markup("<br/>").join(lines)


class CrmLead(models.Model):
    """Registration notes on the opportunity, readable in every language."""

    _inherit = "crm.lead"

    def _registration_log(self, render):
        """Log a note on each lead, written in every installed language.

        ``render(env, lead)`` returns the text in ``env``'s language (amounts,
        dates and band names formatted with it); each reader of the chatter
        sees the text in their own language. A render result is plain text,
        always: names, reasons and comments in it were typed by people, so it
        is escaped here, the one place registration notes become HTML (even a
        ``Markup`` is taken as the text it shows). Two queries for the batch
        beside the messages themselves.
        """
        if not self:
            return self.env["mail.message"]
        langs = [code for code, _name in self.env["res.lang"].get_installed()]
        texts = {}
        for code in langs:
            env = self.with_context(lang=code).env
            for lead in self:
                texts.setdefault(lead.id, {})[code] = text_to_html(str(render(env, lead)))
        own = self.env.lang if self.env.lang in langs else langs[0]
        messages = self._message_log_batch(
            bodies={lead_id: by_lang[own] for lead_id, by_lang in texts.items()}
        )
        if len(langs) > 1:
            messages._registration_store_bodies(
                {message.id: texts[message.res_id] for message in messages}
            )
        return messages

    def activity_schedule(self, act_type_xmlid="", date_deadline=None, summary="", note="", **kw):
        """A note given as ``str`` is text (a sentence naming a customer or a
        reason someone typed), escaped before it becomes the to-do's HTML; a
        ``Markup`` note (an HTML field's value, a rendered template) is HTML
        already. Without this, ``mail.activity.note`` only sanitizes a string,
        and a company name such as ``<a href=… style=position:fixed>`` became a
        live link over the approver's screen."""
        if isinstance(note, str) and not isinstance(note, Markup) and note:
            note = text_to_html(note)
        return super().activity_schedule(
            act_type_xmlid=act_type_xmlid,
            date_deadline=date_deadline,
            summary=summary,
            note=note,
            **kw,
        )
