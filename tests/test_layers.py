"""Dependencies run one way (STYLE.md, "Layers, one way"), and no import cycle comes back.

A short walk over thcli's syntax trees finds every import of a thcli module:
at the top of a module, inside a function, or under ``if TYPE_CHECKING:``.
Each module belongs to a layer of :data:`LAYERS` (a package's modules to the
package's layer); a module may import its own layer or the ones below it,
never one above. Imports that run (all but the type checker's) must not form
a cycle, counting the ones inside functions. Only the command line and the
commands import inside functions (to start quickly); elsewhere only the slow
or optional libraries of :data:`LAZY` may be imported there.

A new module goes into the table; a failure names the import, where it is,
and the rule it breaks.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: thcli's layers, top first. A module may import from its own layer and the layers below it.
LAYERS: list[tuple[str, list[str]]] = [
    ("command line", ["thcli.__main__", "thcli.cli", "thcli.typer_speedups"]),
    ("commands", ["thcli.commands"]),
    # `thcli demo`'s own command is all that imports it; it may import any part of thcli below.
    ("demo", ["thcli.demo"]),
    ("terminal", ["thcli.prompts", "thcli.wizard_steps", "thcli.render"]),
    # Readers that gather many nouns: referral list and show, subject access, the operational report.
    ("views", ["thcli.case_list", "thcli.case_view", "thcli.person", "thcli.report"]),
    ("nouns", ["thcli.referrals", "thcli.workflow", "thcli.eligibility", "thcli.targets", "thcli.surveys",
               "thcli.measures", "thcli.budget", "thcli.letters", "thcli.county", "thcli.stock", "thcli.followups",
               "thcli.retention",
               "thcli.screening", "thcli.templating", "thcli.scheme", "thcli.maintenance", "thcli.crypto",
               # The county officer's side: reads the districts' files, or a scheme's own figures.
               "thcli.partnership"]),
    # What every noun needs about a case.
    ("case primitives", ["thcli.cases"]),
    # The scheme's code lists and settings, and the audit log, which every noun writes to.
    ("scheme records", ["thcli.codes", "thcli.code_defaults", "thcli.settings", "thcli.audit"]),
    ("base", ["thcli", "thcli.db", "thcli.dbfile", "thcli.cipher", "thcli.keychain", "thcli.migrations", "thcli.chains",
              "thcli.case_files", "thcli.files", "thcli.parse", "thcli.dates", "thcli.periods", "thcli.calendar",
              "thcli.bank_holidays", "thcli.clock", "thcli.errors", "thcli.templates"]),
]

#: Layers whose modules may import inside functions: to start quickly, a command imports what it needs when it runs.
LAZY_LAYERS = {"command line", "commands"}

#: What other modules may import inside a function, and why: slow or optional libraries, never a thcli module.
LAZY: dict[str, str] = {
    "sqlite_utils": "60 to 90 ms to import: only when a write or a migration needs it",
    "docx": "python-docx: only when a letter or a subject access document is written",
    "docxtpl": "only when a letter template is compiled",
    "jinja2": "only when a letter template is compiled",
    "lxml": "only when a letter template is compiled",
    "phonenumbers": "tens of milliseconds: only when a phone number is checked",
    "sqlcipher3": "optional (thcli[encrypted]): only for an encrypted database",
    "keyring": "optional (thcli[encrypted]) and 80 ms or more: only for an encrypted database's passphrase",
    "holidays": "a test dependency: only to regenerate the bank holidays table",
    "ctypes": "Windows only: a mapped network drive's type",
    "matplotlib": "optional (thcli[reports]) and slow: only when a board report draws its charts",
}


@dataclass(frozen=True)
class Import:
    source: str      # the importing module
    target: str      # the thcli module imported (or the top-level name of another library)
    file: str        # the importing file, from the package's folder: thcli/budget/rules.py
    line: int
    where: str       # "top", "function NAME" or "type checking"

    def at(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.where != "type checking"


def module_names(package: Path) -> dict[str, Path]:
    """Every module of a package (``thcli.budget`` for budget/__init__.py) and its file."""
    names = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(source: str, path: Path, modules: dict[str, Path], top: str) -> list[Import]:
    """The imports in one module: of ``top``'s modules (and, for imports inside functions, of anything)."""
    found: list[Import] = []
    is_package = path.name == "__init__.py"
    file = path.relative_to(modules[top].parent.parent).as_posix()

    def resolve(node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        base = source.split(".")
        base = base if is_package else base[:-1]
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))

    def targets(node: ast.Import | ast.ImportFrom) -> list[str]:
        if isinstance(node, ast.Import):
            return [alias.name for alias in node.names]
        module = resolve(node)
        # `from thcli import audit` imports the module thcli.audit; `from thcli import __version__`, thcli.
        named = [f"{module}.{alias.name}" for alias in node.names if f"{module}.{alias.name}" in modules]
        return named + ([module] if len(named) < len(node.names) else [])

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for target in targets(child):
                    if target == top or target.startswith(top + "."):
                        # The module, or the nearest package of a name inside one.
                        while target not in modules and "." in target:
                            target = target.rsplit(".", 1)[0]
                        found.append(Import(source, target, file, child.lineno, where))
                    elif where.startswith("function"):
                        found.append(Import(source, target.split(".")[0], file, child.lineno, where))
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, where if where.startswith("function") else f"function {child.name}")
            elif isinstance(child, ast.If) and _is_type_checking(child):
                for item in child.body:
                    visit(ast.Module(body=[item], type_ignores=[]), "type checking")
                for item in child.orelse:
                    visit(ast.Module(body=[item], type_ignores=[]), where)
            else:
                visit(child, where)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), "top")
    return found


def all_imports(package: Path) -> tuple[dict[str, Path], list[Import]]:
    modules = module_names(package)
    top = package.name
    found = []
    for name, path in modules.items():
        found += imports_of(name, path, modules, top)
    return modules, found


def layer_of(module: str, layers: list[tuple[str, list[str]]]) -> tuple[int, str] | None:
    """The layer of a module: that of the longest name in the table that is it or a package holding it (the
    top package, ``thcli``, names only its own __init__)."""
    best: tuple[int, int, str] | None = None
    for index, (layer, names) in enumerate(layers):
        for name in names:
            if module == name or ("." in name and module.startswith(name + ".")):
                if best is None or len(name) > best[0]:
                    best = (len(name), index, layer)
    return (best[1], best[2]) if best else None


def _package_of(module: str, modules: dict[str, Path]) -> str:
    return module if modules[module].name == "__init__.py" else module.rsplit(".", 1)[0]


def edges(modules: dict[str, Path], found: list[Import]) -> dict[str, list[Import]]:
    """What each module's running imports load, the packages a submodule's import loads first included."""
    out: dict[str, list[Import]] = {name: [] for name in modules}
    for imp in found:
        if not imp.runs or imp.target not in modules:
            continue
        out[imp.source].append(imp)
        # Importing pkg.sub runs pkg/__init__.py first, unless the importer is inside pkg (then it is running).
        parent = imp.target
        while "." in parent:
            parent = parent.rsplit(".", 1)[0]
            if parent in modules and not (imp.source == parent or imp.source.startswith(parent + ".")):
                out[imp.source].append(Import(imp.source, parent, imp.file, imp.line, imp.where))
    return out


def cycles(modules: dict[str, Path], found: list[Import]) -> list[list[Import]]:
    """Each import cycle once, as the imports that close it."""
    graph = edges(modules, found)
    seen: set[frozenset[str]] = set()
    out = []
    state: dict[str, int] = {}
    stack: list[Import] = []

    def visit(module: str) -> None:
        state[module] = 1
        for imp in graph[module]:
            if state.get(imp.target) == 1:
                start = next(i for i, s in enumerate(stack) if s.source == imp.target) if any(
                    s.source == imp.target for s in stack) else len(stack)
                loop = [*stack[start:], imp]
                key = frozenset(i.source for i in loop)
                if key not in seen:
                    seen.add(key)
                    out.append(loop)
            elif state.get(imp.target) is None:
                stack.append(imp)
                visit(imp.target)
                stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return out


def problems(package: Path, layers: list[tuple[str, list[str]]], lazy_layers: set[str],
             lazy: dict[str, str]) -> list[str]:
    """Everything that breaks the rules, one message each."""
    modules, found = all_imports(package)
    out = []
    for module in sorted(modules):
        if layer_of(module, layers) is None:
            out.append(f"{module} is in no layer: add it to LAYERS in tests/test_layers.py, in the layer "
                       "of what it is (STYLE.md, \"Layers, one way\")")
    for imp in found:
        source_layer = layer_of(imp.source, layers)
        if source_layer is None:
            continue
        if imp.target in modules:
            target_layer = layer_of(imp.target, layers)
            if target_layer is not None and target_layer[0] < source_layer[0]:
                out.append(f"{imp.source} ({source_layer[1]}) imports {imp.target} ({target_layer[1]}) at "
                           f"{imp.at()}: a module imports only from its own layer and the layers below it; "
                           f"move what both need down a layer")
            if imp.where.startswith("function") and source_layer[1] not in lazy_layers:
                out.append(f"{imp.source} imports {imp.target} inside {imp.where} at {imp.at()}: only "
                           f"{' and '.join(sorted(lazy_layers))} import thcli modules inside functions (to start "
                           f"quickly); import it at the top of the module")
        elif imp.where.startswith("function") and source_layer[1] not in lazy_layers and imp.target not in lazy:
            out.append(f"{imp.source} imports {imp.target} inside {imp.where} at {imp.at()}: import it at the top "
                       f"of the module, or, if it is slow or optional, add it with the reason to LAZY in "
                       f"tests/test_layers.py")
    for loop in cycles(modules, found):
        path = " -> ".join([loop[0].source, *(imp.target for imp in loop)])
        where = "; ".join(f"{imp.source} imports {imp.target} ({imp.where}, {imp.at()})" for imp in loop)
        out.append(f"import cycle {path}: {where}. Dependencies run one way: move what they share down a layer")
    return out


def test_thcli_keeps_its_layers():
    found = problems(ROOT / "thcli", LAYERS, LAZY_LAYERS, LAZY)
    assert not found, "\n".join(found)


def test_every_layer_name_is_a_module():
    modules = module_names(ROOT / "thcli")
    missing = [name for _, names in LAYERS for name in names if name not in modules]
    assert missing == []


# --- the test's own tests: a made-up package that breaks each rule -----------------------------

FIXTURE_LAYERS = [("top", ["pkg.cli"]), ("middle", ["pkg.a", "pkg.b"]), ("bottom", ["pkg.low", "pkg"])]


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name, text in files.items():
        (package / name).write_text(text)
    return package


def test_a_cycle_through_an_import_inside_a_function_is_reported(tmp_path):
    package = _package(tmp_path, {
        "a.py": "from pkg import b\n",
        "b.py": "def f():\n    from pkg.a import x\n",
        "low.py": "", "cli.py": "",
    })
    found = problems(package, FIXTURE_LAYERS, {"top"}, {})
    assert any(p.startswith("import cycle pkg.a -> pkg.b -> pkg.a: ") for p in found), found
    assert any("pkg.b imports pkg.a inside function f at pkg/b.py:2: only top import thcli modules" in p
               for p in found), found


def test_an_upward_import_is_reported_and_a_type_checking_one_counts(tmp_path):
    package = _package(tmp_path, {
        "low.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import A\n",
        "a.py": "from pkg import low\n", "b.py": "", "cli.py": "from pkg import a\n",
    })
    assert problems(package, FIXTURE_LAYERS, {"top"}, {}) == [
        "pkg.low (bottom) imports pkg.a (middle) at pkg/low.py:3: a module imports only from its own layer and "
        "the layers below it; move what both need down a layer"]


def test_a_type_checking_import_back_makes_no_cycle(tmp_path):
    package = _package(tmp_path, {
        "a.py": "from pkg import b\n",
        "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import A\n",
        "low.py": "", "cli.py": "",
    })
    assert problems(package, FIXTURE_LAYERS, {"top"}, {}) == []


def test_a_lazy_library_needs_a_reason_and_a_new_module_a_layer(tmp_path):
    package = _package(tmp_path, {
        "a.py": "def f():\n    import slowlib\n    import json\n", "b.py": "", "low.py": "", "cli.py": "",
        "new.py": "",
    })
    assert problems(package, FIXTURE_LAYERS, {"top"}, {"slowlib": "slow"}) == [
        "pkg.new is in no layer: add it to LAYERS in tests/test_layers.py, in the layer of what it is (STYLE.md, "
        "\"Layers, one way\")",
        "pkg.a imports json inside function f at pkg/a.py:3: import it at the top of the module, or, if it is slow "
        "or optional, add it with the reason to LAZY in tests/test_layers.py"]


def test_importing_a_submodule_runs_its_package_first(tmp_path):
    package = _package(tmp_path, {"a.py": "", "b.py": "", "low.py": "", "cli.py": ""})
    (package / "sub").mkdir()
    (package / "sub" / "__init__.py").write_text("from pkg import a\n")
    (package / "sub" / "part.py").write_text("")
    (package / "a.py").write_text("def f():\n    from pkg.sub import part\n")
    layers = [("top", ["pkg.cli", "pkg.a"]), ("middle", ["pkg.sub", "pkg.b"]), ("bottom", ["pkg.low", "pkg"])]
    found = problems(package, layers, {"top"}, {})
    assert any(p.startswith("import cycle pkg.a -> pkg.sub -> pkg.a:") for p in found), found


@pytest.mark.parametrize("module", ["thcli.budget.rules", "thcli.letters.safety", "thcli.county.summary"])
def test_a_package_module_is_in_its_package_layer(module):
    assert layer_of(module, LAYERS) == (5, "nouns")


#: The most lines a module of thcli may have (issue 13: "no module over about 500 lines"). A module that grows
#: past it is split along its own seams (README, "How the code is laid out"), not given a higher limit.
MODULE_LINES = 520


def test_no_module_outgrows_about_five_hundred_lines():
    too_long = {str(path.relative_to(ROOT)): count for path in sorted((ROOT / "thcli").rglob("*.py"))
                if (count := len(path.read_text(encoding="utf-8").splitlines())) > MODULE_LINES}
    assert too_long == {}, f"split these along their seams: {too_long}"


def test_the_readmes_code_map_names_every_module_of_the_layers():
    """README, "How the code is laid out", says it is the LAYERS table: each module there is named in its map."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## How the code is laid out"):]
    block = section[section.index("```") + 3:]
    words = set(re.findall(r"[a-z_]+", block[:block.index("```")]))
    modules = [name for _layer, names in LAYERS for name in names if name != "thcli"]
    missing = [name for name in modules if name.rsplit(".", 1)[-1] not in words]
    assert missing == [], f"add these to the README's code map: {missing}"
