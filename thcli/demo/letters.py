"""The demo's letters: one of each kind, made by thcli's own letter code for the most recent case it fits."""

from __future__ import annotations

from thcli import letters
from thcli.db import write
from thcli.demo.stories import DemoContext
from thcli.errors import BadInput, NotAllowed
from thcli.files import sync_folder


def demo_letters(context: DemoContext) -> None:
    """``thcli demo``: one letter of each kind, for the most recent case each can be made for."""
    if context.letters_dir is None:
        return
    db = context.db
    out_dir = letters.prepare_out_dir(context.letters_dir)
    scheme = letters.Scheme.load(db)
    cache: dict = {}
    # The landlord's letter of a case whose landlord was asked to contribute, to show what it says.
    asked = {row[0] for row in db.conn.execute(
        "SELECT case_id FROM ledger WHERE kind = 'contribution' AND contributor = 'landlord' AND pledged = 1")}
    for spec in letters.KINDS.values():
        statuses = spec.statuses
        first = asked if spec.name == "landlord-permission" else set()
        for story in sorted((s for s in context.stories if s.status in statuses),
                            key=lambda s: (s.case_id not in first, -s.index))[:400]:
            try:
                with write(db):
                    letters.make_for_case(db, spec, story.ref, by=context.by, out_dir=out_dir, on=context.today,
                                          scheme=scheme, to=None, cache=cache, sync=False)
                break
            except (NotAllowed, BadInput):
                continue
    sync_folder(out_dir)
