import functools

from odoo import http
from odoo.addons.opportunity_registration.models.crm_lead_bulk import MAX_ROWS, MAX_SHEET_SIZE
from odoo.addons.opportunity_registration.models.crm_lead_channel import PORTAL_FORM_FIELDS
from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.fields import Domain
from odoo.http import request
from odoo.tools import format_date

# Attachments a partner may send with a registration.
ATTACHMENT_EXTENSIONS = {
    "pdf",
    "png",
    "jpg",
    "jpeg",
    "gif",
    "doc",
    "docx",
    "xls",
    "xlsx",
    "ppt",
    "pptx",
    "txt",
    "csv",
}
MAX_ATTACHMENTS = 5
BADGE_CLASSES = {
    "approved": "text-bg-success",
    "won": "text-bg-success",
    "submitted": "text-bg-info",
    "rejected": "text-bg-danger",
}
MAX_ATTACHMENT_SIZE = 10 * 1024 * 1024
UPLOADS_SHOWN = 10


def enrolled_only(route):
    """Refuse a registration page, with a page that says why (403), to anyone
    but the portal users of an enrolled channel partner."""

    @functools.wraps(route)
    def wrapper(self, *args, **kwargs):
        try:
            self._registration_partner()
        except AccessError as error:
            values = self._prepare_portal_layout_values()
            values.update({"page_name": "registration_refused", "message": str(error)})
            return request.render(
                "opportunity_registration_portal.portal_registration_refused", values, status=403
            )
        return route(self, *args, **kwargs)

    return wrapper


class RegistrationPortal(CustomerPortal):
    """Deal registration for channel partners (渠道报备).

    Portal users have no access rights on opportunities or registrations:
    every read and write here goes through a superuser environment scoped to
    the user's partner company, and shows only the fields listed below.
    """

    def _registration_partner(self):
        """The portal user's enrolled partner company; refuses anyone else."""
        return request.env["crm.lead"]._portal_channel_partner()

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "registration_count" in counters:
            try:
                partner = self._registration_partner()
            except AccessError:
                values["registration_count"] = 0
            else:
                Registration = request.env["crm.lead.registration"].sudo()
                values["registration_count"] = Registration.search_count(
                    Registration._portal_domain(partner)
                )
        return values

    def _registration_searchbar_sortings(self):
        return {
            "date": {"label": request.env._("Newest"), "order": "date_submitted desc, id desc"},
            "name": {"label": request.env._("Number"), "order": "name desc, id desc"},
            "protection": {
                "label": request.env._("Protection End"),
                "order": "protection_end_date asc, id desc",
            },
        }

    def _registration_searchbar_filters(self):
        labels = dict(
            request.env["crm.lead.registration"]
            ._fields["state"]
            ._description_selection(request.env)
        )
        filters = {"all": {"label": request.env._("All"), "domain": []}}
        for state in ("submitted", "approved", "won", "rejected", "expired", "withdrawn"):
            filters[state] = {"label": labels[state], "domain": [("state", "=", state)]}
        return filters

    def _registration_row(self, reg):
        """What a partner may know of one of their registrations."""
        labels = dict(reg._fields["state"]._description_selection(request.env))
        return {
            "id": reg.id,
            "url": "/my/registrations/%s" % reg.id,
            "name": reg.name,
            "state": reg.state,
            "state_label": labels[reg.state],
            "badge_class": BADGE_CLASSES.get(reg.state, "text-bg-secondary"),
            "customer_name": reg.customer_name,
            "date_submitted": format_date(request.env, reg.date_submitted),
            "protection_end_date": reg.protection_end_date
            and format_date(request.env, reg.protection_end_date),
            "submitted_by": reg.submitted_by_id.name,
            "comments": reg._portal_reviewer_comments(),
        }

    @http.route(
        ["/my/registrations", "/my/registrations/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    @enrolled_only
    def portal_my_registrations(self, page=1, sortby=None, filterby=None, search=None, **kw):
        partner = self._registration_partner()
        Registration = request.env["crm.lead.registration"].sudo()
        sortings = self._registration_searchbar_sortings()
        filters = self._registration_searchbar_filters()
        sortby = sortby if sortby in sortings else "date"
        filterby = filterby if filterby in filters else "all"
        domain = Registration._portal_domain(partner) & Domain(filters[filterby]["domain"])
        search = (search or "").strip()[:100]
        if search:
            domain &= Domain("name", "ilike", search) | Domain("customer_name", "ilike", search)
        count = Registration.search_count(domain)
        pager = portal_pager(
            url="/my/registrations",
            url_args={"sortby": sortby, "filterby": filterby, "search": search},
            total=count,
            page=page,
            step=self._items_per_page,
        )
        registrations = Registration.search(
            domain,
            order=sortings[sortby]["order"],
            limit=self._items_per_page,
            offset=pager["offset"],
        )
        request.session["my_registrations_history"] = registrations.ids[:100]
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "registration",
                "registrations": [self._registration_row(reg) for reg in registrations],
                "pager": pager,
                "default_url": "/my/registrations",
                "searchbar_sortings": sortings,
                "sortby": sortby,
                "searchbar_filters": filters,
                "filterby": filterby,
                "searchbar_inputs": {
                    "all": {"input": "all", "label": request.env._("Number or customer")}
                },
                "search_in": "all",
                "search": search,
            }
        )
        return request.render("opportunity_registration_portal.portal_my_registrations", values)

    def _registration_sudo(self, registration_id):
        """One of the partner company's registrations, as superuser, or a refusal
        that says nothing of other companies' registrations."""
        partner = self._registration_partner()
        Registration = request.env["crm.lead.registration"].sudo()
        reg = Registration.search(
            Domain("id", "=", registration_id) & Registration._portal_domain(partner), limit=1
        )
        if not reg:
            raise MissingError(request.env._("This registration does not exist."))
        return reg

    @http.route("/my/registrations/<int:registration_id>", type="http", auth="user", website=True)
    @enrolled_only
    def portal_my_registration(self, registration_id, **kw):
        try:
            reg = self._registration_sudo(registration_id)
        except MissingError:
            raise request.not_found() from None
        reg._portal_ensure_token()
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "registration",
                "registration": self._registration_row(reg),
                "registration_details": reg._portal_details(),
                # the portal chatter fetches with the token, which opens the
                # chatter only to this partner's logged-in users (see
                # crm.lead.registration._get_thread_with_access)
                "object": reg,
                "token": reg.access_token,
            }
        )
        return request.render("opportunity_registration_portal.portal_my_registration", values)

    def _registration_form_values(self, form=None, errors=None):
        values = self._prepare_portal_layout_values()
        Lead = request.env["crm.lead"]
        values.update(
            {
                "page_name": "registration_new",
                "form": form or {},
                "errors": errors or [],
                "product_lines": request.env["crm.tag"]
                .sudo()
                .search([("registration_portal", "=", True)], order="name"),
                "deal_terms": Lead._fields["deal_term"]._description_selection(request.env),
                "deal_types": Lead._fields["deal_type"]._description_selection(request.env),
            }
        )
        return values

    @http.route("/my/registrations/new", type="http", auth="user", website=True, methods=["GET"])
    @enrolled_only
    def portal_registration_new(self, **kw):
        self._registration_partner()
        return request.render(
            "opportunity_registration_portal.portal_registration_new",
            self._registration_form_values(),
        )

    def _registration_attachments(self, files):
        """The uploaded files, checked: at most a few, each small and of a
        document or picture type. Returns ``[(name, bytes)]``."""
        files = [f for f in files if f and f.filename]
        problems = []
        if len(files) > MAX_ATTACHMENTS:
            problems.append(request.env._("Attach at most %(count)s files.", count=MAX_ATTACHMENTS))
        result = []
        for upload in files[:MAX_ATTACHMENTS]:
            name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:200]
            extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
            data = upload.read(MAX_ATTACHMENT_SIZE + 1)
            if extension not in ATTACHMENT_EXTENSIONS:
                problems.append(
                    request.env._(
                        "%(name)s: this type of file cannot be attached (PDF, Office "
                        "documents, pictures, text).",
                        name=name,
                    )
                )
            elif len(data) > MAX_ATTACHMENT_SIZE:
                problems.append(request.env._("%(name)s: a file is at most 10 MB.", name=name))
            else:
                result.append((name, data))
        if problems:
            raise ValidationError("\n".join(problems))
        return result

    @http.route("/my/registrations/new", type="http", auth="user", website=True, methods=["POST"])
    @enrolled_only
    def portal_registration_submit(self, **post):
        self._registration_partner()
        form = {name: post.get(name, "") for name in PORTAL_FORM_FIELDS}
        try:
            attachments = self._registration_attachments(
                request.httprequest.files.getlist("attachments")
            )
            with request.env.cr.savepoint():
                reg = request.env["crm.lead"]._portal_register(form)
                reg._portal_attach(attachments)
        except (UserError, ValidationError) as error:
            return request.render(
                "opportunity_registration_portal.portal_registration_new",
                self._registration_form_values(form, str(error).split("\n")),
            )
        return request.redirect("/my/registrations/%s?submitted=1" % reg.id)

    def _upload_sudo(self, upload_id):
        """One of the user's own uploads, as superuser, or None."""
        Upload = request.env["crm.lead.registration.upload"].sudo()
        return Upload.search(
            [
                ("id", "=", upload_id),
                ("user_id", "=", request.env.user.id),
                ("partner_id", "=", self._registration_partner().id),
            ],
            limit=1,
        )

    @http.route(
        "/my/registrations/bulk", type="http", auth="user", website=True, methods=["GET", "POST"]
    )
    @enrolled_only
    def portal_registration_bulk(self, **post):
        """Upload a spreadsheet: checked and queued here, registered in the
        background (crm.lead.registration.upload); the page shows its progress."""
        errors = []
        if request.httprequest.method == "POST":
            upload = request.httprequest.files.get("sheet")
            try:
                if not upload or not upload.filename:
                    raise UserError(request.env._("Choose a CSV or XLSX file to upload."))
                data = upload.read(MAX_SHEET_SIZE + 1)
                if len(data) > MAX_SHEET_SIZE:
                    raise UserError(request.env._("The file is larger than 5 MB."))
                queued = request.env["crm.lead.registration.upload"]._queue(
                    upload.filename, data, portal=True
                )
            except (UserError, ValidationError) as error:
                errors = str(error).split("\n")
            else:
                return request.redirect("/my/registrations/uploads/%s" % queued.id)
        values = self._prepare_portal_layout_values()
        uploads = (
            request.env["crm.lead.registration.upload"]
            .sudo()
            .search(
                [
                    ("user_id", "=", request.env.user.id),
                    ("partner_id", "=", self._registration_partner().id),
                ],
                limit=UPLOADS_SHOWN,
            )
        )
        values.update(
            {
                "page_name": "registration_bulk",
                "errors": errors,
                "uploads": uploads,
                "max_rows": MAX_ROWS,
            }
        )
        return request.render("opportunity_registration_portal.portal_registration_bulk", values)

    @http.route(
        "/my/registrations/uploads/<int:upload_id>",
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    @enrolled_only
    def portal_registration_upload(self, upload_id, **kw):
        upload = self._upload_sudo(upload_id)
        if not upload:
            raise request.not_found()
        values = self._prepare_portal_layout_values()
        values.update({"page_name": "registration_upload", "upload": upload})
        return request.render("opportunity_registration_portal.portal_registration_upload", values)

    @http.route(
        "/my/registrations/uploads/<int:upload_id>/result.csv",
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    @enrolled_only
    def portal_registration_upload_result(self, upload_id, **kw):
        upload = self._upload_sudo(upload_id)
        if not upload or upload.state != "done":
            raise request.not_found()
        return request.make_response(
            upload.with_context(lang=request.env.lang)._result_csv(),
            headers=[
                ("Content-Type", "text/csv; charset=utf-8"),
                (
                    "Content-Disposition",
                    'attachment; filename="registration_upload_%s.csv"' % upload.id,
                ),
            ],
        )

    @http.route(
        "/my/registrations/template.csv", type="http", auth="user", website=True, readonly=True
    )
    @enrolled_only
    def portal_registration_template(self, **kw):
        self._registration_partner()
        content = request.env["crm.lead"]._registration_sheet_template()
        return request.make_response(
            content,
            headers=[
                ("Content-Type", "text/csv; charset=utf-8"),
                ("Content-Disposition", 'attachment; filename="deal_registrations.csv"'),
            ],
        )
