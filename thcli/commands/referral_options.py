"""The options of `thcli referral add` and `thcli referral edit`, each declared once and shared by both.

Grouped in ``--help`` by the panels below; perpetrator details have their own
panel, a reminder that they never reach a letter or an export.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer

from thcli.commands._common import (
    parse_code,
    parse_count,
    parse_date,
    parse_email,
    parse_moment,
    parse_name,
    parse_phone,
    parse_postcode,
    parse_text,
)

P_REFERRAL = "Referral"
P_CLIENT = "Client"
P_CONTACT = "Safe contact (every channel is unsafe unless marked safe)"
P_HOUSEHOLD = "Household and home"
P_PERP = "Perpetrator (kept apart: never in a letter or an export)"


def panel_option(*decls: str, help: str, panel: str, parser=None, metavar: str | None = None) -> Any:
    return typer.Option(*decls, help=help, rich_help_panel=panel, parser=parser, metavar=metavar,
                        show_default=False)


Received = Annotated[Any, panel_option("--received", help="Date received, with the time when known, e.g. \"01/12/2026 "
                                                  "16:30\" (default now). Hour targets count from it.",
                                panel=P_REFERRAL, parser=parse_moment, metavar="DATE [TIME]")]
Route = Annotated[str | None, panel_option("--route", help="How it came in: a route code (self, marac, police...).",
                                    panel=P_REFERRAL, parser=parse_code, metavar="CODE")]
Risk = Annotated[str | None, panel_option("--risk", help="Risk level from the DASH: standard, medium or high.",
                                   panel=P_REFERRAL, parser=parse_code, metavar="LEVEL")]
District = Annotated[str | None, panel_option("--district", help="District code.", panel=P_REFERRAL,
                                       parser=parse_code, metavar="CODE")]
Marac = Annotated[bool | None, panel_option("--marac/--no-marac", help="Heard at MARAC.", panel=P_REFERRAL)]
MaracDate = Annotated[dt.date | None, panel_option("--marac-date", help="Date of the MARAC.", panel=P_REFERRAL,
                                            parser=parse_date, metavar="DATE")]
Emergency = Annotated[bool | None, panel_option("--emergency/--not-emergency",
                                         help="Emergency (e.g. a same-day lock change): shorter target.",
                                         panel=P_REFERRAL)]
DashDate = Annotated[dt.date | None, panel_option("--dash-date", help="Date of the DASH risk assessment.",
                                           panel=P_REFERRAL, parser=parse_date, metavar="DATE")]
DashScore = Annotated[int | None, panel_option("--dash-score", help="DASH score (0 to 27).", panel=P_REFERRAL,
                                        parser=parse_count, metavar="N")]
ReferralForm = Annotated[bool | None, panel_option("--referral-form/--no-referral-form",
                                            help="The scheme's referral form was received.", panel=P_REFERRAL)]
CrimeRef = Annotated[str | None, panel_option("--crime-ref", help="Police crime reference.", panel=P_REFERRAL,
                                       parser=parse_text, metavar="TEXT")]
Referrer = Annotated[str | None, panel_option("--referrer", help="Referrer's name.", panel=P_REFERRAL,
                                       parser=parse_name, metavar="NAME")]
ReferrerOrg = Annotated[str | None, panel_option("--referrer-org", help="Referrer's organisation.", panel=P_REFERRAL,
                                          parser=parse_name, metavar="TEXT")]
ReferrerRole = Annotated[str | None, panel_option("--referrer-role", help="Referrer's role.", panel=P_REFERRAL,
                                           parser=parse_name, metavar="TEXT")]
ReferrerPhone = Annotated[str | None, panel_option("--referrer-phone", help="Referrer's phone.", panel=P_REFERRAL,
                                            parser=parse_phone, metavar="PHONE")]
ReferrerEmail = Annotated[str | None, panel_option("--referrer-email", help="Referrer's email.", panel=P_REFERRAL,
                                            parser=parse_email, metavar="EMAIL")]
SupportWorker = Annotated[str | None, panel_option("--support-worker", help="IDVA or support worker.",
                                            panel=P_REFERRAL, parser=parse_name, metavar="NAME")]
Name = Annotated[str | None, panel_option("--name", help="Client's full name.", panel=P_CLIENT, parser=parse_name,
                                   metavar="NAME")]
Dob = Annotated[dt.date | None, panel_option("--dob", help="Date of birth (leave out if unknown).", panel=P_CLIENT,
                                      parser=parse_date, metavar="DATE")]
Gender = Annotated[str | None, panel_option("--gender", help="Gender code.", panel=P_CLIENT, parser=parse_code,
                                     metavar="CODE")]
Ethnicity = Annotated[str | None, panel_option("--ethnicity", help="Ethnic group code.", panel=P_CLIENT,
                                        parser=parse_code, metavar="CODE")]
Disabled = Annotated[bool | None, panel_option("--disabled/--not-disabled", help="Disabled.", panel=P_CLIENT)]
AccessNeeds = Annotated[str | None, panel_option("--access-needs", help="Disability and access needs.",
                                          panel=P_CLIENT, parser=parse_text, metavar="TEXT")]
Language = Annotated[str | None, panel_option("--language", help="Preferred language.", panel=P_CLIENT,
                                       parser=parse_name, metavar="TEXT")]
Interpreter = Annotated[bool | None, panel_option("--interpreter/--no-interpreter", help="Needs an interpreter.",
                                           panel=P_CLIENT)]
Nrpf = Annotated[bool | None, panel_option("--nrpf/--not-nrpf", help="No recourse to public funds.", panel=P_CLIENT)]
Lgbt = Annotated[bool | None, panel_option("--lgbt/--not-lgbt", help="Lesbian, gay, bisexual or trans.",
                                    panel=P_CLIENT)]
MentalHealth = Annotated[bool | None, panel_option("--mental-health-needs/--no-mental-health-needs",
                                            help="Mental health needs.", panel=P_CLIENT)]
Substance = Annotated[bool | None, panel_option("--substance-use-needs/--no-substance-use-needs",
                                         help="Drug or alcohol needs.", panel=P_CLIENT)]
Address = Annotated[str | None, panel_option("--address", help="The home's address (lines separated by commas).",
                                      panel=P_CLIENT, parser=parse_text, metavar="TEXT")]
Postcode = Annotated[str | None, panel_option("--postcode", help="The home's postcode.", panel=P_CLIENT,
                                       parser=parse_postcode, metavar="POSTCODE")]
DoNotDisclose = Annotated[bool | None, panel_option("--do-not-disclose/--may-disclose",
                                             help="The address must not be disclosed.", panel=P_CLIENT)]
Phone = Annotated[str | None, panel_option("--phone", help="Client's phone.", panel=P_CONTACT, parser=parse_phone,
                                    metavar="PHONE")]
SafeCall = Annotated[bool | None, panel_option("--safe-to-call/--not-safe-to-call", help="Safe to call.",
                                        panel=P_CONTACT)]
SafeText = Annotated[bool | None, panel_option("--safe-to-text/--not-safe-to-text", help="Safe to text.",
                                        panel=P_CONTACT)]
SafeVoicemail = Annotated[bool | None, panel_option("--safe-voicemail/--no-safe-voicemail",
                                             help="Safe to leave a voicemail.", panel=P_CONTACT)]
Email = Annotated[str | None, panel_option("--email", help="Client's email.", panel=P_CONTACT, parser=parse_email,
                                    metavar="EMAIL")]
SafeEmail = Annotated[bool | None, panel_option("--safe-email/--no-safe-email", help="Safe to email.",
                                         panel=P_CONTACT)]
SafePost = Annotated[bool | None, panel_option("--safe-post/--no-safe-post", help="Safe to post letters to the home.",
                                        panel=P_CONTACT)]
SafeTimes = Annotated[str | None, panel_option("--safe-times", help="When it is safe to make contact.",
                                        panel=P_CONTACT, parser=parse_text, metavar="TEXT")]
ThirdParty = Annotated[str | None, panel_option("--third-party", help="A safe third party to contact.",
                                         panel=P_CONTACT, parser=parse_name, metavar="NAME")]
ThirdPartyPhone = Annotated[str | None, panel_option("--third-party-phone", help="The safe third party's phone.",
                                              panel=P_CONTACT, parser=parse_phone, metavar="PHONE")]
Adults = Annotated[int | None, panel_option("--adults", help="Adults in the household.", panel=P_HOUSEHOLD,
                                     parser=parse_count, metavar="N")]
Children = Annotated[int | None, panel_option("--children", help="Children in the household.", panel=P_HOUSEHOLD,
                                       parser=parse_count, metavar="N")]
ChildrenAges = Annotated[str | None, panel_option("--children-ages", help="Children's ages, e.g. '3, 7'.",
                                           panel=P_HOUSEHOLD, parser=parse_text, metavar="TEXT")]
Pregnant = Annotated[bool | None, panel_option("--pregnant/--not-pregnant", help="Pregnancy in the household.",
                                        panel=P_HOUSEHOLD)]
Tenure = Annotated[str | None, panel_option("--tenure", help="Tenure code (owner, private_rented, council...).",
                                     panel=P_HOUSEHOLD, parser=parse_code, metavar="CODE")]
Landlord = Annotated[str | None, panel_option("--landlord", help="Landlord's name.", panel=P_HOUSEHOLD,
                                       parser=parse_name, metavar="TEXT")]
LandlordEmail = Annotated[str | None, panel_option("--landlord-email", help="Landlord's email.", panel=P_HOUSEHOLD,
                                            parser=parse_email, metavar="EMAIL")]
LandlordPhone = Annotated[str | None, panel_option("--landlord-phone", help="Landlord's phone.", panel=P_HOUSEHOLD,
                                            parser=parse_phone, metavar="PHONE")]
Stays = Annotated[bool | None, panel_option("--chooses-to-stay/--does-not-choose-to-stay",
                                     help="The client chooses to stay in the home.", panel=P_HOUSEHOLD)]
PerpLives = Annotated[bool | None, panel_option("--perpetrator-lives-there/--perpetrator-lives-elsewhere",
                                         help="Whether the perpetrator lives at the home.", panel=P_HOUSEHOLD)]
PerpEnter = Annotated[bool | None, panel_option("--perpetrator-can-enter/--perpetrator-cannot-enter",
                                         help="Whether the perpetrator has a right to enter the home.",
                                         panel=P_HOUSEHOLD)]
PerpName = Annotated[str | None, panel_option("--perpetrator-name", help="Perpetrator's name.", panel=P_PERP,
                                       parser=parse_name, metavar="NAME")]
PerpRel = Annotated[str | None, panel_option("--perpetrator-relationship", help="Relationship code.", panel=P_PERP,
                                      parser=parse_code, metavar="CODE")]
PerpWhere = Annotated[str | None, panel_option("--perpetrator-whereabouts", help="Whereabouts code.", panel=P_PERP,
                                        parser=parse_code, metavar="CODE")]
PerpOrders = Annotated[str | None, panel_option("--perpetrator-court-orders", help="Court orders in place.",
                                         panel=P_PERP, parser=parse_text, metavar="TEXT")]
PerpNotes = Annotated[str | None, panel_option("--perpetrator-notes", help="Notes useful to the surveyor.",
                                        panel=P_PERP, parser=parse_text, metavar="TEXT")]

#: Option parameter -> ReferralInput field, where the names differ.
