"""Normalization of what identifies a customer, as pure functions.

Two registrations claim the same customer when one of their keys is equal, so
each function folds away what differs between two spellings of one customer
and keeps what tells two customers apart. There is one function per key:

* :func:`normalize_company_name` -- the company name;
* :func:`normalize_tax_id` -- tax id, VAT number, unified social credit code
  (统一社会信用代码);
* :func:`email_domain_key` -- the domain of a corporate e-mail address
  (free-mail domains excluded, the list is the caller's);
* :func:`normalize_phone` -- the phone number.

Every function returns a non-empty ``str`` or ``False``. ``False`` means "not
usable for matching": the value was empty, garbage, or normalized to nothing
(an empty key would match every other empty key). The functions never raise,
whatever they are given (``None``, numbers, 10,000-character strings, emoji).
A company key is at most :data:`MAX_KEY_LENGTH` characters; the other keys
have their own, smaller bounds (30 characters for a tax id, 16 for a phone,
253 for a domain, as DNS allows).

Their work is bounded whatever the size of the input, before any regular
expression or Unicode normalization runs: a company name is cut to its first
:data:`MAX_INPUT_LENGTH` characters, while a tax id, an e-mail address or a
phone number longer than :data:`MAX_TAX_ID_INPUT_LENGTH`,
:data:`MAX_EMAIL_LENGTH` or :data:`MAX_PHONE_INPUT_LENGTH` characters (an
integer with that many digits) is not one, and gives ``False`` at once. Every
regular expression used here runs in linear time (no nested or overlapping
repetition), and NFKC makes a text at most 18 times longer, so each key costs
at most a small constant times these lengths.

This module imports nothing from Odoo, so that it can be used (and tested)
outside a server, e.g. by the benchmark data generator.

Company-name rules (see :func:`normalize_company_name` for the details):

* Unicode NFKC (full-width ``ＨＵＡＷＥＩ`` is ``HUAWEI``), case folding, accents
  dropped on Latin letters (``Société`` is ``societe``), ``&`` read as ``and``;
* punctuation, symbols (emoji included) and spaces removed;
* a leading ``the`` dropped;
* legal-form suffixes removed, repeatedly (``有限公司``, ``股份有限公司``,
  ``集团``, ``Co., Ltd.``, ``Inc.``, ``GmbH & Co. KG``, ``AG & Co. KGaA``,
  ``S.A.R.L.``, ...);
* a branch belongs to its head company: ``XX有限公司北京分公司`` and
  ``XX北京分公司`` are ``XX``, as are ``XX Ltd. Shanghai Branch`` and
  ``XX Shanghai Branch``;
* a bracketed region remark (``腾讯科技（深圳）有限公司``, ``Siemens (China) Ltd.``)
  or a bracketed legal form (``（有限合伙）``) is dropped: for ownership locks the
  regional subsidiaries of one group are one customer. Any other bracketed
  remark is kept as part of the name, without its brackets;
* nothing else is dropped: industry words (``科技``, ``技术``, ``Tools``,
  ``Technologies``) keep two companies apart, and a region written at the
  start of a Chinese name (``北京银行``) is part of the name.
"""

import hashlib
import re
import unicodedata

MAX_INPUT_LENGTH = 1000
MAX_KEY_LENGTH = 200


def _short_text(value, max_length):
    """``value`` as a ``str`` of at most ``max_length`` characters, or ``None``.

    A ``str`` longer than that, and an ``int`` whose decimal form would be, is
    ``None`` before any work is done on it: the decimal form of a huge ``int``
    costs quadratic time, and ``str()`` raises above 4,300 digits.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if not -(10 ** (max_length - 1)) < value < 10**max_length:
            return None
        return "%d" % value
    if isinstance(value, str) and len(value) <= max_length:
        return value
    return None


# ---------------------------------------------------------------------------
# Company names
# ---------------------------------------------------------------------------

# Chinese legal forms (simplified and traditional), removed from the end.
CJK_LEGAL_SUFFIXES = (
    "集团股份有限公司",
    "集团有限责任公司",
    "集团有限公司",
    "股份有限公司",
    "有限责任公司",
    "集團股份有限公司",
    "集團有限公司",
    "有限責任公司",
    "股份有限公司",
    "股份公司",
    "有限公司",
    "集团公司",
    "集團公司",
    "株式会社",
    "合伙企业",
    "有限合伙",
    "总公司",
    "總公司",
    "集团",
    "集團",
    "公司",
)
# Latin legal forms, as words after punctuation became spaces ("L.L.C." is
# "l l c"), removed from the end.
LATIN_LEGAL_SUFFIXES = (
    "co ltd",
    "co limited",
    "company limited",
    "company ltd",
    "pte ltd",
    "pte limited",
    "pty ltd",
    "pvt ltd",
    "private limited",
    "sdn bhd",
    "gmbh and co kg",
    "gmbh co kg",
    "gmbh and co kgaa",
    "gmbh co kgaa",
    "ag and co kg",
    "ag co kg",
    "ag and co kgaa",
    "ag co kgaa",
    "se and co kg",
    "se co kg",
    "se and co kgaa",
    "se co kgaa",
    "gmbh and co",
    "co kg",
    "co kgaa",
    "kgaa",
    "kg",
    "corporation",
    "corp",
    "incorporated",
    "inc",
    "limited",
    "ltd",
    "llc",
    "l l c",
    "llp",
    "l l p",
    "lp",
    "plc",
    "gmbh",
    "ag",
    "se",
    "sa",
    "s a",
    "sas",
    "s a s",
    "sarl",
    "s a r l",
    "sa de cv",
    "s a de c v",
    "bv",
    "b v",
    "nv",
    "n v",
    "spa",
    "s p a",
    "srl",
    "s r l",
    "oy",
    "oyj",
    "ab",
    "asa",
    "aps",
    "a s",
    "a g",
    "kk",
    "k k",
    "company",
    "co",
    "group",
)
_CJK_SUFFIXES = sorted(set(CJK_LEGAL_SUFFIXES), key=len, reverse=True)
_LATIN_SUFFIXES = sorted({tuple(s.split()) for s in LATIN_LEGAL_SUFFIXES}, key=len, reverse=True)
# The Latin suffixes by their last word, longest first: only those ending with
# a name's last word are tried.
_LATIN_SUFFIXES_BY_LAST = {}
for _suffix in _LATIN_SUFFIXES:
    _LATIN_SUFFIXES_BY_LAST.setdefault(_suffix[-1], []).append(_suffix)
del _suffix

# What a branch is called, at the end of a name.
CJK_BRANCH_WORDS = (
    "分公司",
    "分店",
    "分厂",
    "分行",
    "支行",
    "分部",
    "办事处",
    "辦事處",
    "代表处",
    "代表處",
    "营业部",
    "營業部",
)
LATIN_BRANCH_WORDS = (
    ("branch", "office"),
    ("representative", "office"),
    ("rep", "office"),
    ("branch",),
)

# Regions dropped before a branch word or inside brackets. A region written
# elsewhere stays part of the name ("北京银行" is not "银行").
CJK_REGIONS = (
    "中国 中國 北京 天津 上海 重庆 重慶 河北 山西 辽宁 遼寧 吉林 黑龙江 江苏 江蘇 浙江 安徽 "
    "福建 江西 山东 山東 河南 湖北 湖南 广东 廣東 海南 四川 贵州 貴州 云南 雲南 陕西 陝西 "
    "甘肃 甘肅 青海 台湾 臺灣 台灣 内蒙古 廣西 广西 西藏 宁夏 寧夏 新疆 香港 澳门 澳門 "
    "深圳 广州 廣州 杭州 南京 苏州 蘇州 成都 武汉 武漢 西安 长沙 長沙 郑州 鄭州 青岛 青島 "
    "大连 大連 厦门 廈門 宁波 寧波 沈阳 瀋陽 济南 濟南 合肥 福州 昆明 哈尔滨 长春 石家庄 "
    "太原 南昌 南宁 贵阳 兰州 海口 无锡 东莞 佛山 珠海 温州 常州 烟台 徐州 唐山 "
    "华北 华东 华南 华中 西南 西北 东北 亚太 亞太 国际 國際"
).split()
_CJK_REGION_RE = re.compile(
    "(?:%s)(?:特别行政区|自治区|省|市|区|縣|县)?$"
    % "|".join(sorted(map(re.escape, CJK_REGIONS), key=len, reverse=True))
)
LATIN_REGIONS = {
    "china",
    "prc",
    "beijing",
    "shanghai",
    "shenzhen",
    "guangzhou",
    "hangzhou",
    "tianjin",
    "chengdu",
    "wuhan",
    "suzhou",
    "nanjing",
    "xiamen",
    "dalian",
    "qingdao",
    "hong",
    "kong",
    "hongkong",
    "hk",
    "macau",
    "macao",
    "taiwan",
    "asia",
    "pacific",
    "apac",
    "emea",
    "europe",
    "international",
    "global",
    "usa",
    "us",
    "america",
    "uk",
    "germany",
    "deutschland",
    "france",
    "japan",
    "korea",
    "singapore",
    "india",
    "australia",
    "canada",
    "brazil",
    "mexico",
    "italy",
    "spain",
    "netherlands",
    "switzerland",
    "sweden",
    "russia",
    "north",
    "south",
    "east",
    "west",
    "central",
    "greater",
    "mainland",
}
_CJK_BRACKET_LEGAL = {"有限合伙", "普通合伙", "特殊普通合伙", "个人独资", "個人獨資"}

# All linear: a bracket pair holds no bracket, so each character is read from
# one opening bracket at most; "&" is tried only right after a word character.
_BRACKETS = re.compile(
    r"[(\[{（【〔［｛「『〈《]([^()\[\]{}（）【】〔〕［］｛｝「」『』〈〉《》]*)[)\]}）】〕］｝」』〉》]"
)
_AMPERSAND = re.compile(r"(?<=\w)\s*[&+]\s*(?=\w)")
_NON_WORD = re.compile(r"[\W_]+")
_CJK_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


# Cyrillic and Greek letters drawn like Latin ones: in a name that also has
# Latin letters they are read as Latin ("Аcme" with a Cyrillic А is "acme").
_LATIN_LOOKALIKES = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "і": "i",
        "ј": "j",
        "ѕ": "s",
        "α": "a",
        "β": "b",
        "ε": "e",
        "η": "n",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
    }
)
_LATIN_LETTER = re.compile(r"[a-z]")
_WORD = re.compile(r"\w+")
_LOOKALIKE_LETTERS = frozenset(chr(code) for code in _LATIN_LOOKALIKES)


def _only_lookalikes(word):
    """Whether every letter of ``word`` is a Cyrillic or Greek look-alike of a
    Latin letter (digits and "_" aside): "со" (Cyrillic), not "сбербанк" (б)."""
    letters = [char for char in word if char.isalpha()]
    return bool(letters) and all(char in _LOOKALIKE_LETTERS for char in letters)


def _latin_lookalikes(match):
    """In a name written in Latin letters, a word mixing Latin letters with
    Latin-looking ones, or written in Latin-looking letters only ("Со., Ltd."
    with a Cyrillic С and о), is a Latin word. A word with any letter that
    looks like no Latin one ("Сбербанк") stays as it is."""
    word = match.group()
    if _LATIN_LETTER.search(word) or _only_lookalikes(word):
        return word.translate(_LATIN_LOOKALIKES)
    return word


def _fold(text):
    """NFKC, case folding, accents dropped on Latin letters, and Latin-looking
    Cyrillic or Greek letters read as Latin in a name that has Latin letters
    (see :func:`_latin_lookalikes`); a name without any Latin letter keeps its
    script (its legal form is still recognised, see :func:`_strip_suffixes`)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isascii():
        return text
    if _LATIN_LETTER.search(text):
        text = _WORD.sub(_latin_lookalikes, text)
    out = []
    for char in text:
        if "\u00c0" <= char <= "\u024f":
            out.append(
                "".join(
                    c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
                )
            )
        else:
            out.append(char)
    return "".join(out)


def _is_region_remark(content):
    """Whether a bracketed remark only says where, or which legal form."""
    words = _NON_WORD.sub(" ", content).split()
    if not words:
        return True
    joined = "".join(words)
    if _CJK_CHAR.search(joined):
        return bool(_CJK_REGION_RE.fullmatch(joined)) or joined in _CJK_BRACKET_LEGAL
    return all(word in LATIN_REGIONS for word in words)


def _drop_brackets(text):
    def replace(match):
        content = match.group(1)
        return " " if _is_region_remark(content) else " %s " % content

    for _ in range(5):  # nested brackets, innermost first; bounded
        new = _BRACKETS.sub(replace, text)
        if new == text:
            break
        text = new
    return text


def _strip_cjk_suffixes(word):
    """``word`` without the legal forms at its end, and whether there were any.

    The end moves left without copying, so that "有限公司" repeated a thousand
    times costs no more than reading it.
    """
    end = len(word)
    while end:
        for suffix in _CJK_SUFFIXES:
            if word.endswith(suffix, 0, end):
                end -= len(suffix)
                break
        else:
            break
    return word[:end], end < len(word)


def _strip_cjk_branch(words):
    """ "XX有限公司北京分公司" and "XX北京分公司" belong to "XX"."""
    last = words[-1]
    for branch in CJK_BRANCH_WORDS:
        if last.endswith(branch) and len(last) > len(branch):
            head = last[: -len(branch)]
            # Cut after the last legal form before the branch part...
            cut = max((head.rfind(s) + len(s) for s in _CJK_SUFFIXES if s in head), default=-1)
            if 0 < cut:
                head = head[:cut]
            else:
                # ...or drop the region right before the branch word.
                stripped = _CJK_REGION_RE.sub("", head)
                if stripped or len(words) > 1:
                    head = stripped
            return words[:-1] + [head] if head else words[:-1]
    return words


def _strip_latin_branch(words):
    """ "XX Ltd. Shanghai Branch" and "XX Shanghai Branch" belong to "XX"."""
    for branch in LATIN_BRANCH_WORDS:
        n = len(branch)
        if len(words) > n and tuple(words[-n:]) == branch:
            words = words[:-n]
            while len(words) > 1 and words[-1] in LATIN_REGIONS:
                words = words[:-1]
            break
    return words


def _strip_suffixes(words):
    """Remove legal forms from the end until none is left.

    Linear in the number of words: each turn removes at least one word or
    character from the end, in place, and tries only the suffixes that end
    with the last word.
    """
    words = list(words)
    while words:
        last, cut = _strip_cjk_suffixes(words[-1])
        if cut:  # "腾讯科技 有限公司" loses its last word
            if last:
                words[-1] = last
            else:
                words.pop()
            continue
        # a Latin legal form typed in look-alike letters ("Со" in Cyrillic) is
        # that legal form, in any name: only whole look-alike words are read so
        last = _as_latin(words[-1])
        for suffix in _LATIN_SUFFIXES_BY_LAST.get(last, ()):
            n = len(suffix)
            if len(words) >= n and tuple(_as_latin(word) for word in words[-n:]) == suffix:
                del words[-n:]
                break
        else:
            break
    return words


def _as_latin(word):
    """``word`` in Latin letters when it is written in look-alikes only."""
    return word.translate(_LATIN_LOOKALIKES) if _only_lookalikes(word) else word


def _bounded(key):
    """At most MAX_KEY_LENGTH characters; a longer key keeps a hash of the rest."""
    if len(key) <= MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
    return key[: MAX_KEY_LENGTH - 17] + "#" + digest


def normalize_company_name(name):
    """Identity key of a company name, or ``False`` when nothing usable is left.

    ``"华为技术有限公司"``, ``"华为技术有限公司深圳分公司"`` and ``"华为技术"`` give
    ``"华为技术"``; ``"Acme Co., Ltd."``, ``"ACME CO LTD"`` and ``"Acme
    Corporation"`` give ``"acme"``, ``"Acme Tools Inc."`` gives ``"acmetools"``.
    Only the first :data:`MAX_INPUT_LENGTH` characters are read.
    """
    if not isinstance(name, str) or not name:
        return False
    text = _fold(name[:MAX_INPUT_LENGTH])
    text = _AMPERSAND.sub(" and ", text)
    text = _drop_brackets(text)
    # Words kept apart while suffixes are stripped; CJK runs are words too.
    words = _NON_WORD.sub(" ", text).split()
    if not words:
        return False
    if words[0] == "the":  # an article; a name that is only "the" gives nothing
        words = words[1:]
    words = _strip_latin_branch(words)
    if words:
        words = _strip_cjk_branch(words)
    # A name that is only a legal form ("有限公司", "Co., Ltd.") gives nothing.
    words = _strip_suffixes(words)
    key = "".join(words)
    return _bounded(key) if key else False


# ---------------------------------------------------------------------------
# Tax ids
# ---------------------------------------------------------------------------

# National formats after a country prefix: the prefix is dropped only when
# what follows has its country's shape, so that "DE123456789" and
# "123456789" are one key, while a national number that happens to start
# with two letters keeps them.
_USCC = r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}"
VAT_COUNTRY_FORMATS = {
    "CN": _USCC,
    "AT": r"U\d{8}",
    "BE": r"[01]\d{9}",
    "BG": r"\d{9,10}",
    "CY": r"\d{8}[A-Z]",
    "CZ": r"\d{8,10}",
    "DE": r"\d{9}",
    "DK": r"\d{8}",
    "EE": r"\d{9}",
    "EL": r"\d{9}",
    "GR": r"\d{9}",
    "ES": r"[0-9A-Z]\d{7}[0-9A-Z]",
    "FI": r"\d{8}",
    "FR": r"[0-9A-HJ-NP-Z]{2}\d{9}",
    "GB": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
    "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
    "HR": r"\d{11}",
    "HU": r"\d{8}",
    "IE": r"\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W]",
    "IT": r"\d{11}",
    "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}",
    "LV": r"\d{11}",
    "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "RO": r"\d{2,10}",
    "SE": r"\d{12}",
    "SI": r"\d{8}",
    "SK": r"\d{10}",
}
_VAT_COUNTRY_RE = {cc: re.compile(fmt) for cc, fmt in VAT_COUNTRY_FORMATS.items()}
MIN_TAX_ID_LENGTH = 5
MAX_TAX_ID_LENGTH = 30
# Longest raw tax id read, separators and country prefix included.
MAX_TAX_ID_INPUT_LENGTH = 64


def normalize_tax_id(vat):
    """Identity key of a tax id / VAT number / unified social credit code.

    Upper case, without spaces, dashes, dots or other separators; a leading
    country prefix is dropped when the rest has that country's format
    (``"CN 91110000 802100433B"`` and ``"91110000802100433B"`` are one key).
    ``False`` for fewer than 5 characters, no digit at all, one repeated
    character ("000000") or more than 30 characters, and for a value of more
    than :data:`MAX_TAX_ID_INPUT_LENGTH` characters before any of them is
    dropped.
    """
    text = _short_text(vat, MAX_TAX_ID_INPUT_LENGTH)
    if text is None:
        return False
    text = unicodedata.normalize("NFKC", text).upper()
    key = "".join(ch for ch in text if ch.isascii() and ch.isalnum())
    if len(key) > 2 and key[:2] in _VAT_COUNTRY_RE and _VAT_COUNTRY_RE[key[:2]].fullmatch(key[2:]):
        key = key[2:]
    if not MIN_TAX_ID_LENGTH <= len(key) <= MAX_TAX_ID_LENGTH:
        return False
    if not any(ch.isdigit() for ch in key) or len(set(key)) == 1:
        return False
    return key


# ---------------------------------------------------------------------------
# E-mail domains
# ---------------------------------------------------------------------------

DEFAULT_FREE_MAIL_DOMAINS = frozenset(
    {
        # China
        "qq.com",
        "vip.qq.com",
        "foxmail.com",
        "163.com",
        "vip.163.com",
        "126.com",
        "vip.126.com",
        "yeah.net",
        "188.com",
        "sina.com",
        "sina.cn",
        "vip.sina.com",
        "sohu.com",
        "139.com",
        "189.cn",
        "wo.cn",
        "aliyun.com",
        "tom.com",
        "21cn.com",
        # international
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.uk",
        "live.com",
        "live.cn",
        "msn.com",
        "yahoo.com",
        "yahoo.co.jp",
        "yahoo.com.cn",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "zoho.com",
        "mail.com",
        "gmx.com",
        "gmx.net",
        "gmx.de",
        "web.de",
        "t-online.de",
        "freenet.de",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "mail.ru",
        "yandex.ru",
        "yandex.com",
        "naver.com",
        "hanmail.net",
    }
)
_DOMAIN_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# RFC 5321: a path is at most 256 characters, its brackets included, so an
# address is at most 254. A longer value, display name included, is refused.
MAX_EMAIL_LENGTH = 254
MAX_DOMAIN_LENGTH = 253
_ANGLE_ADDRESS = re.compile(r"<([^<>]*)>")


def _idna_domain(domain):
    """ASCII (punycode) form of a domain, or False."""
    if len(domain) > MAX_INPUT_LENGTH:  # far too long, whatever NFKC would make of it
        return False
    domain = unicodedata.normalize("NFKC", domain).strip().strip(".").lower()
    # NFKC turns the ideographic full stop into "。", which IDNA also reads as a dot.
    domain = domain.replace("。", ".").replace("．", ".").replace("｡", ".")
    if not domain or len(domain) > MAX_DOMAIN_LENGTH:
        return False
    # What no domain is, checked before the costly IDNA codec (its punycode
    # takes quadratic time in a label's length): fewer than two labels, a label
    # longer than 63 characters (punycode only makes it longer), a space, or a
    # label of symbols alone ("🙂", "¡"), which IDNA 2003 would still encode.
    labels = domain.split(".")
    if (
        len(labels) < 2
        or any(
            not 0 < len(label) <= 63 or not any(ch.isalnum() for ch in label) for label in labels
        )
        or any(ch.isspace() for ch in domain)
    ):
        return False
    if domain.isascii():
        ascii_domain = domain
    else:
        try:
            ascii_domain = domain.encode("idna").decode("ascii").lower()
        except (UnicodeError, ValueError):
            return False
        # Punycode makes a name longer: DNS limits the encoded one.
        if len(ascii_domain) > MAX_DOMAIN_LENGTH:
            return False
        labels = ascii_domain.split(".")
    if not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        return False
    if labels[-1].isdigit():  # an IP address, not a domain
        return False
    return ascii_domain


def free_mail_domains(domains=None):
    """The set of free-mail domains from a caller's setting.

    ``domains`` is an iterable of domains or one string of domains separated by
    commas, semicolons, spaces or new lines (as typed in Settings); ``None``
    gives :data:`DEFAULT_FREE_MAIL_DOMAINS`, and so does anything else that is
    not iterable (a number, ``False``). Values that are not strings are skipped.
    """
    if domains is None:
        return DEFAULT_FREE_MAIL_DOMAINS
    if isinstance(domains, str):
        domains = re.split(r"[\s,;]+", domains)
    else:
        try:
            domains = iter(domains)
        except TypeError:
            return DEFAULT_FREE_MAIL_DOMAINS
    result = set()
    seen = set()
    for domain in domains:
        if isinstance(domain, str) and domain not in seen:  # each spelling is read once
            seen.add(domain)
            ascii_domain = _idna_domain(domain.lstrip("@"))
            if ascii_domain:
                result.add(ascii_domain)
    return frozenset(result)


def email_domain_key(email, free_domains=None):
    """Domain of a corporate e-mail address, lower case and IDNA-encoded.

    ``"Li Lei <li.lei@Acme.COM.cn>"`` gives ``"acme.com.cn"``. ``False`` for a
    malformed address and for a free-mail domain or any of its sub-domains
    (``vip.qq.com``). ``free_domains`` replaces :data:`DEFAULT_FREE_MAIL_DOMAINS`
    (see :func:`free_mail_domains`); pass an already built ``frozenset`` from
    that function when calling in a loop. ``False`` as well for a value of
    more than :data:`MAX_EMAIL_LENGTH` characters.
    """
    if not isinstance(email, str) or not email or len(email) > MAX_EMAIL_LENGTH:
        return False
    text = unicodedata.normalize("NFKC", email).strip()
    angle = _ANGLE_ADDRESS.search(text)
    if angle:
        text = angle.group(1).strip()
    text = text.replace("＠", "@")
    if text.lower().startswith("mailto:"):
        text = text[7:]
    local, at, domain = text.rpartition("@")
    if not at or not local or any(ch.isspace() for ch in text) or "@" in local.strip('"'):
        return False
    domain = _idna_domain(domain)
    if not domain:
        return False
    if not isinstance(free_domains, frozenset):
        free_domains = free_mail_domains(free_domains)
    labels = domain.split(".")
    if any(".".join(labels[i:]) in free_domains for i in range(len(labels) - 1)):
        return False
    return domain


# ---------------------------------------------------------------------------
# Phones
# ---------------------------------------------------------------------------

DEFAULT_COUNTRY_CODE = "86"
MIN_PHONE_DIGITS = 7
MAX_PHONE_DIGITS = 15  # E.164
# Longest raw phone read, formatting and extension included.
MAX_PHONE_INPUT_LENGTH = 64
# "(?<!\s)": a run of spaces is tried from its start only, which keeps the
# search linear.
_PHONE_EXTENSION = re.compile(
    r"(?<!\s)\s*(?:ext\.?|extension|x|#|转|轉|分机|分機)\s*\d{1,6}$", re.IGNORECASE
)
_PHONE_ALLOWED = re.compile(r"[\d\s().\-/+]*")


def normalize_phone(phone, country_code=DEFAULT_COUNTRY_CODE):
    """Identity key of a phone number: its digits, or ``False``.

    A number of the home country (``country_code``, China by default) is keyed
    by its national significant number whatever way it is written:
    ``"+86 138 0013 8000"``, ``"0086-13800138000"`` and ``"138-0013-8000"`` give
    ``"13800138000"``; ``"+86 10 8888 6666"`` and ``"010-88886666"`` give
    ``"1088886666"`` (the trunk ``0`` is dropped). A foreign number written
    internationally keeps ``+`` and its country code (``"+4930123456"``).
    Digits of other scripts (``"١٣٨٠٠١٣٨٠٠٠"``) are read as ASCII digits.
    An extension (``ext. 12``, ``转 8001``) is ignored. ``False`` for letters,
    fewer than 7 or more than 15 digits, one repeated digit, or a value of more
    than :data:`MAX_PHONE_INPUT_LENGTH` characters.
    """
    text = _short_text(phone, MAX_PHONE_INPUT_LENGTH)
    if text is None:
        return False
    text = unicodedata.normalize("NFKC", text).strip()
    text = _PHONE_EXTENSION.sub("", text).strip()
    if not text or not _PHONE_ALLOWED.fullmatch(text):
        return False
    # Only decimal digits are left (of any script, as \d allows): ASCII ones.
    digits = "".join(str(unicodedata.decimal(ch)) for ch in text if ch.isdecimal())
    if text.startswith("+"):
        international = True
    elif digits.startswith("00"):
        international = True
        digits = digits[2:]
    else:
        international = False
    if international:
        if digits.startswith(country_code):
            national = digits[len(country_code) :]
        else:
            national = None
    elif (
        country_code == "86" and len(digits) == 13 and digits.startswith("861")
    ):  # a Chinese mobile written with its country code but no "+"
        national = digits[2:]
    else:
        national = digits
    if national is not None:
        key = national[1:] if national.startswith("0") else national
    else:
        key = digits
    if not MIN_PHONE_DIGITS <= len(key) <= MAX_PHONE_DIGITS or len(set(key)) == 1:
        return False
    return key if national is not None else "+" + key


# ---------------------------------------------------------------------------
# All keys at once
# ---------------------------------------------------------------------------


def customer_keys(
    name=None,
    vat=None,
    email=None,
    phone=None,
    free_domains=None,
    country_code=DEFAULT_COUNTRY_CODE,
):
    """Every usable key of one customer, as ``{kind: key}``.

    Kinds are ``name``, ``vat``, ``email_domain`` and ``phone``; a key that is
    not usable is left out, so an empty dict means "nothing to match on".
    """
    keys = {
        "name": normalize_company_name(name),
        "vat": normalize_tax_id(vat),
        "email_domain": email_domain_key(email, free_domains),
        "phone": normalize_phone(phone, country_code),
    }
    return {kind: key for kind, key in keys.items() if key}
