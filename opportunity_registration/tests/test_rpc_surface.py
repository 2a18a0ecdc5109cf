"""The RPC surface itself: what a curious rep sends over JSON-RPC, as the web
client or a script would, is refused by the server with the right error."""

from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException

from .common import RegistrationCase

ACCESS_ERROR = "odoo.exceptions.AccessError"
USER_ERROR = "odoo.exceptions.UserError"
VALIDATION_ERROR = "odoo.exceptions.ValidationError"


@tagged("post_install", "-at_install", "opportunity_registration")
class TestRpcSurface(HttpCase, RegistrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pending = (
            cls.env["crm.lead"]
            .with_user(cls.rep)
            .create(
                cls._lead_vals(expected_revenue=500000)  # major band: Branch Manager Sun
            )
        )
        cls.pending.with_user(cls.rep).action_registration_submit()
        cls.reg = cls.pending.registration_id
        cls.review = cls.reg.sudo().review_ids

    def _call(self, login, model, method, *args, **kwargs):
        self.authenticate(login, login)
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw/%s/%s" % (model, method),
            {
                "model": model,
                "method": method,
                "args": list(args),
                "kwargs": kwargs,
            },
        )

    def _refused(self, error, login, model, method, *args, **kwargs):
        with self.assertRaises(JsonRpcException) as refusal:
            self._call(login, model, method, *args, **kwargs)
        self.assertEqual(refusal.exception.args[0], error, "%s.%s as %s" % (model, method, login))

    def test_engine_methods_over_rpc(self):
        reg = [self.reg.id]
        self._refused(ACCESS_ERROR, "opreg_rep", self.reg._name, "restart_validation", reg)
        self._refused(ACCESS_ERROR, "opreg_rep", self.reg._name, "request_validation", reg)
        self._refused(ACCESS_ERROR, "opreg_rep", self.reg._name, "validate_tier", reg)
        self._refused(ACCESS_ERROR, "opreg_approver", self.reg._name, "validate_tier", reg)
        self._refused(ACCESS_ERROR, "opreg_approver", self.reg._name, "action_approve", reg)
        self._refused(
            ACCESS_ERROR,
            "opreg_rep",
            "tier.review",
            "write",
            self.review.ids,
            {"status": "approved"},
        )
        self._refused(ACCESS_ERROR, "opreg_rep", "tier.review", "unlink", self.review.ids)
        self._refused(
            ACCESS_ERROR,
            "opreg_rep",
            "tier.review",
            "create",
            {
                "model": self.reg._name,
                "res_id": self.reg.id,
                "definition_id": self.review.definition_id.id,
            },
        )
        self._refused(ACCESS_ERROR, "opreg_rep2", self.reg._name, "read", reg, ["amount"])
        self.assertEqual(self.reg.state, "submitted")
        self.assertEqual(self.review.status, "pending")
        # the approver the band names decides, over RPC too
        self._call(
            "opreg_branch", self.reg._name, "action_approve", reg, comment="Budget confirmed"
        )
        self.assertEqual(self.reg.state, "approved")
        self.assertEqual(self.reg.approved_by_id, self.branch)

    def test_client_context_and_arguments_over_rpc(self):
        lead = [self.pending.id]
        self._refused(
            USER_ERROR, "opreg_rep", "crm.lead", "write", lead, {"registration_state": "approved"}
        )
        self.pending.sudo().user_id = False
        self.authenticate("opreg_rep2", "opreg_rep2")
        with self.assertRaises(JsonRpcException) as refusal:
            self.make_jsonrpc_request(
                "/web/dataset/call_kw/crm.lead/write",
                {
                    "model": "crm.lead",
                    "method": "write",
                    "args": [lead, {"user_id": self.rep2.id}],
                    "kwargs": {
                        "context": {"registration_transfer": True, "skip_validation_check": True}
                    },
                },
            )
        self.assertEqual(refusal.exception.args[0], USER_ERROR)
        # plain ids and strings from a script: a clear error, never a traceback
        self._refused(
            USER_ERROR,
            "opreg_manager",
            self.reg._name,
            "action_grant_extension",
            [self.reg.id],
            "not a date",
        )
        self._refused(
            USER_ERROR,
            "opreg_manager",
            self.reg._name,
            "action_transfer",
            [self.reg.id],
            user="nobody",
            reason="x",
        )
        self._refused(
            VALIDATION_ERROR, "opreg_rep", "crm.lead", "write", lead, {"expected_revenue": 1e308}
        )
