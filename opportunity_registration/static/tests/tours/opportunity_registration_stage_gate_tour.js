import { registry } from "@web/core/registry";

// The rep ticks one of the two exit criteria of Tour S1 and tries to move on.
const moveWithOneCriterionTicked = [
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
];

registry.category("web_tour.tours").add("opportunity_registration_stage_gate_tour", {
    steps: () => [
        ...moveWithOneCriterionTicked,
        {
            trigger: ".modal:contains('Exit criterion not met: Tour contact')",
            content: "the refusal names the missing criterion",
        },
        {
            trigger: ".modal:not(.o_inactive_modal) .modal-footer button.btn-primary",
            content: "close the refusal",
            run: "click",
        },
        {
            trigger: ".o_form_saved .o_statusbar_status button.o_arrow_button_current:contains('Tour S1')",
            content: "the refused stage is not lit and nothing is left to discard",
        },
        {
            trigger: ".o_form_view .o_notebook a.nav-link:contains('Stage Gate')",
            content: "the checklist is still there",
            run: "click",
        },
        {
            trigger: "div[name=stage_criterion_done_ids] .form-check:contains('Tour need') input:checked",
            content: "the ticked criterion is kept",
        },
        {
            trigger: ".o_form_view .alert-warning:contains('Tour contact')",
            content: "the gate still names what is missing",
        },
        {
            trigger: "div[name=stage_criterion_done_ids] .form-check:contains('Tour contact') input:not(:checked)",
            content: "tick the second exit criterion",
            run: "click",
        },
        {
            trigger: ".o_form_view .alert-info:contains('meets the exit criteria')",
            content: "the gate warning updates as the rep ticks, before saving",
        },
        {
            trigger: "div[name=stage_criterion_done_ids] .form-check:contains('Tour contact') input:checked",
            content: "both ticked",
        },
        {
            trigger: ".o_statusbar_status button:contains('Tour S2')",
            content: "move on",
            run: "click",
        },
        {
            // the status bar saves the move itself
            trigger: ".o_form_saved .o_statusbar_status button.o_arrow_button_current:contains('Tour S2')",
            content: "the opportunity is saved in the next stage",
        },
    ],
});

// A sales administrator refused by a gate closes the dialog: nothing of the
// save (the criterion ticked with it, the move) reaches the database.
registry.category("web_tour.tours").add("opportunity_registration_stage_gate_manager_refused_tour", {
    steps: () => [
        ...moveWithOneCriterionTicked,
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
