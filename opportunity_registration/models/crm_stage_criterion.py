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
        return criteria

    def write(self, vals):
        result = super().write(vals)
        self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result
