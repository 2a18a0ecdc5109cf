import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("opportunity_registration_portal_register", {
    url: "/my/home",
    steps: () => [
        {
            content: "Open the deal registrations from the portal home",
            trigger: "a[href='/my/registrations']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Register a new deal",
            trigger: "a.o_registration_new",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Customer company",
            trigger: "input[name=company_name]",
            run: "edit Qingdao Blue Sea Foods Co., Ltd.",
        },
        {
            content: "Unified social credit code",
            trigger: "input[name=vat]",
            run: "edit 91370200MA3C9QDF2X",
        },
        {
            content: "Contact",
            trigger: "input[name=contact_name]",
            run: "edit Ms Gao",
        },
        {
            content: "E-mail",
            trigger: "input[name=email]",
            run: "edit gao@bluesea-foods.example.com",
        },
        {
            content: "The customer's need",
            trigger: "textarea[name=need]",
            run: "edit Cold-chain tracking for 40 trucks",
        },
        {
            content: "Budget",
            trigger: "input[name=budget]",
            run: "edit 15000",
        },
        {
            content: "Expected closing, in two months",
            trigger: "input[name=date_deadline]",
            run() {
                const closing = new Date(Date.now() + 60 * 24 * 3600 * 1000);
                this.anchor.value = closing.toISOString().slice(0, 10);
            },
        },
        {
            content: "Submit",
            trigger: "button.o_registration_submit",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The registration is submitted and pending review",
            trigger: ".o_registration_submitted",
        },
        {
            content: "Its status is Pending Review",
            trigger: "h2 .badge:contains('Pending Review')",
        },
    ],
});

registry.category("web_tour.tours").add("opportunity_registration_portal_registered", {
    url: "/my/registrations",
    steps: () => [
        {
            content: "The approved registration is listed as registered",
            trigger: ".o_registration_row:contains('Qingdao Blue Sea Foods') .badge:contains('Registered')",
        },
        {
            content: "Open it",
            trigger: ".o_registration_row:contains('Qingdao Blue Sea Foods') a",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The protection end date is shown",
            trigger: ".o_registration_protection:not(:empty)",
        },
        {
            content: "Write to the channel manager in the chatter",
            trigger: "#chatterRoot:shadow .o-mail-Composer-input",
            run: "edit Demo with the customer on Friday",
        },
        {
            content: "Send",
            trigger: "#chatterRoot:shadow .o-mail-Composer-send:enabled",
            run: "click",
        },
        {
            content: "The message is in the conversation",
            trigger: "#chatterRoot:shadow .o-mail-Message-body:contains('Demo with the customer on Friday')",
        },
    ],
});
