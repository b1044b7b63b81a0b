"""The package's layers, read from its imports (every `import` and `from` of a stacks module, TYPE_CHECKING ones too):
each module imports only from its own layer and the ones below, config and content never import each other, no
import cycle exists, no module is over 400 lines, and no chain of imports inside the package is deeper than 6
modules (issue 26)."""

from __future__ import annotations

import ast
from functools import cache

from repo import ROOT

# Lowest first; a module may import from its own layer and any below it.
LAYERS = {
    "base": ("errors", "reader", "layout", "versions", "slugs", "grafana_names", "outputs", "syntax"),
    "config and content": ("config", "content", "slo", "slo_dashboard"),
    "checks and renderers": ("preflight", "render", "scaffold", "environment"),
    "resources": ("resources", "reload"),
    "entry point": ("__main__",),
}
CONFIG = ("config",)
CONTENT = ("content", "slo", "slo_dashboard")
MAX_LINES = 400
DEEPEST_CHAIN = 6  # modules in the longest chain of imports


def modules() -> dict[str, list[str]]:
    """Module name (stacks.x.y) -> the stacks modules it imports."""
    found = {}
    for path in sorted((ROOT / "stacks").rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    graph = {}
    for name, path in found.items():
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("stacks"):
                for alias in node.names:  # `from stacks.render import spec` imports the module stacks.render.spec
                    imported.add(
                        f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in found else node.module
                    )
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names if alias.name.startswith("stacks")}
        graph[name] = sorted(imported & set(found) - {name})
    return graph


def top(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def matches(module: str, patterns: tuple[str, ...]) -> bool:
    name = top(module)
    return any(name == p or (p.endswith("*") and name.startswith(p[:-1])) for p in patterns)


def layer(module: str) -> int:
    ranks = [rank for rank, patterns in enumerate(LAYERS.values()) if matches(module, patterns)]
    assert len(ranks) == 1, f"{module} is in {len(ranks)} layers: give it one in LAYERS"
    return ranks[0]


def test_every_module_has_one_layer_and_no_import_runs_upward():
    upward = [
        f"{module} ({list(LAYERS)[layer(module)]}) imports {other} ({list(LAYERS)[layer(other)]})"
        for module, imported in modules().items()
        if module != "stacks"
        for other in imported
        if layer(other) > layer(module)
    ]
    assert upward == []


def test_settings_and_content_do_not_import_each_other():
    crossing = [
        f"{module} imports {other}"
        for module, imported in modules().items()
        for other in imported
        if (matches(module, CONFIG) and matches(other, CONTENT))
        or (matches(module, CONTENT) and matches(other, CONFIG))
    ]
    assert crossing == []


def test_no_import_cycle_and_the_deepest_chain_is_held():
    graph = modules()

    @cache
    def longest(module: str, path: tuple[str, ...] = ()) -> tuple[str, ...]:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        chains = [longest(other, (*path, module)) for other in graph[module]]
        return (module, *max(chains, key=len, default=()))

    deepest = max((longest(module) for module in graph), key=len)
    assert len(deepest) <= DEEPEST_CHAIN, " -> ".join(deepest)


def test_no_module_is_over_400_lines():
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines()) for path in (ROOT / "stacks").rglob("*.py")
    }
    assert {path: lines for path, lines in sizes.items() if lines > MAX_LINES} == {}
