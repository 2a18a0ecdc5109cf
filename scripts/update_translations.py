"""Refresh i18n/opportunity_registration.pot and i18n/zh_CN.po from the code.

Run with the project's venv python after `make setup`, against a database
that has the module installed (default: opportunity_registration_test):

    .venv/bin/python scripts/update_translations.py [--module ADDON] [DB] [extra.tsv ...]

``--module`` names the add-on (default: opportunity_registration; also
opportunity_registration_portal, opportunity_registration_sale).

The export reads a temporary copy of that database in which the standard stage
model is loaded (it is created on demand, so its records and their terms exist
only once loaded); the database itself is left as it was.
Existing translations in every add-on's zh_CN.po are kept (a term that moved
between add-ons keeps its Chinese); new terms take their Chinese from
the optional TSV files (English<TAB>Chinese). Terms left untranslated are
listed and the script exits 1 — the test suite checks the same thing.
"""

import pathlib
import subprocess
import sys

import polib

ROOT = pathlib.Path(__file__).resolve().parent.parent
CACHE_ODOO = pathlib.Path.home() / ".cache" / "opportunity_registration" / "odoo-19" / "usr"


def main():
    args = sys.argv[1:]
    module = "opportunity_registration"
    if args[:1] == ["--module"]:
        module, args = args[1], args[2:]
    i18n = ROOT / module / "i18n"
    i18n.mkdir(exist_ok=True)
    db = args[0] if args else "opportunity_registration_test"
    pot_path = i18n / f"{module}.pot"
    odoo = [sys.executable, str(CACHE_ODOO / "bin" / "odoo")]
    conf = ["-c", str(ROOT / ".odoo.conf")]
    export_db = db + "_i18n_export"
    pg = ["-h", "127.0.0.1"]
    subprocess.run(["dropdb", *pg, "--if-exists", export_db], check=True)
    subprocess.run(["createdb", *pg, "-T", db, export_db], check=True)
    try:
        subprocess.run(
            [*odoo, "shell", *conf, "-d", export_db, "--log-level=warn"],
            input="env['crm.stage'].action_load_standard_stages()\nenv.cr.commit()\n",
            text=True,
            check=True,
        )
        subprocess.run(
            [
                *odoo,
                "i18n",
                "export",
                *conf,
                "-d",
                export_db,
                "-l",
                "pot",
                "-o",
                str(pot_path),
                module,
            ],
            check=True,
        )
    finally:
        subprocess.run(["dropdb", *pg, "--if-exists", export_db], check=True)
    known = {}
    po_path = i18n / "zh_CN.po"
    for other in sorted(ROOT.glob("*/i18n/zh_CN.po")):
        if other != po_path:
            known.update({e.msgid: e.msgstr for e in polib.pofile(str(other)) if e.msgstr})
    if po_path.exists():  # the add-on's own translations come first
        known.update({e.msgid: e.msgstr for e in polib.pofile(str(po_path)) if e.msgstr})
    for tsv in args[1:]:
        for line in pathlib.Path(tsv).read_text(encoding="utf-8").splitlines():
            if "\t" in line:
                msgid, msgstr = line.split("\t", 1)
                known.setdefault(msgid.replace("\\n", "\n"), msgstr.replace("\\n", "\n"))
    pot = polib.pofile(str(pot_path))
    po = polib.POFile(wrapwidth=78)
    po.metadata = dict(
        pot.metadata,
        Language="zh_CN",
        **{
            "Content-Type": "text/plain; charset=UTF-8",
            "Plural-Forms": "nplurals=1; plural=0;",
        },
    )
    missing = []
    for entry in pot:
        entry.msgstr = known.get(entry.msgid, "")
        if not entry.msgstr:
            missing.append(entry.msgid)
        po.append(entry)
    po.save(str(po_path))
    print("%d terms, %d untranslated" % (len(pot), len(missing)))
    for msgid in missing:
        print("  untranslated:", repr(msgid))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
