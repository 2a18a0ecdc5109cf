from collections import defaultdict
from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain
from odoo.tools import SQL, format_date, format_datetime

from .crm_lead_registration import ACTIVE_STATES, KEY_FIELDS

EXTENSION_ACTIVITY_TYPE = "opportunity_registration.mail_activity_type_registration_extension"


class CrmLead(models.Model):
    """The registration actions of an opportunity: submit (with the cap and
    the cooldown), claim from the public pool, ask for an extension, and the
    owner's and approver's actions on its current registration.
    """

    _inherit = "crm.lead"

    def _prepare_registration_vals(self):
        self.ensure_one()
        return dict(
            self._registration_keys(),
            lead_id=self.id,
            user_id=(self.user_id or self.env.user).id,
            team_id=self.team_id.id,
            partner_id=self.partner_id.commercial_partner_id.id,
            customer_name=self._registration_customer_name(),
            channel_partner_id=self.channel_partner_id.id,
            amount=self._registration_amount(),
            band=self.registration_band,
            date_submitted=fields.Datetime.now(),
            submitted_by_id=self.env.user.id,
        )

    def action_registration_submit(self):
        """Submit (or resubmit) the registration of these opportunities."""
        if not self.env.user.has_group("opportunity_registration.group_registration_user"):
            raise UserError(self.env._("Only registration users can submit registrations."))
        self.check_access("write")
        is_manager = self.env.user.has_group("opportunity_registration.group_registration_manager")
        for lead in self:
            if lead.user_id and lead.user_id != self.env.user and not is_manager:
                raise UserError(
                    self.env._(
                        "%(name)s is %(owner)s's opportunity: only %(owner)s or a registration "
                        "manager submits its registration.",
                        name=lead.name,
                        owner=lead.user_id.name,
                    )
                )
        return self._registration_submit()

    def _registration_submit(self):
        """The one submission engine, for reps and channel partners alike:
        completeness, limits, the serialized customer check, then the review.

        Callers have checked who may submit these opportunities.
        """
        for lead in self:
            if lead.type != "opportunity":
                raise UserError(
                    self.env._(
                        "%(name)s is a lead: convert it to an opportunity before registering it.",
                        name=lead.name,
                    )
                )
            if not lead.active or lead.won_status != "pending":
                raise UserError(
                    self.env._(
                        "%(name)s is closed: only ongoing opportunities can be registered.",
                        name=lead.name,
                    )
                )
            if lead.registration_state in ACTIVE_STATES:
                raise UserError(
                    self.env._(
                        "%(name)s already has an active registration (%(number)s).",
                        name=lead.name,
                        number=lead.registration_number,
                    )
                )
        self._check_registration_complete()
        self._check_registration_limits()
        # an unassigned opportunity becomes its submitter's: the registration's
        # owner and the opportunity's salesperson are one person
        unassigned = self.filtered(lambda lead: not lead.user_id)
        if unassigned:
            unassigned.sudo().user_id = self.env.user
        self._check_registration_team()
        registrations = self.env["crm.lead.registration"]._create_from_leads(self)
        # automatic approvals log one line saying both (see _set_approved)
        registrations._start_review()  # mirrors the registrations on their leads
        submitted = registrations.filtered(lambda r: r.state == "submitted")
        reg_by_lead = {reg.lead_id: reg for reg in submitted}
        submitted.lead_id._registration_log(
            "opportunity_registration.mt_registration_submitted",
            tracking=lambda lead: reg_by_lead[lead]._registration_tracking("name", "amount"),
        )
        return True

    def _registration_owner_teams(self, users):
        """``{user id: {team id: company id}}``: the active sales teams each
        user belongs to, as a member or as its leader. One query."""
        teams = defaultdict(dict)
        if not users:
            return teams
        self.env["crm.team.member"].flush_model(["user_id", "crm_team_id", "active"])
        self.env["crm.team"].flush_model(["user_id", "company_id", "active"])
        self.env.cr.execute(
            SQL(
                """
                SELECT m.user_id, t.id, t.company_id
                  FROM crm_team_member m
                  JOIN crm_team t ON t.id = m.crm_team_id
                 WHERE m.user_id IN %(users)s AND m.active AND t.active
                 UNION
                SELECT t.user_id, t.id, t.company_id
                  FROM crm_team t
                 WHERE t.user_id IN %(users)s AND t.active
                """,
                users=tuple(users.ids),
            )
        )
        for user_id, team_id, company_id in self.env.cr.fetchall():
            teams[user_id][team_id] = company_id
        return teams

    def _registration_teams_of(self, owner, teams_of):
        """``owner``'s teams that may hold this opportunity (its company's or shared)."""
        company = (self.company_id or self.env.company).id
        return self.env["crm.team"].browse(
            sorted(
                team_id
                for team_id, company_id in teams_of[owner.id].items()
                if company_id in (company, None)
            )
        )

    def _check_registration_team(self):
        """A registration's team is one its owner belongs to (SPEC §9.7).

        The team decides who approves and, when locks are scoped by team,
        which lock is taken: a rep may not pick a friendlier team. An
        opportunity without a team takes its owner's first team. A partner's
        deal is routed by its channel instead.
        """
        direct = self.filtered(lambda lead: not lead.channel_partner_id)
        if not direct:
            return
        teams_of = self._registration_owner_teams(direct.user_id | self.env.user)
        for lead in direct:
            owner = lead.user_id or self.env.user
            teams = lead._registration_teams_of(owner, teams_of)
            if not lead.team_id and teams:
                lead.sudo().team_id = teams[:1]
            elif lead.team_id and lead.team_id not in teams:
                raise UserError(
                    self.env._(
                        "%(team)s is not a sales team of %(owner)s: the team decides who "
                        "approves, so %(name)s is registered in one of %(owner)s's teams "
                        "(%(teams)s).",
                        team=lead.team_id.name,
                        owner=owner.name,
                        name=lead.name,
                        teams=", ".join(teams.mapped("name")) or self.env._("none"),
                    )
                )

    def _check_registration_team_change(self, vals):
        """The team of a registered opportunity stays one of its owner's teams."""
        registered = self.filtered(
            lambda lead: lead.registration_state in ACTIVE_STATES and not lead.channel_partner_id
        )
        if not registered:
            return
        team = self.env["crm.team"].browse(vals["team_id"] or [])
        owners = registered.sudo().registration_id.user_id
        teams_of = self._registration_owner_teams(owners)
        for lead in registered:
            owner = lead.sudo().registration_id.user_id
            teams = lead._registration_teams_of(owner, teams_of)
            if (team and team not in teams) or (not team and teams):
                raise UserError(
                    self.env._(
                        "%(name)s is registered by %(owner)s: its sales team, which decided "
                        "who approves, stays one of %(owner)s's teams (%(teams)s).",
                        name=lead.name,
                        owner=owner.name,
                        teams=", ".join(teams.mapped("name")) or self.env._("none"),
                    )
                )

    def _registration_limit_holder(self):
        """Whom the cap and the cooldown count against: ``(field of
        crm.lead.registration, record)``. A rep's opportunity counts against
        its owner; a channel partner's deal against the partner company,
        whichever of its portal users registered it (the deal is only held for
        the channel manager)."""
        self.ensure_one()
        if self.channel_partner_id:
            return "channel_partner_id", self.channel_partner_id
        return "user_id", self.user_id or self.env.user

    def _check_registration_limits(self):
        """The cap on active registrations per holder, and the re-claim cooldown."""
        Registration = self.env["crm.lead.registration"].sudo()
        holders = {lead: lead._registration_limit_holder() for lead in self}
        capped = any((lead.company_id or self.env.company).registration_max_active for lead in self)
        counts = {}
        if capped:
            by_field = defaultdict(set)
            for field, holder in holders.values():
                by_field[field].add(holder.id)
            for field, ids in by_field.items():
                held = Registration._registration_held_by(field, ids)
                for holder, count in Registration._read_group(
                    held & Domain("state", "in", ACTIVE_STATES), [field], ["__count"]
                ):
                    counts[field, holder] = count
        today = fields.Date.context_today(self)
        cooling = []  # (lead, (field, holder), company, cooldown days, keys)
        for lead in self:
            field, owner = holders[lead]
            company = lead.company_id or self.env.company
            cap = company.registration_max_active
            counts[field, owner] = counts.get((field, owner), 0) + 1
            if cap and counts[field, owner] > cap:
                raise UserError(
                    self.env._(
                        "%(owner)s already holds %(count)s active registrations, the most "
                        "allowed: release or close one first.",
                        owner=owner.name,
                        count=cap,
                    )
                )
            cooldown = company.registration_claim_cooldown_days
            vals = lead._registration_keys() if cooldown else {}
            keys = {field: vals[field] for field in KEY_FIELDS if vals.get(field)}
            if keys:
                cooling.append((lead, holders[lead], company, cooldown, keys))
        if not cooling:
            return
        # one search for every opportunity, then matched in memory
        recent = Registration.search(
            Domain("state", "in", ("expired", "released"))
            & Domain("date_closed", ">=", today - timedelta(days=max(c[3] for c in cooling)))
            & Domain.OR(
                Registration._registration_held_by(field, [owner.id])
                & Domain("company_id", "=", company.id)
                & Domain.OR(Domain(key_field, "=", key) for key_field, key in keys.items())
                for _lead, (field, owner), company, _days, keys in cooling
            ),
            order="date_closed desc, id desc",
        )
        for _lead, (field, owner), company, cooldown, keys in cooling:
            since = today - timedelta(days=cooldown)
            let_go = next(
                (
                    reg
                    for reg in recent
                    if reg[field] == owner
                    and reg.company_id == company
                    and fields.Date.to_date(reg.date_closed) >= since
                    and any(reg[key_field] == key for key_field, key in keys.items())
                ),
                None,
            )
            if let_go:
                params = {
                    "owner": owner.name,
                    "customer": let_go.customer_name,
                    "date": format_date(self.env, fields.Date.to_date(let_go.date_closed)),
                    "number": let_go.name,
                    "again": format_date(
                        self.env,
                        fields.Date.to_date(let_go.date_closed) + timedelta(days=cooldown),
                    ),
                }
                if owner == self.env.user:
                    raise UserError(
                        self.env._(
                            "You let %(customer)s go on %(date)s (%(number)s): you may "
                            "register it again from %(again)s.",
                            **params,
                        )
                    )
                raise UserError(
                    self.env._(
                        "%(owner)s let %(customer)s go on %(date)s (%(number)s): they may "
                        "register it again from %(again)s.",
                        **params,
                    )
                )

    def action_registration_claim(self):
        """Claim a customer from the public pool: take the opportunity, then register it.

        Reps do not read pool opportunities (their history stays private):
        whether this one is in the pool is checked here, as superuser.
        """
        self.ensure_one()
        if not self.env.user.has_group("opportunity_registration.group_registration_user"):
            raise AccessError(self.env._("Only registration users can claim customers."))
        company = self.sudo().company_id
        if company and company not in self.env.user.company_ids:
            raise AccessError(self.env._("This opportunity belongs to another company."))
        if not self.env["crm.lead.pool"].sudo().search_count([("lead_id", "=", self.id)]):
            raise UserError(
                self.env._("Only released or expired ongoing opportunities can be claimed.")
            )
        lead = self.sudo()
        previous = lead.user_id
        teams = lead._registration_teams_of(
            self.env.user, self._registration_owner_teams(self.env.user)
        )
        lead.write(
            {
                "user_id": self.env.user.id,
                "team_id": (lead.team_id if lead.team_id in teams else teams[:1]).id,
            }
        )
        lead._registration_log(
            "opportunity_registration.mt_registration_claimed",
            tracking=lambda lead: [(lead, "user_id", previous, lead.user_id)],
        )
        self.action_registration_submit()
        return True

    def action_registration_request_extension(self, reason=False):
        """The owner asks the registration managers to protect the customer
        longer: a to-do for each, saying why.

        The reason is required and cleaned like every reason (text, at most
        2,000 characters; shown escaped). One request at a time: while a
        to-do of an earlier request is open, asking again is refused, naming
        when it was asked, so repeated calls add no to-dos. Everything is
        checked before anything is written."""
        Registration = self.env["crm.lead.registration"]
        reason = Registration._clean_text(reason)
        if not reason:
            raise UserError(self.env._("Say why the customer should stay protected longer."))
        registrations = self._registration_current("approved")
        for reg in registrations.sudo():
            if reg.user_id != self.env.user:
                raise UserError(
                    self.env._(
                        "Only %(owner)s can ask to extend registration %(number)s.",
                        owner=reg.user_id.name,
                        number=reg.name,
                    )
                )
        pending = registrations.sudo()._registration_activities(EXTENSION_ACTIVITY_TYPE)
        if pending:
            first = pending.sorted("create_date")[:1]
            raise UserError(
                self.env._(
                    "An extension of %(number)s was already asked on %(date)s and no "
                    "registration manager has answered yet: wait for their answer before "
                    "asking again.",
                    number={reg.lead_id.id: reg for reg in registrations.sudo()}[first.res_id].name,
                    date=format_datetime(self.env, first.create_date),
                )
            )
        for reg in registrations.sudo():
            managers = reg._registration_managers() - reg.user_id
            for manager in managers:
                env = self.with_context(lang=manager.lang).env  # the manager's language
                reg.lead_id.activity_schedule(
                    EXTENSION_ACTIVITY_TYPE,
                    user_id=manager.id,
                    summary=env._("Extension requested for %(number)s", number=reg.name),
                    note=env._(
                        "%(owner)s asks to keep %(customer)s beyond %(date)s. Use "
                        "Arbitrate → Extend the protection. Reason: %(reason)s",
                        owner=reg.user_id.name,
                        customer=reg.customer_name,
                        date=format_date(env, reg.protection_end_date),
                        reason=reason,
                    ),
                )
            reg.lead_id._registration_log(
                "opportunity_registration.mt_registration_extension_requested", body=reason
            )
        return True

    def action_registration_withdraw(self, reason=False):
        self._registration_current("submitted").action_withdraw(reason)
        return True

    def action_registration_release(self, reason=False):
        self._registration_current("approved").action_release(reason)
        return True

    def action_registration_approve(self, comment=False):
        self._registration_current("submitted").action_approve(comment)
        return True

    def action_registration_reject(self, reason=False):
        self._registration_current("submitted").action_reject(reason)
        return True

    def _registration_current(self, state):
        """The current registrations of these leads, all in ``state``."""
        self.check_access("read")
        labels = dict(self._fields["registration_state"]._description_selection(self.env))
        for lead in self:
            if lead.registration_state != state:
                raise UserError(
                    self.env._(
                        "%(name)s is %(state)s: this action needs a registration that is "
                        "%(needed)s.",
                        name=lead.name,
                        state=labels[lead.registration_state],
                        needed=labels[state],
                    )
                )
        return self.sudo().registration_id.with_env(self.env)

    def action_open_registration_reason(self):
        """Ask for a reason before withdrawing, releasing or rejecting."""
        self.ensure_one()
        action = self.env.context.get("registration_action")
        titles = dict(
            self.env["crm.lead.registration.reason"]
            ._fields["action"]
            ._description_selection(self.env)
        )
        return {
            "type": "ir.actions.act_window",
            "name": titles.get(action) or self.env._("Registration"),
            "res_model": "crm.lead.registration.reason",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_lead_id": self.id,
                "default_action": action,
            },
        }
