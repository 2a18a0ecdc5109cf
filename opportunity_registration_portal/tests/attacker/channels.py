"""How an attacker reaches the server: XML-RPC, JSON-RPC, portal HTTP.

Every call goes over the test's real HTTP server into the test transaction
(HttpCase's registry test mode: each request runs on a TestCursor wrapping
the test cursor, inside a savepoint of its own). ``Outcome`` says what came
back: the reply's text (scanned for markers), how long it took and how big
it was, and whether a refusal was clean (invariant 5).
"""

import json
import os
import re
import time
import xmlrpc.client
from dataclasses import dataclass

import requests

from odoo.tests.common import Transport, get_db_name

# what a clean refusal is over each channel
CLEAN_ERRORS = {
    "odoo.exceptions.UserError",
    "odoo.exceptions.ValidationError",
    "odoo.exceptions.AccessError",
    "odoo.exceptions.AccessDenied",
    "odoo.exceptions.MissingError",
    "odoo.exceptions.RedirectWarning",
    "odoo.exceptions.CacheMiss",
    # the web client's routes without a session: the login page
    "odoo.http.SessionExpiredException",
}
# XML-RPC /xmlrpc/2: 2 warning (UserError and subclasses), 3 access denied,
# 4 access error; 1 is "application error": a traceback
CLEAN_FAULT_CODES = {2, 3, 4}
# the add-ons' own code (not the cache directory that shares their name): this
# one, and the core beside it
PORTAL_PATH = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULE_PATH = os.path.join(os.path.dirname(PORTAL_PATH), "opportunity_registration") + "/"
MODULE_PATHS = (MODULE_PATH, PORTAL_PATH + "/")
# ATTACKER_STRICT=1: a traceback in stock Odoo's code fails the run too
STRICT = os.environ.get("ATTACKER_STRICT") == "1"
# SPEC section 8's methods: each must answer over XML-RPC as over JSON-RPC
DOCUMENTED = {
    "action_registration_submit",
    "action_registration_withdraw",
    "action_registration_release",
    "validate_tier",
    "reject_tier",
}


@dataclass
class Outcome:
    channel: str
    ok: bool
    text: str = ""
    error: str = ""  # the error's type, or "" when the call succeeded
    traceback: str = ""
    seconds: float = 0.0
    size: int = 0
    not_sent: bool = False  # the client could not even encode the request
    method: str = ""

    @property
    def crashed(self):
        return bool(self.error) and self.error != "clean"

    def crashed_in_module(self):
        """A traceback raised in the module's code, or one of the database's
        own errors (a half-done write) on a path through the module."""
        if not self.crashed:
            return False
        if STRICT:
            return True
        if self.method in DOCUMENTED and "cannot marshal" in self.traceback:
            return True  # a documented method that does not answer over XML-RPC
        frames = re.findall(r'File "([^"]+)"', self.traceback)
        if frames and any(path in frames[-1] for path in MODULE_PATHS):
            return True
        lines = self.traceback.strip().splitlines()
        last = lines[-1] if lines else ""
        return "psycopg2" in last and any(path in f for f in frames for path in MODULE_PATHS)


# a request that does not answer within this is cut (and reported by invariant 11)
REQUEST_TIMEOUT = 120


class _BoundedTransport(Transport):
    """HttpCase's XML-RPC transport (test cookie, flush), with a timeout."""

    def make_connection(self, host):
        connection = super().make_connection(host)
        connection.timeout = REQUEST_TIMEOUT
        return connection


class Channels:
    """The RPC and HTTP clients of one HttpCase."""

    def __init__(self, case):
        self.case = case
        self.db = get_db_name()
        self.xml = xmlrpc.client.ServerProxy(
            case.xmlrpc_url + "object", transport=_BoundedTransport(case), allow_none=True
        )
        self.session_of = None

    # ------------------------------------------------------------
    # RPC
    # ------------------------------------------------------------

    def execute(self, channel, person, model, method, args, kwargs):
        uid = person.uid or False
        password = person.password or "wrong"
        start = time.monotonic()
        try:
            if channel == "xmlrpc":
                outcome = self._xmlrpc(uid, password, model, method, args, kwargs)
            elif channel == "call_kw":
                outcome = self._call_kw(person, model, method, args, kwargs)
            else:
                outcome = self._jsonrpc(uid, password, model, method, args, kwargs)
        except (OverflowError, TypeError, ValueError) as error:
            # the client cannot marshal the value (an int beyond XML-RPC's range)
            outcome = Outcome(channel, False, error="clean", text=str(error), not_sent=True)
        except (OSError, requests.RequestException) as error:
            # no answer within REQUEST_TIMEOUT: invariant 11 reports the time
            outcome = Outcome(channel, False, error="clean", text=str(error))
        outcome.channel = channel
        outcome.method = method
        outcome.seconds = time.monotonic() - start
        return outcome

    def _xmlrpc(self, uid, password, model, method, args, kwargs):
        try:
            result = self.xml.execute_kw(self.db, uid, password, model, method, args, kwargs)
        except xmlrpc.client.Fault as fault:
            text = str(fault.faultString)
            if fault.faultCode in CLEAN_FAULT_CODES:
                return Outcome("xmlrpc", False, text=text, error="clean", size=len(text))
            last = text.strip().splitlines()[-1] if text.strip() else "?"
            return Outcome(
                "xmlrpc", False, text=text, error=last[:200], traceback=text, size=len(text)
            )
        text = _dump(result)
        return Outcome("xmlrpc", True, text=text, size=len(text))

    def _jsonrpc(self, uid, password, model, method, args, kwargs):
        payload = self.case.build_rpc_payload(
            {
                "service": "object",
                "method": "execute_kw",
                "args": [self.db, uid, password, model, method, args, kwargs],
            }
        )
        response = self.case.url_open(
            "/jsonrpc",
            data=json.dumps(payload, default=str),
            headers={"Content-Type": "application/json"},
            timeout=REQUEST_TIMEOUT,
        )
        return self._json_outcome("jsonrpc", response)

    def _json_outcome(self, channel, response):
        text = response.text
        if response.status_code >= 500 and not text.startswith("{"):
            return Outcome(
                channel,
                False,
                text=text,
                error="HTTP %s" % response.status_code,
                traceback=text,
                size=len(text),
            )
        reply = response.json()
        if "error" in reply:
            data = reply["error"].get("data") or {}
            name = data.get("name", "?")
            error = "clean" if name in CLEAN_ERRORS else name
            return Outcome(
                channel,
                False,
                text=text,
                error=error,
                traceback=data.get("debug", "") if error != "clean" else "",
                size=len(text),
            )
        return Outcome(channel, True, text=text, size=len(text))

    def _call_kw(self, person, model, method, args, kwargs):
        """The web client's route, in the person's browser session."""
        self.login(person)
        payload = self.case.build_rpc_payload(
            {"model": model, "method": method, "args": args, "kwargs": kwargs}
        )
        response = self.case.url_open(
            "/web/dataset/call_kw/%s/%s" % (model, method),
            data=json.dumps(payload, default=str),
            headers={"Content-Type": "application/json"},
            timeout=REQUEST_TIMEOUT,
        )
        return self._json_outcome("call_kw", response)

    # ------------------------------------------------------------
    # HTTP (portal pages, the portal form, token links)
    # ------------------------------------------------------------

    def login(self, person):
        if self.session_of == person.key:
            return
        self.case.authenticate(person.login, person.password)
        self.session_of = person.key

    def http(self, person, method, url, data=None, json_body=None):
        self.login(person)
        start = time.monotonic()
        response = self.case.url_open(
            url,
            data=data,
            json=json_body,
            method=method,
            timeout=REQUEST_TIMEOUT,
            allow_redirects=False,
        )
        text = response.text
        outcome = Outcome("http", response.status_code < 400, text=text, size=len(text))
        if response.status_code >= 500:
            outcome.error = "HTTP %s" % response.status_code
            outcome.traceback = text
        elif json_body is not None and '"error"' in text[:200]:
            try:
                data = response.json().get("error", {}).get("data") or {}
            except ValueError:
                data = {}
            name = data.get("name", "?")
            outcome.error = "clean" if name in CLEAN_ERRORS or "NotFound" in name else name
            outcome.traceback = data.get("debug", "")
        elif response.status_code >= 400:
            outcome.error = "clean"
        outcome.seconds = time.monotonic() - start
        return outcome

    def csrf(self, person, url):
        outcome = self.http(person, "GET", url)
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', outcome.text)
        return found and found.group(1)


def _dump(result):
    try:
        return json.dumps(result, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(result)
