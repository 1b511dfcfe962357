"""Fails when the project's modules import each other in a circle, or streaming imports the project.

`streaming` is reusable: it may import Django, libraries and itself, never `studios` or `config`.
Every import counts, at module level or inside a function, since either one ties the modules.
Run by `make lint`.
"""

import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "streaming", "studios", "tests")


def import_graph():
    sys.path.insert(0, str(ROOT))
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def strongly_connected(graph, modules):
    """Tarjan's algorithm: the groups of modules that reach each other (the import circles)."""
    index, low, on_stack, stack, groups = {}, {}, set(), [], []

    def visit(start):
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start) & modules)))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == index[module]:
                    group = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == module:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child) & modules))))
            elif child in on_stack:
                low[module] = min(low[module], index[child])

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return groups


def main():
    graph = import_graph()
    modules = set(graph.modules)
    problems = []
    for group in strongly_connected(graph, modules):
        problems.append("import circle: " + " -> ".join(group))
    for module in sorted(m for m in modules if m == "streaming" or m.startswith("streaming.")):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported.split(".")[0] in ("studios", "config"):
                problems.append(f"{module} imports {imported}: streaming must not import the project")
    for problem in problems:
        print(problem)
    print(f"{len(modules)} modules checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
