from odoo import api, fields, models


class CrmStageCriterion(models.Model):
    _name = "crm.stage.criterion"
    _description = "Stage Exit Criterion"
    _order = "stage_id, sequence, id"

    stage_id = fields.Many2one("crm.stage", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    name = fields.Char("Exit Criterion", required=True, translate=True)
    description = fields.Text(translate=True, help="How the rep shows that the criterion is met.")

    @api.model_create_multi
    def create(self, vals_list):
        criteria = super().create(vals_list)
        self.env.registry.clear_cache()  # crm.stage._gate_spec
        self._sync_criteria_group()
        return criteria

    def write(self, vals):
        result = super().write(vals)
        self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        self._sync_criteria_group()
        return result

    @api.model
    def _sync_criteria_group(self):
        """Internal users have the technical group Stage Exit Criteria in Use
        while some stage has exit criteria: without any, the opportunity form
        does not read its (empty) checkboxes."""
        group = self.env.ref("opportunity_registration.group_stage_criteria", False)
        if not group:
            return
        internal = self.env.ref("base.group_user").sudo()
        if self.sudo().search_count([], limit=1):
            internal._apply_group(group.sudo())
        else:
            internal._remove_group(group.sudo())
