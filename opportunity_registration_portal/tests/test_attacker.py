"""A model-based attacker: THREATS.md's people against SPEC section 9.

A Hypothesis ``RuleBasedStateMachine`` acts as eight people (a curious rep,
an all-documents rep, a plain employee, another company's rep, an approver,
a portal customer, a channel partner and an outsider) over real XML-RPC,
JSON-RPC (``/jsonrpc`` and the web client's ``call_kw`` in a session) and
portal HTTP, drawing each step from everything the person can reach -- found
at run time, not listed -- and checks the invariants after every step, in SQL. A list of known breaks is not a defence; this is.

Settings (environment): ``ATTACKER_SEED`` (replays a run), ``ATTACKER_EXAMPLES``,
``ATTACKER_STEPS`` (steps per example), ``ATTACKER_SECONDS`` (wall-clock
budget), ``ATTACKER_KNOWN`` (invariants reported but not failed, e.g. "7,8";
empty by default), ``ATTACKER_SHRINK=1`` to shrink a failure (slow),
``ATTACKER_STRICT=1`` to fail on tracebacks raised in stock Odoo's code too
(by default they are listed at the end: the module cannot change them).
"""

import hashlib
import json
import os
import sys
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, note, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from markupsafe import Markup

from odoo.addons.opportunity_registration.tests.common_channel import ChannelCase
from odoo.tests import HttpCase, tagged

from .attacker import values
from .attacker.channels import MODULE_PATH, Channels, Outcome
from .attacker.invariants import REG, Checker
from .attacker.people import ATTACKERS, Person, build_documents, build_people
from .attacker.surface import Surface

SEED = int(os.environ.get("ATTACKER_SEED") or 20261207)
EXAMPLES = int(os.environ.get("ATTACKER_EXAMPLES") or 400)
STEPS = int(os.environ.get("ATTACKER_STEPS") or 25)
BATCH = int(os.environ.get("ATTACKER_BATCH") or 6)
SECONDS = float(os.environ.get("ATTACKER_SECONDS") or 150)
KNOWN = {k.strip() for k in os.environ.get("ATTACKER_KNOWN", "").split(",") if k.strip()}
SHRINK = os.environ.get("ATTACKER_SHRINK") == "1"
STEP_SECONDS = float(os.environ.get("ATTACKER_STEP_SECONDS") or 20)
STEP_BYTES = 20 * 1024 * 1024
CHANNELS = ("xmlrpc", "jsonrpc", "call_kw")
# where other people's amounts, notes and reasons are kept
READ_MODELS = (
    "crm.lead",
    "crm.lead",
    "crm.lead.registration",
    "crm.lead.registration",
    "crm.lead.registration.event",
    "mail.message",
    "mail.activity",
    "res.partner",
)
# who tries to decide registrations: the approver most often
DECIDERS = ("approver", "approver", "approver", "all_documents_rep", "curious_rep", "employee")
INTERNAL = ("curious_rep", "all_documents_rep", "employee", "other_company_rep", "approver")
# the days a "time passes" step moves every date of the locks back
DAYS = (1, 3, 8, 15, 31, 61, 91, 120)
# where a person's own typed HTML is expected to stay HTML (a chatter post,
# an HTML field they write): invariant 10 is about text crossing people
HTML_MODELS = ("mail.message", "mail.activity")
HTML_METHOD_PREFIXES = ("message_", "activity_", "action_feedback")


@dataclass
class Step:
    n: int
    kind: str  # call / crud / lifecycle / cron / portal
    person: Person | None
    model: str
    operation: str
    channel: str = "-"
    detail: str = ""
    html_direct: bool = False

    def label(self):
        who = self.person.key if self.person else "cron"
        return "#%d %s %s.%s via %s%s" % (
            self.n,
            who,
            self.model,
            self.operation,
            self.channel,
            " " + self.detail if self.detail else "",
        )


@tagged("post_install", "-at_install", "opportunity_registration_portal")
class TestAttacker(HttpCase, ChannelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.people, cls.users, cls.companies, cls.team_b = build_people(cls)
        cls.documents = build_documents(cls, cls.people, cls.users, cls.companies, cls.team_b)
        cls.surface = Surface(cls.env, cls.people)
        # other people's customers, typed in as one's own (invariant 1)
        leads = cls.env["crm.lead"].browse([d.lead_id for d in cls.documents])
        cls.rivals = tuple(name for name in leads.mapped("partner_name") if name)

    # pylint-odoo reads the nested machine's super().__init__() as this method's
    def test_attacker(self):  # pylint: disable=missing-return
        """The machine, within its budget; a failure prints the seed and the steps."""
        case = self
        started = time.monotonic()
        stats = Counter()
        run = {"seed": SEED, "step": 0}  # the batch's seed, the example's step
        findings = defaultdict(list)  # invariant -> [(text, step, log)]
        total, _rows = self.surface.size(self.people)
        _say(
            "\n[attacker] seed %s, step set: %d people x %d models: %d (person, model, "
            "operation) steps (%d method calls, %d create/write/unlink rights, %d writable fields)"
            % (
                SEED,
                len(ATTACKERS),
                len(self.surface.models),
                total,
                sum(len(m) for m in self.surface.methods.values()) * len(ATTACKERS),
                len(self.surface.crud),
                sum(len(f) for f in self.surface.writable.values()),
            )
        )
        channels = Channels(self)
        checker = Checker(self.env, self.people, self.documents, STEP_SECONDS, STEP_BYTES)
        people = self.people
        surface = self.surface
        today = values.today()
        crud = sorted(surface.crud)

        def out_of_time():
            return time.monotonic() - started > SECONDS and not findings.get("!")

        def pick(data, choices, label):
            """One of ``choices``, spread evenly: Hypothesis's own draws favour
            the first choices (a run called crm.lead's first method two times
            in three), so the draw is mixed with the step's number and the
            batch's seed -- still the same choice when the example replays."""
            choices = tuple(choices)
            drawn = data.draw(st.integers(0, 2**31 - 1), label=label)
            digest = hashlib.blake2b(
                ("%s/%s/%s/%s" % (drawn, run["seed"], run["step"], label)).encode(),
                digest_size=8,
            ).digest()
            return choices[int.from_bytes(digest, "big") % len(choices)]

        class Attacker(RuleBasedStateMachine):
            def __init__(self):
                super().__init__()
                stats["examples"] += 1
                run["step"] = 0
                case.env.flush_all()
                self.savepoint = case.cr.savepoint()
                self.log = []
                self.reported = set()
                self.ids = {}
                self.step = Step(0, "lifecycle", None, "-", "start")
                self.outcome = None
                checker.begin_example()

            def teardown(self):
                self.savepoint.close(rollback=True)
                case.env.invalidate_all()
                case.env.registry.clear_all_caches()
                channels.session_of = None

            # ----------------------------------------------------------
            # helpers
            # ----------------------------------------------------------

            def ids_of(self, model):
                if model not in self.ids:
                    records = case.env[model]
                    found = []
                    if not records._abstract and records._auto:
                        case.env.flush_all()
                        case.cr.execute(
                            'SELECT id FROM "%s" ORDER BY id DESC LIMIT 25' % records._table
                        )
                        found = [r for (r,) in case.cr.fetchall()]
                    if model == "crm.lead":
                        found += [d.lead_id for d in case.documents]
                    self.ids[model] = sorted(set(found))
                return self.ids[model]

            def begin(self, step):
                step.n = len(self.log) + 1
                run["step"] = step.n
                self.step = step
                self.outcome = None
                case.env.flush_all()
                checker.before(step)

            def end(self, outcome):
                self.outcome = outcome
                self.ids = {}
                case.env.invalidate_all()
                stats["steps"] += 1
                stats[self.step.kind] += 1
                if outcome is not None and outcome.crashed and not outcome.crashed_in_module():
                    stats["stock tracebacks"] += 1
                    findings["stock"].append((outcome.error, self.step, None))
                entry = "%s -> %s" % (
                    self.step.label(),
                    "ok" if outcome is None or outcome.ok else outcome.error or "refused",
                )
                self.log.append(entry)
                note(entry)

            def rpc(self, step, args, kwargs):
                self.begin(step)
                outcome = channels.execute(
                    step.channel, step.person, step.model, step.operation, args, kwargs
                )
                self.end(outcome)
                return outcome

            def verdict(self, inv, found):
                # a violation is reported once, by the step that made it
                found = [text for text in found if (inv, text) not in self.reported]
                if not found:
                    return
                self.reported.update((inv, text) for text in found)
                findings[inv].append((found[0], self.step, list(self.log)))
                if inv in KNOWN:
                    return
                findings["!"].append(inv)
                raise AssertionError(
                    "invariant %s broken (replay: ATTACKER_SEED=%s; example %d):\n  %s\n"
                    "steps:\n  %s"
                    % (
                        inv,
                        run["seed"],
                        stats["examples"],
                        "\n  ".join(found[:5]),
                        "\n  ".join(self.log),
                    )
                )

            def draw_person(self, data, keys=ATTACKERS):
                return people[pick(data, keys, "person")]

            # ----------------------------------------------------------
            # the step set
            # ----------------------------------------------------------

            @rule(data=st.data())
            def call_method(self, data):
                """Any public method of any model, as any person, over RPC."""
                person = self.draw_person(data)
                model = pick(data, surface.models, "model")
                methods = surface.methods[model]
                name = pick(data, sorted(methods), "method")
                signature = methods[name]
                args = []
                if not signature.on_model:
                    args.append(
                        data.draw(
                            st.lists(values.record_id(self.ids_of(model)), min_size=1, max_size=2),
                            label="ids",
                        )
                    )
                for parameter in signature.required:
                    args.append(
                        values.method_argument(
                            data.draw, parameter, self.ids_of, today, case.rivals
                        )
                    )
                kwargs = {}
                if signature.optional:
                    for parameter in data.draw(
                        st.lists(st.sampled_from(signature.optional), unique=True, max_size=2),
                        label="optional",
                    ):
                        kwargs[parameter] = values.method_argument(
                            data.draw, parameter, self.ids_of, today, case.rivals
                        )
                channel = data.draw(st.sampled_from(CHANNELS), label="channel")
                step = Step(
                    0,
                    "call",
                    person,
                    model,
                    name,
                    channel,
                    detail=_short(args, kwargs),
                    html_direct=model in HTML_MODELS or name.startswith(HTML_METHOD_PREFIXES),
                )
                self.rpc(step, args, kwargs)

            @rule(data=st.data())
            def call_method_again(self, data):
                """(The generic steps weigh more than the lifecycle's: Hypothesis
                picks a rule uniformly.)"""
                self.call_method(data)

            @rule(data=st.data())
            def create_write_unlink_again(self, data):
                self.create_write_unlink(data)

            @rule(data=st.data())
            def create_write_unlink(self, data):
                """create/write/unlink with fields the person may write."""
                key, model, operation = pick(data, crud, "crud")
                person = people[key]
                writable = surface.writable.get((key, model), {})
                vals = {}
                if operation != "unlink" and writable:
                    for field in data.draw(
                        st.lists(st.sampled_from(sorted(writable)), unique=True, max_size=4),
                        label="fields",
                    ):
                        value = values.field_value(
                            data.draw, writable[field], self.ids_of, today, case.rivals
                        )
                        if value is not None:
                            vals[field] = value
                html = any(writable[f]["type"] == "html" for f in vals) or model in HTML_MODELS
                if operation == "create":
                    args = [dict(self.base_values(data, model), **vals)]
                else:
                    ids = data.draw(
                        st.lists(values.record_id(self.ids_of(model)), min_size=1, max_size=3),
                        label="ids",
                    )
                    args = [ids, vals] if operation == "write" else [ids]
                channel = data.draw(st.sampled_from(CHANNELS), label="channel")
                step = Step(0, "crud", person, model, operation, channel, _short(args, {}), html)
                self.rpc(step, args, {})

            def base_values(self, data, model):
                """What a create needs to get past required fields, aimed at
                other people's records."""

                def pick(m):
                    return data.draw(values.record_id(self.ids_of(m)), label=m)

                if model == "crm.lead":
                    return {
                        "name": "Attk lead",
                        "type": "opportunity",
                        "partner_name": data.draw(st.sampled_from(case.rivals)),
                    }
                if model in ("res.partner", "crm.team", "ir.attachment"):
                    return {"name": "Attk %s" % model}
                if model == "crm.team.member":
                    return {"crm_team_id": pick("crm.team"), "user_id": pick("res.users")}
                if model == "tier.review":
                    return {
                        "model": REG,
                        "res_id": pick(REG),
                        "definition_id": pick("tier.definition"),
                        "status": "approved",
                    }
                if model == "mail.activity":
                    return {
                        "res_model_id": case.env["ir.model"]._get_id(REG),
                        "res_id": pick(REG),
                    }
                if model == "mail.message":
                    return {"model": REG, "res_id": pick(REG), "body": "Attk"}
                if model == "mail.followers":
                    return {
                        "res_model": REG,
                        "res_id": pick(REG),
                        "partner_id": pick("res.partner"),
                    }
                return {}

            # ----------------------------------------------------------
            # the lifecycle
            # ----------------------------------------------------------

            @rule(data=st.data())
            def submit(self, data):
                """A rep submits an opportunity (their own, or anyone's)."""
                person = self.draw_person(data, INTERNAL)
                lead = data.draw(values.record_id(self.ids_of("crm.lead")), label="lead")
                step = Step(
                    0,
                    "lifecycle",
                    person,
                    "crm.lead",
                    "action_registration_submit",
                    data.draw(st.sampled_from(CHANNELS), label="channel"),
                    "[%s]" % lead,
                )
                self.rpc(step, [[lead]], {})

            @rule(data=st.data())
            def read_side_channel(self, data):
                """The readers among the public methods, weighted up: what a
                person can learn by reading, searching, grouping, name search."""
                person = self.draw_person(data)
                model = pick(data, READ_MODELS, "model")
                reader = pick(
                    data,
                    ("read", "search_read", "formatted_read_group", "name_search", "message"),
                    "reader",
                )
                fields = case.env[model]._fields
                args, kwargs = [], {}
                if reader == "message":
                    model, reader = "mail.message", "search_read"
                    args = [[("model", "in", ["crm.lead", REG])]]
                    kwargs = {"limit": 80}
                elif reader == "read":
                    args = [
                        data.draw(
                            st.lists(values.record_id(self.ids_of(model)), min_size=1, max_size=3),
                            label="ids",
                        )
                    ]
                elif reader == "search_read":
                    args, kwargs = [[]], {"limit": 80}
                elif reader == "name_search":
                    kwargs = {"name": pick(data, ("Attk", "ATTK-SECRET") + case.rivals, "name")}
                else:
                    groups = [
                        f for f in ("user_id", "team_id", "state", "company_id") if f in fields
                    ]
                    amounts = [
                        "%s:sum" % f
                        for f, field in fields.items()
                        if field.type in ("monetary", "float") and field.store
                    ]
                    args = [[], [pick(data, groups, "groupby")] if groups else []]
                    kwargs = {"aggregates": amounts[:4] or ["__count"]}
                step = Step(
                    0,
                    "call",
                    person,
                    model,
                    reader,
                    pick(data, CHANNELS, "channel"),
                    _short(args, kwargs),
                )
                self.rpc(step, args, kwargs)

            @rule(data=st.data())
            def register_new(self, data):
                """A rep registers a new opportunity, choosing what routes it:
                customer (a rival's), team, salesperson, amount, dates, name."""
                person = self.draw_person(data, INTERNAL)
                vals = {
                    key: value.isoformat() if hasattr(value, "isoformat") else value
                    for key, value in case._lead_vals(
                        partner_id=False,
                        partner_name=pick(
                            data,
                            case.rivals + ("Attk Fresh %d Ltd" % run["step"],),
                            "customer",
                        ),
                        user_id=person.uid,
                        team_id=False,
                    ).items()
                }
                vals["expected_revenue"] = pick(
                    data, (15000, 30000, 80000, 500000, -5, 1e15), "amount"
                )
                shown = ["partner_name", "expected_revenue"]
                writable = surface.writable.get((person.key, "crm.lead"), {})
                routing = [
                    f
                    for f in (
                        "team_id",
                        "user_id",
                        "name",
                        "date_deadline",
                        "company_id",
                        "tag_ids",
                    )
                    if f in writable
                ]
                for field in (
                    data.draw(
                        st.lists(st.sampled_from(routing), unique=True, max_size=3), label="routes"
                    )
                    if routing
                    else []
                ):
                    value = values.field_value(
                        data.draw, writable[field], self.ids_of, today, case.rivals
                    )
                    if value is not None:
                        vals[field] = value
                        shown.append(field)
                channel = pick(data, CHANNELS, "channel")
                step = Step(
                    0,
                    "lifecycle",
                    person,
                    "crm.lead",
                    "create+submit",
                    channel,
                    _short([{field: vals[field] for field in shown}], {}),
                )
                self.begin(step)
                created = channels.execute(channel, person, "crm.lead", "create", [vals], {})
                outcome = created
                if created.ok:
                    lead = json.loads(created.text)
                    lead = lead[0] if isinstance(lead, list) else lead
                    if isinstance(lead, dict):
                        lead = lead.get("result")
                    if isinstance(lead, int):
                        outcome = channels.execute(
                            channel,
                            person,
                            "crm.lead",
                            "action_registration_submit",
                            [[lead]],
                            {},
                        )
                        outcome.seconds += created.seconds
                        outcome.text = created.text + outcome.text
                self.end(outcome)

            @rule(data=st.data())
            def decide(self, data):
                """Someone approves or rejects a registration, with a comment."""
                person = self.draw_person(data, DECIDERS)
                reg = data.draw(values.record_id(self.ids_of(REG)), label="registration")
                approve = data.draw(st.booleans(), label="approve")
                text = data.draw(values.texts(case.rivals), label="text")
                method = "action_approve" if approve else "action_reject"
                kwargs = {"comment": text} if approve else {"reason": text}
                step = Step(
                    0,
                    "lifecycle",
                    person,
                    REG,
                    method,
                    data.draw(st.sampled_from(CHANNELS), label="channel"),
                    "[%s] %r" % (reg, text[:40]),
                )
                self.rpc(step, [[reg]], kwargs)

            @rule(days=st.sampled_from(DAYS))
            def time_passes(self, days):
                """Every date of every lock moves back, then the scheduled jobs
                run: escalation, warnings, expiry."""
                case.env.flush_all()
                case.cr.execute(
                    """
                    UPDATE crm_lead_registration
                       SET date_submitted = date_submitted - make_interval(days => %(d)s),
                           date_approved = date_approved - make_interval(days => %(d)s),
                           date_review_requested = date_review_requested
                                                   - make_interval(days => %(d)s),
                           protection_end_date = protection_end_date - %(d)s,
                           last_follow_up_date = last_follow_up_date - %(d)s,
                           date_won = date_won - %(d)s;
                    UPDATE mail_activity SET date_deadline = date_deadline - %(d)s;
                    """,
                    {"d": days},
                )
                case.env.invalidate_all()
                self.begin(Step(0, "cron", None, REG, "crons", detail="+%d days" % days))
                outcome = Outcome("cron", True)
                started = time.monotonic()
                Registration = case.env[REG]
                for job in ("_cron_escalate", "_cron_warn_expiry", "_cron_expire"):
                    try:
                        with case.cr.savepoint():
                            getattr(Registration, job)()
                            case.env.flush_all()
                    except Exception as error:  # a crash is a finding (invariant 5)
                        outcome = Outcome(
                            "cron",
                            False,
                            error=type(error).__name__,
                            traceback=traceback.format_exc(),
                        )
                        case.env.invalidate_all()
                outcome.seconds = time.monotonic() - started
                self.end(outcome)

            @rule(data=st.data())
            def portal_register(self, data):
                """A partner (or anyone else) fills in the portal form."""
                person = self.draw_person(
                    data, ("channel_partner", "portal_customer", "curious_rep")
                )
                form = {
                    "company_name": data.draw(
                        st.one_of(st.sampled_from(case.rivals), values.texts()), label="company"
                    ),
                    "contact_name": data.draw(values.texts(), label="contact"),
                    "email": data.draw(
                        st.sampled_from(("buyer@attk-rivalpartner.example.com", "x@qq.com", "x")),
                        label="email",
                    ),
                    "phone": "+86 21 31337002",
                    "need": data.draw(values.texts(), label="need"),
                    "budget": str(data.draw(values.numbers(), label="budget")),
                    "date_deadline": data.draw(values.dates(today), label="deadline"),
                    "notes": data.draw(values.texts(), label="notes"),
                }
                self.begin(
                    Step(
                        0,
                        "portal",
                        person,
                        "crm.lead",
                        "portal form",
                        "http",
                        form["company_name"][:40],
                    )
                )
                token = channels.csrf(person, "/my/registrations/new")
                outcome = channels.http(
                    person,
                    "POST",
                    "/my/registrations/new",
                    data=dict(form, csrf_token=token or ""),
                )
                self.end(outcome)

            @rule(data=st.data())
            def portal_pages(self, data):
                """Portal pages and token links, as anyone (no login for the outsider)."""
                person = self.draw_person(data)
                case.env.flush_all()
                case.cr.execute(
                    "SELECT id, access_token FROM crm_lead_registration ORDER BY id DESC LIMIT 25"
                )
                tokens = case.cr.fetchall()
                reg_id, token = data.draw(st.sampled_from(tokens), label="registration")
                token = data.draw(st.sampled_from((token or "", "wrong-token", "")), label="token")
                page = data.draw(
                    st.sampled_from(("list", "page", "token", "fetch", "post", "template")),
                    label="page",
                )
                self.begin(Step(0, "portal", person, REG, page, "http", "[%s]" % reg_id))
                if page == "list":
                    outcome = channels.http(person, "GET", "/my/registrations")
                elif page == "page":
                    outcome = channels.http(person, "GET", "/my/registrations/%s" % reg_id)
                elif page == "token":
                    outcome = channels.http(
                        person, "GET", "/my/registrations/%s?access_token=%s" % (reg_id, token)
                    )
                elif page == "template":
                    outcome = channels.http(person, "GET", "/my/registrations/template.csv")
                elif page == "fetch":
                    outcome = channels.http(
                        person,
                        "POST",
                        "/mail/chatter_fetch",
                        json_body=case.build_rpc_payload(
                            {"thread_model": REG, "thread_id": reg_id, "token": token}
                        ),
                    )
                else:
                    text = data.draw(values.texts(), label="text")
                    outcome = channels.http(
                        person,
                        "POST",
                        "/mail/message/post",
                        json_body=case.build_rpc_payload(
                            {
                                "thread_model": REG,
                                "thread_id": reg_id,
                                "post_data": {"body": text, "message_type": "comment"},
                                "token": token,
                            }
                        ),
                    )
                self.end(outcome)

            # ----------------------------------------------------------
            # SPEC section 9, after every step
            # ----------------------------------------------------------

            @invariant()
            def inv_01_one_owner(self):
                """SPEC 9.1 One owner per customer; lock history never shrinks."""
                self.verdict("1", checker.check_1(self.step))

            @invariant()
            def inv_02_right_approver(self):
                """SPEC 9.2 The right approver."""
                self.verdict("2", checker.check_2(self.step))

            @invariant()
            def inv_03_every_lock_ends(self):
                """SPEC 9.3 Every lock ends."""
                self.verdict("3", checker.check_3(self.step))

            @invariant()
            def inv_04_need_to_know(self):
                """SPEC 9.4 Need to know: nothing read of another's amounts or notes."""
                self.verdict("4", checker.check_leaks(self.step, self.outcome)["4"])

            @invariant()
            def inv_05_server_decides(self):
                """SPEC 9.5 The server decides: clean refusals, no traceback."""
                self.verdict("5", checker.check_5(self.step, self.outcome))

            @invariant()
            def inv_06_module_writes_reviews(self):
                """SPEC 9.6 Only the module writes approval records."""
                self.verdict("6", checker.check_6(self.step))

            @invariant()
            def inv_07_team_of_owner(self):
                """SPEC 9.7 The approver is not the rep's choice: the team is the owner's."""
                self.verdict("7", checker.check_7(self.step))

            @invariant()
            def inv_08_lock_ends_by_owner_or_term(self):
                """SPEC 9.8 A lock ends by its owner's doing or its term."""
                self.verdict("8", checker.check_8(self.step))

            @invariant()
            def inv_09_pool_shows_customer(self):
                """SPEC 9.9 The pool shows a customer, not a history."""
                self.verdict("9", checker.check_leaks(self.step, self.outcome)["9"])

            @invariant()
            def inv_10_text_is_text(self):
                """SPEC 9.10 Text is text."""
                self.verdict("10", checker.check_10(self.step))

            @invariant()
            def inv_11_bounded_work(self):
                """SPEC 9.11 Bounded work."""
                self.verdict("11", checker.check_11(self.step, self.outcome))

        phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if SHRINK else [])
        # Hypothesis has no clock: the run is a series of batches of examples,
        # batch k seeded SEED + k, until the budget or EXAMPLES is spent. A
        # failure names its batch's seed: ATTACKER_SEED=<it> replays it first.
        batch = 0
        batch_seconds = 0.0  # the last batch's duration: no batch starts that would end late
        try:
            while (
                stats["examples"] < EXAMPLES
                and not out_of_time()
                and time.monotonic() - started + batch_seconds <= SECONDS
            ):
                batch_started = time.monotonic()
                run["seed"] = SEED + batch
                run_state_machine_as_test(
                    seed(SEED + batch)(Attacker),
                    settings=settings(
                        max_examples=min(BATCH, EXAMPLES - stats["examples"]),
                        stateful_step_count=STEPS,
                        deadline=None,
                        database=None,
                        phases=phases,
                        suppress_health_check=list(HealthCheck),
                        report_multiple_bugs=False,
                        print_blob=True,
                    ),
                )
                batch += 1
                batch_seconds = time.monotonic() - batch_started
        finally:
            _report(SEED, started, stats, findings)

    def test_checks_see_planted_breaks(self):
        """Each check fails on a break planted in the database as superuser:
        an invariant that never fires in a run holds, it is not blind."""
        checker = Checker(self.env, self.people, self.documents, STEP_SECONDS, STEP_BYTES)
        checker.begin_example()
        curious = self.people["curious_rep"]
        docs = {(d.owner, d.kind): d for d in self.documents}
        Lead = self.env["crm.lead"]
        pending = Lead.browse(docs["rival_rep", "pending"].lead_id).registration_id
        approved = Lead.browse(docs["rival_rep", "approved"].lead_id).registration_id
        other = Lead.browse(docs["curious_rep", "pending"].lead_id).registration_id

        def step(model, operation, person=curious):
            planted = Step(1, "call", person, model, operation, "xmlrpc")
            checker.before(planted)
            return planted

        def sql(query, *params):
            self.env.flush_all()
            self.env.cr.execute(query, params)
            self.env.invalidate_all()

        planted = step("tier.review", "write")
        sql("UPDATE tier_review SET status = 'approved' WHERE id = %s", pending.review_ids[0].id)
        self.assertTrue(checker.check_6(planted), "6: a review changed outside the module")

        planted = step("crm.lead", "action_registration_release")
        pending.lead_id.message_post(body=Markup(values.HTML_PAYLOADS[0]))
        self.assertTrue(checker.check_10(planted), "10: typed markup stored in a message")

        planted = step("crm.team.member", "create")
        sql(
            "UPDATE crm_lead_registration SET team_id = %s WHERE id = %s",
            self.team_b.id,
            pending.id,
        )
        self.assertTrue(checker.check_7(planted), "7: a team the owner is not in")

        planted = step("crm.lead", "action_registration_release")
        sql("UPDATE crm_lead_registration SET state = 'released' WHERE id = %s", approved.id)
        self.assertTrue(checker.check_8(planted), "8: released by someone else")

        planted = step("crm.lead", "write")
        sql(
            "UPDATE crm_lead_registration SET name_key = %s WHERE id = %s",
            pending.customer_key,
            other.id,
        )
        self.assertTrue(checker.check_1(planted), "1: two active holders of one customer")

        planted = step("crm.lead.registration", "action_approve")
        sql("UPDATE crm_lead_registration SET approved_by_id = user_id WHERE id = %s", pending.id)
        self.assertTrue(checker.check_2(planted), "2: approved by its owner")

        planted = step("crm.lead", "read")
        rival = docs["rival_rep", "draft"].markers[0]
        self.assertTrue(
            checker.check_leaks(planted, Outcome("xmlrpc", True, text=rival))["4"],
            "4: another rep's notes read",
        )
        self.assertFalse(
            checker.check_leaks(planted, Outcome("xmlrpc", True, text="ATTK-SECRET-curious_rep"))[
                "4"
            ],
            "4: one's own notes are one's own",
        )
        crash = Outcome(
            "jsonrpc",
            False,
            error="builtins.TypeError",
            traceback='File "%smodels/crm_lead.py", line 1\nTypeError: x' % MODULE_PATH,
        )
        self.assertTrue(checker.check_5(planted, crash), "5: a traceback in the module")
        slow = Outcome("xmlrpc", True, seconds=STEP_SECONDS + 1)
        self.assertTrue(checker.check_11(planted, slow), "11: a step beyond its bound")


def _say(text):
    """The run's report, on the console next to pytest's (logging is set to
    warnings only in the test configuration)."""
    sys.stdout.write(text + "\n")


def _short(args, kwargs):
    text = repr(args)[:160]
    if kwargs:
        text += " " + repr(kwargs)[:120]
    return text


def _report(seed_value, started, stats, findings):
    _say(
        "[attacker] seed %s: %d steps in %d examples, %.0f s (%s)"
        % (
            seed_value,
            stats["steps"],
            stats["examples"],
            time.monotonic() - started,
            ", ".join("%s %d" % kv for kv in sorted(stats.items())),
        )
    )
    for inv in sorted(k for k in findings if k not in ("!", "stock")):
        seen = set()
        for text, step, log in findings[inv]:
            key = (step.person.key if step.person else "cron", step.model, step.operation)
            if key in seen:
                continue
            seen.add(key)
            _say("[attacker] invariant %s: %s x %s x %s: %s" % (inv, *key, text[:300]))
            _say("[attacker]   replay: %s" % " ; ".join(log[-6:])[:1500])
    stock = Counter(
        (step.model, step.operation, error[:80]) for error, step, _ in findings["stock"]
    )
    for (model, operation, error), count in stock.most_common(15):
        _say("[attacker] stock traceback %dx %s.%s: %s" % (count, model, operation, error))
