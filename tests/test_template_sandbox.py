"""Issue 11, hole 1: a letter template cannot run code.

Each payload below is a known way out of a plain Jinja environment. It is
put in a real .docx (made with python-docx, as a scheme's template would be)
and offered with `letter templates use`; it must be refused naming the
expression, nothing may be stored, and the side effect it aims at (a file
created) must not happen. A payload stored by an older thcli (straight into
the database) must be refused by `letter make` too, and the sandbox itself
must stop what the check would miss.
"""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from tests.test_letters import TODAY, docx_with, new_case, set_up
from thcli import letters, templating
from thcli.db import write
from thcli.errors import NotAllowed

REST = ("a letter template may only print the merge fields of its kind, loop over them and test them "
        "(`thcli letter templates export KIND FILE` lists the fields)")
FILTERS = "the filters offered are " + ", ".join(templating.FILTERS)


def payloads(mark) -> list[tuple[str, str]]:
    """(template text, the refusal it must get): ``mark`` is a file each escape would create."""
    return [
        ("{{ ''.__class__.__mro__ }}", "{{ ''.__class__.__mro__ }} touches '__mro__', an internal attribute; " + REST),
        (f"{{{{ ''.__class__.__mro__[1].__subclasses__()[0]('{mark}') }}}}",
         f"{{{{ ''.__class__.__mro__[1].__subclasses__()[0]('{mark}') }}}} calls ''.__class__.__mro__[1]."
         f"__subclasses__()[0](), and no merge field is a function; " + REST),
        (f"{{{{ cycler.__init__.__globals__.os.popen('touch {mark}').read() }}}}",
         f"{{{{ cycler.__init__.__globals__.os.popen('touch {mark}').read() }}}} calls read(), and no merge field is "
         "a function; " + REST),
        (f"{{{{ lipsum.__globals__['__builtins__']['open']('{mark}', 'w') }}}}",
         f"{{{{ lipsum.__globals__['__builtins__']['open']('{mark}', 'w') }}}} calls lipsum.__globals__"
         "['__builtins__']['open'](), and no merge field is a function; " + REST),
        ("{{ self._TemplateReference__context }}",
         "{{ self._TemplateReference__context }} touches '_TemplateReference__context', an internal attribute; "
         + REST),
        ("{{ request.application.__globals__ }}",
         "{{ request.application.__globals__ }} touches '__globals__', an internal attribute; " + REST),
        (f"{{{{ config.__class__.__init__.__globals__['os'].system('touch {mark}') }}}}",
         f"{{{{ config.__class__.__init__.__globals__['os'].system('touch {mark}') }}}} calls system(), and no merge "
         "field is a function; " + REST),
        ("{{ ''|attr('__class__') }}",
         "{{ ''|attr('__class__') }} uses the filter 'attr', which letter templates do not offer; " + FILTERS),
        # The same with the underscores escaped, as a filter on the input would miss them.
        ("{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
         "{{ ''|attr('__class__') }} uses the filter 'attr', which letter templates do not offer; " + FILTERS),
        ("{{ ref|join(attribute='__class__') }}",
         "{{ ref|join(attribute='__class__') }} names '__class__', an internal attribute; " + REST),
        ("{% set x = ''.__class__ %}{{ x }}", "{{ ''.__class__ }} touches '__class__', an internal attribute; " + REST),
        ("{% set a = '__cla' %}{{ ref[a ~ 'ss__'] }}", "{{ '__cla' }} names '__cla', an internal attribute; " + REST),
        ("{% set a = 'x' %}{{ ref[a ~ 'y'] }}", "{{ ref[a ~ 'y'] }} looks an item up by a computed key; " + REST),
        ("{{ '{0.__class__}'.format(ref) }}",
         "{{ '{0.__class__}'.format(ref) }} calls format(), and no merge field is a function; " + REST),
        ("{% macro m() %}{{ ref }}{% endmacro %}", "{% macro %} is a tag letter templates do not offer; " + REST),
        ("{% include 'notes.txt' %}", "{% include %} is a tag letter templates do not offer; " + REST),
        ("{% autoescape false %}{{ ref }}{% endautoescape %}",
         "{% autoescape %} is a tag letter templates do not offer; " + REST),
        ("{{ ref * 100000000 }}", "{{ ref * 100000000 }} is not something a letter template may do; " + REST),
    ]


@pytest.fixture
def mark(tmp_path):
    """The file each payload would create if it ran."""
    return tmp_path / "ESCAPED-SIDE-EFFECT"


def test_each_escape_payload_is_refused_at_use_and_does_nothing(db, tmp_path, mark):
    for text, refusal in payloads(mark):
        template = tmp_path / "evil.docx"
        template.write_bytes(docx_with("Dear {{ recipient_name }},", text))
        with pytest.raises(NotAllowed) as refused:
            letters.use_template(db, "acknowledgement", template, by="t")
        assert refused.value.message == f"evil.docx: the template is refused: {refusal}", text
        assert not mark.exists(), text
        assert db.conn.execute("SELECT count(*) FROM letter_templates").fetchone()[0] == 0


def test_a_name_the_kind_does_not_have_is_refused_by_name(db, tmp_path):
    for name in ("config", "cycler", "lipsum", "range", "namespace", "request"):
        template = tmp_path / "evil.docx"
        template.write_bytes(docx_with("{{ " + name + " }}"))
        with pytest.raises(NotAllowed) as refused:
            letters.use_template(db, "acknowledgement", template, by="t")
        assert refused.value.message.startswith(
            f"evil.docx uses a merge field that an acknowledgement letter does not have: {name} (it would print "
            "blank).")


@freeze_time(TODAY)
def test_a_payload_stored_by_an_older_thcli_is_refused_when_a_letter_is_made(db, tmp_path, mark):
    set_up(db)
    ref = new_case(db)
    content = docx_with("Dear {{ recipient_name }},", f"{{{{ cycler.__init__.__globals__.os.popen('touch {mark}') }}}}")
    with write(db):  # straight into the table, as `templates use` before this release allowed
        db.conn.execute("INSERT INTO letter_templates (kind, filename, content, sha256, set_at, set_by) "
                        "VALUES ('acknowledgement', 'old.docx', ?, 'not-checked', '2026-01-01', 't')", [content])
    with pytest.raises(NotAllowed) as refused:
        letters.make_letter(db, ref, "acknowledgement", by="t", out_dir=tmp_path / "letters")
    assert refused.value.message == (
        f"the scheme's acknowledgement template cannot be used: the template is refused: "
        f"{{{{ cycler.__init__.__globals__.os.popen('touch {mark}') }}}} calls popen(), and no merge field is a "
        f"function; {REST}. Go back to thcli's own with `thcli letter templates reset acknowledgement`")
    assert not mark.exists()
    assert not (tmp_path / "letters").exists() or not list((tmp_path / "letters").iterdir())
    assert db.conn.execute("SELECT count(*) FROM letters").fetchone()[0] == 0


def test_the_sandbox_stops_what_the_check_would_miss(mark):
    from jinja2.exceptions import SecurityError, UndefinedError

    env = templating.environment()
    assert env.globals == {}
    with pytest.raises(SecurityError):
        env.from_string("{{ ''.__class__.__mro__[1].__subclasses__() }}").render()
    with pytest.raises(SecurityError):  # immutable: a merge field cannot be changed by the template
        env.from_string("{{ items.append(1) }}").render(items=[])
    with pytest.raises(SecurityError):
        env.from_string(f"{{{{ cycler.__init__.__globals__.os.popen('touch {mark}') }}}}").render()
    with pytest.raises(UndefinedError):  # no globals: cycler, lipsum, range... are not there to start from
        env.from_string("{{ cycler }}").render()
    assert not mark.exists()
    assert set(env.filters) == set(templating.FILTERS)


def test_ordinary_templates_still_pass(db, tmp_path):
    template = tmp_path / "ours.docx"
    template.write_bytes(docx_with(
        "Dear {{ recipient_name|title }},", "{% if to_survivor %}To you{% else %}To {{ client_name }}{% endif %}",
        "{% set who = client_name %}{{ who|upper }} {{ ref ~ ' / ' ~ date }} {{ survey_by|default('soon') }}"))
    result = letters.use_template(db, "acknowledgement", template, by="t")
    assert result["fields"] == ["client_name", "date", "recipient_name", "ref", "survey_by", "to_survivor"]


def test_the_default_templates_pass_the_check():
    for kind in letters.KINDS:
        letters.CompiledTemplate(letters.default_template(kind))  # checked as it compiles


# --- through the command line ----------------------------------------------------------------------------


def test_templates_use_refuses_a_payload_naming_it_and_does_nothing(cli, db, tmp_path, mark):
    template = tmp_path / "evil.docx"
    template.write_bytes(docx_with(f"{{{{ lipsum.__globals__.os.popen('touch {mark}').read() }}}}"))
    result = cli("letter", "templates", "use", "acknowledgement", template)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (f"Error: evil.docx: the template is refused: {{{{ lipsum.__globals__.os.popen('touch "
                             f"{mark}').read() }}}} calls read(), and no merge field is a function; {REST}\n")
    assert not mark.exists()
    assert cli.json("letter", "templates", "list")[0]["template"] == "default"


@freeze_time(TODAY)
def test_letter_make_refuses_a_stored_payload_with_exit_1(cli, db, tmp_path, mark):
    set_up(db)
    ref = new_case(db)
    content = docx_with("{{ self._TemplateReference__context }}")
    with write(db):
        db.conn.execute("INSERT INTO letter_templates (kind, filename, content, sha256, set_at, set_by) "
                        "VALUES ('acknowledgement', 'old.docx', ?, 'x', '2026-01-01', 't')", [content])
    result = cli("letter", "make", ref, "acknowledgement", "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: the scheme's acknowledgement template cannot be used: the template is refused: "
        "{{ self._TemplateReference__context }} touches '_TemplateReference__context', an internal attribute; "
        f"{REST}. Go back to thcli's own with `thcli letter templates reset acknowledgement`\n")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


@pytest.mark.parametrize("source, why", [
    ("{{ 'x'|center(300000000) }}", "gives center the width 300000000, more than the 1000 a letter can use"),
    ("{{ 'x'|wordwrap(1000000000) }}", "gives wordwrap the width 1000000000, more than the 1000 a letter can use"),
    ("{{ 'x'|truncate(5000) }}", "gives truncate the width 5000, more than the 1000 a letter can use"),
    ("{{ 'x'|wordwrap(width=2000) }}", "gives wordwrap the width 2000, more than the 1000 a letter can use"),
    ("{{ 'x'|center(999 + 999999) }}", "gives center a value that is not written out, and only a plain number or "
                                       "text may be"),
])
def test_a_filter_width_that_would_exhaust_memory_is_refused(source, why):
    with pytest.raises(templating.TemplateRefused) as refused:
        templating.check(source)
    assert refused.value.why == why


def test_loops_nest_at_most_two_deep():
    templating.check("{% for a in lines %}{% for b in a.items %}{{ b }}{% endfor %}{% endfor %}")
    with pytest.raises(templating.TemplateRefused) as refused:
        templating.check("{% for a in x %}{% for b in a %}{% for c in b %}{{ c }}{% endfor %}{% endfor %}"
                         "{% endfor %}")
    assert refused.value.expression == "{% for c in b %}"
    assert refused.value.why == "is a loop inside 2 others, more than a letter needs"


@pytest.mark.parametrize("expression", ["{{ 'x'|wordwrap(0) }}", "{{ 'x'|truncate(-5) }}"])
def test_a_filter_given_a_value_it_cannot_take_is_refused_naming_the_template(db, tmp_path, cli, expression):
    template = tmp_path / "ack.docx"
    template.write_bytes(docx_with("Dear {{ recipient_name }},", expression))
    with pytest.raises(NotAllowed) as refused:
        letters.use_template(db, "acknowledgement", template, by="t")
    assert refused.value.message.startswith("ack.docx: a test acknowledgement letter to ")
    assert ("failed: the template could not be filled in: a filter or an expression in the body was given a value "
            "it cannot use (") in refused.value.message
    result = cli("letter", "templates", "use", "acknowledgement", template)
    assert result.exit_code == 1
    assert result.stderr == "Error: " + refused.value.message + "\n"
    assert "check the database" not in result.stderr
