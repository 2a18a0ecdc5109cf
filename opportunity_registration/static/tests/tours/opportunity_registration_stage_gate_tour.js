import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("opportunity_registration_stage_gate_tour", {
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
            trigger: ".modal:contains('Exit criterion not met: Tour contact')",
            content: "the refusal names the missing criterion",
        },
        {
            trigger: ".modal:not(.o_inactive_modal) .modal-footer button.btn-primary",
            content: "close the refusal",
            run: "click",
        },
        {
            trigger: ".o_form_button_cancel",
            content: "discard the refused move",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_notebook a.nav-link:contains('Stage Gate')",
            content: "back to the checklist",
            run: "click",
        },
        {
            trigger: "div[name=stage_criterion_done_ids] .form-check:contains('Tour need') input:not(:checked)",
            content: "tick the first exit criterion",
            run: "click",
        },
        {
            trigger: "div[name=stage_criterion_done_ids] .form-check:contains('Tour contact') input:not(:checked)",
            content: "tick the second exit criterion",
            run: "click",
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
