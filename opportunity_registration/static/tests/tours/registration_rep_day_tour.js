import { registry } from "@web/core/registry";

// A rep's morning: a new opportunity from the pipeline, a customer someone
// else holds (typed in Contact), then a free one, submitted for registration.
registry.category("web_tour.tours").add("opportunity_registration_rep_day", {
    steps: () => [
        {
            content: "Wait for the pipeline",
            trigger: ".o_kanban_renderer .o_kanban_group",
        },
        {
            content: "Create an opportunity from the pipeline",
            trigger: ".o-kanban-button-new",
            run: "click",
        },
        {
            content: "Name it",
            trigger: ".o_kanban_quick_create .o_field_widget[name=name] input",
            run: "edit Tour ERP deal",
        },
        {
            content: "Open the full form",
            trigger: ".o_kanban_quick_create button.o_kanban_edit",
            run: "click",
        },
        {
            content: "Type the customer in Contact",
            trigger: ".o_form_view .o_form_sheet .o_field_widget[name=partner_id] input:not([readonly])",
            run: "edit Holder Tour",
        },
        {
            content: "Pick it",
            trigger: ".o-autocomplete--dropdown-item:contains('Holder Tour Co')",
            run: "click",
        },
        {
            content: "The form says at once who holds the customer, under the title",
            trigger: ".o_form_view .o_registration_conflict:contains('already registered by Rep Li')",
        },
        {
            content: "Choose the customer the rep really met",
            trigger: ".o_form_view .o_form_sheet .o_field_widget[name=partner_id] input:not([readonly])",
            run: "edit Free Tour",
        },
        {
            content: "Pick it",
            trigger: ".o-autocomplete--dropdown-item:contains('Free Tour Co')",
            run: "click",
        },
        {
            content: "No conflict any more",
            trigger: ".o_form_view .o_form_sheet:not(:has(.o_registration_conflict))",
        },
        {
            content: "Give the budget",
            trigger: ".o_form_view .o_field_widget[name=expected_revenue] input",
            run: "edit 30000",
        },
        {
            content: "Open the Registration page",
            trigger: ".o_notebook a[name=registration]",
            run: "click",
        },
        {
            content: "The page lists what is still missing",
            trigger: ".o_registration_problems:contains('Need description')",
        },
        {
            content: "Describe the need",
            trigger: ".o_field_widget[name=need_description] textarea",
            run: "edit Quotes for 40 buyers in one place",
        },
        {
            content: "Submit the registration",
            trigger: ".o_form_view button[name=action_registration_submit]",
            run: "click",
        },
        {
            content: "It waits for the team leader",
            trigger: ".o_form_view .o_field_widget[name=registration_state]:contains('Pending Review')",
        },
    ],
});

// The approver's inbox: the list tells what waits, approving asks to confirm.
registry.category("web_tour.tours").add("opportunity_registration_approver_inbox", {
    steps: () => [
        {
            content: "The inbox shows customer, band, amount, owner and age",
            trigger: ".o_list_view .o_data_row:contains('Tour ERP deal'):contains('Free Tour Co'):contains('Ordinary'):contains('Rep Zhang')",
        },
        {
            content: "No New button in the inbox",
            trigger: ".o_control_panel:not(:has(.o_list_button_add))",
        },
        {
            content: "Open it",
            trigger: ".o_list_view .o_data_row:contains('Tour ERP deal') td[name=name]",
            run: "click",
        },
        {
            content: "Approve",
            trigger: ".o_form_view button[name=action_registration_approve]",
            run: "click",
        },
        {
            content: "Approving asks for a confirmation",
            trigger: ".modal:contains('Approve this registration?') .modal-footer button.btn-primary:contains('Approve')",
            run: "click",
        },
        {
            content: "The opportunity is registered",
            trigger: ".o_form_view .o_field_widget[name=registration_state]:contains('Registered')",
        },
        {
            content: "The chatter says who approved: the note's author and its subtype",
            trigger: ".o-mail-Message:has(.o-mail-Message-author:contains('Leader Wang')):contains('Registration approved: the customer is protected')",
        },
    ],
});

// The rep logs the week's follow-up, which renews the lock.
registry.category("web_tour.tours").add("opportunity_registration_follow_up", {
    steps: () => [
        {
            content: "Log a note",
            trigger: ".o-mail-Chatter button.o-mail-Chatter-logNote",
            run: "click",
        },
        {
            content: "Say what happened",
            trigger: ".o-mail-Composer-input",
            run: "edit Demo done with the purchasing director",
        },
        {
            content: "Log it",
            trigger: ".o-mail-Composer button.o-mail-Composer-send:enabled",
            run: "click",
        },
        {
            content: "The note is in the chatter",
            trigger: ".o-mail-Message:contains('Demo done with the purchasing director')",
        },
    ],
});

// A manager settles a conflict: the holder keeps the customer.
registry.category("web_tour.tours").add("opportunity_registration_arbitration", {
    steps: () => [
        {
            content: "The challenger's opportunity shows the conflict",
            trigger: ".o_form_view .o_registration_conflict:contains('Holder Tour Co')",
        },
        {
            content: "Arbitrate",
            trigger: ".o_form_view .o_form_statusbar button:contains('Arbitrate')",
            run: "click",
        },
        {
            content: "Keep the holder",
            trigger: ".modal .o_field_widget[name=decision] input[data-value=keep]",
            run: "click",
        },
        {
            content: "Say why",
            trigger: ".modal .o_field_widget[name=reason] textarea",
            run: "edit Rep Li met the customer first",
        },
        {
            content: "Confirm",
            trigger: ".modal .modal-footer button[name=action_confirm]",
            run: "click",
        },
        {
            content: "The decision is told on the challenger's opportunity",
            trigger: ".o_form_view .o_registration_conflict:contains('a registration manager decided so')",
        },
    ],
});
