"""The one client every benchmark talks to Odoo with over the wire.

``JsonRpc`` is a web session as Odoo's web client and browser hold one: log in
(``/web/session/authenticate``), ``call`` a model method through
``/web/dataset/call_kw``, ``http`` a page on the same session (the portal's
forms), and ``send`` / ``resend`` for a client that re-sends what got no
answer, as a real one does while a server restarts. ``XmlRpc`` offers the same
``login`` / ``call`` over ``/xmlrpc/2`` (the password on every call), so that a
harness can compare the two protocols with one code path; ``Admin`` is the
administrator over XML-RPC, for preparing data and reading it back.
"""

import os
import re
import time
import xmlrpc.client

ADMIN_LOGIN = os.environ.get("OPREG_ADMIN_LOGIN", "admin")
ADMIN_PASSWORD = os.environ.get("OPREG_ADMIN_PASSWORD", "admin")
# JSON-RPC error names that are a clear refusal (Odoo's UserError family)
JSON_KINDS = {
    "odoo.exceptions.UserError": "user_error",
    "odoo.exceptions.ValidationError": "user_error",
    "odoo.exceptions.RedirectWarning": "user_error",
    "odoo.exceptions.MissingError": "user_error",
    "odoo.exceptions.AccessError": "access_error",
    "odoo.exceptions.AccessDenied": "access_error",
}
# XML-RPC fault codes (odoo/addons/rpc): the same families
FAULT_KINDS = {2: "user_error", 4: "access_error", 1: "application_error"}
# What a server answers while a fault is on (its database gone, a worker
# killed, the server restarting): the request is re-sent.
TRANSIENT = re.compile(
    r"psycopg2|OperationalError|InterfaceError|AdminShutdown|terminating connection|"
    r"server closed the connection|connection (?:to server|already closed|refused)|"
    r"could not connect|database system is (?:shutting down|starting up|in recovery)|"
    r"SerializationFailure|could not serialize|deadlock|PoolError|"
    r"Connection ?(?:Refused|Reset|Aborted)|RemoteDisconnected|Read ?timed out|Max retries",
    re.IGNORECASE,
)
TAGS = re.compile(r"<[^>]+>")


class HttpError(Exception):
    pass


class RpcError(Exception):
    """An error answer: ``kind`` is user_error, access_error or application_error."""

    def __init__(self, kind, name, message):
        super().__init__("%s: %s" % (name, message))
        self.kind = kind
        self.name = name
        self.message = message


class ServerFault(Exception):
    """An answer that is no answer: a 5xx, or the session lost."""


class Unanswered(Exception):
    """An attempt that got no answer: it is sent again."""


class GiveUp(Exception):
    """No answer before the deadline, or an answer no retry can change."""


def _silent(kind, start, outcome, error=None):
    """The default journal: attempts are not recorded."""


class JsonRpc:
    """A web session over JSON-RPC, as Odoo's web client calls the server.

    ``credentials`` (login, password) let ``send`` log in when it needs to;
    ``journal(kind, start, outcome, error=None)`` hears of every attempt of
    ``send`` and of ``resend``'s retries; ``retry_limit`` (seconds) and
    ``retry_until`` (a ``time.time()``) bound how long ``resend`` keeps trying.
    """

    protocol = "jsonrpc"

    def __init__(self, url, db, timeout=120.0, *, credentials=None, journal=None, retry_limit=0.0):
        self.url = url
        self.db = db
        self.timeout = timeout
        self.journal = journal or _silent
        self.retry_limit = retry_limit
        self.retry_until = time.time() + retry_limit
        self.session = None
        self.credentials = credentials
        self.uid = None
        self.ident = 0

    # one request -------------------------------------------------------

    def post(self, path, params):
        self.ident += 1
        response = self.session.post(
            self.url + path,
            json={"jsonrpc": "2.0", "method": "call", "id": self.ident, "params": params},
            timeout=self.timeout,
        )
        if response.status_code != 200:
            raise HttpError("HTTP %s %s" % (response.status_code, response.text[:300]))
        answer = response.json()
        error = answer.get("error")
        if error:
            data = error.get("data") or {}
            kind = JSON_KINDS.get(data.get("name"), "application_error")
            message = data.get("message") or error.get("message")
            if kind == "application_error":
                message = "%s\n%s" % (message, (data.get("debug") or "")[-1500:])
            raise RpcError(kind, data.get("name"), message)
        return answer.get("result")

    def login(self, login, password):
        """A new web session; the credentials are kept to open the next one."""
        import requests

        self.session = requests.Session()
        self.credentials = (login, password)
        self.uid = None
        result = self.post(
            "/web/session/authenticate", {"db": self.db, "login": login, "password": password}
        )
        if not (result or {}).get("uid"):
            raise RuntimeError("login refused for %s" % login)
        self.uid = result["uid"]
        return self.uid

    def disconnect(self):
        """Forget the session: the next attempt of ``send`` logs in again."""
        self.uid = None

    def call(self, model, method, *args, **kwargs):
        return self.post(
            "/web/dataset/call_kw/%s/%s" % (model, method),
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def http(self, method, path, data=None, follow=False):
        """One request of the browser on the session. Without ``follow``, a
        redirect is returned as is, so that a lost session (sent to the login
        page) and where a form leads show; a 5xx, or a server that lost its
        database, raises ``ServerFault``."""
        response = self.session.request(
            method, self.url + path, data=data, timeout=self.timeout, allow_redirects=follow
        )
        location = response.headers.get("Location", "")
        if response.is_redirect and "/web/login" in location:
            self.disconnect()
            raise ServerFault("session lost: sent to %s" % location[:100])
        if response.status_code == 404 and "No database is selected" in response.text:
            raise ServerFault("HTTP 404: the server answered without its database")
        if response.status_code >= 500:
            raise ServerFault(
                "HTTP %d: %s"
                % (response.status_code, " ".join(TAGS.sub(" ", response.text).split())[:300])
            )
        return response

    # re-sent until answered -------------------------------------------

    def resend(self, kind, attempt, done=None, gave_effect=None):
        """Send ``attempt(unanswered)`` until it answers, as a real client
        would: again after each attempt that raises ``Unanswered``, backing
        off up to 3 s, giving up at the deadline (``retry_limit``, and soon
        after ``retry_until``). An unanswered attempt that took effect
        meanwhile (``done()``) ends it, with ``gave_effect``."""
        deadline = time.monotonic() + min(self.retry_limit, self.retry_until + 30 - time.time())
        unanswered = False
        delay = 0.3
        while True:
            try:
                return attempt(unanswered)
            except Unanswered:
                pass
            unanswered = True
            if time.monotonic() > deadline:
                self.journal(kind, time.time(), "gave_up")
                raise GiveUp(kind)
            time.sleep(delay)
            delay = min(delay * 2, 3.0)
            if done and self.took_effect(done):
                self.journal(kind, time.time(), "ok_retried")
                return gave_effect

    def took_effect(self, done):
        try:
            return bool(done())
        except Exception:
            return False

    def send(self, kind, model, method, *args, done=None, **kwargs):
        """``call``, re-sent until answered; ``done()`` tells whether an
        unanswered attempt already took effect (then a refusal is the
        idempotent outcome). A refusal raises ``RpcError``; an application
        error that is not a fault's, ``GiveUp``."""

        def attempt(unanswered):
            start = time.time()
            try:
                if self.uid is None:
                    self.login(*self.credentials)
                result = self.call(model, method, *args, **kwargs)
                self.journal(kind, start, "ok_retried" if unanswered else "ok")
                return result
            except RpcError as error:
                if error.kind != "application_error":
                    if unanswered and done and self.took_effect(done):
                        self.journal(kind, start, "ok_retried")
                        return None
                    self.journal(kind, start, "refused", "%s: %s" % (error.name, error.message))
                    raise
                text = "%s: %s" % (error.name, error.message)
                if "SessionExpired" in (error.name or ""):
                    self.disconnect()
                elif not TRANSIENT.search(text):
                    self.journal(kind, start, "application_error", text)
                    raise GiveUp(text) from error
                self.journal(kind, start, "transient", text)
            except Exception as error:  # the connection: refused, reset, timed out
                self.journal(kind, start, "transient", "%s: %s" % (type(error).__name__, error))
                if isinstance(error, RuntimeError):  # login refused while the DB restarts
                    self.disconnect()
            raise Unanswered

        return self.resend(kind, attempt, done)


class _TimeoutTransport(xmlrpc.client.Transport):
    def __init__(self, timeout):
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host):
        connection = super().make_connection(host)
        connection.timeout = self.timeout
        return connection


class XmlRpc:
    """``login`` and ``call`` of ``JsonRpc`` over ``/xmlrpc/2``, the password
    sent with every call, as an integration calls the server; errors raised as
    ``RpcError`` (by fault code) and ``HttpError``. No timeout by default."""

    protocol = "xmlrpc"

    def __init__(self, url, db, timeout=None):
        self.db = db
        transport = _TimeoutTransport(timeout) if timeout else None
        self.common = xmlrpc.client.ServerProxy(url + "/xmlrpc/2/common", transport=transport)
        self.models = xmlrpc.client.ServerProxy(
            url + "/xmlrpc/2/object", transport=transport, allow_none=True
        )
        self.uid = self.password = None

    def login(self, login, password):
        self.uid = self.common.authenticate(self.db, login, password, {})
        if not self.uid:
            raise RuntimeError("login refused for %s" % login)
        self.password = password
        return self.uid

    def call(self, model, method, *args, **kwargs):
        try:
            return self.models.execute_kw(
                self.db, self.uid, self.password, model, method, list(args), kwargs
            )
        except xmlrpc.client.Fault as fault:
            kind = FAULT_KINDS.get(fault.faultCode, "fault")
            raise RpcError(kind, fault.faultCode, fault.faultString) from fault
        except xmlrpc.client.ProtocolError as error:
            raise HttpError("HTTP %s %s" % (error.errcode, error.errmsg)) from error


class Admin(XmlRpc):
    """The administrator over XML-RPC, for preparing and reading back:
    ``admin(model, method, *args, **kwargs)``."""

    def __init__(self, server, db):
        super().__init__(server.url(""), db)
        try:
            self.login(ADMIN_LOGIN, ADMIN_PASSWORD)
        except RuntimeError:
            raise RuntimeError("cannot log in as %s on %s" % (ADMIN_LOGIN, db)) from None

    def __call__(self, model, method, *args, **kwargs):
        return self.call(model, method, *args, **kwargs)

    def ref(self, xmlid):
        module, name = xmlid.split(".")
        rows = self(
            "ir.model.data",
            "search_read",
            [("module", "=", module), ("name", "=", name)],
            fields=["res_id"],
        )
        return rows[0]["res_id"]
