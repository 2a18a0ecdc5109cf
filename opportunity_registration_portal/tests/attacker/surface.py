"""The step set, found at run time: for each person and each model the
invariants depend on, every public method (as Odoo's RPC dispatcher would
accept it) and create/write/unlink with every field the person may write."""

import inspect

from odoo.exceptions import AccessError
from odoo.service.model import get_public_method

from .people import ATTACKERS

MODELS = (
    "crm.lead",
    "crm.lead.registration",
    "crm.lead.registration.event",
    "crm.lead.registration.band",
    "tier.review",
    "tier.definition",
    "mail.activity",
    "mail.message",
    "mail.followers",
    "res.partner",
    "crm.team",
    "crm.team.member",
    "ir.attachment",
    "crm.forecast.metrics",
)
CRUD = ("create", "write", "unlink")
# what a writer types into: fields of these kinds (values.field_value)
TYPED = {
    "char",
    "text",
    "html",
    "float",
    "monetary",
    "integer",
    "boolean",
    "date",
    "datetime",
    "selection",
    "many2one",
    "many2many",
    "binary",
}


class Signature:
    """How a method is called over RPC: on ids or on the model, and its parameters."""

    def __init__(self, function):
        self.on_model = bool(getattr(function, "_api_model", False))
        self.required = []
        self.optional = []
        try:
            parameters = list(inspect.signature(function).parameters.values())[1:]
        except (TypeError, ValueError):
            parameters = []
        for parameter in parameters:
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                continue
            if parameter.default is parameter.empty:
                self.required.append(parameter.name)
            else:
                self.optional.append(parameter.name)


class Surface:
    def __init__(self, env, people):
        self.models = tuple(m for m in MODELS if m in env)
        self.methods = {}  # model -> {name: Signature}
        for model in self.models:
            records = env[model]
            found = {}
            for name in sorted(dir(type(records))):
                if name.startswith("_") or name in CRUD:
                    continue
                try:
                    function = get_public_method(records, name)
                except (AccessError, AttributeError):
                    continue
                found[name] = Signature(function)
            self.methods[model] = found
        self.crud = []  # (person key, model, operation)
        self.writable = {}  # (person key, model) -> {field: fields_get meta}
        for person in people.values():
            if not person.logged_in or person.key not in ATTACKERS:
                continue
            for model in self.models:
                records = env[model].with_user(person.uid)
                if records._abstract or not records._auto:
                    continue
                for operation in CRUD:
                    if records.has_access(operation):
                        self.crud.append((person.key, model, operation))
                if records.has_access("create") or records.has_access("write"):
                    meta = records.fields_get(
                        attributes=["type", "readonly", "relation", "selection"]
                    )
                    self.writable[person.key, model] = {
                        name: m
                        for name, m in meta.items()
                        if not m.get("readonly") and m["type"] in TYPED and name != "id"
                    }

    def size(self, people):
        """people x operations x models, and the rows of it."""
        rows = []
        for person in people.values():
            if person.key not in ATTACKERS:
                continue
            for model in self.models:
                operations = len(self.methods[model])
                operations += sum(1 for p, m, _op in self.crud if p == person.key and m == model)
                operations += len(self.writable.get((person.key, model), {}))
                rows.append((person.key, model, operations))
        return sum(r[2] for r in rows), rows
