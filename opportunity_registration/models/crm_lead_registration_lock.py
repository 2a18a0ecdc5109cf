import logging

import psycopg2.errors

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date

from .crm_lead_registration import (
    ACTIVE_STATES,
    KEY_FIELDS,
)

_logger = logging.getLogger(__name__)


class CrmLeadRegistration(models.Model):
    """The lock: one active registration per customer key and scope.

    Detection (what the form shows) and serialized enforcement (advisory lock
    per key, fresh-snapshot re-check, unique indexes as the last guard) for
    every path that grants or re-keys a lock: submission, a change of the
    opportunity's or the account's identity, merges.
    """

    _inherit = "crm.lead.registration"

    @api.model
    def _follow_identity(self, leads, new_customer_allowed, owner_only=False):
        """Re-key the active registrations of ``leads`` after their customer changed.

        The new keys go through the same serialized check as a submission: a
        customer someone else holds is refused, naming the holder. Changing
        which customer an active registration holds -- another account, company,
        name or tax ID -- would free the old one while its holder keeps the
        new: only ``new_customer_allowed`` callers (a registration manager's
        arbitration, a partner merge) do it. With ``owner_only`` (a change made
        on the shared customer account), the contact details of a registered
        customer change only through the registration's owner.
        """
        regs = leads.sudo().registration_id.filtered(lambda r: r.state in ACTIVE_STATES)
        changes = {}
        for reg in regs:
            vals = reg.lead_id._registration_identity_vals()
            old = {
                field: reg[field].id if reg._fields[field].type == "many2one" else reg[field]
                for field in vals
            }
            if any((old[field] or False) != (vals[field] or False) for field in vals):
                changes[reg] = (old, vals)
        if not changes:
            return self.browse()
        for reg, (old, vals) in changes.items():
            other_customer = any(
                old[field] and old[field] != vals[field]
                for field in ("company_id", "partner_id", "customer_key", "name_key", "vat_key")
            )
            if other_customer and not new_customer_allowed:
                raise UserError(
                    self.env._(
                        "%(name)s is registered for %(customer)s (%(number)s): its customer "
                        "cannot change. Release the registration and submit the opportunity "
                        "again, or ask a registration manager to move it to the other "
                        "customer account.",
                        name=reg.lead_id.name,
                        customer=reg.customer_name,
                        number=reg.name,
                    )
                )
            if owner_only and not new_customer_allowed and reg.user_id != self.env.user:
                raise UserError(
                    self.env._(
                        "%(customer)s is registered by %(owner)s (%(number)s): its contact "
                        "details change through %(owner)s or a registration manager.",
                        customer=reg.customer_name,
                        owner=reg.user_id.name,
                        number=reg.name,
                    )
                )
        changed = self.browse([reg.id for reg in changes]).sudo()
        vals_list = [vals for _old, vals in changes.values()]
        self._serialize_customers(vals_list, exclude=changed)
        try:
            with self.env.cr.savepoint():
                for reg, (_old, vals) in changes.items():
                    reg.with_context(skip_validation_check=True).write(vals)
                changed.flush_recordset()
        except psycopg2.errors.UniqueViolation:
            self._refuse_lost_race(vals_list, exclude=changed)
        for reg, (old, vals) in changes.items():
            if (
                old["customer_name"] != vals["customer_name"]
                or old["company_id"] != vals["company_id"]
            ):
                note = "%s → %s" % (old["customer_name"] or "-", vals["customer_name"] or "-")
            else:
                note = vals["customer_name"] or "-"
            self.env["crm.lead.registration.event"]._log(reg, "rekeyed", note=note)
        return changed

    @api.model
    def _create_from_leads(self, leads):
        """Create one submitted registration per lead, refusing conflicts.

        The first check reads this transaction's snapshot. Submissions of one
        customer are then serialized by an advisory lock, and checked again
        in a fresh snapshot, so that the loser of a race is refused cleanly,
        naming the owner. The partial unique indexes stay the real guard: an
        insert that still collides is refused the same way.
        """
        vals_list = [lead._prepare_registration_vals() for lead in leads]
        self._serialize_customers(vals_list)
        try:
            with self.env.cr.savepoint():
                registrations = (
                    self.sudo()
                    .with_context(
                        mail_create_nolog=True,
                        mail_create_nosubscribe=True,
                        mail_notrack=True,
                    )
                    .create(vals_list)
                )
        except psycopg2.errors.UniqueViolation:
            self._refuse_lost_race(vals_list)
        return registrations

    @api.model
    def _serialize_customers(self, vals_list, exclude=None):
        """The check every path that grants or re-keys a lock runs before it
        writes: this transaction's snapshot, then an advisory lock per key,
        then a fresh snapshot (what concurrent transactions committed since).
        Refuses, naming the holder and logging the refusal."""
        self._refuse_conflicts(vals_list, exclude=exclude)
        self.env["crm.lead"]._refuse_keys_of_other_customers(vals_list)
        self._lock_customer_keys(vals_list)
        self._refuse_committed(vals_list, exclude=exclude)

    @api.model
    def _refuse_committed(self, vals_list, exclude=None):
        message, holder = self._committed_holder(vals_list, exclude=exclude)
        if holder:
            self._log_conflict_refused(holder, vals_list)
            raise UserError(message)

    @api.model
    def _refuse_lost_race(self, vals_list, exclude=None):
        """A unique index refused the write: name the holder if it can be seen."""
        self._refuse_committed(vals_list, exclude=exclude)
        raise UserError(
            self.env._(
                "Another registration of this customer was submitted at the same "
                "moment. Reload the opportunity to see who holds it."
            )
        ) from None

    @api.model
    def _refuse_conflicts(self, vals_list, exclude=None):
        """Refuse, naming the holder (and log the refusal in the lock history),
        when a customer of ``vals_list`` is held in this transaction's
        snapshot, or two of them are one customer."""
        rows = [
            r for r in self._active_holders(vals_list) if not exclude or r["id"] not in exclude.ids
        ]
        holder = self._first_holder(vals_list, rows)
        if holder:
            self._log_conflict_refused(holder, vals_list)
            raise UserError(self._format_conflict(holder))
        seen = {}
        for vals in vals_list:
            for field in KEY_FIELDS:
                key = (
                    vals["company_id"],
                    vals.get("product_line_id"),
                    vals.get("scope_team_id"),
                    field,
                    vals.get(field),
                )
                if vals.get(field) and key in seen:
                    raise UserError(
                        self.env._(
                            "Two of the selected opportunities are for the same customer "
                            "(%(customer)s): register only one of them.",
                            customer=vals.get("customer_name"),
                        )
                    )
                seen[key] = vals

    @api.model
    def _lock_customer_keys(self, vals_list):
        """Serialize submissions of one customer across workers and servers.

        Transaction-scoped advisory locks, taken in a fixed order (no deadlock),
        released at commit or rollback. Whatever the product line: a lock
        without line and one with a line of the same customer exclude each
        other (see _holders_of), which the unique indexes cannot express.
        """
        keys = sorted(
            {
                "%s/%s/%s" % (v["company_id"], f, v[f])
                for v in vals_list
                for f in KEY_FIELDS
                if v.get(f)
            }
            | {
                # a person's name and a company's name collide: one lock for both
                "%s/customer_key/%s" % (v["company_id"], v["name_key"])
                for v in vals_list
                if v.get("name_key")
            }
        )
        if keys:
            self.env.cr.execute(
                SQL(
                    "SELECT pg_advisory_xact_lock(h) FROM "
                    "(SELECT hashtext(k) AS h FROM unnest(%s::text[]) k ORDER BY k) s",
                    keys,
                )
            )

    @api.model
    def _committed_holder(self, vals_list, exclude=None):
        """Who holds the customer in what other transactions committed since ours began.

        Odoo's transactions read a snapshot (repeatable read): a registration
        committed by a concurrent submission is invisible to this cursor, so the
        check runs in a fresh one. Registrations this transaction has closed
        meanwhile (an arbitration releasing the holder) do not count. While
        the registry is loading (module install), there is no other transaction
        and a fresh cursor would not see the tables being created.
        """
        if not self.env.registry.ready:
            return None, None
        try:
            with self.env.registry.cursor() as cr:
                fresh = self.with_env(self.env(cr=cr))
                rows = fresh._active_holders(vals_list)
        except psycopg2.Error:
            # Never "no conflict": a check that did not run lets two holders in.
            _logger.warning("Could not re-check registration conflicts", exc_info=True)
            raise UserError(
                self.env._(
                    "The customer could not be checked against other registrations just "
                    "now (the database was busy). Nothing was registered: try again in a "
                    "moment."
                )
            ) from None
        if rows:
            self.flush_model(["state"])
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM crm_lead_registration WHERE id = ANY(%s)"
                    " AND state NOT IN ('submitted', 'approved')",
                    [row["id"] for row in rows],
                )
            )
            closed_here = {row_id for (row_id,) in self.env.cr.fetchall()}
            if exclude:
                closed_here.update(exclude.ids)
            rows = [row for row in rows if row["id"] not in closed_here]
        holder = self._first_holder(vals_list, rows)
        if holder:
            return self._format_conflict(holder), holder
        return None, None

    @api.model
    def _log_conflict_refused(self, holder, vals_list):
        """Keep a trace of the refusal, which the caller's rollback would erase.

        ``holder`` is a row of :meth:`_active_holders`: it may come from a
        snapshot newer than this transaction's.
        """
        notes = ", ".join(str(v.get("customer_name")) for v in vals_list)
        values = {
            "registration_id": holder["id"],
            "lead_id": holder["lead_id"],
            "company_id": holder["company_id"],
            "event": "conflict_refused",
            "user_id": self.env.uid,
            "owner_id": holder["user_id"],
            "protection_end_date": holder["protection_end_date"],
        }
        # one event per user, registration and day, however many attempts
        self.env["crm.lead.registration.event"]._log_refused(values, notes)

    def _conflict_message(self):
        self.ensure_one()
        return self._format_conflict(
            {
                "customer_name": self.customer_name,
                "owner": self.user_id.name,
                "name": self.name,
                "state": self.state,
                "protection_end_date": self.protection_end_date,
                "date_submitted": self.date_submitted,
            }
        )

    @api.model
    def _format_conflict(self, holder, decided=None):
        """What a rep may know of someone else's registration: owner, state,
        expiry, and the arbitration already ``decided`` (its date) if any.
        A channel partner learns less (crm_lead_registration_channel)."""
        if not self.env.user.has_group("base.group_user"):  # cached: no query on the form
            return self._format_conflict_for_partner(holder)
        if decided:
            return self.env._(
                "%(customer)s stays with %(owner)s (%(number)s): a registration manager "
                "decided so on %(date)s.",
                customer=holder["customer_name"],
                owner=holder["owner"],
                number=holder["name"],
                date=format_date(self.env, decided),
            )
        if holder["state"] == "approved":
            return self.env._(
                "%(customer)s is already registered by %(owner)s (%(number)s), "
                "protected until %(date)s. Ask a registration manager to arbitrate "
                "if you think this is wrong.",
                customer=holder["customer_name"],
                owner=holder["owner"],
                number=holder["name"],
                date=format_date(self.env, holder["protection_end_date"]),
            )
        labels = dict(self._fields["state"]._description_selection(self.env))
        return self.env._(
            "%(customer)s already has a registration by %(owner)s (%(number)s, "
            "%(state)s since %(date)s). Ask a registration manager to arbitrate if "
            "you think this is wrong.",
            customer=holder["customer_name"],
            owner=holder["owner"],
            number=holder["name"],
            state=labels[holder["state"]],
            date=format_date(self.env, fields.Date.to_date(holder["date_submitted"])),
        )

    @api.model
    def _active_holders(self, vals_list):
        """Active registrations sharing a key with ``vals_list``: one indexed query.

        Returns plain rows, so that the form can show a conflict to a rep who
        may not read the other rep's opportunity.
        """
        keys = {field: [v[field] for v in vals_list if v.get(field)] for field in KEY_FIELDS}
        names = [v["name_key"] for v in vals_list if v.get("name_key")]
        if not any(keys.values()) and not names:
            return []
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
            SELECT id, lead_id, company_id, product_line_id, scope_team_id, customer_key, user_id,
                   name_key, vat_key, domain_key, phone_key, state, name, customer_name,
                   date_submitted, protection_end_date, user_name AS owner
              FROM crm_lead_registration
             WHERE state IN ('submitted', 'approved')
               AND company_id = ANY(%(companies)s)
               AND (customer_key = ANY(%(customer_or_name)s) OR vat_key = ANY(%(vat_key)s)
                    OR domain_key = ANY(%(domain_key)s) OR phone_key = ANY(%(phone_key)s)
                    OR name_key = ANY(%(customer_key)s))
            """,
                companies=list({v["company_id"] for v in vals_list}),
                customer_or_name=keys["customer_key"] + names,
                **keys,
            )
        )
        return self.env.cr.dictfetchall()

    @api.model
    def _first_holder(self, vals_list, rows):
        """The first row holding the customer of any of ``vals_list``, or None."""
        for vals in vals_list:
            holders = self._holders_of(vals, rows)
            if holders:
                return holders[0]
        return None

    @api.model
    def _holders_of(self, vals, rows):
        """The rows locking the customer of ``vals``.

        A lock without product line (or sales team) covers every line (or
        team): locks granted while the scope was the whole customer keep their
        promise after the admin narrows the scope, and the other way round.
        """

        def overlaps(row, field):
            mine = vals.get(field) or False
            return not mine or not row[field] or row[field] == mine

        def same_customer(row):
            if any(vals.get(f) and row[f] == vals[f] for f in KEY_FIELDS):
                return True
            # a company typed in as a person is that company; two persons
            # who share a name are not one customer
            return bool(
                (vals.get("customer_key") and row["name_key"] == vals["customer_key"])
                or (vals.get("name_key") and row["customer_key"] == vals["name_key"])
            )

        return [
            row
            for row in rows
            if row["company_id"] == vals["company_id"]
            and overlaps(row, "product_line_id")
            and overlaps(row, "scope_team_id")
            and same_customer(row)
        ]
