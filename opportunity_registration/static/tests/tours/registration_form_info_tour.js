import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("opportunity_registration_form_info", {
    steps: () => [
        {
            content: "The badge says the customer is registered",
            trigger: ".o_form_view .o_field_widget[name=registration_state]:contains('Registered')",
        },
        {
            content: "with the registration number",
            trigger: ".o_form_view .o_field_widget[name=registration_number]:contains('REG/')",
        },
        {
            content: "and the end of the protection",
            trigger: ".o_form_view .o_field_widget[name=protection_end_date]:not(:empty)",
        },
        {
            content: "The owner may release the customer",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_open_registration_reason]:contains('Release Customer')",
        },
        {
            content: "Open the Registration page",
            trigger: ".o_notebook a[name=registration]",
            run: "click",
        },
        {
            content: "Open the lock history",
            trigger: ".o_notebook button[name=action_open_lock_history]",
            run: "click",
        },
        {
            content: "The lock granted is in the lock history",
            trigger: ".o_list_view .o_data_row td[name=event]:contains('Lock Granted')",
        },
        {
            content: "Back to the opportunity",
            trigger: ".o_breadcrumb .breadcrumb-item:not(.active) a:contains('Form Deal')",
            run: "click",
        },
        {
            content: "Open the registrations",
            trigger: ".o_notebook button[name=action_open_registrations]",
            run: "click",
        },
        {
            content: "The registration is listed",
            trigger: ".o_list_view .o_data_row td[name=name]:contains('REG/')",
        },
    ],
});

registry.category("web_tour.tours").add("opportunity_registration_form_conflict", {
    steps: () => [
        {
            content: "The rep is told who holds the customer, before submitting",
            trigger: ".o_form_view .o_registration_conflict:contains('already registered by Rep Zhang')",
        },
        {
            content: "The opportunity itself is not registered",
            trigger: ".o_form_view .o_field_widget[name=registration_state]:contains('Unregistered')",
        },
    ],
});
