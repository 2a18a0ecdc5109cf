from odoo.exceptions import RedirectWarning


class StageGateWarning(RedirectWarning):
    """A stage move the gate refuses, which a sales administrator may override.

    The web client shows it in its own dialog (registered under this class's
    name), titled with ``title`` rather than Odoo's generic "Odoo Warning".
    """

    def __init__(self, message, action, button_text, title):
        super().__init__(message, action, button_text)
        # sent to the web client with the error (odoo.http.serialize_exception)
        self.context = {"title": title}
