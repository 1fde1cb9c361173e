"""The county officer's side of the partnership (issue 17; DESIGN.md §7).

Every district scheme sends the county domestic abuse partnership its
``thcli-county-1`` or ``-2`` files (county.py writes them). This package is
what the partnership does with them, from the files alone (no shared
database, no names):

- :mod:`~thcli.partnership.key`: the **county key**, made once by the
  partnership and imported by every district, so that one survivor has one
  pseudonym in every district's extract (COUNTY_EXPORT.md version 2);
- :mod:`~thcli.partnership.combine`: reading and checking the districts'
  files, streamed a row at a time, into running totals;
- :mod:`~thcli.partnership.figures`: the county figures from those totals,
  suppressed by the district summary's own rules and code (county.protect),
  and the CSV files they are written to;
- :mod:`~thcli.partnership.board`: the board report, a Word document, with
  charts drawn by :mod:`~thcli.partnership.charts` where matplotlib is
  installed (``pip install 'thcli[reports]'``).

A scheme's own board report (``thcli report board``) goes through the same
totals, figures and document, fed from its database instead of files.
"""
