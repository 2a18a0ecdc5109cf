"""The people of THREATS.md and the documents the attacker may covet.

Built once per test class on top of the shared fixtures (RegistrationCase's
reps, approver and team, ChannelCase's partner companies and portal users):
only the people those fixtures do not have are created here. Every victim's
document carries *markers* -- its amount and a unique text in its need and
internal notes -- so that invariants 4 and 9 can recognise them in whatever
an attacker reads, whichever field, message or error carried them.
"""

from dataclasses import dataclass, field

from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.addons.opportunity_registration.tests.common_channel import ChannelCase

COMPANY_A = "A"
COMPANY_B = "B"
# people who read every document of their company by their group (stock
# crm's "all documents"), so a marker of company A is theirs to see
ALL_DOCUMENTS = ("all_documents_rep", "approver")


@dataclass
class Person:
    key: str
    login: str | None
    password: str | None
    uid: int | None
    company: str | None
    kind: str  # internal / portal / public
    partner_id: int | None = None

    @property
    def logged_in(self):
        return self.uid is not None


@dataclass
class Document:
    owner: str  # a person or victim key
    company: str
    lead_id: int
    kind: str  # draft / pending / approved / released / partner
    markers: list = field(default_factory=list)
    # portal users whose company made the deal (partner deals)
    partner_readers: tuple = ()
    # the owner's name: never for partners to learn (invariant 4)
    owner_name: str = ""


def _password(login):
    return "%s-Attk-2026" % login


def _set_password(user):
    user.sudo().password = _password(user.login)


def build_people(case):
    """The attackers and their victims, on the class fixtures of ``case``."""
    env = case.env
    company_a = case.company
    company_b = env["res.company"].create({"name": "Attacker Company B"})
    all_docs = mail_new_test_user(
        env,
        login="opreg_atk_alldocs",
        name="Rep Gao (all documents)",
        groups="sales_team.group_sale_salesman_all_leads",
    )
    employee = mail_new_test_user(
        env, login="opreg_atk_employee", name="Clerk Ma", groups="base.group_user"
    )
    rep_b = mail_new_test_user(
        env,
        login="opreg_atk_rep_b",
        name="Rep Wu (Company B)",
        groups="sales_team.group_sale_salesman",
        company_id=company_b.id,
        company_ids=[(6, 0, company_b.ids)],
    )
    portal_customer = mail_new_test_user(
        env,
        login="opreg_atk_customer",
        name="Buyer Zhou (portal customer)",
        email="zhou@yuntu.example.com",
        groups="base.group_portal",
    )
    portal_customer.partner_id.parent_id = case.customer
    case.team.member_ids |= all_docs
    team_b = (
        env["crm.team"]
        .with_company(company_b)
        .create({"name": "B-East", "company_id": company_b.id, "member_ids": [(6, 0, rep_b.ids)]})
    )
    if "is_channel_partner" in env["res.partner"]._fields:
        (case.reseller_a | case.reseller_b).is_channel_partner = True
    users = {
        "curious_rep": case.rep,
        "all_documents_rep": all_docs,
        "employee": employee,
        "other_company_rep": rep_b,
        "approver": case.approver,
        "portal_customer": portal_customer,
        "channel_partner": case.portal_a,
        # victims: not attackers, owners of what the attackers covet
        "rival_rep": case.rep2,
        "rival_partner": case.portal_b,
    }
    for user in users.values():
        _set_password(user)
    companies = {company_a.id: COMPANY_A, company_b.id: COMPANY_B}
    people = {}
    for key, user in users.items():
        people[key] = Person(
            key=key,
            login=user.login,
            password=_password(user.login),
            uid=user.id,
            company=companies[user.company_id.id],
            kind="portal" if user.share else "internal",
            partner_id=user.partner_id.id,
        )
    people["outsider"] = Person("outsider", None, None, None, None, "public")
    return people, users, {"A": company_a, "B": company_b}, team_b


ATTACKERS = (
    "curious_rep",
    "all_documents_rep",
    "employee",
    "other_company_rep",
    "approver",
    "portal_customer",
    "channel_partner",
    "outsider",
)


def _amount_markers(amount):
    return ["%.2f" % amount, f"{amount:,.2f}"]


def build_documents(case, people, users, companies, team_b):
    """Each victim's draft, pending, approved (and one released) opportunity,
    and one deal per partner company; returns the Documents."""
    docs = []
    owners = (
        ("curious_rep", case.team),
        ("rival_rep", case.team),
        ("all_documents_rep", case.team),
        ("other_company_rep", team_b),
    )
    kinds = {"draft": 41000, "pending": 32000, "approved": 13000, "released": 14000}
    for index, (owner, team) in enumerate(owners, start=1):
        user = users[owner]
        for kind, base in kinds.items():
            if kind == "released" and owner != "rival_rep":
                continue
            amount = base + index * 100 + 0.37
            secret = "ATTK-SECRET-%s-%s" % (owner, kind)
            lead = (
                case.env["crm.lead"]
                .with_user(user)
                .with_company(team.company_id)
                .create(
                    case._lead_vals(
                        name="Attk %s %s" % (owner, kind),
                        partner_id=False,
                        partner_name="Attk %s %s Trading Ltd" % (owner, kind),
                        expected_revenue=amount,
                        team_id=team.id,
                        user_id=user.id,
                        company_id=team.company_id.id,
                        need_description="%s need" % secret,
                        description="<p>%s notes</p>" % secret,
                    )
                )
            )
            if kind != "draft":
                lead.with_user(user).with_company(team.company_id).action_registration_submit()
            if kind == "released":
                lead.with_user(user).action_registration_release(reason="%s reason" % secret)
            docs.append(
                Document(
                    owner=owner,
                    company=people[owner].company,
                    lead_id=lead.id,
                    kind=kind,
                    markers=[secret] + _amount_markers(amount),
                    owner_name=user.name,
                )
            )
    for index, (owner, portal_user) in enumerate(
        (("channel_partner", case.portal_a), ("rival_partner", case.portal_b)), start=1
    ):
        budget = 23000 + index * 100 + 0.37
        secret = "ATTK-SECRET-%s-deal" % owner
        # the shared fixture's portal form, filled in for this partner
        form = ChannelCase._form(
            case,
            company_name="Attk %s Customer Co., Ltd." % owner,
            vat="9133%014d" % (index * 7919),
            contact_name="Mr Attk %s" % index,
            email="buyer@attk-%s.example.com" % owner.replace("_", ""),
            phone="+86 21 %08d" % (31337000 + index),
            need="%s need" % secret,
            budget="%.2f" % budget,
            notes="%s notes" % secret,
        )
        reg = case.env["crm.lead"].with_user(portal_user)._portal_register(form)
        docs.append(
            Document(
                owner=owner,
                company=COMPANY_A,
                lead_id=reg.lead_id.id,
                kind="partner",
                markers=[secret] + _amount_markers(budget),
                partner_readers=tuple(
                    key
                    for key, user in users.items()
                    if user.partner_id.commercial_partner_id == portal_user.partner_id.parent_id
                ),
            )
        )
    return docs


def may_read(person, doc):
    """Whether ``person`` may learn ``doc``'s markers (SPEC invariants 4, 9):
    its owner, the partner company that made it, and the all-documents users
    of its company; nobody else, whatever state (pool included) it is in."""
    if person.key == doc.owner or person.key in doc.partner_readers:
        return True
    return person.key in ALL_DOCUMENTS and person.company == doc.company
