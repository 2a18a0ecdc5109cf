"""Submission with arbitrary input (Hypothesis): whatever a rep or a script
types, a submission either succeeds or is refused with a UserError /
ValidationError, nothing is half-written, and no key matches everything."""

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import RegistrationCase

TEXT = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "()",
            "有限公司",
            "Co., Ltd.",
            "🙂🙂",
            "<script>x</script>",
            "1" * 3000,
            "+86 (10) 8888-6666",
            "a@b",
            "x@gmail.com",
        ]
    ),
)
AMOUNT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from([0, 1, 19999.99, 20000, 5e12, 1e13 + 1]),
)
DEADLINE = st.one_of(st.none(), st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@tagged("post_install", "-at_install", "opportunity_registration")
class TestSubmitProperties(RegistrationCase):
    @SETTINGS
    @given(partner_name=TEXT, email=TEXT, phone=TEXT, amount=AMOUNT, deadline=DEADLINE, need=TEXT)
    def test_submit_never_crashes_nor_half_writes(
        self, partner_name, email, phone, amount, deadline, need
    ):
        Registration = self.env["crm.lead.registration"].sudo()
        with self.env.cr.savepoint(flush=False) as savepoint:
            before = Registration.search_count([])
            vals = self._lead_vals(
                partner_id=False,
                partner_name=partner_name,
                email_from=email,
                phone=phone,
                expected_revenue=amount,
                date_deadline=deadline,
                need_description=need,
            )
            try:
                lead = self.env["crm.lead"].with_user(self.rep).create(vals)
                lead.with_user(self.rep).action_registration_submit()
            except (UserError, ValidationError):
                self.env.invalidate_all()
                # refused: nothing was registered
                self.assertEqual(Registration.search_count([]), before)
            else:
                reg = lead.registration_id
                self.assertEqual(Registration.search_count([]), before + 1)
                keys = [reg.customer_key, reg.vat_key, reg.domain_key, reg.phone_key, reg.name_key]
                self.assertTrue(any(keys), "a registration always locks something")
                self.assertNotIn("", keys, "an empty key would match every other empty key")
                self.assertEqual(lead.registration_state, reg.state)
            savepoint.rollback()
            self.env.invalidate_all()
