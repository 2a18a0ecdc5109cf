from odoo import api, fields, models
from odoo.tools import ormcache

from .customer_identity import DEFAULT_FREE_MAIL_DOMAINS

# Settings the conflict check caches (see _registration_lock_settings).
LOCK_SETTINGS = {"registration_scope", "registration_free_mail_domains", "stage_gate_allow_skip"}


class ResCompany(models.Model):
    _inherit = "res.company"

    registration_require_contact = fields.Boolean("Require Contact", default=True)
    registration_require_need = fields.Boolean("Require Need Description", default=True)
    registration_require_budget = fields.Boolean("Require Budget", default=True)
    registration_require_deadline = fields.Boolean("Require Expected Closing", default=True)
    registration_require_key_person = fields.Boolean("Require Key Person")
    registration_require_source = fields.Boolean("Require Source")
    registration_require_category = fields.Boolean("Require Category")
    registration_protection_days = fields.Integer("Protection Period (days)", default=90)
    registration_scope = fields.Selection(
        [
            ("customer", "Customer"),
            ("product_line", "Customer and Product Line"),
            ("team", "Customer and Sales Team"),
        ],
        "Lock Scope",
        default="customer",
        required=True,
        help="Customer: one registration locks the customer for everything. Customer "
        "and Product Line: teams selling different lines to one customer do not collide. "
        "Customer and Sales Team: each sales team may hold its own lock on a customer. "
        "Locks taken for the whole customer keep covering every line and team.",
    )
    registration_free_mail_domains = fields.Text(
        "Free-mail Domains",
        default=lambda self: self._default_free_mail_domains(),
        help="E-mail domains that do not identify a company (one per line or separated by commas).",
    )
    registration_renew_on_activity = fields.Boolean("Renew on Done Activity", default=True)
    registration_renew_on_note = fields.Boolean("Renew on Logged Note", default=True)
    registration_renew_on_meeting = fields.Boolean("Renew on Meeting", default=True)
    registration_renewal_days = fields.Integer(
        "Renewal (days)",
        default=30,
        help="A qualifying follow-up keeps the customer locked for at least this many days.",
    )
    registration_max_days = fields.Integer(
        "Maximum Protection (days)",
        default=180,
        help="Renewals never extend the lock beyond this many days after approval; "
        "a manager may grant an extension.",
    )
    registration_neglect_days = fields.Integer(
        "Release After Neglect (days)",
        default=30,
        help="Without qualifying follow-up for this many days, the lock expires.",
    )
    registration_warning_days = fields.Integer(
        "Warn Before Expiry (days)",
        default=7,
    )
    registration_claim_cooldown_days = fields.Integer(
        "Re-claim Cooldown (days)",
        default=30,
        help="How long the previous owner must wait before registering again a "
        "customer they let expire or released.",
    )
    registration_max_active = fields.Integer(
        "Active Registrations per Rep",
        default=0,
        help="Most registrations one rep may hold at once; 0 means no limit.",
    )
    registration_pending_days = fields.Integer(
        "Expire Pending Reviews After (days)",
        default=14,
        help="A registration still pending review after this many days expires, so "
        "that no customer is held without a decision; the owner is warned and the "
        "approvers reminded before.",
    )
    registration_won_keep_days = fields.Integer(
        "Keep Won Customers (days)",
        default=0,
        help="After a registered opportunity is won, the winner keeps the customer "
        "locked for this many days; 0 ends the lock at the win. The registration is "
        "kept as won either way, for commission and compliance.",
    )
    registration_escalation_days = fields.Integer(
        "Escalate Reviews After (working days)",
        default=2,
        help="A review pending longer than this is escalated to the next band's approver.",
    )

    registration_channel_manager_id = fields.Many2one(
        "res.users",
        "Channel Manager",
        domain="[('share', '=', False)]",
        help="Holds and first reviews the deals channel partners register from the "
        "portal, unless the partner's sales team names its own channel manager.",
    )

    stage_gate_allow_skip = fields.Boolean(
        "Allow Skipping Stages",
        default=True,
        help="Opportunities may jump over stages when they move forward.",
    )
    stage_gate_allow_back = fields.Boolean(
        "Allow Going Back",
        default=True,
        help="Opportunities may move back to an earlier stage.",
    )

    compliance_late_stage_id = fields.Many2one(
        "crm.stage",
        "Register Before Stage",
        help="An opportunity registered only after reaching this stage (or a later one) "
        "counts as registered late.",
    )
    compliance_late_days = fields.Integer(
        "Register Days Before Win",
        default=7,
        help="An opportunity registered fewer than this many days before its win counts as "
        "registered late; 0 disables the check.",
    )
    compliance_monthly_quota = fields.Integer(
        "Monthly Registration Quota",
        default=1,
        help="Registrations each salesperson must submit per month (the seed's one local "
        "opportunity per month); 0 disables the check.",
    )
    _compliance_values_positive = models.Constraint(
        "CHECK (compliance_late_days >= 0 AND compliance_monthly_quota >= 0)",
        "Compliance thresholds cannot be negative.",
    )

    _registration_lock_days_positive = models.Constraint(
        "CHECK (registration_renewal_days > 0 AND registration_max_days > 0"
        " AND registration_neglect_days > 0 AND registration_warning_days >= 0"
        " AND registration_claim_cooldown_days >= 0 AND registration_max_active >= 0"
        " AND registration_escalation_days >= 0 AND registration_pending_days > 0"
        " AND registration_won_keep_days >= 0)",
        "Registration periods must be positive and limits cannot be negative.",
    )
    _registration_protection_days_positive = models.Constraint(
        "CHECK (registration_protection_days > 0)",
        "The protection period must be at least one day.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        for company in companies:
            self.env["crm.lead.registration.band"]._get_company_bands(company)
            self.env["crm.lead.registration"]._company_sequence(company)
        return companies

    def write(self, vals):
        res = super().write(vals)
        if LOCK_SETTINGS & vals.keys():
            self.env.registry.clear_cache()
        return res

    @api.model
    @ormcache("company_id")
    def _registration_lock_settings(self, company_id):
        """(scope, free-mail domains) of a company, cached across requests.

        The conflict check runs on every keystroke of the opportunity form; its
        settings change a few times a year, so they are not read per check.
        """
        company = self.browse(company_id).sudo()
        return company.registration_scope, frozenset(company._registration_free_mail_domains())

    @api.model
    def _default_free_mail_domains(self):
        return ", ".join(sorted(DEFAULT_FREE_MAIL_DOMAINS))

    def _registration_free_mail_domains(self):
        self.ensure_one()
        text = self.registration_free_mail_domains or ""
        return {d.strip().lower() for d in text.replace(",", "\n").splitlines() if d.strip()}
