import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("opportunity_registration_approve", {
    steps: () => [
        {
            content: "The registration waits for review",
            trigger: ".o_form_view .o_field_widget[name=registration_state]:contains('Pending Review')",
        },
        {
            content: "Approve it from the opportunity form",
            trigger: ".o_form_view button[name=action_registration_approve]",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal:contains('Approve this registration?') .modal-footer button.btn-primary",
            run: "click",
        },
        {
            content: "The opportunity is registered",
            trigger: ".o_form_view .o_field_widget[name=registration_state]:contains('Registered')",
        },
        {
            content: "The protection end date is shown",
            trigger: ".o_form_view .o_field_widget[name=protection_end_date]:not(:empty)",
        },
    ],
});
