"""Table-driven tests of the customer identity keys (pure functions, no database)."""

from odoo.addons.opportunity_registration.models.customer_identity import (
    DEFAULT_FREE_MAIL_DOMAINS,
    MAX_KEY_LENGTH,
    customer_keys,
    email_domain_key,
    free_mail_domains,
    normalize_company_name,
    normalize_phone,
    normalize_tax_id,
)
from odoo.tests import BaseCase, tagged

# Each group: spellings of ONE customer, which must all give the same key.
SAME_COMPANY = [
    # Chinese legal forms, branches, full width, bracketed regions
    (
        "华为技术有限公司",
        "华为技术有限公司深圳分公司",
        "华为技术",
        "华为技术有限公司 深圳分公司",
        "华为技术股份有限公司",
        "华为技术（深圳）有限公司",
        " 华为技术有限公司 ",
    ),
    (
        "腾讯科技（深圳）有限公司",
        "腾讯科技(北京)有限公司",
        "腾讯科技有限公司",
        "腾讯科技【上海】有限公司",
    ),
    (
        "阿里巴巴（中国）网络技术有限公司",
        "阿里巴巴网络技术有限公司",
        "阿里巴巴网络技术有限公司杭州分公司",
    ),
    ("中国银行股份有限公司北京市分行", "中国银行北京分行", "中国银行股份有限公司", "中国银行"),
    ("海尔集团公司", "海尔集团", "海尔集团有限公司", "海尔"),
    ("比亚迪股份有限公司", "比亚迪有限责任公司", "比亚迪"),
    ("小米科技有限责任公司", "小米科技有限公司", "小米科技", "小米科技（北京）有限公司上海分公司"),
    ("美的集团股份有限公司", "美的集团", "美的"),
    ("京东方科技集团股份有限公司", "京东方科技集团", "京东方科技"),
    ("招商银行股份有限公司深圳分行", "招商银行深圳分行", "招商银行"),
    ("上海浦东发展银行股份有限公司", "上海浦东发展银行"),
    ("XX投资中心（有限合伙）", "XX投资中心", "ＸＸ投资中心"),
    ("台積電股份有限公司", "台積電"),
    ("鴻海精密工業股份有限公司", "鴻海精密工業"),
    ("联想（北京）有限公司", "联想有限公司", "联想"),
    ("ABC科技有限公司", "ＡＢＣ科技有限公司", "abc科技", "ABC 科技 有限公司"),
    ("华为", "华为集团", "华为集团有限公司"),
    # Latin legal forms, punctuation, case, width
    (
        "Acme Co., Ltd.",
        "ACME CO LTD",
        "Acme Corporation",
        "acme corp.",
        "Acme, Inc.",
        "ACME LIMITED",
        "Acme L.L.C.",
        "Acme LLC",
        "  acme  ",
        "Ａｃｍｅ Ｃｏ．，Ｌｔｄ．",
        "Acme Group",
        "Acme Shanghai Branch",
        "Acme Ltd., Beijing Branch Office",
    ),
    ("Huawei", "ＨＵＡＷＥＩ", "HUAWEI", "Huawei Co., Ltd."),
    (
        "Huawei Technologies Co., Ltd.",
        "HUAWEI TECHNOLOGIES CO LTD",
        "Huawei Technologies (China) Co., Ltd.",
    ),
    ("Siemens AG", "Siemens (China) Co., Ltd.", "Siemens Ltd. China Shanghai Branch", "SIEMENS"),
    ("Volkswagen AG", "Volkswagen A.G.", "VOLKSWAGEN"),
    ("BMW GmbH & Co. KG", "BMW GmbH", "bmw"),
    ("The Boeing Company", "Boeing Co.", "BOEING"),
    ("Procter & Gamble Co.", "Procter and Gamble", "PROCTER ＆ GAMBLE"),
    ("Société Générale S.A.", "Societe Generale SA", "SOCIÉTÉ GÉNÉRALE"),
    ("Nestlé S.A.", "Nestle SA", "NESTLE"),
    ("Carrefour S.A.R.L.", "Carrefour SARL", "Carrefour"),
    ("Philips N.V.", "Philips NV", "Philips"),
    ("Heineken B.V.", "Heineken BV"),
    ("Ferrari S.p.A.", "Ferrari SpA", "FERRARI"),
    ("DBS Bank Pte. Ltd.", "DBS Bank Pte Ltd", "DBS Bank"),
    ("Unilever PLC", "Unilever plc", "Unilever"),
    ("McDonald's Corporation", "McDonalds Corp", "MCDONALD'S"),
    ("Grupo Bimbo, S.A. de C.V.", "Grupo Bimbo SA de CV", "Grupo Bimbo"),
    ("Straße AG", "STRASSE"),
    ("トヨタ自動車株式会社", "トヨタ自動車"),
]

# Pairs of DIFFERENT customers: their keys must differ.
DIFFERENT_COMPANY = [
    ("Acme", "Acme Tools"),
    ("Acme Co., Ltd.", "Acme Tools Inc."),
    ("Acme (Tools) Inc.", "Acme Inc."),
    ("Apple Inc.", "Apple Computer, Inc."),
    ("General Motors", "General Mills"),
    ("华为技术有限公司", "华为终端有限公司"),
    ("华为技术有限公司", "ＨＵＡＷＥＩ"),
    ("华为技术", "华为"),
    ("北京银行", "中国银行"),
    ("北京银行股份有限公司", "银行"),
    ("中国银行", "中国建设银行"),
    ("小米科技有限责任公司", "小米通讯技术有限公司"),
    ("Huawei Technologies Co., Ltd.", "Huawei"),
    ("腾讯科技有限公司", "腾讯音乐有限公司"),
    ("Siemens Healthineers AG", "Siemens AG"),
    ("ABC Holdings Ltd", "ABC Ltd"),
    ("Bank of China", "China Bank"),
    ("Acme Shanghai", "Acme Beijing"),
    ("Shell", "Shell Chemicals"),
    ("Zinc Ltd", "Z Ltd"),
    ("北京同仁堂股份有限公司", "同仁堂"),
    ("Société Générale", "Générale"),
]

# Inputs that must never be usable for matching.
GARBAGE = [
    None,
    False,
    True,
    0,
    42,
    3.14,
    b"Acme Ltd",
    ["Acme"],
    {"name": "Acme"},
    "",
    " ",
    "\t\n",
    "!!!",
    "...",
    "-",
    "()",
    "（）",
    "、，。！",
    "—— ——",
    "@#$%^&*",
    "🍎",
    "🙂🙂🙂",
    "🏢 🏭",
    "有限公司",
    "股份有限公司",
    "集团有限公司",
    "公司",
    "Co., Ltd.",
    "Inc.",
    "LLC",
    "GmbH & Co. KG",
    "The Company",
    "S.A.",
    "株式会社",
    "& + &",
    "Group",
    "集团",
]


@tagged("post_install", "-at_install", "opportunity_registration")
class TestCompanyName(BaseCase):
    def test_same_customer(self):
        for group in SAME_COMPANY:
            keys = {name: normalize_company_name(name) for name in group}
            with self.subTest(group=group[0]):
                self.assertTrue(all(keys.values()), keys)
                self.assertEqual(len(set(keys.values())), 1, keys)

    def test_at_least_forty_variants(self):
        self.assertGreaterEqual(sum(len(g) for g in SAME_COMPANY) + 2 * len(DIFFERENT_COMPANY), 40)
        self.assertGreaterEqual(sum(len(g) for g in SAME_COMPANY), 40)

    def test_different_customers(self):
        for left, right in DIFFERENT_COMPANY:
            with self.subTest(left=left, right=right):
                left_key, right_key = normalize_company_name(left), normalize_company_name(right)
                self.assertTrue(left_key and right_key)
                self.assertNotEqual(left_key, right_key)

    def test_groups_do_not_collide(self):
        """Two groups of SAME_COMPANY are two customers."""
        owner = {}
        for group in SAME_COMPANY:
            key = normalize_company_name(group[0])
            self.assertNotIn(key, owner, "%s and %s collide" % (group[0], owner.get(key)))
            owner[key] = group[0]

    def test_garbage(self):
        for value in GARBAGE:
            with self.subTest(value=value):
                self.assertIs(normalize_company_name(value), False)

    def test_examples(self):
        self.assertEqual(normalize_company_name("华为技术有限公司深圳分公司"), "华为技术")
        self.assertEqual(normalize_company_name("Acme Co., Ltd."), "acme")
        self.assertEqual(normalize_company_name("ＨＵＡＷＥＩ"), "huawei")
        self.assertEqual(normalize_company_name("Société Générale S.A."), "societegenerale")

    def test_long_and_mixed_input(self):
        for value in (
            "x" * 10000,
            "华" * 10000,
            "🙂" * 10000 + "Acme",
            "Acme " * 2000,
            "a\u0301" * 5000,
            "华为Huawei华为Ｈｕａｗｅｉ" * 500,
            "(" * 5000 + "Acme" + ")" * 5000,
        ):
            with self.subTest(value=value[:20]):
                key = normalize_company_name(value)
                self.assertTrue(
                    key is False or (isinstance(key, str) and 0 < len(key) <= MAX_KEY_LENGTH)
                )
        self.assertNotEqual(
            normalize_company_name("x" * 10000), normalize_company_name("y" * 10000)
        )
        self.assertEqual(normalize_company_name("x" * 10000), normalize_company_name("x" * 10000))
        self.assertEqual(normalize_company_name("华为 Technologies 有限公司"), "华为technologies")
        self.assertEqual(normalize_company_name("Москва"), "москва")

    def test_idempotent(self):
        for group in SAME_COMPANY:
            for name in group:
                key = normalize_company_name(name)
                with self.subTest(name=name):
                    # the key of a key is stable (the key contains no suffix left to strip)
                    self.assertTrue(normalize_company_name(key))


TAX_IDS = [
    # (input, expected key)
    ("91110000802100433B", "91110000802100433B"),
    ("91110000 8021 00433B", "91110000802100433B"),
    ("9111-0000-8021-0043-3b", "91110000802100433B"),
    ("CN91110000802100433B", "91110000802100433B"),
    ("cn 91110000802100433b", "91110000802100433B"),
    ("９１１１００００８０２１００４３３Ｂ", "91110000802100433B"),
    ("DE123456789", "123456789"),
    ("DE 123.456.789", "123456789"),
    ("123456789", "123456789"),
    ("de-123-456-789", "123456789"),
    ("ATU12345678", "U12345678"),
    ("NL123456789B01", "123456789B01"),
    ("FR40303265045", "40303265045"),
    ("GB 123 4567 89", "123456789"),
    ("BE0123456789", "0123456789"),
    ("ESA12345674", "A12345674"),
    # a prefix is kept when the rest is not that country's format
    ("DE12345", "DE12345"),
    ("CN1234567", "CN1234567"),
    (123456789, "123456789"),
    ("12345", "12345"),
]
BAD_TAX_IDS = [
    None,
    False,
    True,
    "",
    " ",
    "1234",
    "12-34",
    "DE",
    "CN",
    "-----",
    "000000000",
    "AAAAAAA",
    "ABCDEFGH",
    "1" * 31,
    "🙂🙂🙂🙂🙂🙂",
    "税号",
    3.5,
    b"123456789",
]


@tagged("post_install", "-at_install", "opportunity_registration")
class TestTaxId(BaseCase):
    def test_table(self):
        for value, expected in TAX_IDS:
            with self.subTest(value=value):
                self.assertEqual(normalize_tax_id(value), expected)

    def test_garbage(self):
        for value in BAD_TAX_IDS:
            with self.subTest(value=value):
                self.assertIs(normalize_tax_id(value), False)
        self.assertIs(normalize_tax_id("9" * 10000), False)


EMAILS = [
    ("li.lei@acme.com", "acme.com"),
    ("Li.Lei@ACME.COM", "acme.com"),
    ("Li Lei <li.lei@Acme.com.cn>", "acme.com.cn"),
    ('"Lei, Li" <li@acme.com>', "acme.com"),
    ("mailto:sales@acme.com", "acme.com"),
    ("sales@acme.com.", "acme.com"),
    ("  sales@acme.com  ", "acme.com"),
    ("ｓａｌｅｓ＠ａｃｍｅ．ｃｏｍ", "acme.com"),
    ("sales@huawei.com", "huawei.com"),
    ("x@münchen.de", "xn--mnchen-3ya.de"),
    ("x@xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
    ("x@MÜNCHEN.DE", "xn--mnchen-3ya.de"),
    ("zhang@华为.中国", "xn--siqq7j.xn--fiqs8s"),
    ("user@sub.acme.com", "sub.acme.com"),
    ("first.last+tag@acme.co.uk", "acme.co.uk"),
    ("a@qq.com", False),
    ("a@QQ.COM", False),
    ("a@vip.qq.com", False),
    ("a@163.com", False),
    ("a@126.com", False),
    ("a@sina.com", False),
    ("a@sina.cn", False),
    ("a@sohu.com", False),
    ("a@yeah.net", False),
    ("a@139.com", False),
    ("a@aliyun.com", False),
    ("a@foxmail.com", False),
    ("a@gmail.com", False),
    ("a@googlemail.com", False),
    ("a@outlook.com", False),
    ("a@hotmail.com", False),
    ("a@live.com", False),
    ("a@yahoo.com", False),
    ("a@icloud.com", False),
    ("a@me.com", False),
    ("a@proton.me", False),
    ("a@protonmail.com", False),
    ("a@gmx.de", False),
    ("a@web.de", False),
    ("a@mail.ru", False),
    ("a@yandex.ru", False),
]
BAD_EMAILS = [
    None,
    False,
    12,
    b"a@acme.com",
    "",
    " ",
    "acme.com",
    "@acme.com",
    "a@",
    "a@b",
    "a@@acme.com",
    "a b@acme.com",
    "a@acme..com",
    "a@-acme.com",
    "a@acme-.com",
    "a@1.2.3.4",
    "a@[127.0.0.1]",
    "a@localhost",
    "🙂@🙂",
    "a@acme.com" + "m" * 300,
    "@" * 10000,
    "a@" + "x." * 5000 + "com",
    "!!!",
]


@tagged("post_install", "-at_install", "opportunity_registration")
class TestEmailDomain(BaseCase):
    def test_table(self):
        for value, expected in EMAILS:
            with self.subTest(value=value):
                self.assertEqual(email_domain_key(value), expected)

    def test_default_list(self):
        for domain in (
            "qq.com",
            "163.com",
            "126.com",
            "sina.com",
            "sina.cn",
            "sohu.com",
            "yeah.net",
            "139.com",
            "aliyun.com",
            "foxmail.com",
            "gmail.com",
            "googlemail.com",
            "outlook.com",
            "hotmail.com",
            "live.com",
            "yahoo.com",
            "icloud.com",
            "me.com",
            "proton.me",
            "protonmail.com",
            "gmx.de",
            "web.de",
            "mail.ru",
            "yandex.ru",
        ):
            self.assertIn(domain, DEFAULT_FREE_MAIL_DOMAINS)

    def test_garbage(self):
        for value in BAD_EMAILS:
            with self.subTest(value=value[:30] if isinstance(value, str) else value):
                self.assertIs(email_domain_key(value), False)

    def test_configurable_list(self):
        # The caller's list replaces the default one.
        self.assertEqual(email_domain_key("a@qq.com", []), "qq.com")
        self.assertIs(email_domain_key("a@acme.com", ["acme.com"]), False)
        self.assertIs(email_domain_key("a@sales.acme.com", "gmail.com, acme.com"), False)
        self.assertEqual(email_domain_key("a@gmail.com", "acme.com\nqq.com"), "gmail.com")
        self.assertIs(email_domain_key("a@MÜNCHEN.de", "münchen.de"), False)
        domains = free_mail_domains("@qq.com; 163.com  bad..domain")
        self.assertEqual(domains, frozenset({"qq.com", "163.com"}))
        self.assertIs(email_domain_key("a@163.com", domains), False)
        self.assertEqual(email_domain_key("a@gmail.com", domains), "gmail.com")
        self.assertIs(free_mail_domains(None), DEFAULT_FREE_MAIL_DOMAINS)


PHONES = [
    ("+86 138 0013 8000", "13800138000"),
    ("+8613800138000", "13800138000"),
    ("0086-138-0013-8000", "13800138000"),
    ("0086 13800138000", "13800138000"),
    ("138-0013-8000", "13800138000"),
    ("138 0013 8000", "13800138000"),
    ("(138) 0013-8000", "13800138000"),
    ("8613800138000", "13800138000"),
    ("１３８００１３８０００", "13800138000"),
    (13800138000, "13800138000"),
    ("+86 10 8888 6666", "1088886666"),
    ("010-88886666", "1088886666"),
    ("(010) 8888 6666", "1088886666"),
    ("+86 (0)10 8888 6666", "1088886666"),
    ("0086 10 88886666", "1088886666"),
    ("010-88886666 转 8001", "1088886666"),
    ("010-88886666 ext. 12", "1088886666"),
    ("010-88886666#12", "1088886666"),
    ("0755-8888 6666", "75588886666"),
    ("+49 30 1234567", "+49301234567"),
    ("0049 30 1234567", "+49301234567"),
    ("+1 (650) 555-0100 ext. 12", "+16505550100"),
    ("+1.650.555.0100", "+16505550100"),
    ("8888666", "8888666"),
]
BAD_PHONES = [
    None,
    False,
    True,
    "",
    " ",
    "-",
    "+",
    "123456",
    "12345",
    "+86 12345",
    "0086",
    "1111111",
    "000-0000-0000",
    "call me",
    "138abc00138000",
    "N/A",
    "🙂" * 12,
    "1" * 16,
    "+86 138 0013 8000 / +86 139 0013 9000",
    "9" * 10000,
    3.5,
]


@tagged("post_install", "-at_install", "opportunity_registration")
class TestPhone(BaseCase):
    def test_table(self):
        for value, expected in PHONES:
            with self.subTest(value=value):
                self.assertEqual(normalize_phone(value), expected)

    def test_garbage(self):
        for value in BAD_PHONES:
            with self.subTest(value=value[:20] if isinstance(value, str) else value):
                self.assertIs(normalize_phone(value), False)

    def test_other_home_country(self):
        self.assertEqual(normalize_phone("+49 30 1234567", country_code="49"), "301234567")
        self.assertEqual(normalize_phone("030 1234567", country_code="49"), "301234567")
        self.assertEqual(normalize_phone("+86 138 0013 8000", country_code="49"), "+8613800138000")


@tagged("post_install", "-at_install", "opportunity_registration")
class TestCustomerKeys(BaseCase):
    def test_all_keys(self):
        self.assertEqual(
            customer_keys(
                "Acme Co., Ltd.", "CN91110000802100433B", "Li <li@acme.com>", "+86 138 0013 8000"
            ),
            {
                "name": "acme",
                "vat": "91110000802100433B",
                "email_domain": "acme.com",
                "phone": "13800138000",
            },
        )

    def test_unusable_keys_are_left_out(self):
        self.assertEqual(customer_keys(), {})
        self.assertEqual(customer_keys("有限公司", "000", "a@qq.com", "123"), {})
        self.assertEqual(customer_keys("🙂", None, "a@acme.com"), {"email_domain": "acme.com"})
        self.assertEqual(customer_keys(email="a@acme.com", free_domains=["acme.com"]), {})
