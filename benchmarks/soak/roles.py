"""What each user does during the run, one client process per user, on the
benchmarks' one JSON-RPC client (``rpc.JsonRpc``): reps, approvers (the
team's three and its channel manager), the registration manager, and the
partners' portal users (over HTTP, as a browser). Every request is journaled
(one JSON line per attempt) and re-sent as a real client does; what a client
was told took effect goes to its ledger, checked against the database at the
end."""

import datetime
import html
import json
import os
import random
import re
import time
from urllib.parse import urlencode

from rpc import TAGS, GiveUp, JsonRpc, RpcError, ServerFault, Unanswered

from .prepare import lead_values, variants
from .shared import ACTIVE, PASSWORD, POOL, amount, utc

# The portal's pages, read as a browser would.
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PORTAL_ERRORS = re.compile(
    r'class="alert alert-danger o_registration_errors"[^>]*>(.*?)</div>\s*</div>', re.S
)
PORTAL_LINK = re.compile(r'href="/my/registrations/(\d+)"')
PORTAL_CREATED = re.compile(r"/my/registrations/(\d+)\?submitted=1")


class Actor:
    """One user's session: requests timed and journaled, re-sent as a real client does."""

    def __init__(self, user, server, args, run, index, logdir):
        self.user = user
        self.uid = user["id"]
        self.server = server
        self.args = args
        self.run = run
        self.rng = random.Random("%s-%d" % (args.seed, index))
        self.log = open(os.path.join(logdir, "client-%02d.jsonl" % index), "a")
        self.counter = 0
        self.rpc = JsonRpc(
            server[1],
            args.db,
            args.timeout,
            credentials=(user["login"], PASSWORD),
            journal=self.record,
            retry_limit=args.retry_limit,
        )

    def record(self, kind, start, outcome, error=None):
        entry = {
            "t": start,
            "end": time.time(),
            "kind": kind,
            "role": self.user["role"],
            "server": self.server[0],
            "outcome": outcome,
        }
        if error:
            entry["error"] = error[:600]
        self.log.write(json.dumps(entry) + "\n")
        self.log.flush()

    def ledger(self, **entry):
        self.record("ledger", time.time(), "ledger", json.dumps(entry))

    def call(self, kind, model, method, *args, done=None, **kwargs):
        """One request, re-sent until answered (``JsonRpc.send``)."""
        return self.rpc.send(kind, model, method, *args, done=done, **kwargs)

    def act(self, kind, model, method, *args, done=None, **kwargs):
        """A user action: a refusal is an answer, not a failure."""
        try:
            return True, self.call(kind, model, method, *args, done=done, **kwargs)
        except RpcError:
            return False, None

    def step(self):
        raise NotImplementedError

    def loop(self, deadline):
        self.rpc.retry_until = deadline
        while time.time() < deadline:
            try:
                self.step()
            except GiveUp:
                pass
            except Exception as error:
                self.record(
                    "client", time.time(), "client_error", "%s: %s" % (type(error).__name__, error)
                )
            time.sleep(self.rng.uniform(*self.args.think))


class Rep(Actor):
    """Creates and submits (now and then a customer someone holds, typed another
    way), changes amounts and customers, follows up, withdraws, releases,
    claims from the pool, resubmits, wins and loses."""

    def my_leads(self, states):
        return self.call(
            "read_pipeline",
            "crm.lead",
            "search_read",
            [
                ("user_id", "=", self.uid),
                ("registration_state", "in", list(states)),
                ("name", "like", "Soak %s " % self.run),
            ],
            fields=["id", "registration_state", "expected_revenue", "registration_id"],
            limit=40,
            order="id desc",
        )

    def lead_state(self, lead_id):
        # a search, not a read: a pool opportunity is not readable before it is claimed
        rows = self.rpc.call(
            "crm.lead", "search_read", [("id", "=", lead_id)], ["registration_state", "user_id"]
        )
        return rows[0]["registration_state"] if rows else None

    def create_lead(self, values):
        """Create, idempotently: an unanswered creation is looked up by its unique name."""
        name = values["name"]

        def found():
            ids = self.rpc.call("crm.lead", "search", [("name", "=", name)])
            return ids and ids[0]

        ok, lead_id = self.act("create", "crm.lead", "create", values, done=found)
        if not ok:  # refused, e.g. another contact for an account someone holds
            return None
        lead_id = lead_id or found()
        if not lead_id:
            raise GiveUp("created %s but cannot find it" % name)
        self.ledger(created=lead_id, name=name)
        return lead_id

    def submit(self, lead_id, kind="submit"):
        started = time.time()

        def done():
            return self.lead_state(lead_id) in ACTIVE

        ok, _result = self.act(kind, "crm.lead", "action_registration_submit", [lead_id], done=done)
        if ok:
            self.ledger(ack="submit", lead=lead_id, uid=self.uid, t=started)
        return ok

    def new_customer(self):
        self.counter += 1
        marker = "%d-%d" % (self.uid, self.counter)
        domain = "c%s-%s.example.com" % (self.run, marker)
        phone = "+86 755 %04d %04d" % (self.uid % 10000, self.counter)
        name = "Soak %s Customer %s Co., Ltd." % (self.run, marker)
        values = lead_values(self.run, marker, name, domain, phone, amount(self.rng))
        lead_id = self.create_lead(values)
        if lead_id:
            self.submit(lead_id, "create_submit")

    def held_customer(self):
        """A customer someone holds, typed another way: the server decides who owns it."""
        held = self.rng.choice(self.args.held_customers)
        self.counter += 1
        marker = "%d-%d" % (self.uid, self.counter)
        way = self.rng.choice(["name", "name", "domain", "phone", "partner", "contact"])
        values = lead_values(self.run, marker, None, None, None, amount(self.rng))
        if way == "name":
            values["partner_name"] = self.rng.choice(variants(held["name"]))
        elif way == "domain" and held["domain"]:
            values["partner_name"] = "Soak %s Other %s" % (self.run, marker)
            values["email_from"] = "someone.else@%s" % held["domain"]
        elif way == "phone" and held["phone"]:
            values["partner_name"] = "Soak %s Another %s" % (self.run, marker)
            values["phone"] = held["phone"].replace(" ", "")
        elif way == "partner" and held["partner"]:
            values["partner_id"] = held["partner"]
            values.pop("partner_name")
        else:
            # the company typed into the Contact field: a person record with its name
            ok, person = self.act(
                "create_contact", "res.partner", "create", {"name": held["name"].upper()}
            )
            if not ok:
                return
            values["partner_id"] = person
            values.pop("partner_name")
        lead_id = self.create_lead(values)
        if lead_id:
            self.submit(lead_id, "submit_held_customer")

    def change_amount(self):
        leads = self.my_leads(("draft", "submitted", "approved"))
        if leads:
            lead = self.rng.choice(leads)
            self.act(
                "change_amount",
                "crm.lead",
                "write",
                [lead["id"]],
                {"expected_revenue": amount(self.rng)},
            )

    def change_customer(self):
        leads = self.my_leads(("draft", "submitted", "approved"))
        if leads:
            lead = self.rng.choice(leads)
            self.counter += 1
            self.act(
                "change_customer",
                "crm.lead",
                "write",
                [lead["id"]],
                {
                    "partner_name": "Soak %s Renamed %d-%d Ltd"
                    % (self.run, self.uid, self.counter),
                    "email_from": "boss@r%s-%d-%d.example.com" % (self.run, self.uid, self.counter),
                },
            )

    def follow_up(self):
        leads = self.my_leads(("approved",))
        if leads:
            lead = self.rng.choice(leads)
            self.act(
                "follow_up",
                "crm.lead",
                "message_post",
                [lead["id"]],
                body="Soak: called the buyer, next meeting planned",
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )

    def transition(self, kind, states, method, event, after, **kwargs):
        leads = self.my_leads(states)
        if not leads:
            return
        lead = self.rng.choice(leads)
        started = time.time()
        ok, _result = self.act(
            kind,
            "crm.lead",
            method,
            [lead["id"]],
            done=lambda: self.lead_state(lead["id"]) in after,
            **kwargs,
        )
        if ok and event:
            self.ledger(ack=event, lead=lead["id"], uid=self.uid, t=started)

    def claim(self):
        # the pool shows customers; an entry's id is its opportunity's
        pool = self.call(
            "read_pool",
            "crm.lead.pool",
            "search_read",
            [
                ("customer_name", "like", "Soak %s " % self.run),
                ("previous_user_id", "!=", self.uid),
            ],
            fields=["id"],
            limit=20,
        )
        if pool:
            lead_id = self.rng.choice(pool)["id"]
            started = time.time()
            ok, _result = self.act(
                "claim",
                "crm.lead",
                "action_registration_claim",
                [lead_id],
                done=lambda: self.lead_state(lead_id) in ACTIVE,
            )
            if ok:
                self.ledger(ack="submit", lead=lead_id, uid=self.uid, t=started)

    def step(self):
        roll = self.rng.random()
        if roll < 0.24:
            self.new_customer()
        elif roll < 0.36:
            self.held_customer()
        elif roll < 0.48:
            self.change_amount()
        elif roll < 0.53:
            self.change_customer()
        elif roll < 0.66:
            self.follow_up()
        elif roll < 0.72:
            self.transition(
                "withdraw",
                ("submitted",),
                "action_registration_withdraw",
                "withdrawn",
                ("withdrawn",),
                reason="Soak: the customer postponed",
            )
        elif roll < 0.76:
            self.transition(
                "release",
                ("approved",),
                "action_registration_release",
                "released",
                ("released",),
                reason="Soak: not a fit",
            )
        elif roll < 0.82:
            self.claim()
        elif roll < 0.88:
            self.transition(
                "resubmit",
                ("draft", "rejected", "withdrawn", "expired", "released"),
                "action_registration_submit",
                "submit",
                ACTIVE,
            )
        elif roll < 0.90:
            self.transition("win", ("approved",), "action_set_won", None, ("won", "approved"))
        elif roll < 0.92:
            self.transition("lose", ("approved", "submitted"), "action_set_lost", None, POOL)
        else:
            self.my_leads(("draft", "submitted", "approved"))


class Approver(Actor):
    """Approves (half on the registration, half on the opportunity) or rejects
    what waits for them; the channel manager passes a partner's deal first."""

    def step(self):
        regs = self.call(
            "read_queue",
            "crm.lead.registration",
            "search_read",
            [("state", "=", "submitted"), ("approver_ids", "in", [self.uid])],
            fields=["id", "lead_id", "submitted_by_id", "date_channel_reviewed"],
            limit=20,
        )
        if not regs:
            return
        reg = self.rng.choice(regs)
        # a partner's deal first passes its channel review, then its band's
        channel = (
            reg["submitted_by_id"]
            and reg["submitted_by_id"][0] in self.args.portal_ids
            and not reg["date_channel_reviewed"]
        )

        def decided(state):
            rows = self.rpc.call(
                "crm.lead.registration", "read", [reg["id"]], ["state", "date_channel_reviewed"]
            )
            if state == "channel_reviewed":
                return rows and bool(rows[0]["date_channel_reviewed"])
            return rows and rows[0]["state"] == state

        started = time.time()
        if self.rng.random() < 0.8:
            kind, event = "approve", "granted"
            if channel:
                kind, event = "channel_review", "channel_reviewed"
            if self.rng.random() < 0.5:
                model, method, ids = "crm.lead.registration", "action_approve", [reg["id"]]
            else:
                model, method, ids = "crm.lead", "action_registration_approve", [reg["lead_id"][0]]
            ok, _r = self.act(
                kind,
                model,
                method,
                ids,
                done=lambda: decided("approved" if event == "granted" else event),
            )
        else:
            kind, event = "reject", "rejected"
            ok, _r = self.act(
                kind,
                "crm.lead.registration",
                "action_reject",
                [reg["id"]],
                done=lambda: decided("rejected"),
                reason="Soak: budget not confirmed",
            )
        if ok:
            self.ledger(ack=event, registration=reg["id"], uid=self.uid, t=started)


class Manager(Actor):
    """Arbitrates the conflicts reps ran into (keep, give to the challenger,
    transfer, extend) and transfers approved registrations."""

    def challengers(self):
        """Draft opportunities of reps refused a conflict in the last five minutes."""
        since = utc(time.time() - 300).strftime("%Y-%m-%d %H:%M:%S")
        refused = self.call(
            "read_conflicts",
            "crm.lead.registration.event",
            "search_read",
            [("event", "=", "conflict_refused"), ("date", ">=", since)],
            fields=["user_id"],
            limit=30,
        )
        return self.call(
            "read_conflicts",
            "crm.lead",
            "search_read",
            [
                ("user_id", "in", list({r["user_id"][0] for r in refused if r["user_id"]})),
                ("registration_state", "=", "draft"),
                ("name", "like", "Soak %s " % self.run),
            ],
            fields=["id", "user_id"],
            limit=20,
        )

    def arbitrate(self, challengers):
        lead = self.rng.choice(challengers)
        decision = self.rng.choice(["keep", "give_to_challenger", "transfer_user", "extend"])
        values = {
            "lead_id": lead["id"],
            "decision": decision,
            "reason": "Soak arbitration: %s" % decision,
        }
        if decision == "transfer_user":
            values["new_user_id"] = self.rng.choice(self.args.rep_ids)
        if decision == "extend":
            values["extension_end_date"] = (
                datetime.date.today() + datetime.timedelta(days=200)
            ).isoformat()
        ok, wizard = self.act(
            "arbitrate",
            "crm.lead.registration.arbitration",
            "create",
            values,
            context={"active_id": lead["id"]},
        )
        if ok and wizard:
            self.act("arbitrate", "crm.lead.registration.arbitration", "action_confirm", [wizard])

    def transfer(self):
        regs = self.call(
            "read_registrations",
            "crm.lead.registration",
            "search_read",
            [("state", "=", "approved"), ("lead_id.name", "like", "Soak %s " % self.run)],
            fields=["id", "user_id"],
            limit=20,
        )
        if regs:
            reg = self.rng.choice(regs)
            self.act(
                "transfer",
                "crm.lead.registration",
                "action_transfer",
                [reg["id"]],
                user=self.rng.choice(self.args.rep_ids),
                reason="Soak: territory change",
            )

    def step(self):
        challengers = self.challengers()
        roll = self.rng.random()
        if challengers and roll < 0.6:
            self.arbitrate(challengers)
        else:
            self.transfer()


class Partner(Actor):
    """A partner's portal user, over HTTP as a browser: registers deals on the
    form (now and then a customer someone holds), opens its list and its
    deals. A refusal is the form again with its errors, or a 4xx; it must
    never name who holds the customer."""

    def __init__(self, *args):
        super().__init__(*args)
        self.csrf = None  # the portal form's token, valid for the session
        self.seen = []  # the partner's registrations last listed

    def page(self, kind, path, form=None, done=None):
        """A portal page (GET, or POST of ``form`` with the session's CSRF
        token), re-sent until answered like ``call``. Returns the response and
        the errors the page lists (a refusal), or ``(None, None)`` when an
        unanswered attempt turned out to have taken effect (``done``)."""

        def attempt(unanswered):
            start = time.time()
            try:
                if self.rpc.uid is None:
                    self.csrf = None
                    self.rpc.login(*self.rpc.credentials)
                data = None
                if form is not None:
                    if self.csrf is None:
                        self.portal_form()
                    data = dict(form, csrf_token=self.csrf)
                    start = time.time()
                response = self.rpc.http("POST" if form is not None else "GET", path, data)
                if response.status_code == 400 and "CSRF" in response.text:
                    self.csrf = None  # a new session, a new token
                    raise ServerFault("HTTP 400: invalid CSRF token")
                errors = None
                if response.status_code >= 400:
                    errors = "HTTP %d" % response.status_code
                elif match := PORTAL_ERRORS.search(response.text):
                    errors = " ".join(html.unescape(TAGS.sub(" ", match.group(1))).split())
                if errors and unanswered and done and self.rpc.took_effect(done):
                    self.record(kind, start, "ok_retried")
                    return None, None
                self.record_page(kind, start, unanswered, errors)
                return response, errors
            except GiveUp:
                raise
            except Exception as error:  # 5xx, the session lost, the connection
                self.record(kind, start, "transient", "%s: %s" % (type(error).__name__, error))
                if isinstance(error, RuntimeError):  # login refused while the DB restarts
                    self.rpc.disconnect()
            raise Unanswered

        return self.rpc.resend(kind, attempt, done, gave_effect=(None, None))

    def record_page(self, kind, start, unanswered, errors):
        """An answered page; a refusal naming one of the run's users is an error:
        a partner never learns who holds the customer."""
        if not errors:
            self.record(kind, start, "ok_retried" if unanswered else "ok")
            return
        leaked = re.search(
            r"Soak %s (?:rep|leader|deputy|branch|manager|channel) \d\d" % self.run, errors
        )
        outcome = "application_error" if leaked else "refused"
        self.record(kind, start, outcome, ("leaks a user: " if leaked else "") + errors)

    def portal_form(self):
        response, _errors = self.page("portal_form", "/my/registrations/new")
        match = CSRF.search(response.text)
        if not match:
            raise GiveUp("no CSRF token on the registration form")
        self.csrf = match.group(1)

    def portal_find(self, company, contact):
        """The partner's registration of one attempt, found as the partner would:
        searched in their list, recognised by its contact on its page."""
        response = self.rpc.http("GET", "/my/registrations?" + urlencode({"search": company[:100]}))
        for reg_id in dict.fromkeys(PORTAL_LINK.findall(response.text)):
            detail = self.rpc.http("GET", "/my/registrations/%s" % reg_id)
            if contact in detail.text:
                return int(reg_id)
        return None

    def portal_register(self, kind, company, email, phone):
        """A deal registered on the portal form; its contact names the attempt."""
        self.counter += 1
        contact = "Soak %s contact %d-%d" % (self.run, self.uid, self.counter)
        form = {
            "company_name": company,
            "vat": "",
            "contact_name": contact,
            "email": email or "",
            "phone": phone or "",
            "need": "Soak: a need the partner describes",
            "budget": "%d" % amount(self.rng),
            "date_deadline": (datetime.date.today() + datetime.timedelta(days=60)).isoformat(),
            "key_person": "Buyer",
            "notes": "",
        }
        self.portal_form()
        started = time.time()
        found = []

        def done():
            found[:] = [self.portal_find(company.strip(), contact)]
            return found[0]

        response, errors = self.page(kind, "/my/registrations/new", form=form, done=done)
        if errors:
            return None
        if response is None:
            reg_id = found and found[0]
        else:
            match = PORTAL_CREATED.search(response.headers.get("Location", ""))
            reg_id = match and int(match.group(1))
        if not reg_id:
            raise GiveUp("registered %s but no registration to show" % company)
        self.ledger(portal=reg_id, uid=self.uid, contact=contact, t=started)
        return reg_id

    def portal_new_customer(self):
        marker = "%d-%d" % (self.uid, self.counter + 1)
        self.portal_register(
            "portal_register",
            "Soak %s Portal %s Co., Ltd." % (self.run, marker),
            "buyer@p%s-%s.example.com" % (self.run, marker),
            "+86 757 %04d %04d" % (self.uid % 10000, self.counter + 1),
        )

    def portal_held_customer(self):
        """A customer someone already holds, typed by a partner: refused, saying
        only until when, unless its lock ended meanwhile."""
        held = self.rng.choice(self.args.held_customers)
        marker = "%d-%d" % (self.uid, self.counter + 1)
        other = "Soak %s Partner %s Co., Ltd." % (self.run, marker)
        way = self.rng.choice(["name", "name", "domain", "phone"])
        if way == "domain" and held["domain"]:
            company, email, phone = other, "someone.else@%s" % held["domain"], None
        elif way == "phone" and held["phone"]:
            company, email, phone = other, None, held["phone"].replace(" ", "")
        else:  # the name only: a free-mail contact is never a customer key
            company = self.rng.choice(variants(held["name"]))
            email, phone = "buyer.%s.%s@qq.com" % (self.run, marker), None
        self.portal_register("portal_register_held_customer", company, email, phone)

    def portal_list(self):
        query = {
            "filterby": self.rng.choice(["all", "all", "submitted", "approved", "rejected"]),
            "sortby": self.rng.choice(["date", "name", "protection"]),
        }
        path = "/my/registrations" + ("/page/2" if self.rng.random() < 0.1 else "")
        response, errors = self.page("portal_list", path + "?" + urlencode(query))
        if response is not None and not errors:
            self.seen = PORTAL_LINK.findall(response.text) or self.seen

    def portal_detail(self):
        if not self.seen:
            return self.portal_list()
        self.page("portal_detail", "/my/registrations/%s" % self.rng.choice(self.seen))

    def step(self):
        roll = self.rng.random()
        if roll < 0.35:
            self.portal_new_customer()
        elif roll < 0.55:
            self.portal_held_customer()
        elif roll < 0.85:
            self.portal_list()
        else:
            self.portal_detail()


ROLES = {"rep": Rep, "manager": Manager, "portal": Partner}


def client_main(user, server, args, run, index, logdir, deadline):
    """One client process: the user's role until ``deadline`` (the team's
    approvers and channel manager approve)."""
    ROLES.get(user["role"], Approver)(user, server, args, run, index, logdir).loop(deadline)
