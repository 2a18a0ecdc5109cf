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
