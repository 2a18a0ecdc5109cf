from odoo import api, models
from odoo.exceptions import UserError

# Rows one import call may carry for a user who is not an administrator (Odoo's
# import dialog sends its file in batches well below this).
MAX_IMPORT_ROWS = 20000


class Base(models.AbstractModel):
    _inherit = "base"

    @api.model
    def load(self, fields, data):
        """An import is a list of rows, each a list of values, and bounded
        (SPEC §9.11): a 200 kB string given as the data imported each
        character as a row, for 44 s, through any model's public ``load``."""
        if not isinstance(fields, list | tuple) or not isinstance(data, list | tuple):
            raise UserError(self.env._("An import takes a list of columns and a list of rows."))
        if any(not isinstance(row, list | tuple) for row in data):
            raise UserError(self.env._("Each imported row must be a list of values."))
        if len(data) > MAX_IMPORT_ROWS and not self.env.user._is_system():
            raise UserError(
                self.env._(
                    "An import holds at most %(max)s rows at a time; this one has %(count)s: "
                    "import it in batches.",
                    max=f"{MAX_IMPORT_ROWS:,}",
                    count=f"{len(data):,}",
                )
            )
        return super().load(fields, data)
