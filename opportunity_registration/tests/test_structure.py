import ast
import pathlib
import tempfile
from collections import defaultdict

from odoo.modules.module import get_module_path
from odoo.tests import BaseCase, tagged

# The add-ons of this repository: the core and its bridges.
ADDONS = (
    "opportunity_registration",
    "opportunity_registration_portal",
    "opportunity_registration_sale",
)


def _model_of(cls):
    """The model a class defines or extends (its ``_name``, else its first ``_inherit``)."""
    attrs = {}
    for node in cls.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                attrs[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    inherit = attrs.get("_inherit")
    if isinstance(inherit, (list, tuple)):
        inherit = inherit[0] if inherit else None
    return attrs.get("_name") or inherit


def overrides_within(addon_path):
    """``{(model, method): [files]}`` for methods defined in more than one
    class of the same model in one add-on."""
    found = defaultdict(list)
    for path in sorted(pathlib.Path(addon_path).glob("*/*.py")):
        if path.parent.name not in ("models", "wizard", "report"):
            continue
        for cls in ast.parse(path.read_text()).body:
            if not isinstance(cls, ast.ClassDef):
                continue
            model = _model_of(cls)
            for node in cls.body:
                if model and isinstance(node, ast.FunctionDef):
                    found[model, node.name].append(path.name)
    return {key: files for key, files in found.items() if len(files) > 1}


@tagged("post_install", "-at_install", "opportunity_registration")
class TestStructure(BaseCase):
    def test_no_method_is_overridden_twice_within_one_addon(self):
        """Partial classes of one model in one add-on never override each
        other: which would run first depends on the import order. A step
        another file adds is called by name from the one method."""
        for addon in ADDONS:
            path = get_module_path(addon, display_warning=False)
            if not path:
                continue
            with self.subTest(addon=addon):
                self.assertEqual(overrides_within(path), {})

    def test_the_check_sees_an_override_twice(self):
        """The check is not blind: two classes of one model defining one method."""
        source = (
            "from odoo import models\n"
            "class A(models.Model):\n    _inherit = 'crm.lead'\n    def write(self, vals): pass\n"
            "class B(models.Model):\n    _inherit = ['crm.lead', 'x']\n    def write(self, vals): pass\n"
        )
        with tempfile.TemporaryDirectory() as root:
            models_dir = pathlib.Path(root) / "models"
            models_dir.mkdir()
            (models_dir / "a.py").write_text(source)
            self.assertEqual(overrides_within(root), {("crm.lead", "write"): ["a.py", "a.py"]})
