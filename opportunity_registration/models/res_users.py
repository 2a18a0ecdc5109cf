from odoo import api, models
from odoo.tools import SQL


class ResUsers(models.Model):
    _inherit = "res.users"

    def _get_invalidation_fields(self):
        # a renamed approver in the form's cached preview of approvers
        return super()._get_invalidation_fields() | {"name", "share"}

    @api.model_create_multi
    def create(self, vals_list):
        users = super().create(vals_list)
        self.env.registry.clear_cache()  # a new approver or registration manager
        return users

    def _registration_available(self):
        """The users who can still decide: active internal users (an archived or
        departed approver is skipped, never waited for)."""
        return self.filtered(lambda user: user.active and not user.share)

    @api.model
    def _registration_names(self, user_ids, group_ids):
        """``[(id, name, group ids)]`` of the active internal users among
        ``user_ids`` and the members of ``group_ids`` (with the ones of
        ``group_ids`` they belong to), by name, in one query: who would approve,
        as the opportunity form shows it, without reading whole user records."""
        if not user_ids and not group_ids:
            return []
        self.env.cr.execute(
            SQL(
                """
            SELECT u.id, p.name,
                   ARRAY(SELECT r.gid FROM res_groups_users_rel r
                          WHERE r.uid = u.id AND r.gid = ANY(%(groups)s))
              FROM res_users u
              JOIN res_partner p ON p.id = u.partner_id
             WHERE u.active AND NOT u.share
               AND (u.id = ANY(%(users)s)
                    OR EXISTS (SELECT 1 FROM res_groups_users_rel r
                                WHERE r.uid = u.id AND r.gid = ANY(%(groups)s)))
             ORDER BY p.name, u.login
            """,
                users=sorted(user_ids),
                groups=sorted(group_ids),
            )
        )
        return self.env.cr.fetchall()


class ResGroups(models.Model):
    _inherit = "res.groups"

    def write(self, vals):
        result = super().write(vals)
        if {"user_ids", "implied_ids", "all_user_ids"} & vals.keys():
            self.env.registry.clear_cache()  # the form's cached preview of approvers
        return result
