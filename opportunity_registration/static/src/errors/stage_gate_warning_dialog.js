import { RedirectWarningDialog } from "@web/core/errors/error_dialogs";
import { registry } from "@web/core/registry";

/**
 * A stage move the gate refuses, offered to a sales administrator for
 * override: the stock redirect-warning dialog, under the title the server
 * sends (in the user's language) instead of the generic "Odoo Warning".
 */
export class StageGateWarningDialog extends RedirectWarningDialog {
    setup() {
        super.setup();
        this.title = this.props.data.context?.title || this.title;
    }
}

registry
    .category("error_dialogs")
    .add("odoo.addons.opportunity_registration.exceptions.StageGateWarning", StageGateWarningDialog);
