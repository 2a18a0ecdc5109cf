from . import (
    test_attacker,
    test_channel_enrollment,
    test_channel_portal,
    test_channel_tour,
    test_partner_emails,
    test_translations,
)
