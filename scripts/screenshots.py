"""Screenshots of the module's screens, taken by headless Chromium.

Logs in over JSON-RPC, hands the session cookie to a headless Chromium driven
through the DevTools protocol, opens each screen, waits until it is rendered
and saves a PNG. Run by ``make screenshots`` against a server it starts.

    python scripts/screenshots.py --url http://127.0.0.1:8069 --db DB --out docs/screenshots
"""

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
import xmlrpc.client

import requests
import websocket

LANGS = {"en": "en_US", "zh": "zh_CN"}


class Browser:
    """The smallest DevTools client that opens a page and captures it."""

    def __init__(self, width=1440, height=1100):
        self.profile = tempfile.mkdtemp(prefix="opreg-shots-")
        self.proc = subprocess.Popen(
            [
                shutil.which("chromium") or "chromium",
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        for _i in range(100):
            if os.path.exists(port_file) and open(port_file).read().strip():
                break
            time.sleep(0.1)
        port = open(port_file).read().split()[0]
        target = requests.get(f"http://127.0.0.1:{port}/json", timeout=10).json()
        page = next(t for t in target if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.seq = 0
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def call(self, method, **params):
        self.seq += 1
        self.ws.send(json.dumps({"id": self.seq, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.seq:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        return result.get("result", {}).get("value")

    def wait_for(self, selector, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.evaluate(f"!!document.querySelector({json.dumps(selector)})"):
                return True
            time.sleep(0.3)
        return False

    def close(self):
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)


def login_session(url, db, user, password):
    response = requests.post(
        f"{url}/web/session/authenticate",
        json={"jsonrpc": "2.0", "params": {"db": db, "login": user, "password": password}},
        timeout=60,
    )
    response.raise_for_status()
    return response.cookies["session_id"]


def shoot(browser, url, shots, out, suffix):
    taken = []
    for name, path, ready, script in shots:
        browser.call("Page.navigate", url=f"{url}{path}")
        time.sleep(1)
        if not browser.wait_for(ready):
            print(f"  {name}: '{ready}' never appeared, captured anyway")
        if script:
            browser.evaluate(script)
            time.sleep(1)
        browser.wait_for("body:not(:has(.o_loading_indicator))", timeout=10)
        time.sleep(1.5)
        png = browser.call("Page.captureScreenshot", format="png")["data"]
        target = os.path.join(out, f"{name}_{suffix}.png")
        with open(target, "wb") as handle:
            handle.write(__import__("base64").b64decode(png))
        taken.append(target)
        print(f"  {target}")
    return taken


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--db", required=True)
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="admin")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    common = xmlrpc.client.ServerProxy(f"{args.url}/xmlrpc/2/common")
    models = xmlrpc.client.ServerProxy(f"{args.url}/xmlrpc/2/object", allow_none=True)
    uid = common.authenticate(args.db, args.user, args.password, {})

    def rpc(model, method, *params, **kw):
        return models.execute_kw(args.db, uid, args.password, model, method, list(params), kw)

    def demo_lead(name):
        found = rpc("crm.lead", "search", [("name", "=", name)], limit=1)
        return found[0] if found else 0

    conflict = demo_lead("云图科技 仓储系统")
    registered = demo_lead("Riverside Logistics rollout")
    pending = demo_lead("明远物流 运输管理平台")
    stage = rpc("crm.stage", "search", [("standard_code", "=", "B")], limit=1)
    form = ".o_form_view .o_form_sheet"
    open_tab = "document.querySelector('.o_notebook a[name=%s]')?.click()"
    # name, path, element that says the screen is ready, script to run, login
    shots = [
        (
            "opportunity_conflict",
            f"/odoo/action-crm.crm_lead_action_pipeline/{conflict}",
            ".o_registration_conflict",
            open_tab % "registration",
            "li.na",
        ),
        (
            "opportunity_registered",
            f"/odoo/action-crm.crm_lead_action_pipeline/{registered}",
            form,
            open_tab % "registration",
            "sophie.turner",
        ),
        (
            "approver_inbox",
            "/odoo/action-opportunity_registration.crm_lead_action_registration_pending",
            ".o_list_view .o_data_row",
            "",
            "wang.lei",
        ),
        (
            "approver_review",
            f"/odoo/action-opportunity_registration.crm_lead_action_registration_pending/{pending}",
            "button[name=action_registration_approve]",
            "",
            "wang.lei",
        ),
        (
            "public_pool",
            "/odoo/action-opportunity_registration.crm_lead_action_public_pool",
            ".o_list_view .o_data_row",
            "",
            "james.miller",
        ),
        (
            "settings",
            "/odoo/action-crm.crm_config_settings_action",
            "#registration_required_fields",
            "document.querySelector('#registration_required_fields')"
            "?.closest('.o_settings_container')?.previousElementSibling?.scrollIntoView()",
            args.user,
        ),
        (
            "approval_bands",
            "/odoo/action-opportunity_registration.crm_lead_registration_band_action",
            ".o_list_view .o_data_row",
            "",
            args.user,
        ),
        (
            "stage_form",
            f"/odoo/action-crm.crm_stage_action/{stage[0] if stage else ''}",
            form,
            "",
            args.user,
        ),
        (
            "stage_funnel",
            "/odoo/action-opportunity_registration.crm_stage_funnel_action",
            ".o_list_view .o_data_row",
            "",
            args.user,
        ),
        (
            "forecast_dashboard",
            "/odoo/action-opportunity_registration.crm_forecast_snapshot_action_dashboard",
            ".o_pivot table",
            "",
            args.user,
        ),
        (
            "portal_registrations",
            "/my/registrations",
            "table",
            "",
            "partner.demo",
        ),
        (
            "portal_register",
            "/my/registrations/new",
            "form",
            "",
            "partner.demo",
        ),
    ]
    logins = sorted({shot[4] for shot in shots})
    user_ids = {login: rpc("res.users", "search", [("login", "=", login)])[0] for login in logins}
    langs_before = {
        row["id"]: row["lang"]
        for row in rpc("res.users", "read", list(user_ids.values()), ["lang"])
    }
    browser = Browser()
    try:
        for suffix, lang in LANGS.items():
            print(f"[screenshots] {lang}")
            rpc("res.users", "write", list(user_ids.values()), {"lang": lang})
            for login in logins:
                password = args.password if login == args.user else "demo"
                cookie = login_session(args.url, args.db, login, password)
                for name, value in (("session_id", cookie), ("frontend_lang", lang)):
                    # the portal's pages take their language from frontend_lang
                    browser.call(
                        "Network.setCookie", name=name, value=value, domain="127.0.0.1", path="/"
                    )
                mine = [shot[:4] for shot in shots if shot[4] == login]
                shoot(browser, args.url, mine, args.out, suffix)
    finally:
        for user_id, lang in langs_before.items():
            rpc("res.users", "write", [user_id], {"lang": lang})
        browser.close()


if __name__ == "__main__":
    main()
