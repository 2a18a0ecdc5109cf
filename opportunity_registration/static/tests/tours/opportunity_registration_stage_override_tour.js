import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("opportunity_registration_stage_override_tour", {
    steps: () => [
        {
            trigger: ".o_statusbar_status button:contains('Tour S2')",
            content: "try to move on without the exit criteria",
            run: "click",
        },
        {
            trigger: ".modal:contains('Exit criterion not met: Tour need') .modal-title:contains('Stage gate not met')",
            content: "the refusal names the missing criterion, under a title that says what happened",
        },
        {
            trigger: ".modal .modal-footer button:contains('Override with a Reason')",
            content: "a manager may override",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=reason] textarea",
            content: "give the reason",
            run: "edit Signed off by the customer's CEO",
        },
        {
            trigger: ".modal .modal-footer button[name=action_confirm]",
            content: "override and move",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
            content: "the wizard is closed",
        },
        {
            trigger: ".o_form_saved .o_statusbar_status button.o_arrow_button_current:contains('Tour S2')",
            content: "the opportunity is in the next stage",
        },
    ],
});

// A sales administrator refused by a gate closes the dialog: nothing of the
// save (the criterion ticked with it, the move) reaches the database.
registry.category("web_tour.tours").add("opportunity_registration_stage_gate_manager_refused_tour", {
    steps: () => [
        {
            trigger: ".o_form_view .o_notebook a.nav-link:contains('Stage Gate')",
            content: "open the stage gate checklist",
            run: "click",
        },
        {
            trigger: "div[name=stage_criterion_done_ids] .form-check:contains('Tour need') input",
            content: "tick the first exit criterion only",
            run: "click",
        },
        {
            trigger: ".o_statusbar_status button:contains('Tour S2')",
            content: "try to move on",
            run: "click",
        },
        {
            trigger: ".modal .modal-header .modal-title:contains('Stage gate not met')",
            content: "the dialog is titled after what happened, not 'Odoo Warning'",
        },
        {
            trigger: ".modal:not(:has(.modal-title:contains('Odoo Warning'))):contains('Exit criterion not met: Tour contact')",
            content: "and names the missing criterion",
        },
        {
            trigger: ".modal .modal-footer button:contains('Close')",
            content: "close it without overriding",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal)) .o_form_view .o_form_button_cancel",
            content: "the dialog is closed; discard the refused move",
            run: "click",
        },
        {
            trigger: ".o_form_saved .o_statusbar_status button.o_arrow_button_current:contains('Tour S1')",
            content: "the opportunity stays in its stage",
        },
    ],
});
