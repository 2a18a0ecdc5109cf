from odoo import api, models
from odoo.exceptions import UserError

REGISTRATION_MODEL = "crm.lead.registration"


class TierReview(models.Model):
    _inherit = "tier.review"

    @api.model_create_multi
    def create(self, vals_list):
        """Reviews point at a document of a model that exists."""
        for vals in vals_list:
            model = vals.get("model")
            if model and (not isinstance(model, str) or model not in self.env):
                raise UserError(self.env._("%(model)s is not a document model.", model=model))
        return super().create(vals_list)

    def _update_review_status(self):
        """Promoting a registration's next review is the engine's bookkeeping,
        not the user's write: it runs as superuser, since record rules keep
        users from writing registration reviews."""
        registration_reviews = self.filtered(lambda r: r.model == REGISTRATION_MODEL)
        if registration_reviews:
            super(TierReview, registration_reviews.sudo())._update_review_status()
        return super(TierReview, self - registration_reviews)._update_review_status()


class CommentWizard(models.TransientModel):
    _inherit = "comment.wizard"

    def add_comment(self):
        """A registration is decided through its own actions, whatever reviews
        the wizard was given: they check who may decide and on which amount."""
        self.ensure_one()
        if self.res_model != REGISTRATION_MODEL:
            return super().add_comment()
        registration = self.env[REGISTRATION_MODEL].browse(self.res_id).exists()
        registration.check_access("read")
        if self.validate_reject == "validate":
            registration.action_approve(comment=self.comment)
        elif self.validate_reject == "reject":
            registration.action_reject(reason=self.comment)
        registration._update_counter({"review_deleted": True})
        return True
