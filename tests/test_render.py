"""The table mechanism (render.fit, render.table): whole columns are never cut, text gives way, columns go in order.

Every table of thcli is laid out here, so a column another part adds (with
its kind and drop order) fits without more work; the goldens
(test_tables_golden.py) show the result command by command.
"""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from thcli import render
from thcli.render import Column


def printed(laid, width: int) -> list[str]:
    out = Console(file=io.StringIO(), width=width, highlight=False, markup=False)
    out.print(laid, crop=False)
    return [line.rstrip() for line in out.file.getvalue().splitlines()]


def test_a_kind_is_read_from_how_a_column_is_shown_and_its_key():
    assert Column("amount_pence", "Amount").kind == "money"
    assert Column("x", "Fitted", render.uk_date).kind == "date"
    assert Column("due_on", "Due").kind == "date"
    assert Column("ref", "Ref").kind == "ref"
    assert Column("legal_hold", "Held", render.yes_no).kind == "code"
    assert Column("memo", "Memo").kind == "text"
    assert Column("amount_pence", "Amount").justify == "right"
    assert Column("invoice", "Invoice", no_wrap=True).kind == "whole"  # as columns were declared before
    with pytest.raises(ValueError, match="kind 'colour' is not one of"):
        Column("x", "X", kind="colour")


COLUMNS = [Column("ref", "Ref", kind="ref", drop=0), Column("on", "Date", kind="date", drop=3),
           Column("name", "Client", kind="text", drop=0), Column("district", "District", kind="code", drop=2),
           Column("memo", "Note", kind="text", drop=1)]
ROWS = [{"ref": "TH-2026-0001", "on": "01/12/2026", "name": "Alex Example", "district": "northmoor",
         "memo": "Prefers a call on weekday mornings before ten"},
        {"ref": "TH-2026-0002", "on": "02/12/2026", "name": "Sam Featherstonehaugh-Example", "district": "southvale",
         "memo": ""}]


def test_everything_shows_when_it_fits():
    laid = render.table(ROWS, COLUMNS, width=200)
    assert laid.left_out == []
    lines = printed(laid, 200)
    assert lines[0].split() == ["Ref", "Date", "Client", "District", "Note"]
    assert "Sam Featherstonehaugh-Example" in lines[3]


def test_text_wraps_before_a_column_is_dropped():
    laid = render.table(ROWS, COLUMNS, width=80)
    assert laid.left_out == []
    lines = printed(laid, 80)
    assert max(len(line) for line in lines) <= 80
    assert "Prefers a call on" in lines[2] and "Prefers a call on weekday mornings before ten" not in lines[2]


def test_columns_go_in_their_order_and_are_named():
    laid = render.table(ROWS, COLUMNS, width=50)
    assert laid.left_out == ["District", "Note"]
    assert render.left_out_note(laid.left_out, 50) == (
        "Left out to fit 50 columns: District, Note (--format json or a wider window shows them).")
    assert render.table(ROWS, COLUMNS, width=36).left_out == ["Date", "District", "Note"]


def test_a_column_that_went_comes_back_when_a_wider_one_made_room():
    columns = [Column("ref", "Ref", kind="ref", drop=0), Column("short", "S", kind="code", drop=1),
               Column("wide", "Wide", kind="code", drop=2)]
    rows = [{"ref": "TH-2026-0001", "short": "ab", "wide": "x" * 40}]
    assert render.table(rows, columns, width=30).left_out == ["Wide"]


def test_without_a_drop_number_the_first_column_stays_and_the_others_go_from_the_right():
    columns = [Column("a", "A", kind="code"), Column("b", "B", kind="code"), Column("c", "C", kind="code", drop=1)]
    rows = [{"a": "a" * 10, "b": "b" * 10, "c": "c" * 10}]
    assert render.table(rows, columns, width=22).left_out == ["C"]
    assert render.table(rows, columns, width=11).left_out == ["B", "C"]


def test_columns_that_never_go_are_never_cut_even_when_they_do_not_fit():
    laid = render.table(ROWS, COLUMNS, width=12)
    lines = printed(laid, 12)
    assert "TH-2026-0001" in lines[2] and "Alex Example" in " ".join(lines)
    assert laid.left_out == ["Date", "District", "Note"]


def test_a_one_line_text_column_is_shortened_with_an_ellipsis():
    columns = [Column("ref", "Ref", kind="ref", drop=0), Column("name", "Client", kind="line", drop=0,
                                                                min_width=16)]
    lines = printed(render.table(ROWS, columns, width=30), 30)
    assert lines[3] == "TH-2026-0002  Sam Featherston…"


def test_a_heading_may_wrap_at_a_space_but_a_value_never_does():
    columns = [Column("ref", "Case", kind="ref", drop=0), Column("until", "Money kept until", kind="date", drop=0)]
    rows = [{"ref": "TH-2026-0001", "until": "31/03/2033"}]
    lines = printed(render.table(rows, columns, width=24), 24)
    assert lines == ["              Money kept", "Case          until", "─" * 24, "TH-2026-0001  31/03/2033"]


@settings(max_examples=150, deadline=None)
@given(width=st.integers(min_value=20, max_value=160),
       values=st.lists(st.tuples(st.text("abcdefghij-/£0123456789", min_size=1, max_size=14),
                                 st.text("abcdef ghij klmno pq", min_size=0, max_size=60)), min_size=1, max_size=6))
def test_whole_values_are_never_cut_and_the_table_fits_when_it_can(width, values):
    columns = [Column("code", "Code", kind="code", drop=0), Column("amount", "Amount", kind="money", drop=2),
               Column("note", "Note", kind="text", drop=1), Column("date", "Date", kind="date", drop=3)]
    rows = [{"code": code, "amount": code[::-1], "note": note, "date": code.upper()} for code, note in values]
    laid = render.table(rows, columns, width=width)
    lines = printed(laid, width)
    widest_code = max(len(code) for code, _ in values)
    if widest_code <= width:
        assert max(len(line) for line in lines) <= width
    shown = [c.header for c in columns if c.header not in laid.left_out]
    for row in rows:
        for column in columns:
            if column.header in shown and column.kind != "text":
                assert any(row[column.key] in line for line in lines)
