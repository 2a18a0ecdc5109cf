from odoo import models


class CrmLead(models.Model):
    """Registration notes on the opportunity, readable in every language."""

    _inherit = "crm.lead"

    def _registration_log(self, render):
        """Log a note on each lead, written in every installed language.

        ``render(env, lead)`` returns the text in ``env``'s language (amounts,
        dates and band names formatted with it); each reader of the chatter
        sees the text in their own language. Two queries for the batch beside
        the messages themselves.
        """
        if not self:
            return self.env["mail.message"]
        langs = [code for code, _name in self.env["res.lang"].get_installed()]
        texts = {}
        for code in langs:
            env = self.with_context(lang=code).env
            for lead in self:
                texts.setdefault(lead.id, {})[code] = render(env, lead)
        own = self.env.lang if self.env.lang in langs else langs[0]
        messages = self._message_log_batch(
            bodies={lead_id: by_lang[own] for lead_id, by_lang in texts.items()}
        )
        if len(langs) > 1:
            messages._registration_store_bodies(
                {message.id: texts[message.res_id] for message in messages}
            )
        return messages
