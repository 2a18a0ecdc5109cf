from odoo import fields, models


class CrmStageCriterion(models.Model):
    _name = "crm.stage.criterion"
    _description = "Stage Exit Criterion"
    _order = "stage_id, sequence, id"

    stage_id = fields.Many2one(
        "crm.stage", "Stage", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer("Sequence", default=10)
    name = fields.Char("Exit Criterion", required=True, translate=True)
    description = fields.Text(
        "Description", translate=True, help="How the rep shows that the criterion is met."
    )
