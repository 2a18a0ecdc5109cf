import polib

from odoo.exceptions import ValidationError
from odoo.modules.module import get_module_path
from odoo.tests import tagged
from odoo.tools.translate import TranslationModuleReader

from .common import RegistrationCase


@tagged("post_install", "-at_install", "opportunity_registration")
class TestTranslations(RegistrationCase):
    def test_every_term_has_a_chinese_translation(self):
        reader = TranslationModuleReader(self.env.cr, modules=["opportunity_registration"])
        sources = {row[4] for row in reader if row[0] == "opportunity_registration"}
        path = get_module_path("opportunity_registration") + "/i18n/zh_CN.po"
        translated = {entry.msgid for entry in polib.pofile(path) if entry.msgstr}
        self.assertGreater(len(sources), 300)
        self.assertEqual(sorted(sources - translated), [], "untranslated terms in zh_CN.po")

    def test_a_chinese_rep_reads_errors_and_labels_in_chinese(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["opportunity_registration"], ["zh_CN"])
        self.rep.lang = "zh_CN"
        lead = self._lead(need_description=False, expected_revenue=0)
        as_rep = lead.with_user(self.rep).with_context(
            lang=self.rep.lang
        )  # as the web client sends it
        with self.assertRaises(ValidationError) as err:
            as_rep.action_registration_submit()
        self.assertIn("无法提交", str(err.exception))
        self.assertIn("采购预算", str(err.exception))
        labels = dict(as_rep._fields["registration_state"]._description_selection(as_rep.env))
        self.assertEqual(labels["approved"], "已报备")
