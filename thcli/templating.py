"""The sandbox a letter template is rendered in, and the check a template passes before it is used.

A letter template is a Word file a scheme edits, and may be a file someone
e-mailed the coordinator. Jinja's plain environment lets an expression walk
from any value to Python's internals (``''.__class__.__mro__``, then
``__subclasses__()``, then a shell), so templates are rendered only in
:func:`environment`: Jinja's ``ImmutableSandboxedEnvironment`` (no internal
attributes, no changing values), with no globals (``cycler``, ``lipsum``,
``range``... are gone) and only the filters and tests of :data:`FILTERS` and
:data:`TESTS`.

And before that, every template is read by :func:`check`, when it is offered
(``letter templates use``) and each time one is compiled (so that a
template stored by an older thcli is checked too). A letter template may
print merge fields, loop over lists, test conditions and use the filters
offered; it is refused, naming the expression, when it

- touches an internal attribute (a name starting with ``_``, or one the
  sandbox knows to be unsafe), by ``.name``, ``['name']`` or a filter
  argument;
- calls anything (no merge field is a function; filters are offered instead);
- uses a filter or test that is not offered (``attr``, ``map``, ``format``...);
- looks an item up by a computed key, or refers to the template itself
  (``self``);
- uses a tag that reaches outside the template or changes how it is written
  (``macro``, ``call``, ``import``, ``include``, ``extends``, ``block``,
  ``autoescape``);
- does arithmetic beyond adding (``*``, ``**``, ``%``: a way to exhaust memory);
- gives ``center``, ``indent``, ``truncate`` or ``wordwrap`` a width that is
  not a plain number of at most :data:`MAX_WIDTH` (``center(300000000)``:
  another way), or nests more than :data:`MAX_LOOPS` ``for`` loops.

The check is about safety; which merge fields a kind of letter has is
checked by letters.py. Jinja is imported only inside these functions.
"""

from __future__ import annotations

from typing import Any

from thcli.errors import NotAllowed

#: The filters a letter template may use.
FILTERS = ("abs", "capitalize", "center", "count", "d", "default", "e", "escape", "first", "float", "int", "join",
           "last", "length", "list", "lower", "replace", "reverse", "round", "string", "title", "trim", "truncate",
           "upper", "wordcount", "wordwrap")
#: The tests (``is defined``...) a letter template may use.
TESTS = ("boolean", "defined", "divisibleby", "eq", "equalto", "even", "false", "ge", "gt", "in", "integer", "le",
         "lower", "lt", "ne", "none", "number", "odd", "sameas", "sequence", "string", "true", "undefined", "upper",
         "==", "!=", "<", "<=", ">", ">=")
#: Tags, by Jinja's node name, that a letter template may not use.
REFUSED_TAGS = {"Macro": "macro", "CallBlock": "call", "Import": "import", "FromImport": "from ... import",
                "Include": "include", "Extends": "extends", "Block": "block", "Scope": "autoescape",
                "ScopedEvalContextModifier": "autoescape", "EvalContextModifier": "autoescape", "ExprStmt": "do"}
#: Every kind of node a letter template may hold; anything else is refused.
_ALLOWED = {"Template", "Output", "TemplateData", "If", "For", "Assign", "AssignBlock", "With", "FilterBlock",
            "Name", "Const", "Tuple", "List", "Dict", "Pair", "Keyword", "CondExpr", "Compare", "Operand", "And",
            "Or", "Not", "Neg", "Pos", "Add", "Sub", "Concat", "Getattr", "Getitem", "Slice", "Filter", "Test"}


#: Filters that take a width, and the widest a letter needs (a line of a letter is under 100 characters).
SIZED_FILTERS = ("center", "indent", "truncate", "wordwrap")
MAX_WIDTH = 1000
#: The most ``for`` loops one inside another (a letter's lists are measures, and their lines).
MAX_LOOPS = 2


class TemplateRefused(NotAllowed):
    """A template holds an expression no letter template may (exit 1)."""

    def __init__(self, expression: str, why: str):
        self.expression, self.why = expression, why
        more = (f"the filters offered are {', '.join(FILTERS)}" if "filter" in why else
                "a letter template may only print the merge fields of its kind, loop over them and test them "
                "(`thcli letter templates export KIND FILE` lists the fields)")
        super().__init__(f"the template is refused: {expression} {why}; {more}")


def environment():
    """The Jinja environment letters are rendered in: sandboxed, immutable, without globals."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)
    env.globals.clear()
    env.filters = {name: env.filters[name] for name in FILTERS}
    env.tests = {name: env.tests[name] for name in TESTS}
    return env


def _unsafe_attributes() -> frozenset[str]:
    from jinja2 import sandbox

    names: set[str] = {"mro", "format", "format_map"}
    for attr in dir(sandbox):
        if attr.startswith("UNSAFE_") and attr.endswith("_ATTRIBUTES"):
            names |= set(getattr(sandbox, attr))
    return frozenset(names)


def _internal(name: Any) -> bool:
    return isinstance(name, str) and (name.startswith("_") or "__" in name)


def check(source: str, env=None) -> None:
    """Refuse (TemplateRefused) a template source holding an expression no letter template may hold."""
    env = env or environment()
    tree = env.parse(source)
    problem = first_problem(tree)
    if problem:
        raise TemplateRefused(*problem)


def first_problem(tree) -> tuple[str, str] | None:
    """(the expression, why it is refused) for the first thing in a parsed template that is not allowed.

    The expression shown is the whole one the author wrote (``{{ ... }}``),
    and the reason names the part that is refused.
    """
    from jinja2 import nodes

    unsafe = _unsafe_attributes()
    stack: list[tuple[Any, Any, int]] = [(tree, None, 0)]
    while stack:
        node, top, loops = stack.pop()
        kind = type(node).__name__
        if top is None and isinstance(node, nodes.Expr):
            top = node  # the outermost expression: what the author typed between the braces
        shown = f"{{{{ {expression(top)} }}}}" if top is not None else ""
        if kind in REFUSED_TAGS:
            return f"{{% {REFUSED_TAGS[kind]} %}}", "is a tag letter templates do not offer"
        if kind == "NSRef":
            return f"{{% set {node.name}.{node.attr} %}}", "changes a value, which letter templates may not"
        if kind == "Call":
            called = node.node.attr if isinstance(node.node, nodes.Getattr) else expression(node.node)
            return shown, f"calls {called}(), and no merge field is a function"
        if kind not in _ALLOWED:
            return shown or kind, "is not something a letter template may do"
        if isinstance(node, nodes.Name) and node.ctx == "load" and node.name == "self":
            return shown, "refers to the template itself (self), which is not a merge field"
        if isinstance(node, nodes.Getattr):
            if _internal(node.attr):
                return shown, f"touches {node.attr!r}, an internal attribute"
            if node.attr in unsafe:
                return shown, f"touches {node.attr!r}, an attribute letter templates may not use"
        if isinstance(node, nodes.Getitem):
            key = node.arg
            if isinstance(key, nodes.Const) and (_internal(key.value) or key.value in unsafe):
                return shown, f"touches {key.value!r}, an internal attribute"
            if not isinstance(key, (nodes.Const, nodes.Slice)):
                return shown, "looks an item up by a computed key"
        if isinstance(node, nodes.Const) and _internal(node.value):
            return shown, f"names {node.value!r}, an internal attribute"
        if isinstance(node, nodes.Filter) and node.name not in FILTERS:
            return shown or f"{{% filter {node.name} %}}", f"uses the filter {node.name!r}, which letter templates " \
                                                            "do not offer"
        if isinstance(node, nodes.Test) and node.name not in TESTS:
            return shown, f"uses the test {node.name!r}, which letter templates do not offer"
        if isinstance(node, (nodes.Filter, nodes.Test)) and (node.dyn_args or node.dyn_kwargs):
            return shown, "passes arguments by * or **"
        if isinstance(node, nodes.Filter) and node.name in SIZED_FILTERS:
            for arg in [*node.args, *(kw.value for kw in node.kwargs)]:
                while isinstance(arg, (nodes.Neg, nodes.Pos)):  # -5 is written out too
                    arg = arg.node
                if not isinstance(arg, nodes.Const):
                    return shown, f"gives {node.name} a value that is not written out, and only a plain number " \
                                  f"or text may be"
                value = arg.value
                if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) > MAX_WIDTH:
                    return shown, f"gives {node.name} the width {value}, more than the {MAX_WIDTH} a letter can use"
        if isinstance(node, nodes.For):
            loops += 1
            if loops > MAX_LOOPS:
                return f"{{% for {expression(node.target)} in {expression(node.iter)} %}}", \
                    f"is a loop inside {MAX_LOOPS} others, more than a letter needs"
        stack.extend((child, top, loops) for child in reversed(list(node.iter_child_nodes())))
    return None


_OPERATORS = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "FloorDiv": "//", "Mod": "%", "Pow": "**",
              "And": "and", "Or": "or"}


def expression(node) -> str:
    """A Jinja expression written back as a template author would have typed it (for messages)."""
    from jinja2 import nodes

    if node is None:
        return ""
    kind = type(node).__name__
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Const):
        return repr(node.value)
    if isinstance(node, nodes.Getattr):
        return f"{expression(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem):
        return f"{expression(node.node)}[{expression(node.arg)}]"
    if isinstance(node, nodes.Slice):
        parts = [expression(node.start), expression(node.stop)] + ([expression(node.step)] if node.step else [])
        return ":".join(parts)
    if isinstance(node, nodes.Call):
        return f"{expression(node.node)}({_arguments(node)})"
    if isinstance(node, nodes.Filter):
        args = _arguments(node)
        return f"{expression(node.node)}|{node.name}" + (f"({args})" if args else "")
    if isinstance(node, nodes.Test):
        args = _arguments(node)
        return f"{expression(node.node)} is {node.name}" + (f"({args})" if args else "")
    if isinstance(node, nodes.Concat):
        return " ~ ".join(expression(n) for n in node.nodes)
    if isinstance(node, nodes.BinExpr):
        return f"{expression(node.left)} {_OPERATORS.get(kind, node.operator)} {expression(node.right)}"
    if isinstance(node, nodes.Not):
        return f"not {expression(node.node)}"
    if isinstance(node, nodes.UnaryExpr):
        return f"{node.operator}{expression(node.node)}"
    if isinstance(node, nodes.Compare):
        return expression(node.expr) + "".join(f" {op.op} {expression(op.expr)}" for op in node.ops)
    if isinstance(node, nodes.CondExpr):
        return f"{expression(node.expr1)} if {expression(node.test)} else {expression(node.expr2)}"
    if isinstance(node, (nodes.List, nodes.Tuple)):
        inner = ", ".join(expression(n) for n in node.items)
        return f"[{inner}]" if isinstance(node, nodes.List) else f"({inner})"
    if isinstance(node, nodes.Dict):
        return "{" + ", ".join(f"{expression(p.key)}: {expression(p.value)}" for p in node.items) + "}"
    if isinstance(node, nodes.Keyword):
        return f"{node.key}={expression(node.value)}"
    return kind


def _arguments(node) -> str:
    args = [expression(a) for a in node.args] + [expression(k) for k in node.kwargs]
    if getattr(node, "dyn_args", None) is not None:
        args.append("*" + expression(node.dyn_args))
    if getattr(node, "dyn_kwargs", None) is not None:
        args.append("**" + expression(node.dyn_kwargs))
    return ", ".join(args)
