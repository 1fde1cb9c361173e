"""Referrals: logging a case, and editing what it records.

The one path for a new referral is :func:`add_referral`, used by
``thcli referral add``, the wizard and the demo alike, so every rule applies
everywhere. Lifecycle moves are in workflow.py, time targets in targets.py;
finding and reading cases is case_view.py.

The package: fields.py (what a referral records and the rules its values
meet), adding.py (logging one) and editing.py (changing one).
"""

from thcli.cases import case_row, consent_state
from thcli.referrals.adding import AddResult, add_referral, find_earlier, next_steps
from thcli.referrals.editing import (
    EDITABLE,
    Edited,
    add_note,
    edit_referral,
    record_consent,
    set_landlord,
    set_landlord_permission,
)
from thcli.referrals.fields import (
    CODED_FIELDS,
    LANDLORD_PERMISSIONS,
    SAFE_CHANNELS,
    ReferralInput,
    check,
    eligibility_warnings,
)

__all__ = [
    "CODED_FIELDS", "EDITABLE", "LANDLORD_PERMISSIONS", "SAFE_CHANNELS", "AddResult", "Edited", "ReferralInput",
    "add_note", "add_referral", "case_row", "check", "consent_state", "edit_referral", "eligibility_warnings",
    "find_earlier", "next_steps", "record_consent", "set_landlord", "set_landlord_permission",
]
