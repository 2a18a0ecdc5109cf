"""Normalization of what identifies a customer, as pure functions.

Two registrations claim the same customer when their keys are equal, so the
functions fold away what differs between two spellings of one company:
letter case, full-width/half-width forms, punctuation, spaces and legal-form
suffixes. A value that normalizes to nothing gives ``False`` and is never used
for matching (an empty key would match every other empty key).
"""

import re
import unicodedata

# Longest first, so that "股份有限公司" is removed before "有限公司".
LEGAL_SUFFIXES = sorted(
    [
        "股份有限公司",
        "有限责任公司",
        "有限公司",
        "集团公司",
        "集团",
        "公司",
        "co ltd",
        "co limited",
        "company limited",
        "corporation",
        "corp",
        "limited",
        "ltd",
        "inc",
        "incorporated",
        "llc",
        "gmbh",
        "sa",
        "ag",
        "plc",
        "company",
        "co",
    ],
    key=len,
    reverse=True,
)
_PUNCTUATION = re.compile(r"[\W_]+", re.UNICODE)
MAX_KEY_LENGTH = 200


def normalize_company_name(name):
    """Identity key of a company name, or False when nothing is left."""
    if not name or not isinstance(name, str):
        return False
    text = unicodedata.normalize("NFKC", name[:1000]).casefold()
    # Parenthesised remarks such as "(北京)" or "(China)" stay part of the name:
    # only their brackets go. Words are kept apart by one space while suffixes
    # are stripped, then all separators are removed.
    text = _PUNCTUATION.sub(" ", text).strip()
    changed = True
    while changed and text:
        changed = False
        for suffix in LEGAL_SUFFIXES:
            if text == suffix:
                break
            if _is_cjk(suffix[0]):
                if text.endswith(suffix):
                    text = text[: -len(suffix)].strip()
                    changed = True
                    break
            elif text.endswith(" " + suffix):
                text = text[: -len(suffix) - 1].strip()
                changed = True
                break
    key = text.replace(" ", "")
    return key[:MAX_KEY_LENGTH] or False


def _is_cjk(char):
    return "\u4e00" <= char <= "\u9fff"
