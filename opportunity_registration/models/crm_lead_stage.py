from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain
from odoo.tools import float_compare

from ..exceptions import StageGateWarning

# Fields whose change may move a lead to another stage (crm's _compute_stage_id).
STAGE_TRIGGER_FIELDS = {"stage_id", "team_id", "type", "user_id"}
# Fields whose change makes a lead won, lost or ongoing again. (Reading the
# status after other writes would force crm's probability computation early,
# record by record, e.g. during lead assignment.)
STATUS_FIELDS = {"stage_id", "active", "probability"}
WATCHED_FIELDS = STAGE_TRIGGER_FIELDS | STATUS_FIELDS
PROBABILITY_SOURCE_PARAM = "opportunity_registration.probability_source"
PROBABILITY_LOCK_PARAM = "opportunity_registration.probability_locked"
OVERRIDE_CONTEXT_KEY = "stage_gate_override_reason"


class CrmLead(models.Model):
    """Stage control on opportunities: stage history, stage gates, stage
    probability and overdue stays (阶段控制)."""

    _inherit = "crm.lead"

    stage_history_ids = fields.One2many("crm.lead.stage.history", "lead_id", readonly=True)
    stage_criterion_done_ids = fields.Many2many(
        "crm.stage.criterion",
        "crm_lead_stage_criterion_done_rel",
        "lead_id",
        "criterion_id",
        string="Exit Criteria Met",
        copy=False,
        domain="[('stage_id', '=', stage_id)]",
        help="Exit criteria of the current stage that this opportunity meets.",
    )
    stage_gate_missing = fields.Text(
        "Missing to Leave Stage",
        compute="_compute_stage_gate_missing",
        help="Exit criteria and fields still missing before the opportunity can "
        "move to a later stage.",
    )
    stage_has_criteria = fields.Boolean(compute="_compute_stage_gate_missing")
    stage_overdue = fields.Boolean(
        "Overdue in Stage",
        compute="_compute_stage_overdue",
        search="_search_stage_overdue",
        help="Still open and in its stage for longer than the stage's planned duration.",
    )
    stage_probability_locked = fields.Boolean(compute="_compute_stage_probability_locked")
    stage_goal = fields.Text(related="stage_id.stage_goal")
    stage_content = fields.Text(related="stage_id.stage_content", string="Key Actions")
    stage_diagnosis_key = fields.Text(related="stage_id.diagnosis_key")

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("stage_id", "stage_criterion_done_ids")
    def _compute_stage_gate_missing(self):
        for lead in self:
            criteria, gate_fields = self.env["crm.stage"]._gate_spec(lead.stage_id.id)
            lead.stage_has_criteria = bool(criteria or gate_fields)
            lead.stage_gate_missing = "\n".join(lead._stage_gate_exit_problems()) or False

    @api.depends("stage_id", "date_last_stage_update", "won_status", "active")
    def _compute_stage_overdue(self):
        now = fields.Datetime.now()
        for lead in self:
            days = lead.stage_id.planned_duration
            lead.stage_overdue = bool(
                days > 0
                and lead.active
                and lead.won_status == "pending"
                and lead.date_last_stage_update
                and lead.date_last_stage_update < now - timedelta(days=days)
            )

    def _search_stage_overdue(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        now = fields.Datetime.now()
        stages = self.env["crm.stage"].sudo().search([("planned_duration", ">", 0)])
        overdue = (
            Domain.OR(
                Domain("stage_id", "=", stage.id)
                & Domain(
                    "date_last_stage_update", "<", now - timedelta(days=stage.planned_duration)
                )
                for stage in stages
            )
            & Domain("won_status", "=", "pending")
            & Domain("active", "=", True)
        )
        wanted = {bool(v) for v in value}
        if len(wanted) != 1:  # both values, or none
            return Domain.TRUE if (operator == "in") == bool(wanted) else Domain.FALSE
        return overdue if (operator == "in") == (True in wanted) else ~overdue

    def _compute_stage_probability_locked(self):
        locked = self._stage_probability_locked()
        for lead in self:
            lead.stage_probability_locked = locked

    # ------------------------------------------------------------
    # SETTINGS
    # ------------------------------------------------------------

    @api.model
    def _stage_probability_mode(self):
        """'predictive' (Odoo's lead scoring, default) or 'stage'."""
        return (
            self.env["ir.config_parameter"].sudo().get_param(PROBABILITY_SOURCE_PARAM, "predictive")
        )

    @api.model
    def _stage_probability_locked(self):
        return (
            self._stage_probability_mode() == "stage"
            and bool(self.env["ir.config_parameter"].sudo().get_param(PROBABILITY_LOCK_PARAM))
            and not self.env.user.has_group("sales_team.group_sale_manager")
        )

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    def _stage_after_create(self):
        """New opportunities pass the gates of the stages before theirs and
        start their stage history (called by crm.lead.create, crm_lead.py)."""
        self._enforce_stage_gates_on_create()
        moved = self.filtered("stage_id")
        if moved:
            self.env["crm.lead.stage.history"].sudo()._log_stage_changes(moved, {})

    def _stage_before_write(self, vals):
        """Stage gates and the stage's probability, before a write (called by
        crm.lead.write, crm_lead.py).

        Returns the values to write, and what ``_stage_after_write`` needs to
        record the stage history (``None`` when no stage or status field is
        written). What the gate checks may be saved together with the move
        (criteria ticked, then the stage clicked): it is saved first.
        """
        if not WATCHED_FIELDS.intersection(vals):
            return vals, None
        override_reason = self.env.context.get(OVERRIDE_CONTEXT_KEY)
        if override_reason:  # a reason like any other: text, bounded (SPEC §9.11)
            override_reason = self.env["crm.lead.registration"]._clean_text(override_reason)
        watch_stage = bool(STAGE_TRIGGER_FIELDS.intersection(vals))
        if watch_stage:
            self.env["crm.lead.stage.history"].sudo()._backfill_leads(self._ids)
        old_stages = {lead.id: lead.stage_id for lead in self} if watch_stage else {}
        watch_status = bool(STATUS_FIELDS.intersection(vals))
        old_status = (
            {lead.id: (lead.won_status, lead.active) for lead in self} if watch_status else {}
        )
        if "stage_id" in vals:
            new_stage = self.env["crm.stage"].browse(vals["stage_id"] or [])
            moving = self.filtered(lambda lead: lead.stage_id != new_stage)
            if moving and new_stage:
                gate_fields = {"stage_criterion_done_ids"} | set(
                    moving.stage_id.sudo().gate_field_ids.mapped("name")
                )
                pre_vals = {key: vals[key] for key in gate_fields.intersection(vals)}
                if pre_vals:
                    self.write(pre_vals)
                    vals = {key: value for key, value in vals.items() if key not in pre_vals}
                moving._enforce_stage_gates(new_stage, override_reason)
                if (
                    self._stage_probability_mode() == "stage"
                    and "probability" not in vals
                    and not new_stage.is_won
                ):
                    vals = dict(vals, probability=new_stage.win_probability)
        if "probability" in vals:
            self._check_probability_lock(vals)
        return vals, (
            override_reason,
            old_stages if watch_stage else None,
            old_status if watch_status else None,
        )

    def _stage_after_write(self, before):
        """Record the stage history of what ``_stage_before_write`` saw move."""
        if before is None:
            return
        override_reason, old_stages, old_status = before
        History = self.env["crm.lead.stage.history"].sudo()
        if old_stages is not None:
            changed = self.filtered(lambda lead: lead.stage_id != old_stages[lead.id])
            if changed:
                if override_reason and not self.env.user.has_group("sales_team.group_sale_manager"):
                    override_reason = None  # nothing was overridden (no unmet gate)
                History._log_stage_changes(changed, old_stages, override_reason=override_reason)
        if old_status is not None:
            status_changed = self.filtered(
                lambda lead: (lead.won_status, lead.active) != old_status[lead.id]
            )
            if status_changed:
                History._sync_lead_status(status_changed)

    # ------------------------------------------------------------
    # PROBABILITY SOURCE
    # ------------------------------------------------------------

    def _compute_probabilities(self):
        if self._stage_probability_mode() != "stage":
            return super()._compute_probabilities()
        # The stage's default win probability replaces the predictive score;
        # a probability the rep set by hand stays until the next stage change.
        for lead in self:
            stage_probability = 100.0 if lead.stage_id.is_won else lead.stage_id.win_probability
            was_automated = lead.active and lead.is_automated_probability
            lead.automated_probability = stage_probability
            if was_automated:
                lead.probability = stage_probability
        return None

    def _cron_update_automated_probabilities(self):
        if self._stage_probability_mode() == "stage":
            return None
        return super()._cron_update_automated_probabilities()

    def _check_probability_lock(self, vals):
        if not self._stage_probability_locked():
            return
        new_stage = self.env["crm.stage"].browse(vals["stage_id"]) if vals.get("stage_id") else None
        for lead in self:
            stage = new_stage or lead.stage_id
            allowed = (0.0, 100.0, stage.win_probability)
            if all(float_compare(vals["probability"], value, 2) for value in allowed):
                raise UserError(
                    self.env._(
                        "The probability of %(name)s follows its stage (%(probability)s%%): "
                        "only a sales administrator can change it.",
                        name=lead.name,
                        probability=stage.win_probability,
                    )
                )

    # ------------------------------------------------------------
    # STAGE GATES
    # ------------------------------------------------------------

    @api.onchange("stage_id")
    def _onchange_stage_gate(self):
        """A rep clicking a stage the gate refuses stays in the current stage,
        told why, with the form as it was; a manager gets the override offer
        when saving."""
        old_stage, new_stage = self._origin.stage_id, self.stage_id
        if (
            not old_stage
            or not new_stage
            or old_stage == new_stage
            or self.env.user.has_group("sales_team.group_sale_manager")
        ):
            return None
        self.stage_id = old_stage
        problems = self._stage_gate_problems(new_stage).get(self)
        if not problems:
            self.stage_id = new_stage
            return None
        return {
            "warning": {
                "type": "dialog",
                "title": self.env._("%(stage)s is not reached yet", stage=new_stage.name),
                "message": "\n".join(
                    [self.env._("%(name)s stays in %(old)s:", name=self.name, old=old_stage.name)]
                    + ["- " + problem for problem in problems]
                ),
            }
        }

    def _stage_gate_exit_problems(self):
        """What this lead still misses to leave its current stage forward."""
        self.ensure_one()
        criteria, gate_fields = self.env["crm.stage"]._gate_spec(self.stage_id.id)
        problems = []
        if criteria:
            done = set(self.stage_criterion_done_ids.ids)
            problems.extend(
                self.env._("Exit criterion not met: %(criterion)s", criterion=name)
                for criterion_id, name in criteria
                if criterion_id not in done
            )
        problems.extend(
            self.env._("Required field empty: %(field)s", field=label)
            for name, label in gate_fields
            if name in self._fields and not self[name]
        )
        return problems

    def _stage_gate_problems(self, new_stage):
        """``{lead: [problem, ...]}`` for the leads that may not move to ``new_stage``."""
        all_stages = None
        problems_by_lead = {}
        for lead in self:
            old_stage = lead.stage_id
            if not old_stage or old_stage == new_stage:
                continue
            company = lead.company_id or self.env.company
            problems = []
            if new_stage._stage_key() > old_stage._stage_key():
                if not company.stage_gate_allow_skip:
                    if all_stages is None:
                        all_stages = self.env["crm.stage"].sudo().search([])
                    skipped = all_stages.filtered(
                        lambda s: (
                            old_stage._stage_key() < s._stage_key() < new_stage._stage_key()
                            and (not s.team_ids or not lead.team_id or lead.team_id in s.team_ids)
                        )
                    )
                    if skipped:
                        problems.append(
                            self.env._(
                                "Stages cannot be skipped: go through %(stages)s first.",
                                stages=", ".join(skipped.mapped("name")),
                            )
                        )
                problems += lead._stage_gate_exit_problems()
            elif not company.stage_gate_allow_back:
                problems.append(
                    self.env._(
                        "Opportunities cannot go back to an earlier stage (%(stage)s).",
                        stage=new_stage.name,
                    )
                )
            if problems:
                problems_by_lead[lead] = problems
        return problems_by_lead

    def _enforce_stage_gates_on_create(self):
        """An opportunity created (or copied) straight into a later stage passes
        the gates of the stages before it, as if it had moved through them."""
        if self.env.su or self.env.user.has_group("sales_team.group_sale_manager"):
            return
        Stage = self.env["crm.stage"]
        all_stages = None
        messages = []
        for lead in self.filtered("stage_id"):
            company = lead.company_id or self.env.company
            allow_skip, gated = Stage._gates_configured(company.id)
            if allow_skip and not gated:
                continue
            if all_stages is None:
                all_stages = Stage.sudo().search([])
            stage = lead.stage_id
            earlier = all_stages.filtered(
                lambda s: (
                    s._stage_key() < stage._stage_key()
                    and (not s.team_ids or not lead.team_id or lead.team_id in s.team_ids)
                )
            ).sorted(lambda s: s._stage_key())
            if not earlier:
                continue
            problems = []
            if not allow_skip:
                problems.append(
                    self.env._(
                        "Stages cannot be skipped: a new opportunity starts in %(stage)s.",
                        stage=earlier[0].name,
                    )
                )
            done = set(lead.stage_criterion_done_ids.ids)
            for earlier_stage in earlier.filtered(lambda s: s.id in gated):
                criteria, gate_fields = Stage._gate_spec(earlier_stage.id)
                problems.extend(
                    self.env._(
                        "Exit criterion of %(stage)s not met: %(criterion)s",
                        stage=earlier_stage.name,
                        criterion=name,
                    )
                    for criterion_id, name in criteria
                    if criterion_id not in done
                )
                problems.extend(
                    self.env._(
                        "Required field of %(stage)s empty: %(field)s",
                        stage=earlier_stage.name,
                        field=label,
                    )
                    for name, label in gate_fields
                    if name in self._fields and not lead[name]
                )
            if problems:
                header = self.env._(
                    "%(name)s cannot start in %(stage)s:",
                    name=lead.name,
                    stage=stage.name,
                )
                messages.append("\n".join([header] + ["- " + p for p in problems]))
        if messages:
            raise UserError("\n\n".join(messages))

    def _enforce_stage_gates(self, new_stage, override_reason=None):
        problems_by_lead = self._stage_gate_problems(new_stage)
        if not problems_by_lead:
            return
        is_manager = self.env.user.has_group("sales_team.group_sale_manager")
        if override_reason:
            if not is_manager:
                raise AccessError(
                    self.env._("Only sales administrators can override a stage gate.")
                )
            leads = self.browse([lead.id for lead in problems_by_lead])
            leads._stage_gate_log_override(new_stage, override_reason)
            return
        messages = []
        for lead, problems in problems_by_lead.items():
            header = self.env._(
                "%(name)s cannot move from %(old)s to %(new)s:",
                name=lead.name,
                old=lead.stage_id.name,
                new=new_stage.name,
            )
            messages.append("\n".join([header] + ["- " + p for p in problems]))
        message = "\n\n".join(messages)
        if is_manager:
            action = self.env["ir.actions.actions"]._for_xml_id(
                "opportunity_registration.crm_lead_stage_override_action"
            )
            action["context"] = {
                "default_lead_ids": [lead.id for lead in problems_by_lead],
                "default_stage_id": new_stage.id,
            }
            raise StageGateWarning(
                message,
                action,
                self.env._("Override with a Reason"),
                self.env._("Stage gate not met"),
            )
        raise UserError(message)

    def _stage_gate_log_override(self, new_stage, reason):
        """Say on each lead that a sales administrator overrode its stage gate,
        and why. Called before the move: stock tracking logs the stage change
        itself, and the stage history keeps the reason."""
        self._registration_log(
            "opportunity_registration.mt_registration_stage_gate_overridden", body=reason
        )

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_open_stage_history(self):
        self.ensure_one()
        self.env["crm.lead.stage.history"].sudo()._backfill_leads(self.ids)
        action = self.env["ir.actions.actions"]._for_xml_id(
            "opportunity_registration.crm_lead_stage_history_action"
        )
        action["domain"] = [("lead_id", "=", self.id)]
        action["context"] = {"create": False}
        return action
