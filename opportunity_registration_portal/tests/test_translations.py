import polib

from odoo.addons.opportunity_registration.tests.common_channel import ChannelCase
from odoo.modules.module import get_module_path
from odoo.tests import tagged
from odoo.tools.translate import TranslationModuleReader

MODULE = "opportunity_registration_portal"


@tagged("post_install", "-at_install", MODULE)
class TestPortalTranslations(ChannelCase):
    def test_every_term_has_a_chinese_translation(self):
        """The partner's pages and e-mails, in Chinese: every term of the add-on."""
        reader = TranslationModuleReader(self.env.cr, modules=[MODULE])
        sources = {row[4] for row in reader if row[0] == MODULE}
        translated = {
            entry.msgid
            for entry in polib.pofile(get_module_path(MODULE) + "/i18n/zh_CN.po")
            if entry.msgstr
        }
        self.assertGreater(len(sources), 50)
        self.assertEqual(sorted(sources - translated), [], "untranslated terms in zh_CN.po")
