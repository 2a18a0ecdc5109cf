from odoo import api, models
from odoo.exceptions import AccessError, UserError

REGISTRATION_MODEL = "crm.lead.registration"
# Which document a review decides: fixed when the review is created.
DOCUMENT_FIELDS = ("model", "res_id")


class TierReview(models.Model):
    _inherit = "tier.review"

    @api.model_create_multi
    def create(self, vals_list):
        """Reviews point at a document of a model that exists, and only the
        module (as superuser, when a registration is submitted) creates the
        reviews of a registration."""
        for vals in vals_list:
            model = vals.get("model")
            if model and (not isinstance(model, str) or model not in self.env):
                raise UserError(self.env._("%(model)s is not a document model.", model=model))
            if model == REGISTRATION_MODEL:
                self._check_registration_review_writer()
        return super().create(vals_list)

    def write(self, vals):
        """A review never moves to another document, and the reviews of a
        registration are written by the module only.

        Checked here rather than in a record rule: a rule sees the review
        before the change, so a review made for another document could be
        pointed at a registration by a write the rule lets through.
        """
        if not self.env.su:
            if any(field in vals for field in DOCUMENT_FIELDS):
                raise AccessError(self.env._("A review cannot be moved to another document."))
            if self._has_registration_review():
                self._check_registration_review_writer()
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_registration_review(self):
        if self._has_registration_review():
            self._check_registration_review_writer()

    def _has_registration_review(self):
        return any(review.model == REGISTRATION_MODEL for review in self.sudo())

    def _check_registration_review_writer(self):
        if not self.env.su:
            raise AccessError(
                self.env._(
                    "The reviews of a registration are created and decided by the module: "
                    "approve or reject the registration itself."
                )
            )

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
