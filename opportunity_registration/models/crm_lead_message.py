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
    """Registration notes on the opportunity, read in each reader's language."""

    _inherit = "crm.lead"

    def _registration_log(self, subtype, body=None, tracking=None):
        """Log on each lead what happened to its registration.

        What happened is the note's subtype (``subtype``, an XML id of
        ``data/mail_message_subtype_data.xml``), whose description the chatter
        shows in the reader's language. The data are tracking values:
        ``tracking(lead)`` gives ``[(record, field, old, new)]``, shown with
        the field's label in the reader's language, dates and amounts in the
        reader's format. ``body`` (a text, or ``body(lead)``) is only what
        people typed, a reason or a comment: escaped, never markup. Two
        queries for the batch beside the messages (``_message_log_batch``
        logs plain notes): their subtype and their tracking values.
        """
        if not self:
            return self.env["mail.message"]
        bodies = {}
        for lead in self:
            text = body(lead) if callable(body) else body
            bodies[lead.id] = text_to_html(text) if text else ""
        messages = self._message_log_batch(bodies=bodies)
        messages.write({"subtype_id": self.env["ir.model.data"]._xmlid_to_res_id(subtype)})
        if tracking:
            Tracking = self.env["mail.tracking.value"].sudo()
            described = {}
            values = []
            # the messages are created in the order of the leads
            for lead, message in zip(self, messages, strict=True):
                for record, name, old, new in tracking(lead):
                    key = (record._name, name)
                    if key not in described:
                        described[key] = record.fields_get(
                            [name], attributes=("string", "type", "selection", "currency_field")
                        )[name]
                    values.append(
                        dict(
                            Tracking._create_tracking_values(
                                old, new, name, described[key], record
                            ),
                            mail_message_id=message.id,
                        )
                    )
            Tracking.create(values)
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
