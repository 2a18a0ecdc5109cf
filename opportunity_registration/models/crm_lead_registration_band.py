from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import ormcache

from .crm_lead_registration import BANDS

BAND_ORDER = [code for code, _label in BANDS]
DEFAULT_BANDS = {
    "small": {"lower_bound": 0.0, "approval": "automatic", "follow_up": "rep"},
    "ordinary": {"lower_bound": 20000.0, "approval": "team_leader", "follow_up": "rep"},
    "important": {"lower_bound": 50000.0, "approval": "deputy_manager", "follow_up": "approver"},
    "major": {"lower_bound": 200000.0, "approval": "branch_manager", "follow_up": "approver"},
}
TEAM_ROLE_FIELDS = {
    "team_leader": "user_id",
    "deputy_manager": "deputy_manager_id",
    "branch_manager": "branch_manager_id",
}


class CrmLeadRegistrationBand(models.Model):
    """An amount band (分级审批): who approves registrations from its lower bound.

    Each company has the four bands (small, ordinary, important, major).
    Saving a band rewrites the tier definition the approval engine uses for
    it, so the admin never edits tier definitions by hand.
    """

    _name = "crm.lead.registration.band"
    _description = "Registration Approval Band"
    _order = "company_id, lower_bound, id"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        ondelete="cascade",
    )
    code = fields.Selection(BANDS, "Band", required=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    lower_bound = fields.Monetary(
        "From Amount",
        currency_field="currency_id",
        required=True,
        help="Expected revenue (company currency) from which this band applies; "
        "inclusive. The band applies up to the next band's lower bound.",
    )
    upper_bound = fields.Monetary(
        "Up To",
        currency_field="currency_id",
        compute="_compute_upper_bound",
        help="The next band's lower bound, excluded; empty for the last band.",
    )
    missing_role_warning = fields.Char(
        "Teams Without Approver",
        compute="_compute_missing_role_warning",
        help="Sales teams whose role this band needs is empty: their registrations in "
        "this band go to the registration managers instead.",
    )
    approval = fields.Selection(
        [
            ("automatic", "Automatic"),
            ("team_leader", "Team Leader"),
            ("deputy_manager", "Deputy Manager"),
            ("branch_manager", "Branch Manager"),
            ("user", "Specific User"),
            ("group", "Any User of a Group"),
        ],
        "Approved By",
        required=True,
        default="team_leader",
        help="Team roles are read from the opportunity's sales team.",
    )
    approver_user_id = fields.Many2one("res.users", "Approver", check_company=True)
    approver_group_id = fields.Many2one("res.groups")
    second_approval = fields.Selection(
        [
            ("none", "Nobody"),
            ("team_leader", "Team Leader"),
            ("deputy_manager", "Deputy Manager"),
            ("branch_manager", "Branch Manager"),
            ("user", "Specific User"),
            ("group", "Any User of a Group"),
        ],
        "Then Approved By",
        required=True,
        default="none",
        help="A second approval step, in order: once the first approver has approved, "
        "this one decides (e.g. the team leader, then the branch manager).",
    )
    second_approver_user_id = fields.Many2one("res.users", "Second Approver", check_company=True)
    second_approver_group_id = fields.Many2one("res.groups")
    follow_up = fields.Selection(
        [("rep", "The Rep"), ("approver", "The Approver, Personally")],
        "Followed Up By",
        required=True,
        default="rep",
        help="Who must post the weekly follow-up of registrations in this band; "
        "the approver also becomes a follower of the opportunity.",
    )
    tier_definition_id = fields.Many2one("tier.definition", readonly=True, ondelete="set null")
    second_tier_definition_id = fields.Many2one(
        "tier.definition", readonly=True, ondelete="set null"
    )

    _code_company_uniq = models.UniqueIndex(
        "(company_id, code)", "Each band exists once per company."
    )
    _lower_bound_positive = models.Constraint(
        "CHECK (lower_bound >= 0)", "A band cannot start below zero."
    )

    @api.depends("lower_bound", "company_id")
    def _compute_upper_bound(self):
        for band in self:
            bounds = [bound for bound, _code, _id in self._band_bounds(band.company_id.id)]
            band.upper_bound = next((b for b in bounds if b > band.lower_bound), False)

    @api.depends("approval", "second_approval", "company_id")
    @api.depends_context("lang")
    def _compute_missing_role_warning(self):
        teams = self.env["crm.team"].sudo().search([])
        for band in self:
            roles = {
                TEAM_ROLE_FIELDS[role]
                for role in (band.approval, band.second_approval)
                if role in TEAM_ROLE_FIELDS
            }
            missing = teams.filtered(
                lambda team, roles=roles, band=band: (
                    team.company_id in (band.company_id, False)
                    and any(not team[role] for role in roles)
                )
            )
            if not missing:
                band.missing_role_warning = False
                continue
            band.missing_role_warning = self.env._(
                "%(teams)s: no %(role)s, registration managers approve instead",
                teams=", ".join(missing.mapped("name")),
                role=" / ".join(
                    self._fields["approval"].convert_to_export(role, band)
                    for role in (band.approval, band.second_approval)
                    if role in TEAM_ROLE_FIELDS
                ),
            )

    @api.constrains(
        "approval",
        "approver_user_id",
        "approver_group_id",
        "second_approval",
        "second_approver_user_id",
        "second_approver_group_id",
    )
    def _check_approver(self):
        for band in self:
            for approval, user, group in (
                (band.approval, band.approver_user_id, band.approver_group_id),
                (band.second_approval, band.second_approver_user_id, band.second_approver_group_id),
            ):
                if approval == "user" and not user:
                    raise ValidationError(
                        self.env._(
                            "Band %(band)s is approved by a specific user: choose the user.",
                            band=band._label(),
                        )
                    )
                if approval == "group" and not group:
                    raise ValidationError(
                        self.env._(
                            "Band %(band)s is approved by a group: choose the group.",
                            band=band._label(),
                        )
                    )
            if band.approval == "automatic" and band.second_approval != "none":
                raise ValidationError(
                    self.env._(
                        "Band %(band)s is approved automatically: it has no second step.",
                        band=band._label(),
                    )
                )

    @api.constrains("lower_bound", "code", "company_id")
    def _check_order(self):
        for band in self:
            if band.lower_bound < 0:
                raise ValidationError(
                    self.env._(
                        "Band %(band)s cannot start below zero (%(amount)s).",
                        band=band._label(),
                        amount=band.lower_bound,
                    )
                )
        for company in self.company_id:
            # all the company's bands, whoever saves one
            bands = self.sudo().search([("company_id", "=", company.id)])
            bands = sorted(bands, key=lambda b: BAND_ORDER.index(b.code))
            if bands and bands[0].code == "small" and bands[0].lower_bound:
                raise ValidationError(
                    self.env._("The first band must start at 0, so that every amount has a band.")
                )
            for lower, upper in zip(bands, bands[1:], strict=False):
                if upper.lower_bound <= lower.lower_bound:
                    raise ValidationError(
                        self.env._(
                            "Bands overlap or are out of order: %(upper)s must start above "
                            "%(lower)s (%(amount)s).",
                            upper=upper._label(),
                            lower=lower._label(),
                            amount=lower.lower_bound,
                        )
                    )

    def _label(self):
        return dict(self._fields["code"]._description_selection(self.env))[self.code]

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        bands = super().create(vals_list)
        bands._sync_tier_definitions()
        self.env.registry.clear_cache()  # _band_bounds, _routing
        return bands

    def write(self, vals):
        result = super().write(vals)
        self._sync_tier_definitions()
        self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result

    @api.model
    def _get_company_bands(self, company):
        """The company's bands, in amount order, created from the defaults if missing."""
        bands = self.sudo().search([("company_id", "=", company.id)])
        missing = [code for code in BAND_ORDER if code not in bands.mapped("code")]
        if missing:
            bands |= self.sudo().create(
                [dict(DEFAULT_BANDS[code], code=code, company_id=company.id) for code in missing]
            )
        return bands.sorted("lower_bound")

    @api.model
    def action_open_bands(self):
        """The bands of the current company, created from the defaults on first use."""
        self._get_company_bands(self.env.company)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Approval Bands"),
            "res_model": self._name,
            "view_mode": "list",
            "domain": [("company_id", "=", self.env.company.id)],
            "context": {"create": False, "delete": False},
        }

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _sync_tier_definitions(self):
        """Keep one tier definition per approval step of each band, matching it exactly.

        The engine numbers a record's reviews from the highest definition
        sequence down, and approves lower numbers first: the first step has
        the higher definition sequence.
        """
        Definition = self.env["tier.definition"].sudo()
        model = self.env["ir.model"]._get("crm.lead.registration")
        fields_by_step = {
            step: self.env["ir.model.fields"]._get("crm.lead.registration", name)
            for step, name in ((1, "approver_ids"), (2, "second_approver_ids"))
        }
        for band in self.sudo():
            two_steps = band.second_approval != "none"
            for step, definition_field in (
                (1, "tier_definition_id"),
                (2, "second_tier_definition_id"),
            ):
                vals = {
                    "name": self.env._("Registration approval: %(band)s band", band=band._label())
                    if step == 1
                    else self.env._(
                        "Registration approval: %(band)s band, second step", band=band._label()
                    ),
                    "model_id": model.id,
                    "review_type": "field",
                    "reviewer_field_id": fields_by_step[step].id,
                    "definition_type": "domain",
                    "definition_domain": repr(
                        [("band", "=", band.code), ("company_id", "=", band.company_id.id)]
                    ),
                    "company_id": band.company_id.id,
                    "sequence": 20 * (1 + BAND_ORDER.index(band.code)) + (10 if step == 1 else 0),
                    "active": band.approval != "automatic" and (step == 1 or two_steps),
                    "approve_sequence": two_steps,
                    "has_comment": True,
                    "notify_on_create": step == 1,
                    "notify_on_pending": step == 2,
                    "notify_on_accepted": True,
                    "notify_on_rejected": True,
                    "exclude_requester": True,
                }
                if band[definition_field]:
                    band[definition_field].write(vals)
                elif vals["active"]:
                    band[definition_field] = Definition.create(vals)

    @api.model
    @ormcache("company_id")
    def _band_bounds(self, company_id):
        """``((lower_bound, code, id), ...)`` of a company in amount order, cached.

        The opportunity form shows the band of the expected revenue on every
        change of the amount, and every submission looks its band up; bands
        change a few times a year.
        """
        bands = self._get_company_bands(self.env["res.company"].browse(company_id))
        return tuple((band.lower_bound, band.code, band.id) for band in bands)

    @api.model
    def _bound_for_amount(self, company, amount):
        bounds = self._band_bounds(company.id)
        return next((bound for bound in reversed(bounds) if bound[0] <= amount), bounds[0])

    @api.model
    def _code_for_amount(self, company, amount):
        """Band code of ``amount`` (company currency); lower bounds are inclusive.

        The band of an amount has two readings: its code (for the form, from
        the cache, without a query) and its record (``_record_for_amount``)."""
        return self._bound_for_amount(company, amount)[1]

    @api.model
    def _record_for_amount(self, company, amount):
        """The band record of ``amount``, without a search."""
        return self.sudo().browse(self._bound_for_amount(company, amount)[2])

    @api.model
    @ormcache("band_id")
    def _routing(self, band_id):
        """``(approval, user id, group id)`` of each step of a band, cached:
        the opportunity form previews its approvers on every change of the
        amount or the team."""
        band = self.sudo().browse(band_id)
        return (
            (band.approval, band.approver_user_id.id, band.approver_group_id.id),
            (
                band.second_approval,
                band.second_approver_user_id.id,
                band.second_approver_group_id.id,
            ),
        )

    def _approvers(self, team, step=1):
        """Users who approve this band's ``step`` (1 or 2) for a registration of ``team``."""
        self.ensure_one()
        approval, user_id, group_id = self._routing(self.id)[step - 1]
        if approval == "user":
            return self.env["res.users"].browse(user_id)
        if approval == "group":
            return (
                self.env["res.groups"]
                .browse(group_id)
                .sudo()
                .all_user_ids.filtered(lambda u: u.active and not u.share)
            )
        if approval in TEAM_ROLE_FIELDS:
            return team[TEAM_ROLE_FIELDS[approval]]
        return self.env["res.users"]

    def _approver_refs(self, team, step=1):
        """``(user ids, group ids)`` whose active internal users approve this
        band's ``step`` for ``team``, without reading the users (the form's
        preview reads their names in one query, ``res.users._registration_names``)."""
        self.ensure_one()
        approval, user_id, group_id = self._routing(self.id)[step - 1]
        if approval == "user":
            return ({user_id} if user_id else set()), set()
        if approval == "group" and group_id:
            return set(), set(self.env["res.groups"].sudo().browse(group_id).all_implied_by_ids.ids)
        if approval in TEAM_ROLE_FIELDS:
            return set(team[TEAM_ROLE_FIELDS[approval]].ids), set()
        return set(), set()

    @api.model
    @ormcache("band_id", "team_id", "owner_id")
    def _approver_preview(self, band_id, team_id, owner_id):
        """``(first step, second step, registration managers)``: the names of
        who would decide a submission of ``owner_id`` in ``team_id`` at this
        band, for the opportunity form's preview. Cached: cleared by any change
        of bands, team roles, users' names, activity or groups (``clear_cache``
        in those models' writes); the review itself is always routed afresh."""
        band = self.sudo().browse(band_id)
        team = self.env["crm.team"].sudo().browse(team_id)
        first_ref = band._approver_refs(team)
        second_ref = (
            band._approver_refs(team, step=2)
            if self._routing(band_id)[1][0] != "none"
            else (set(), set())
        )
        managers_group = self.env["ir.model.data"]._xmlid_to_res_id(
            "opportunity_registration.group_registration_manager"
        )
        managers_ref = (
            set(),
            set(self.env["res.groups"].sudo().browse(managers_group).all_implied_by_ids.ids),
        )
        rows = self.env["res.users"]._registration_names(
            first_ref[0] | second_ref[0], first_ref[1] | second_ref[1] | managers_ref[1]
        )

        def members(ref):
            return [
                (uid, name)
                for uid, name, groups in rows
                if uid != owner_id and (uid in ref[0] or ref[1].intersection(groups))
            ]

        first = members(first_ref)
        second = [row for row in members(second_ref) if row not in first]
        return (
            tuple(name for _uid, name in first),
            tuple(name for _uid, name in second),
            tuple(name for _uid, name in members(managers_ref)),
        )

    def _next_band(self):
        self.ensure_one()
        bands = self._get_company_bands(self.company_id)
        higher = bands.filtered(lambda b: b.lower_bound > self.lower_bound)
        return higher[:1]
