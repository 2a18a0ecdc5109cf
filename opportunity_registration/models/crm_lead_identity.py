from urllib.parse import urlsplit

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .crm_lead_registration import BACKFILL_BATCH
from .customer_identity import (
    email_domain_key,
    normalize_company_name,
    normalize_phone,
    normalize_tax_id,
)

# What a company account's keys look like in SQL, each with an index (partial,
# company accounts only): the query that finds whose a key is reads them, and
# Python then checks each candidate with the key functions themselves.
PARTNER_EMAIL_DOMAIN_SQL = "lower(split_part(email, '@', 2))"
PARTNER_WEBSITE_DOMAIN_SQL = (
    "lower(regexp_replace(website, '^([a-zA-Z][a-zA-Z0-9+.-]*://)?(www[.])?|[/:?#].*$', '', 'g'))"
)
# the last digits of a phone, the last characters of a tax id: the key drops
# prefixes (country code, trunk 0, country letters), never the end
PARTNER_PHONE_TAIL_SQL = "right(regexp_replace(phone, '[^0-9]', '', 'g'), 7)"
PARTNER_VAT_TAIL_SQL = "right(upper(regexp_replace(vat, '[^0-9A-Za-z]', '', 'g')), 5)"


def _website_domain(website):
    """The host of a partner's website, without "www.", as a domain key."""
    if not isinstance(website, str) or len(website) > 2048:
        return False
    try:
        host = urlsplit(website if "//" in website else "//" + website).hostname
    except ValueError:
        return False
    host = (host or "").lower()
    return host[4:] if host.startswith("www.") else host or False


def _names_a_company(name):
    """Whether a person's name carries a legal form ("Acme Co., Ltd.", "云图科技有限公司"):
    then it is a company typed into the Contact field, not a private person."""
    key = normalize_company_name(name)
    marked = normalize_company_name("%s qzxq" % name) if key else False
    return bool(marked) and marked.endswith("qzxq") and marked[:-4] != key


class CrmLead(models.Model):
    """Who the customer of an opportunity is: its keys (company name,
    person, tax ID, e-mail domain, phone), the lock scope, and who holds it
    already (the conflict message the form shows).
    """

    _inherit = "crm.lead"

    customer_key = fields.Char(
        compute="_compute_customer_key",
        store=True,
        copy=False,
        help="Normalized customer identity used to find conflicting registrations.",
    )

    registration_conflict_ids = fields.Many2many(
        "crm.lead",
        string="Conflicting Opportunities",
        compute="_compute_registration_conflicts",
        compute_sudo=True,
        context={"active_test": False},
        groups="opportunity_registration.group_registration_manager",
        help="Other opportunities whose active registration claims the same customer. "
        "Managers only: reps see who holds the customer in the conflict message.",
    )

    registration_conflict_message = fields.Text(
        compute="_compute_registration_conflicts",
        compute_sudo=True,
    )

    @api.depends(
        "partner_id.commercial_partner_id.name",
        "partner_id.commercial_partner_id.is_company",
        "partner_name",
    )
    def _compute_customer_key(self):
        for lead in self:
            lead.customer_key = lead._get_customer_key()

    def _get_customer_key(self):
        """Company name of the customer, normalized; a private person's partner id."""
        return self._customer_identity()[0]

    def _customer_identity(self):
        """``(customer_key, name_key)`` of this lead's customer.

        A company (or a company name on the lead, or a person record whose
        name carries a legal form) is its normalized name. A private person is
        their partner id, with their normalized name as ``name_key``: it
        collides with a company of that name, never with another person.
        """
        commercial = self.partner_id.commercial_partner_id
        if commercial.is_company:
            return normalize_company_name(commercial.name), False
        if self.partner_name:
            return normalize_company_name(self.partner_name), False
        if commercial:
            if _names_a_company(commercial.name):
                return normalize_company_name(commercial.name), False
            return "partner:%d" % commercial.id, normalize_company_name(commercial.name)
        return False, False

    @api.depends(
        "customer_key",
        "company_id",
        "email_from",
        "phone",
        "registration_product_line_id",
        "team_id",
        "partner_id.commercial_partner_id.vat",
        "partner_id.commercial_partner_id.email",
        "partner_id.commercial_partner_id.phone",
    )
    def _compute_registration_conflicts(self):
        Registration = self.env["crm.lead.registration"]
        # only what identifies the customers, not their whole records (one
        # query when the customer is a company, its own commercial entity)
        identity = ["commercial_partner_id", "name", "is_company", "vat", "email", "phone"]
        self.partner_id.fetch(identity)
        self.partner_id.commercial_partner_id.fetch(identity)
        # a user learns who holds a customer only in the companies they work in,
        # whatever company the form sends
        allowed = self.env.user._get_company_ids()
        vals_by_lead = {lead: lead._registration_keys() for lead in self}
        vals_by_lead = {
            lead: vals for lead, vals in vals_by_lead.items() if vals["company_id"] in allowed
        }
        rows = Registration._active_holders(list(vals_by_lead.values()))
        decided = {}
        if any(row["lead_id"] not in self._origin.ids for row in rows) and self._origin.ids:
            kept = self.env["crm.lead.registration.event"]._read_group(
                [
                    ("event", "=", "kept"),
                    ("lead_id", "in", self._origin.ids),
                    ("registration_id", "in", [row["id"] for row in rows]),
                ],
                ["lead_id", "registration_id"],
                ["date:max"],
            )
            decided = {(lead.id, reg.id): date for lead, reg, date in kept}
        for lead in self:
            vals = vals_by_lead.get(lead)
            if not vals:
                lead.registration_conflict_ids = False
                lead.registration_conflict_message = False
                continue
            mine = [
                row
                for row in Registration._holders_of(vals, rows)
                if row["lead_id"] != lead._origin.id
            ]
            lead.registration_conflict_ids = [(6, 0, [row["lead_id"] for row in mine])]
            lead.registration_conflict_message = (
                "\n".join(
                    Registration._format_conflict(
                        row, decided=decided.get((lead._origin.id, row["id"]))
                    )
                    for row in mine
                )
                or False
            )

    def _registration_keys(self):
        """Every identity key of this lead's customer, and the lock scope."""
        self.ensure_one()
        company_id = (self.company_id or self.env.company).id
        scope, free_mail_domains = self.env["res.company"]._registration_lock_settings(company_id)
        commercial = self.partner_id.commercial_partner_id
        customer_key, name_key = self._customer_identity()
        return {
            "company_id": company_id,
            "product_line_id": scope == "product_line"
            and self.registration_product_line_id.id
            or False,
            "scope_team_id": scope == "team" and self.team_id.id or False,
            "customer_key": customer_key,
            "name_key": name_key,
            "vat_key": normalize_tax_id(commercial.vat),
            "domain_key": email_domain_key(self.email_from or commercial.email, free_mail_domains),
            "phone_key": normalize_phone(self.phone or commercial.phone),
        }

    @api.model
    def _refuse_keys_of_other_customers(self, vals_list):
        """A registration claims the keys of its own customer only: an e-mail
        domain, phone or tax ID that belongs to another existing customer (a
        company account whose e-mail or website has that domain, that phone,
        that tax ID, and whose name is not this customer's) is refused, naming
        the key and the customer it belongs to. Refused rather than dropped:
        the rep either picked the wrong account (that customer is the one to
        register) or typed someone else's details, and dropping the key would
        hide the first case from the conflict check. One query for the lot.

        A registration manager's decisions (arbitration moving a registration
        to another account, merges) are theirs to make and are not refused.
        """
        if self.env.user.has_group("opportunity_registration.group_registration_manager"):
            return
        wanted = [
            v for v in vals_list if v.get("domain_key") or v.get("phone_key") or v.get("vat_key")
        ]
        if not wanted:
            return
        domains = sorted({v["domain_key"] for v in wanted if v.get("domain_key")})
        phones = sorted({v["phone_key"].lstrip("+") for v in wanted if v.get("phone_key")})
        vats = sorted({v["vat_key"] for v in wanted if v.get("vat_key")})
        self.env["res.partner"].flush_model(
            ["active", "is_company", "commercial_partner_id", "company_id", "name"]
            + ["email", "website", "phone", "vat"]
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT p.id, p.name, p.company_id, p.email, p.website, p.phone, p.vat
                  FROM res_partner p
                 WHERE p.is_company AND (
                        (p.email IS NOT NULL AND %(email)s = ANY(%(domains)s))
                     OR (p.website IS NOT NULL AND %(website)s = ANY(%(domains)s))
                     OR (p.phone IS NOT NULL AND %(phone)s = ANY(%(phones)s))
                     OR (p.vat IS NOT NULL AND %(vat)s = ANY(%(vats)s))
                   )
                   AND p.active AND p.id = p.commercial_partner_id
                   AND (p.company_id IS NULL OR p.company_id = ANY(%(companies)s))
                 LIMIT 1000
                """,
                email=SQL(PARTNER_EMAIL_DOMAIN_SQL.replace("email", "p.email")),
                website=SQL(PARTNER_WEBSITE_DOMAIN_SQL.replace("website", "p.website")),
                phone=SQL(PARTNER_PHONE_TAIL_SQL.replace("phone", "p.phone")),
                vat=SQL(PARTNER_VAT_TAIL_SQL.replace("vat", "p.vat")),
                companies=sorted({v["company_id"] for v in wanted}),
                domains=domains,
                phones=sorted({key[-7:] for key in phones}),
                vats=sorted({key[-5:] for key in vats}),
            )
        )
        candidates = self.env.cr.dictfetchall()
        if not candidates:
            return
        Company = self.env["res.company"]
        labels = {
            "domain_key": self.env._("E-mail domain"),
            "phone_key": self.env._("Phone"),
            "vat_key": self.env._("Tax ID"),
        }
        for vals in wanted:
            _scope, free = Company._registration_lock_settings(vals["company_id"])
            for row in candidates:
                if row["id"] == vals.get("partner_id") or (
                    row["company_id"] and row["company_id"] != vals["company_id"]
                ):
                    continue
                if (
                    vals.get("customer_key")
                    and normalize_company_name(row["name"]) == vals["customer_key"]
                ):
                    continue  # the same customer under another account
                owned = {
                    "domain_key": {
                        email_domain_key(row["email"], free),
                        _website_domain(row["website"]),
                    },
                    "phone_key": {normalize_phone(row["phone"])},
                    "vat_key": {normalize_tax_id(row["vat"])},
                }
                for field, keys in owned.items():
                    if vals.get(field) and vals[field] in keys:
                        if self.env.user.share:
                            # a channel partner learns nothing of our accounts
                            raise ValidationError(
                                self.env._(
                                    "%(kind)s %(key)s belongs to another customer, not to "
                                    "%(name)s: correct the %(kind_lower)s of the deal.",
                                    kind=labels[field],
                                    kind_lower=labels[field].lower(),
                                    key=vals[field],
                                    name=vals.get("customer_name") or "-",
                                )
                            )
                        raise ValidationError(
                            self.env._(
                                "%(kind)s %(key)s belongs to the customer %(customer)s, not to "
                                "%(name)s. If this deal is %(customer)s's, choose that customer; "
                                "otherwise correct the %(kind_lower)s of the opportunity.",
                                kind=labels[field],
                                kind_lower=labels[field].lower(),
                                key=vals[field],
                                customer=row["name"],
                                name=vals.get("customer_name") or "-",
                            )
                        )

    def _registration_identity_vals(self):
        """What a registration stores of its customer: the keys, the scope, the
        customer account and name."""
        self.ensure_one()
        return dict(
            self._registration_keys(),
            partner_id=self.partner_id.commercial_partner_id.id,
            customer_name=self._registration_customer_name(),
        )

    @api.model
    def _cron_backfill_customer_key(self, batch_size=BACKFILL_BATCH):
        """Fill the customer keys of opportunities that existed before the install.

        Works downwards from the highest id the install found, one id range per
        transaction, so a database with millions of opportunities installs in
        seconds and gets its keys within minutes.
        """
        from ..hooks import BACKFILL_PARAM, fill_customer_keys

        Param = self.env["ir.config_parameter"].sudo()
        Cron = self.env["ir.cron"]
        below = int(Param.get_param(BACKFILL_PARAM, 0))
        while below > 0:
            self.flush_model()
            low = max(below - batch_size, 0)
            fill_customer_keys(self.env.cr, low, below)
            below = low
            Param.set_param(BACKFILL_PARAM, below)
            self.invalidate_model(["customer_key"])
            remaining = (below + batch_size - 1) // batch_size
            if not Cron._commit_progress(1, remaining=remaining):
                break
        return below


class ResPartner(models.Model):
    """Indexes that find, in one indexed query, which company account an
    e-mail domain, website, phone or tax ID belongs to (see
    ``crm.lead._refuse_keys_of_other_customers``)."""

    _inherit = "res.partner"

    _registration_email_domain_idx = models.Index(
        f"(({PARTNER_EMAIL_DOMAIN_SQL})) WHERE is_company AND email IS NOT NULL"
    )
    _registration_website_domain_idx = models.Index(
        f"(({PARTNER_WEBSITE_DOMAIN_SQL})) WHERE is_company AND website IS NOT NULL"
    )
    _registration_phone_tail_idx = models.Index(
        f"(({PARTNER_PHONE_TAIL_SQL})) WHERE is_company AND phone IS NOT NULL"
    )
    _registration_vat_tail_idx = models.Index(
        f"(({PARTNER_VAT_TAIL_SQL})) WHERE is_company AND vat IS NOT NULL"
    )
