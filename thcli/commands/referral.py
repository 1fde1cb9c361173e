"""`thcli referral ...`: log, find, read, edit and move cases."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import typer

from thcli.commands._common import (
    FormatOption,
    NoteOption,
    OnDate,
    OverrideOption,
    Ref,
    next_due,
    out,
    parse_code,
    parse_count,
    parse_date,
    parse_postcode,
    parse_search,
    parse_text,
    session,
    stdin_is_terminal,
    warn,
)
from thcli.commands.referral_options import (
    P_CLIENT,
    P_REFERRAL,
    AccessNeeds,
    Address,
    Adults,
    Children,
    ChildrenAges,
    CrimeRef,
    DashDate,
    DashScore,
    Disabled,
    District,
    Dob,
    DoNotDisclose,
    Email,
    Emergency,
    Ethnicity,
    Gender,
    Interpreter,
    Landlord,
    LandlordEmail,
    LandlordPhone,
    Language,
    Lgbt,
    Marac,
    MaracDate,
    MentalHealth,
    Name,
    Nrpf,
    PerpEnter,
    PerpLives,
    PerpName,
    PerpNotes,
    PerpOrders,
    PerpRel,
    PerpWhere,
    Phone,
    Postcode,
    Pregnant,
    Received,
    ReferralForm,
    Referrer,
    ReferrerEmail,
    ReferrerOrg,
    ReferrerPhone,
    ReferrerRole,
    Risk,
    Route,
    SafeCall,
    SafeEmail,
    SafePost,
    SafeText,
    SafeTimes,
    SafeVoicemail,
    Stays,
    Substance,
    SupportWorker,
    Tenure,
    ThirdParty,
    ThirdPartyPhone,
    panel_option,
)

if TYPE_CHECKING:
    from thcli.db import Database

app = typer.Typer(help="Log, find, read and move referrals (cases).", no_args_is_help=True,
                  add_completion=False)

RENAMED = {
    "received": "received_on", "risk": "risk_level", "referrer": "referrer_name",
    "third_party": "third_party_name", "landlord": "landlord_name",
}
NEVER_NONE = ("emergency", "referral_form", "do_not_disclose", "safe_call", "safe_text", "safe_voicemail",
              "safe_email", "safe_post")


def _fields(values: dict[str, Any]) -> dict[str, Any]:
    skip = {"ctx", "fmt", "consent", "note", "new_client", "ref", "override"}
    fields = {RENAMED.get(k, k): v for k, v in values.items() if k not in skip}
    moment = fields.get("received_on")
    if moment is not None:  # a dates.Moment: the date, and the time when given
        fields["received_on"], fields["received_time"] = moment.day, moment.time
    return fields


def _given(ctx: typer.Context) -> bool:
    """Whether any option was given on the command line."""
    from typer._click.core import ParameterSource

    return any(
        ctx.get_parameter_source(p.name) not in (ParameterSource.DEFAULT, None)
        for p in ctx.command.params if p.name
    )


@app.command()
def add(
    ctx: typer.Context,
    received: Received = None, route: Route = None, risk: Risk = None, district: District = None,
    marac: Marac = None, marac_date: MaracDate = None, emergency: Emergency = None,
    dash_date: DashDate = None, dash_score: DashScore = None, referral_form: ReferralForm = None,
    crime_ref: CrimeRef = None, referrer: Referrer = None, referrer_org: ReferrerOrg = None,
    referrer_role: ReferrerRole = None, referrer_phone: ReferrerPhone = None,
    referrer_email: ReferrerEmail = None, support_worker: SupportWorker = None,
    name: Name = None, dob: Dob = None, gender: Gender = None, ethnicity: Ethnicity = None,
    disabled: Disabled = None, access_needs: AccessNeeds = None, language: Language = None,
    interpreter: Interpreter = None, nrpf: Nrpf = None, lgbt: Lgbt = None,
    mental_health_needs: MentalHealth = None, substance_use_needs: Substance = None,
    address: Address = None, postcode: Postcode = None, do_not_disclose: DoNotDisclose = None,
    phone: Phone = None, safe_call: SafeCall = None, safe_text: SafeText = None,
    safe_voicemail: SafeVoicemail = None, email: Email = None, safe_email: SafeEmail = None,
    safe_post: SafePost = None, safe_times: SafeTimes = None, third_party: ThirdParty = None,
    third_party_phone: ThirdPartyPhone = None,
    adults: Adults = None, children: Children = None, children_ages: ChildrenAges = None,
    pregnant: Pregnant = None, tenure: Tenure = None, landlord: Landlord = None,
    landlord_email: LandlordEmail = None, landlord_phone: LandlordPhone = None,
    chooses_to_stay: Stays = None, perpetrator_lives_there: PerpLives = None,
    perpetrator_can_enter: PerpEnter = None,
    perpetrator_name: PerpName = None, perpetrator_relationship: PerpRel = None,
    perpetrator_whereabouts: PerpWhere = None, perpetrator_court_orders: PerpOrders = None,
    perpetrator_notes: PerpNotes = None,
    consent: Annotated[str | None, panel_option("--consent", help="Consent given: police,contractor,landlord,county.",
                                         panel=P_REFERRAL, metavar="SCOPES")] = None,
    note: Annotated[str | None, panel_option("--note", help="A first note on the timeline.", panel=P_REFERRAL,
                                      parser=parse_text, metavar="TEXT")] = None,
    new_client: Annotated[bool, panel_option("--new-client", help="Do not link to an earlier client of the same name.",
                                      panel=P_CLIENT)] = False,
    fmt: FormatOption = None,
) -> None:
    """Log a referral from options (in a terminal with no options: the wizard).

    Required: --name, --postcode, --district, --route, --risk. Every contact
    channel is unsafe unless marked safe.

    Example: thcli referral add --name "Alex Example" --postcode "ZZ1 2AB" --district boston --route idva
    --risk high --phone 07700900123 --safe-to-text
    """
    if not _given(ctx):
        if stdin_is_terminal():
            return _wizard(ctx)
    values = _fields(dict(locals()))
    missing = [opt for opt, key in (("--name", "name"), ("--postcode", "postcode"), ("--district", "district"),
                                    ("--route", "route"), ("--risk", "risk_level")) if values.get(key) is None]
    from thcli.errors import BadInput

    if missing:
        raise BadInput(
            f"missing {', '.join(missing)}: a referral needs at least --name, --postcode, --district, "
            "--route and --risk (or run `thcli referral new` in a terminal for the wizard)"
        )
    for key in NEVER_NONE:
        values[key] = bool(values.get(key))
    from thcli import referrals

    scopes = [s.strip() for s in (consent or "").split(",") if s.strip()]
    data = referrals.ReferralInput(**values, consent=scopes, note=note, new_client=new_client)
    s = session(ctx)
    db = s.open()
    result = referrals.add_referral(db, data, by=s.user)
    _report_added(db, result, fmt)


def _report_added(db: Database, result, fmt) -> None:
    from thcli import referrals, render

    if render.resolve_format(fmt) == "json" and fmt is not None:
        render.print_json({"ref": result.ref, "status": result.status, "warnings": result.warnings,
                           "repeat_of": result.repeat_of})
        return
    out(f"Saved {result.ref} ({result.status}).")
    for text in result.warnings:
        warn(text)
    out("Next steps (commands to copy):")
    for line in referrals.next_steps(db, result):
        out(f"  {line}")


def _wizard(ctx: typer.Context) -> None:
    from thcli import prompts  # questionary is slow to import: only when the wizard runs

    s = session(ctx)
    db = s.open()
    result = prompts.referral_wizard(db, by=s.user)
    if result is None:  # cancelled: the wizard said "Nothing was saved."
        raise typer.Exit(1)
    _report_added(db, result, None)


@app.command()
def new(ctx: typer.Context) -> None:
    """Log a referral by answering questions (the interactive wizard).

    Needs a terminal; from a script use `thcli referral add` with options.

    Example: thcli referral new
    """
    from thcli.errors import BadInput

    if not stdin_is_terminal():
        raise BadInput(
            "the wizard needs a terminal: from a script, log the referral with the options of "
            "`thcli referral add`, at least --name, --postcode, --district, --route and --risk "
            "(see `thcli referral add --help`)"
        )
    _wizard(ctx)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="A status, or 'open' for every open case.",
                                                metavar="STATUS")] = None,
    district: Annotated[str | None, typer.Option("--district", parser=parse_code, metavar="CODE",
                                                  help="Only this district.")] = None,
    risk: Annotated[str | None, typer.Option("--risk", parser=parse_code, metavar="LEVEL",
                                              help="Only this risk level.")] = None,
    route: Annotated[str | None, typer.Option("--route", parser=parse_code, metavar="CODE",
                                               help="Only this referral route.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only cases past their next due date.")] = False,
    search: Annotated[str | None, typer.Option("--search", metavar="TEXT", parser=parse_search,
                                                help="Part of a reference, a name, or a postcode.")] = None,
    since: Annotated[dt.date | None, typer.Option("--since", parser=parse_date, metavar="DATE",
                                                   help="Received on or after this date.")] = None,
    limit: Annotated[int, typer.Option("--limit", parser=parse_count, metavar="N",
                                       help="At most N cases (0 for all).")] = 50,
    fmt: FormatOption = None,
) -> None:
    """List cases, newest first, with their next due date.

    Example: thcli referral list --status open --district boston --overdue
    """
    from rich.text import Text

    from thcli import audit, case_list, clock, render

    s = session(ctx)
    db = s.open()
    filters = case_list.ListFilters(status=status, district=district, risk=risk, route=route, overdue=overdue,
                                    search=search, since=since, limit=limit or None)
    rows, total = case_list.list_cases(db, filters)
    audit.record_view(db, by=s.user, action="referral.list", cases=len(rows), shown_as=render.resolve_format(fmt),
                      filters={"status": status, "district": district, "risk": risk, "route": route,
                               "overdue": overdue, "search": search, "since": since, "limit": limit})
    today = clock.today().isoformat()

    now = clock.now().isoformat(timespec="minutes")

    def due(value, row):
        if not value:
            return ""
        if row.get("next_due_at"):  # a target in hours: its time, red once it has passed
            return Text(f"{render.uk_date(value)} {row['next_due_at'][11:16]}",
                        style="red" if row["next_due_at"] < now else "")
        return Text(render.uk_date(value), style="red" if value < today else "")

    # At 80 columns: the reference, status, client, risk and next due date stay; the rest go in this order.
    columns = [
        render.Column("ref", "Ref", style="bold", kind="ref", drop=0),
        render.Column("status", "Status", kind="code", drop=6),
        render.Column("received_on", "Received", render.uk_date, kind="date", drop=3),
        render.Column("client_name", "Client", kind="line", drop=0, min_width=16),
        render.Column("postcode", "Postcode", kind="code", drop=2),
        render.Column("district", "District", kind="code", drop=4),
        render.Column("risk_level", "Risk", lambda v, r: v + (" (emergency)" if r["emergency"] else ""),
                      kind="code", drop=5),
        render.Column("next_due_on", "Next due", due, kind="date", drop=0),
        render.Column("next_due_what", "For", kind="text", drop=1),
    ]
    caption = f"{len(rows)} of {total} cases" + (" (use --limit 0 for all)" if len(rows) < total else "")
    render.emit(rows, fmt, columns, csv_columns=case_list.LIST_COLUMNS, caption=caption,
                empty="No cases match.")


@app.command()
def show(
    ctx: typer.Context,
    ref: Ref,
    with_perpetrator: Annotated[bool, typer.Option("--with-perpetrator",
                                                   help="Also show the perpetrator (audited).")] = False,
    fmt: FormatOption = None,
) -> None:
    """Everything about one case, with its timeline (the view is audited).

    --format json gives it as one object; csv is refused (a case is not one table).

    Example: thcli referral show TH-2026-0042
    """
    from thcli import case_view, render
    from thcli.errors import BadInput

    if render.resolve_format(fmt) == "csv":  # one case, with its timeline and money, is not one table
        raise BadInput("a case is not a table: use --format json (or table); `thcli referral list --format csv` "
                       "gives cases as rows", "--format")
    s = session(ctx)
    db = s.open()
    case = case_view.show_case(db, ref, by=s.user, with_perpetrator=with_perpetrator)
    if render.resolve_format(fmt) == "json":
        render.print_json(case)
        return
    from thcli.commands import show_view

    show_view.print_case(db, case)


@app.command()
def edit(
    ctx: typer.Context,
    ref: Ref,
    received: Received = None,
    route: Route = None, risk: Risk = None, district: District = None,
    marac: Marac = None, marac_date: MaracDate = None, emergency: Emergency = None,
    dash_date: DashDate = None, dash_score: DashScore = None, referral_form: ReferralForm = None,
    crime_ref: CrimeRef = None, referrer: Referrer = None, referrer_org: ReferrerOrg = None,
    referrer_role: ReferrerRole = None, referrer_phone: ReferrerPhone = None,
    referrer_email: ReferrerEmail = None, support_worker: SupportWorker = None,
    name: Name = None, dob: Dob = None, gender: Gender = None, ethnicity: Ethnicity = None,
    disabled: Disabled = None, access_needs: AccessNeeds = None, language: Language = None,
    interpreter: Interpreter = None, nrpf: Nrpf = None, lgbt: Lgbt = None,
    mental_health_needs: MentalHealth = None, substance_use_needs: Substance = None,
    address: Address = None, postcode: Postcode = None, do_not_disclose: DoNotDisclose = None,
    phone: Phone = None, safe_call: SafeCall = None, safe_text: SafeText = None,
    safe_voicemail: SafeVoicemail = None, email: Email = None, safe_email: SafeEmail = None,
    safe_post: SafePost = None, safe_times: SafeTimes = None, third_party: ThirdParty = None,
    third_party_phone: ThirdPartyPhone = None,
    adults: Adults = None, children: Children = None, children_ages: ChildrenAges = None,
    pregnant: Pregnant = None, tenure: Tenure = None, landlord: Landlord = None,
    landlord_email: LandlordEmail = None, landlord_phone: LandlordPhone = None,
    chooses_to_stay: Stays = None, perpetrator_lives_there: PerpLives = None,
    perpetrator_can_enter: PerpEnter = None,
    perpetrator_name: PerpName = None, perpetrator_relationship: PerpRel = None,
    perpetrator_whereabouts: PerpWhere = None, perpetrator_court_orders: PerpOrders = None,
    perpetrator_notes: PerpNotes = None,
) -> None:
    """Change recorded details of a case (only the options given change).

    A new address or postcode moves the old address to the client's previous
    addresses, which never receive a letter. --received corrects a wrong
    referral date (recorded on the timeline; the targets move with it).

    Example: thcli referral edit TH-2026-0042 --safe-to-call --tenure private_rented --landlord "Example Lettings"
    """
    changes = {k: v for k, v in _fields(dict(locals())).items() if v is not None}
    from thcli import referrals

    s = session(ctx)
    db = s.open()
    changed = referrals.edit_referral(db, ref, changes, by=s.user)
    out(f"Updated {ref.upper()}: {', '.join(changed)}.")
    for text in changed.warnings:
        warn(text)


@app.command()
def move(
    ctx: typer.Context,
    ref: Ref,
    status: Annotated[str, typer.Argument(help="The new status.", metavar="STATUS")],
    reason: Annotated[str | None, typer.Option("--reason", parser=parse_code, metavar="CODE",
                                                help="Reason code (declined, withdrawn, no_contact, closed).")] = None,
    note: NoteOption = None,
    override: OverrideOption = None,
    force: Annotated[str | None, typer.Option(
        "--force", parser=parse_text, metavar="REASON",
        help="End the case although money is still open on it: why (recorded).")] = None,
) -> None:
    """Move a case to another status, following the lifecycle.

    new → triage → survey → approval → works → fitted → follow_up → closed;
    any open case → declined | withdrawn | no_contact (with --reason) or on_hold
    (and back to where it was); a case with nothing left to fit (no measures
    recommended, or all declined) closes from approval or works. A case with
    money open on it (a commitment not yet paid, a pledge not yet received)
    ends only with --force REASON.

    Example: thcli referral move TH-2026-0042 declined --reason out_of_area
    """
    from thcli import workflow

    s = session(ctx)
    db = s.open()
    case = workflow.move(db, ref, status.strip().lower(), reason=reason, note=note, override=override, force=force,
                         by=s.user)
    out(f"{case['ref']} is now {case['status']}.")
    if case["next_due_on"]:
        out(next_due(case["next_due_what"], case["next_due_on"], case["next_due_at"]))


@app.command()
def note(
    ctx: typer.Context,
    ref: Ref,
    text: Annotated[str, typer.Argument(help="The note.", metavar="TEXT", parser=parse_text)],
) -> None:
    """Add a note to a case's timeline (allowed on closed cases too).

    Example: thcli referral note TH-2026-0042 "Spoke to the IDVA; survey booked for Tuesday"
    """
    from thcli import referrals

    s = session(ctx)
    db = s.open()
    referrals.add_note(db, ref, text, by=s.user)
    out(f"Noted on {ref.upper()}.")


@app.command()
def consent(
    ctx: typer.Context,
    ref: Ref,
    scope: Annotated[str, typer.Option("--scope", metavar="SCOPES",
                                       help="police, contractor, landlord, county (comma-separated).")],
    withdraw: Annotated[bool, typer.Option("--withdraw", help="Record consent withdrawn.")] = False,
    on: OnDate = None,
) -> None:
    """Record the client's consent to share (or its withdrawal).

    Example: thcli referral consent TH-2026-0042 --scope police,contractor
    """
    from thcli import referrals

    s = session(ctx)
    db = s.open()
    scopes = [part.strip() for part in scope.split(",") if part.strip()]
    state = referrals.record_consent(db, ref, scopes, withdraw=withdraw, on=on, by=s.user)
    given = [k for k, v in state.items() if v]
    out(f"{ref.upper()} consent: {', '.join(given) if given else 'none'}.")


@app.command()
def landlord(
    ctx: typer.Context,
    ref: Ref,
    permission: Annotated[str | None, typer.Option("--permission", metavar="STATE",
                                                   help="requested, granted, refused or not_needed.")] = None,
    address: Annotated[str | None, typer.Option("--address", parser=parse_text, metavar="TEXT",
                                                help="The landlord's postal address (for the landlord's letter).")]
    = None,
    postcode: Annotated[str | None, typer.Option("--postcode", parser=parse_postcode, metavar="POSTCODE",
                                                 help="The postcode of the landlord's address.")] = None,
    on: OnDate = None,
) -> None:
    """Record the landlord's permission for works on a rented home, and the landlord's postal address.

    Example: thcli referral landlord TH-2026-0042 --address "2 Sample Street, Millbrook" --postcode "ZZ1 9LL"
    """
    from thcli import referrals

    s = session(ctx)
    db = s.open()
    state = permission.strip().lower() if permission is not None else None
    case = referrals.set_landlord(db, ref, permission=state, address=address, postcode=postcode, on=on, by=s.user)
    if state is not None:
        out(f"{case['ref']}: landlord permission {state.replace('_', ' ')}.")
    if address is not None:
        out(f"{case['ref']}: the landlord's address is {case['landlord_address']}, {case['landlord_postcode']}.")


@app.command()
def hold(
    ctx: typer.Context,
    ref: Ref,
    release: Annotated[bool, typer.Option("--release", help="Take the case off legal hold.")] = False,
) -> None:
    """Put a case on legal hold, so the retention schedule never anonymises it (or --release it).

    Example: thcli referral hold TH-2019-0042
    """
    from thcli import retention

    s = session(ctx)
    db = s.open()
    case = retention.set_hold(db, ref, by=s.user, release=release)
    out(f"{case['ref']} is {'no longer' if release else 'now'} on legal hold.")
