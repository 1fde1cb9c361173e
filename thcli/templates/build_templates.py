"""Build thcli's default letter templates (the .docx files beside this script).

The templates are ordinary Word documents with docxtpl (Jinja) merge fields:
``{{ client_name }}``, ``{%p if to_survivor %}`` ... ``{%p endif %}`` around
whole paragraphs, and ``{%tr for line in lines %}`` ... ``{%tr endfor %}`` around
table rows. The fields each kind may use are listed in thcli/letters/kinds.py
(``KINDS`` and ``COMMON_FIELDS``); ``thcli letter templates use`` rejects any other. The layout every
letter shares (letterhead, addresses, sign-off) is layout.py's.

Change the wording here and run, from the repository root::

    python -m thcli.templates.build_templates

then check every letter in LibreOffice (see the README) and commit the .docx
files. A test checks that the committed files are what this script makes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx.shared import Cm, Pt, RGBColor

from thcli.templates.layout import Letter

#: Where the default templates are written (the package's own folder).
HERE = Path(__file__).resolve().parent


# --- the letters ----------------------------------------------------------------


def acknowledgement() -> Letter:
    w = Letter("acknowledgement", "Acknowledgement of a referral")
    w.letterhead()
    w.addresses()
    w.opening()
    w.if_("to_survivor")
    w.if_("self_referral")
    w.para("Thank you for contacting the {{ scheme_name }}. We received your request for help on "
           "{{ received_on }}. Your reference is **{{ ref }}**; please quote it whenever you contact us.")
    w.else_()
    w.para("We received a referral for you from {{ referred_by }} on {{ received_on }}, asking the "
           "{{ scheme_name }} to help make your home safer. Your reference is **{{ ref }}**; please quote it "
           "whenever you contact us.")
    w.endif()
    w.if_("contacted")
    w.para("Thank you for talking to us. With your agreement we are arranging a home security survey, which we "
           "aim to complete by {{ survey_by }}. The surveyor recommends the measures that would make your home "
           "safer, and we arrange for them to be fitted.")
    w.else_()
    w.para("We will contact you by {{ first_contact_by }}, using only the ways {% if self_referral %}you told us "
           "are{% else %}we have been told are{% endif %} safe. With "
           "your agreement we will then arrange a home security survey, which we aim to complete by "
           "{{ survey_by }}. The surveyor recommends the measures that would make your home safer, and we "
           "arrange for them to be fitted.")
    w.endif()
    w.para("If it is no longer safe for us to contact you in the way we agreed, or there is a better time "
           "to reach you, please {{ contact_us }}.")
    w.else_()
    w.para("Thank you for your referral of {{ client_name }} to the {{ scheme_name }}, which we received on "
           "{{ received_on }}. Our reference is **{{ ref }}**; please quote it whenever you contact us about "
           "this referral.")
    w.if_("contacted")
    w.para("**What happens next.** We have been in touch with {{ client_name }}{% if first_contact_on %} "
           "(first on {{ first_contact_on }}){% endif %}. With their consent we are arranging a home security "
           "survey, which we aim to complete by {{ survey_by }}. The surveyor recommends the measures that "
           "would make the home safer, and we arrange for them to be fitted.")
    w.else_()
    w.para("**What happens next.** We will contact {{ client_name }} by {{ first_contact_by }}, using only "
           "the contact routes recorded as safe. With their consent we will ask for a home security survey, "
           "which we aim to complete by {{ survey_by }}. The surveyor recommends the measures that would make "
           "the home safer, and we arrange for them to be fitted.")
    w.endif()
    w.para("If the situation changes, or there is a safer way or time to reach {{ client_name }}, please let "
           "us know straight away: {{ contact_us }}.")
    w.endif()
    w.signoff()
    return w


def decline() -> Letter:
    w = Letter("decline", "Referral not accepted")
    w.letterhead()
    w.addresses()
    w.opening()
    w.if_("to_survivor")
    w.if_("self_referral")
    w.para("Thank you for contacting the {{ scheme_name }} on {{ received_on }} (your reference "
           "{{ ref }}). I am sorry to tell you that we are not able to help you on this occasion.")
    w.else_()
    w.para("On {{ received_on }} we received a referral for you from {{ referred_by }}, asking the "
           "{{ scheme_name }} to help make your home safer (your reference {{ ref }}). I am sorry to tell you "
           "that we are not able to help you on this occasion.")
    w.endif()
    w.else_()
    w.para("Thank you for referring {{ client_name }} to the {{ scheme_name }} on {{ received_on }} (our "
           "reference {{ ref }}). I am sorry to tell you that we are not able to help on this occasion.")
    w.endif()
    w.details([("Reason", "{{ decline_reason }}"), ("Decided on", "{{ declined_on }}")])
    w.if_("to_survivor")
    w.para("If your circumstances change, you are welcome to contact us again. If you would like to talk "
           "about this decision, or about other help that may be available to you, please {{ contact_us }}.")
    w.else_()
    w.para("If the circumstances change, you are welcome to refer {{ client_name }} again. If you would like "
           "to talk about this decision, or about other help that may be available, please {{ contact_us }}.")
    w.endif()
    w.signoff()
    return w


def survey_request() -> Letter:
    w = Letter("survey-request", "Request for a home security survey")
    w.letterhead()
    w.addresses([("Survey by", "{{ survey_by }}")])
    w.opening()
    w.para("Please carry out a home security survey at the home below. The client has consented to our "
           "sharing these details with {{ shared_with }} for this purpose. We aim to have the survey done by "
           "**{{ survey_by }}**.")
    w.if_("do_not_disclose")
    w.para("**This address must not be disclosed.** Do not write it on any other document, and do not share "
           "it with anyone outside your survey team.", color=RGBColor(0xA5, 0x00, 0x21))
    w.endif()
    w.details([
        ("Client", "{{ client_name }}"),
        ("Address", "{{ home_address }}"),
        ("Risk level", "{{ risk_level }}"),
        ("Household", "{{ household }}"),
        ("Tenure", "{{ tenure }}"),
        ("Visit needs", "{{ visit_needs }}"),
        ("Arranging access", "{{ access }}"),
    ])
    w.para("Please arrange the visit only through the contact route above, and leave no cards or messages at "
           "the property. Send your report and recommended measures to us, quoting {{ ref }}: "
           "{{ contact_us }}.")
    w.signoff()
    return w


def landlord_permission() -> Letter:
    w = Letter("landlord-permission", "Request for the landlord's permission")
    w.letterhead()
    w.addresses([("Reply by", "{{ reply_by }}")])
    w.opening()
    w.para("The {{ scheme_name }} helps residents to feel safer in their homes by improving home security. "
           "Your tenant, {{ client_name }}, has asked for our help, and a security survey has recommended the "
           "work below.")
    w.if_("property")
    w.details([("Property", "{{ property }}")])
    w.else_()
    w.para("For your tenant's privacy we do not give the address of the property in writing; please call us "
           "if you need to confirm it.")
    w.endif()
    w.items(["Measure", "Quantity", "Where"], ["{{ m.label }}", "{{ m.quantity }}", "{{ m.location }}"],
            [Cm(9), Cm(2.4), Cm(5.6)], loop="m in measures", right=(1,))
    w.if_("landlord_contribution")
    w.para("We ask for your permission for this work, which we arrange through our contractor, and for a "
           "contribution of **{{ landlord_contribution }}** towards its cost.{% if landlord_contribution_due %} "
           "Please pay {{ landlord_contribution_due }} {{ how_to_pay }}, quoting {{ ref }}.{% else %} We have "
           "received it: thank you.{% endif %} Any fixings are made good. Equipment that can be removed remains "
           "the property of the scheme.")
    w.else_()
    w.para("We ask for your permission for this work. We arrange it through our contractor at no cost to "
           "you, and any fixings are made good. Equipment that can be removed remains the property of the "
           "scheme.")
    w.endif()
    w.para("Please reply by **{{ reply_by }}**, quoting {{ ref }}: {{ contact_us }}. Please do not discuss "
           "this request with anyone other than your tenant.")
    w.signoff()
    return w


def works_order() -> Letter:
    w = Letter("works-order", "Works order")
    w.letterhead()
    w.addresses([("Order date", "{{ order_date }}"), ("Complete by", "{{ complete_by }}")])
    w.opening()
    w.para("Please carry out the work below for the {{ scheme_name }}. **{{ priority }}**")
    w.if_("do_not_disclose")
    w.para("**This address must not be disclosed.** Write it only on your job sheet for this order, and do "
           "not share it with anyone.", color=RGBColor(0xA5, 0x00, 0x21))
    w.endif()
    w.details([
        ("Resident", "{{ client_name }}"),
        ("Address", "{{ home_address }}"),
        ("Arranging access", "{{ access }}"),
    ])
    w.items(["Line", "Measure", "Qty", "Where", "Unit cost", "Cost"],
            ["{{ line.number }}", "{{ line.label }}", "{{ line.quantity }}", "{{ line.location }}",
             "{{ line.unit_cost }}", "{{ line.cost }}"],
            [Cm(1.1), Cm(6.2), Cm(1.1), Cm(4.2), Cm(2.2), Cm(2.2)], loop="line in lines",
            total=("Order total", "{{ total }}"), right=(0, 2, 4, 5))
    w.para("**Conditions.** Arrange access only through the contact route above; do not leave cards, notes "
           "or messages at the property. Hand every new key to the resident in person and keep no copies. "
           "Do not discuss the work with anyone else at or near the property. Invoice the {{ scheme_name }} "
           "quoting {{ ref }} and the line numbers above.", size=Pt(9.5))
    w.signoff()
    return w


def completion() -> Letter:
    w = Letter("completion", "Measures fitted")
    w.letterhead()
    w.addresses()
    w.opening()
    w.if_("to_survivor")
    w.para("I am pleased to confirm that the security measures at your home were completed on "
           "{{ fitted_on }}:")
    w.else_()
    w.para("I am pleased to confirm that the security measures for {{ client_name }} (our reference "
           "{{ ref }}) were completed on {{ fitted_on }}:")
    w.endif()
    w.items(["Measure", "Quantity", "Fitted"], ["{{ m.label }}", "{{ m.quantity }}", "{{ m.fitted_on }}"],
            [Cm(10), Cm(2.4), Cm(4.6)], loop="m in fitted", right=(1,))
    w.if_("to_survivor")
    w.if_("followups")
    w.para("We will contact you {{ followups }}, using only the ways you told us are safe, to check that "
           "everything works and that you feel safer at home.")
    w.endif()
    w.para("If any equipment stops working, or your situation changes, please {{ contact_us }}.")
    w.else_()
    w.if_("followups")
    w.para("We will follow up with {{ client_name }} {{ followups }} to check that everything works and that "
           "they feel safer at home.")
    w.endif()
    w.para("If any equipment stops working, or the situation changes, please {{ contact_us }}.")
    w.endif()
    w.signoff()
    return w


def follow_up() -> Letter:
    w = Letter("follow-up", "Follow-up after fitting")
    w.letterhead()
    w.addresses()
    w.opening()
    w.if_("to_survivor")
    w.para("It is now {{ months_since }} since the security measures at your home were fitted, on "
           "{{ fitted_on }}. We would like to check that everything is still working and that you feel safer "
           "at home.")
    w.else_()
    w.para("It is now {{ months_since }} since the security measures for {{ client_name }} (our reference "
           "{{ ref }}) were fitted, on {{ fitted_on }}. We would be grateful to hear whether everything is "
           "still working, and whether {{ client_name }} feels safer at home.")
    w.endif()
    w.items(["Measure", "Quantity", "Fitted"], ["{{ m.label }}", "{{ m.quantity }}", "{{ m.fitted_on }}"],
            [Cm(10), Cm(2.4), Cm(4.6)], loop="m in fitted", right=(1,))
    w.if_("to_survivor")
    w.para("Please {{ contact_us }} to tell us how things are, or if anything needs repairing or replacing. "
           "If you have moved, or plan to move, please let us know too, so that we can collect any equipment "
           "lent to you.")
    w.else_()
    w.para("Please {{ contact_us }} if there are any concerns, if anything needs repairing or replacing, or "
           "if {{ client_name }} has moved or plans to move.")
    w.endif()
    w.signoff()
    return w


def bedroom_tax_evidence() -> Letter:
    w = Letter("bedroom-tax-evidence", "Evidence of sanctuary scheme measures")
    w.letterhead()
    w.addresses()
    w.opening()
    w.para("This letter confirms that the home of {{ client_name }}{{ home_address_phrase }} is protected by "
           "the {{ scheme_name }}, a sanctuary scheme for people at risk of domestic abuse. The home is a "
           "social tenancy ({{ tenure }}), and these security measures were fitted under the scheme:")
    w.items(["Measure", "Quantity", "Fitted"], ["{{ m.label }}", "{{ m.quantity }}", "{{ m.fitted_on }}"],
            [Cm(10), Cm(2.4), Cm(4.6)], loop="m in fitted", right=(1,))
    w.para("Since October 2021, social tenants whose home has sanctuary scheme measures fitted are exempt "
           "from the reduction for under-occupancy (the \u201cbedroom tax\u201d) in Housing Benefit and the "
           "housing element of Universal Credit.")
    w.para("Please give a copy of this letter to your Housing Benefit office, or add it to your Universal "
           "Credit journal, as evidence. If they need to confirm it, they can contact us quoting {{ ref }}: "
           "{{ contact_us }}.")
    w.signoff()
    return w


def equipment_removal() -> Letter:
    w = Letter("equipment-removal", "Collection of lent equipment")
    w.letterhead()
    w.addresses()
    w.opening()
    w.if_("to_survivor")
    w.para("Some of the security equipment fitted at your home under the {{ scheme_name }} was lent to you "
           "and remains the property of the scheme. We would now like to arrange to collect it:")
    w.else_()
    w.para("Some of the security equipment fitted for {{ client_name }} (our reference {{ ref }}) was lent "
           "and remains the property of the scheme. We would now like to arrange to collect it:")
    w.endif()
    w.items(["Equipment", "Quantity", "Fitted"], ["{{ m.label }}", "{{ m.quantity }}", "{{ m.fitted_on }}"],
            [Cm(10), Cm(2.4), Cm(4.6)], loop="m in equipment", right=(1,))
    w.if_("to_survivor")
    w.para("We will contact you to agree a safe time, using only the ways you told us are safe. If you still "
           "need any of this equipment, please {{ contact_us }} before we collect it: we can leave it with "
           "you.")
    w.else_()
    w.para("Could you help us agree a safe time with {{ client_name }}? If they still need any of this "
           "equipment, please {{ contact_us }}: we can leave it with them.")
    w.endif()
    w.signoff()
    return w


LETTERS = [acknowledgement, decline, survey_request, landlord_permission, works_order, completion, follow_up,
           bedroom_tax_evidence, equipment_removal]


def build_all() -> list[Path]:
    """Write every default template; returns their paths."""
    return [make().save(HERE) for make in LETTERS]


if __name__ == "__main__":
    for written in build_all():
        sys.stdout.write(f"wrote {written.name}\n")
