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
    for spec in letters.KINDS.values():
        statuses = spec.statuses
        for story in sorted((s for s in context.stories if s.status in statuses), key=lambda s: -s.index)[:400]:
            try:
                with write(db):
                    letters.make_for_case(db, spec, story.ref, by=context.by, out_dir=out_dir, on=context.today,
                                          scheme=scheme, to=None, cache=cache, sync=False)
                break
            except (NotAllowed, BadInput):
                continue
    sync_folder(out_dir)
