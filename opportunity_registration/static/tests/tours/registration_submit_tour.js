import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("opportunity_registration_submit", {
    steps: () => [
        {
            content: "The opportunity is not registered yet",
            trigger: ".o_form_view .o_field_widget[name=registration_state]:contains('Unregistered')",
        },
        {
            content: "Open the Registration page",
            trigger: ".o_notebook a[name=registration]",
            run: "click",
        },
        {
            content: "Describe the customer's need",
            trigger: ".o_field_widget[name=need_description] textarea",
            run: "edit Move 40 buyers off spreadsheets",
        },
        {
            content: "Submit the registration",
            trigger: ".o_form_view button[name=action_registration_submit]",
            run: "click",
        },
        {
            content: "The badge shows the registration is pending review",
            trigger: ".o_form_view .o_field_widget[name=registration_state]:contains('Pending Review')",
        },
        {
            content: "The registration number is shown",
            trigger: ".o_form_view .o_field_widget[name=registration_number]:contains('REG/')",
        },
    ],
});
