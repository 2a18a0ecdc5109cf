import re

from odoo.tests import HttpCase

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM_URL = "/my/registrations/new"


class PortalPagesCase(HttpCase):
    """A person's session on the portal pages, and the registration form posted
    as a browser posts it. Mixed with a case that builds the people
    (ChannelCase and its kind)."""

    def _login(self, user):
        self.authenticate(user.login, user.login)

    def _csrf(self, url=FORM_URL):
        """The CSRF token of a page the person may open (any portal page)."""
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200, url)
        return CSRF.search(response.text).group(1)

    def _post_form(self, files=None, csrf_from=FORM_URL, with_csrf=True, **overrides):
        """Post the registration form (``_form(**overrides)``) with a valid CSRF
        token read from ``csrf_from``, and ``files`` as its attachments."""
        data = self._form(**overrides)
        if with_csrf:
            data["csrf_token"] = self._csrf(csrf_from)
        return self.url_open(FORM_URL, data=data, files=files)
