from odoo.tools import SQL, sql


def migrate(cr, version):
    """The lock history's note is what people typed, kept once (its sentence
    is computed in the reader's language): its translated column becomes
    text. Odoo keeps a field translated while the database says it is, so
    the column and the field's record are both changed here."""
    if not version:
        return
    column = sql.table_columns(cr, "crm_lead_registration_event").get("note")
    if column and column["udt_name"] == "jsonb":
        sql.convert_column_translatable(cr, "crm_lead_registration_event", "note", "text")
    cr.execute(
        SQL(
            "UPDATE ir_model_fields SET translate = NULL "
            "WHERE model = 'crm.lead.registration.event' AND name = 'note'"
        )
    )
