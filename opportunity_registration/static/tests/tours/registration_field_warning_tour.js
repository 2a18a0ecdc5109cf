import { registry } from "@web/core/registry";

// A rep mistypes the customer's e-mail: the form says so as soon as the
// field is left, naming what was typed, long before a submission would refuse it.
registry.category("web_tour.tours").add("opportunity_registration_bad_email_warning", {
    steps: () => [
        {
            content: "Type an e-mail address that is not one",
            trigger: ".o_form_view .o_field_widget[name=email_from] input",
            run: "edit abc",
        },
        {
            content: "Leave the field",
            trigger: ".o_form_view .o_field_widget[name=expected_revenue] input",
            run: "click",
        },
        {
            content: "The warning names the e-mail typed",
            trigger: ".modal:contains('Check this opportunity'):contains('E-mail: abc is not a valid e-mail address.') .modal-footer button:contains('Close')",
            run: "click",
        },
        {
            content: "The field is flagged on the form too",
            trigger: "body:not(:has(.modal)) .o_form_view .o_form_sheet span.o_registration_problem",
        },
        {
            content: "Discard the mistake",
            trigger: ".o_form_view .o_form_button_cancel",
            run: "click",
        },
        {
            content: "The e-mail is back and not flagged any more",
            trigger: ".o_form_saved .o_form_sheet:not(:has(span.o_registration_problem))",
        },
    ],
});
