"""What an attacker types: values per field type, hostile ones included.

Text payloads carry markup, links and spreadsheet formulas (invariant 10
looks for them, unescaped, in what the module stores as HTML), sizes near
the limits (invariant 11), and other people's customers (invariant 1).
Ids come from the current database: the attacker's own records, other
people's, other companies', and ids that do not exist.
"""

import base64
from datetime import date, timedelta

from hypothesis import strategies as st

# A tag from typed text that survives Odoo's HTML sanitizer: if one of these
# is found unescaped in a message body or a to-do note, text became markup.
HTML_PAYLOADS = (
    '<img src="https://attk.example/p.png">ATTK-IMG',
    '<a href="https://attk.example/x">ATTK-LINK</a>',
    '<b class="attk">ATTK-BOLD</b>',
)
HTML_PATTERNS = (
    '%<img src="https://attk.example%',
    '%<a href="https://attk.example%',
    '%<b class="attk">%',
)
FORMULA = '=HYPERLINK("https://attk.example/f","ATTK-FORMULA")'
BIG_TEXT = 200_000
TEXTS = HTML_PAYLOADS + (
    FORMULA,
    "+cmd|' /C calc'!A0",
    "'; DROP TABLE crm_lead; --",
    "%(amount)s {0} %s",
    "杭州云图科技有限公司",
    "x" * 300,
    "Ünïcødé ✓ \u202e gnirts",
    "",
    " ",
)


def texts(rivals=()):
    """Typed text: hostile payloads, a rival's customer identity, a huge
    string, or anything short."""
    return st.one_of(
        st.sampled_from(TEXTS + tuple(rivals)),
        st.just("A" * BIG_TEXT),
        st.text(max_size=40),
    )


def numbers():
    return st.one_of(
        st.sampled_from((-1, 0, 1, 19999.99, 20000, 50000, 200000, 1e15, -1e15, 1e308)),
        st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
    )


def integers():
    return st.one_of(
        st.sampled_from((-1, 0, 1, 2**31 - 1, -(2**31))),
        st.integers(min_value=-1000, max_value=100000),
    )


def dates(today):
    return st.one_of(
        st.sampled_from(("1900-01-01", "2999-12-31", "not a date", "2026-02-30")),
        st.integers(min_value=-400, max_value=400).map(
            lambda days: (today + timedelta(days=days)).isoformat()
        ),
    )


def datetimes(today):
    return dates(today).map(lambda d: d if len(d) != 10 or d[4] != "-" else d + " 08:30:00")


def field_value(draw, meta, ids_of, today, rivals=()):
    """A value for a field described by ``fields_get``'s ``meta``; None when
    the attacker does not type into fields of that kind."""
    kind = meta["type"]
    if kind in ("char", "text"):
        return draw(texts(rivals))
    if kind == "html":
        return draw(st.sampled_from(HTML_PAYLOADS)) + "<p>%s</p>" % draw(texts(rivals))[:200]
    if kind in ("float", "monetary"):
        return draw(numbers())
    if kind == "integer":
        return draw(integers())
    if kind == "boolean":
        return draw(st.booleans())
    if kind == "date":
        return draw(dates(today))
    if kind == "datetime":
        return draw(datetimes(today))
    if kind == "selection":
        choices = [key for key, _label in meta.get("selection") or []]
        return draw(st.sampled_from(choices + ["attk", False]))
    if kind == "many2one":
        return draw(record_id(ids_of(meta["relation"])))
    if kind == "many2many":
        ids = draw(st.lists(record_id(ids_of(meta["relation"])), max_size=3))
        return draw(st.sampled_from(([(6, 0, ids)], [(4, i) for i in ids])))
    if kind == "binary":
        return base64.b64encode(draw(st.binary(max_size=64))).decode()
    return None


def record_id(ids):
    """An id of a record of the database now, or one that does not exist."""
    return st.one_of(st.sampled_from(tuple(ids) or (1,)), st.sampled_from((0, 999_999_999)))


def method_argument(draw, name, ids_of, today, rivals=()):
    """A value for a method's parameter, guessed from its name."""
    if name in ("reason", "comment", "note", "body", "feedback", "name", "message"):
        return draw(texts(rivals))
    if "date" in name:
        return draw(dates(today))
    if name in ("user", "user_id", "users"):
        return draw(record_id(ids_of("res.users")))
    if name in ("partner_id", "partner_ids"):
        return draw(record_id(ids_of("res.partner")))
    if name == "domain":
        return draw(st.sampled_from(([], [("id", ">", 0)], [("user_id", "!=", False)])))
    if name in ("fields", "field_names", "fnames"):
        return draw(st.sampled_from(([], ["name"], ["expected_revenue", "description"])))
    if name in ("vals", "values", "vals_list"):
        return {}
    return draw(
        st.one_of(
            texts(rivals),
            numbers(),
            st.booleans(),
            st.none(),
            record_id(ids_of("crm.lead")),
        )
    )


def today():
    return date.today()
