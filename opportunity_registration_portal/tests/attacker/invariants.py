"""SPEC section 9, read from the database after every step of the attacker.

The checks read PostgreSQL directly (as the superuser would), never through
the caches or the rights of the person who acted. Some need what the
database looked like before the step (a transition, a review that changed,
who was allowed to approve): ``Checker.before`` keeps it.
"""

from datetime import date, timedelta

from .values import HTML_PAYLOADS

REG = "crm.lead.registration"
ACTIVE = ("submitted", "approved")
POOL = ("released", "expired")
# Steps through which the module itself may create, change or remove the
# reviews of a registration, or re-route who approves it: its own entry
# points on opportunities and registrations, its scheduled jobs and the
# portal. The approval engine's own methods are not among them: the module
# refuses them, so a review that changed through one is a break.
ENGINE_METHODS = {"request_validation", "restart_validation", "validate_tier", "reject_tier"}
# Unescaped markup from typed text (the payloads of values.HTML_PAYLOADS, as
# the sanitizer would keep them): a LIKE pattern each.
HTML_PATTERNS = (
    '%<img src="https://attk.example/p.png"%',
    '%<a href="https://attk.example/x"%>ATTK-LINK</a>%',
    '%<b class="attk">ATTK-BOLD</b>%',
)
assert len(HTML_PATTERNS) == len(HTML_PAYLOADS)


def module_flow(step):
    """Whether the module may legitimately write approval records in ``step``."""
    if step.kind in ("lifecycle", "cron", "portal"):
        return True
    if step.model == "crm.lead":
        return True
    if step.model == REG:
        return step.operation.startswith("action_") and step.operation not in ENGINE_METHODS
    return False


class Checker:
    """The invariants' memory between steps; each ``check_*`` returns the
    violations as sentences (empty when the invariant holds)."""

    def __init__(self, env, people, documents, step_seconds, step_bytes):
        self.env = env
        self.cr = env.cr
        self.people = people
        self.documents = documents
        self.step_seconds = step_seconds
        self.step_bytes = step_bytes

    def _rows(self, query, params=()):
        self.cr.execute(query, params)
        return self.cr.fetchall()

    # ------------------------------------------------------------
    # memory
    # ------------------------------------------------------------

    def begin_example(self):
        """What a fresh example starts from (the class fixtures)."""
        self.env.flush_all()
        self.history = {r for (r,) in self._rows("SELECT id FROM crm_lead_registration_event")}
        self.registrations = {r for (r,) in self._rows("SELECT id FROM crm_lead_registration")}
        self.membership = set(
            self._rows(
                "SELECT user_id, crm_team_id FROM crm_team_member WHERE active"
                " UNION SELECT user_id, id FROM crm_team WHERE user_id IS NOT NULL"
            )
        )
        self.module_reviews = {
            r for (r,) in self._rows("SELECT id FROM tier_review WHERE model = %s", [REG])
        }
        self.allowed_approvers = {}
        self.managers = {
            r
            for (r,) in self._rows(
                "SELECT r.uid FROM res_groups_users_rel r JOIN ir_model_data d"
                " ON d.model = 'res.groups' AND d.res_id = r.gid"
                " WHERE d.module = 'opportunity_registration'"
                " AND d.name = 'group_registration_manager'"
            )
        }
        self.before(None)
        self._remember_approvers(trusted=True)

    def before(self, step):
        """The state a step's checks compare with."""
        self.env.flush_all()
        self.regs_before = {
            row[0]: row[1:]
            for row in self._rows(
                "SELECT r.id, r.state, r.protection_end_date, r.last_follow_up_date, r.user_id,"
                " r.approved_by_id, c.registration_neglect_days, r.name"
                " FROM crm_lead_registration r JOIN res_company c ON c.id = r.company_id"
            )
        }
        self.reviews_before = self._reviews()
        self.message_max = self._rows("SELECT COALESCE(MAX(id), 0) FROM mail_message")[0][0]
        self.activity_max = self._rows("SELECT COALESCE(MAX(id), 0) FROM mail_activity")[0][0]
        self.now_before = self._rows("SELECT clock_timestamp() AT TIME ZONE 'UTC'")[0][0]

    def _reviews(self):
        return {
            row[0]: row[1:]
            for row in self._rows(
                "SELECT id, res_id, definition_id, status, sequence, done_by, model"
                " FROM tier_review WHERE model = %s",
                [REG],
            )
        }

    def _approvers(self):
        rows = self._rows(
            "SELECT registration_id, user_id FROM crm_lead_registration_approver_rel"
            " UNION SELECT registration_id, user_id"
            " FROM crm_lead_registration_second_approver_rel"
        )
        found = {}
        for reg, user in rows:
            found.setdefault(reg, set()).add(user)
        return found

    def _remember_approvers(self, trusted):
        """Who each registration's approvers were; a change outside the
        module's flows is not learnt (it is reported by invariant 2)."""
        found = self._approvers()
        changed = []
        for reg, users in found.items():
            known = self.allowed_approvers.setdefault(reg, set())
            if users - known:
                if trusted:
                    known |= users
                else:
                    changed.append((reg, sorted(users - known)))
        return changed

    # ------------------------------------------------------------
    # the invariants
    # ------------------------------------------------------------

    def check_1(self, step):
        """1. One owner per customer; lock history never shrinks."""
        found = []
        for a, b in self._rows(
            """
            SELECT a.name, b.name FROM crm_lead_registration a
              JOIN crm_lead_registration b ON a.id < b.id AND a.company_id = b.company_id
             WHERE a.state IN ('submitted', 'approved') AND b.state IN ('submitted', 'approved')
               AND (a.lead_id = b.lead_id OR (
                   (a.product_line_id IS NULL OR b.product_line_id IS NULL
                    OR a.product_line_id = b.product_line_id)
               AND (a.scope_team_id IS NULL OR b.scope_team_id IS NULL
                    OR a.scope_team_id = b.scope_team_id)
               AND (a.customer_key = b.customer_key OR a.vat_key = b.vat_key
                    OR a.domain_key = b.domain_key OR a.phone_key = b.phone_key
                    OR a.name_key = b.customer_key OR a.customer_key = b.name_key)))
            """
        ):
            found.append("%s and %s are both active for one customer" % (a, b))
        events = {r for (r,) in self._rows("SELECT id FROM crm_lead_registration_event")}
        regs = {r for (r,) in self._rows("SELECT id FROM crm_lead_registration")}
        if self.history - events:
            found.append("lock events deleted: %s" % sorted(self.history - events)[:10])
        if self.registrations - regs:
            found.append("registrations deleted: %s" % sorted(self.registrations - regs)[:10])
        self.history |= events
        self.registrations |= regs
        return found

    def check_2(self, step):
        """2. The right approver: someone resolved for the band, never the
        owner or submitter, never through a record the requester can touch."""
        found = []
        rows = self._rows(
            "SELECT id, name, approved_by_id, user_id, submitted_by_id FROM crm_lead_registration"
            " WHERE approved_by_id IS NOT NULL"
        )
        trusted = step is None or module_flow(step)
        for reg, users in self._remember_approvers(trusted):
            found.append(
                "the approvers of registration %s changed to include %s in a step on %s.%s"
                % (reg, users, step.model, step.operation)
            )
        for reg, name, approver, owner, submitter in rows:
            before = self.regs_before.get(reg)
            if before and before[4] == approver:
                continue  # decided before this step, checked then
            if approver in (owner, submitter):
                found.append("%s approved by its own owner/submitter (user %s)" % (name, approver))
                continue
            allowed = self.allowed_approvers.get(reg) or self.managers
            if approver not in allowed:
                found.append(
                    "%s approved by user %s, not among its approvers %s"
                    % (name, approver, sorted(allowed))
                )
        return found

    def check_3(self, step):
        """3. Every lock ends: an approved lock has an end date, a pending
        review a start from which it escalates."""
        return [
            "%s (%s) has no %s" % (name, state, what)
            for name, state, what in self._rows(
                "SELECT name, state, CASE WHEN state = 'approved' THEN 'protection end'"
                " ELSE 'review request date' END FROM crm_lead_registration"
                " WHERE (state = 'approved' AND protection_end_date IS NULL)"
                " OR (state = 'submitted' AND date_review_requested IS NULL)"
            )
        ]

    def check_leaks(self, step, outcome):
        """4 and 9. What the person read holds no marker of a document that
        is not theirs to see (nor, for a partner or an outsider, the name of
        a rep who owns one); a document now in the pool counts for 9."""
        from .people import may_read

        found = {"4": [], "9": []}
        if outcome is None or not outcome.text or step.person is None:
            return found
        text = outcome.text
        pool = None
        for doc in self.documents:
            if may_read(step.person, doc):
                continue
            markers = doc.markers
            if step.person.kind != "internal" and doc.owner_name:
                markers = markers + [doc.owner_name]
            hit = next((m for m in markers if m in text), None)
            if not hit:
                continue
            if pool is None:
                pool = {
                    lead
                    for (lead,) in self._rows(
                        "SELECT id FROM crm_lead WHERE registration_state IN %s", [POOL]
                    )
                }
            inv = "9" if doc.lead_id in pool else "4"
            found[inv].append(
                "%s read %r of %s's %s opportunity %s through %s"
                % (step.person.key, hit, doc.owner, doc.kind, doc.lead_id, step.label())
            )
        return found

    def check_5(self, step, outcome):
        """5. The server decides: a refusal is a clean UserError/AccessError/
        ValidationError; a traceback through the module's code is a break."""
        if outcome is None or not outcome.crashed_in_module():
            return []
        lines = outcome.traceback.strip().splitlines()
        return ["%s crashed: %s" % (step.label(), " | ".join(lines[-3:])[:600])]

    def check_6(self, step):
        """6. Only the module writes approval records."""
        found = []
        after = self._reviews()
        if not module_flow(step):
            for review in set(after) - set(self.reviews_before):
                found.append("review %s %s created by %s" % (review, after[review], step.label()))
            for review in set(self.reviews_before) - set(after):
                found.append("review %s deleted by %s" % (review, step.label()))
            for review in set(after) & set(self.reviews_before):
                if after[review] != self.reviews_before[review]:
                    found.append(
                        "review %s changed %s -> %s by %s"
                        % (review, self.reviews_before[review], after[review], step.label())
                    )
        else:
            self.module_reviews |= set(after) - set(self.reviews_before)
        for review, reg, _model, definition_model in self._rows(
            "SELECT t.id, t.res_id, t.model, d.model FROM tier_review t"
            " LEFT JOIN tier_definition d ON d.id = t.definition_id"
            " LEFT JOIN crm_lead_registration r ON r.id = t.res_id"
            " WHERE t.model = %s AND (r.id IS NULL OR d.model IS DISTINCT FROM t.model)",
            [REG],
        ):
            found.append(
                "review %s of registration %s has a definition for %s"
                % (review, reg, definition_model)
            )
        for name, review in self._rows(
            "SELECT r.name, t.id FROM crm_lead_registration r JOIN tier_review t"
            " ON t.model = %s AND t.res_id = r.id AND t.status = 'approved'"
            " WHERE r.approved_by_id IS NOT NULL AND NOT t.id = ANY(%s)",
            [REG, list(self.module_reviews) or [0]],
        ):
            found.append("%s decided on review %s the module did not create" % (name, review))
        return found

    def check_7(self, step):
        """7. A registration's team is one its owner belongs to."""
        found = []
        for name, owner, team in self._rows(
            "SELECT name, user_id, team_id FROM crm_lead_registration WHERE team_id IS NOT NULL"
        ):
            if (owner, team) not in self.membership:
                found.append(
                    "%s of user %s is for team %s, not one of theirs" % (name, owner, team)
                )
        return found

    def check_8(self, step):
        """8. A lock ends by its owner's doing or its term, never another
        person's inaction nor before its protection end."""
        found = []
        today = date.today()
        for reg, state in self._rows("SELECT id, state FROM crm_lead_registration"):
            before = self.regs_before.get(reg)
            if not before or before[0] == state or state not in POOL:
                continue
            old_state, end, follow_up, owner, _approved_by, neglect_days, name = before
            actor = step.person.uid if step.person else None
            if state == "released" and actor != owner:
                found.append("%s released by %s, not its owner" % (name, step.label()))
            elif state == "expired" and old_state == "submitted":
                found.append(
                    "%s went to the pool while its review was undecided (%s)" % (name, step.label())
                )
            elif state == "expired" and end and end >= today:
                neglected = follow_up and follow_up < today - timedelta(days=neglect_days or 0)
                if not neglected:
                    found.append(
                        "%s expired on %s, before its protection end %s (%s)"
                        % (name, today, end, step.label())
                    )
        return found

    def check_10(self, step):
        """10. Text is text: no tag typed by a person is stored as markup in
        a message or a to-do (a person's own HTML post excepted)."""
        if step.html_direct:
            return []
        found = []
        for model, res_id, message in self._rows(
            "SELECT model, res_id, id FROM mail_message WHERE id > %s AND body::text LIKE ANY(%s)",
            [self.message_max, list(HTML_PATTERNS)],
        ):
            found.append(
                "message %s on %s,%s holds typed markup after %s"
                % (message, model, res_id, step.label())
            )
        for activity, res_model, res_id in self._rows(
            "SELECT id, res_model, res_id FROM mail_activity"
            " WHERE (id > %s OR write_date >= %s) AND note::text LIKE ANY(%s)",
            [self.activity_max, self.now_before, list(HTML_PATTERNS)],
        ):
            found.append(
                "to-do %s on %s,%s holds typed markup after %s"
                % (activity, res_model, res_id, step.label())
            )
        return found

    def check_11(self, step, outcome):
        """11. Bounded work: each step answers within a bound of time and size."""
        if outcome is None:
            return []
        found = []
        if outcome.seconds > self.step_seconds:
            found.append("%s took %.1f s" % (step.label(), outcome.seconds))
        if outcome.size > self.step_bytes:
            found.append("%s answered %d bytes" % (step.label(), outcome.size))
        return found
