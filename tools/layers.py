"""The package's layers, read from its own imports (`python tools/layers.py` prints them as a Markdown table).

The docs page "How the package is built" (nbs/structure.ipynb) shows this table and the import matrix; the test suite
checks that the page's saved table is what this module computes now, so the page cannot go stale."""
import ast
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PKG = REPO/'vae_mnist'


def modules(pkg: Path = PKG) -> dict:
    "Module name -> the notebook it is exported from, in the notebooks' order."
    found = {}
    for p in pkg.glob('*.py'):
        m = re.search(r"File to edit: \.\./nbs/(\S+\.ipynb)", p.read_text())
        if m: found[p.stem] = m[1]
    return dict(sorted(found.items(), key=lambda kv: kv[1]))


def imports(pkg: Path = PKG) -> dict:
    "Module name -> the package's modules it imports (inside functions too), in the notebooks' order."
    mods, out = modules(pkg), {}
    for m in mods:
        deps = set()
        for node in ast.walk(ast.parse((pkg/f"{m}.py").read_text())):
            if isinstance(node, ast.ImportFrom) and (node.level == 1 or (node.module or '').startswith('vae_mnist.')):
                deps.add((node.module or '').removeprefix('vae_mnist').lstrip('.').split('.')[0])
        out[m] = [d for d in mods if d in deps and d != m]
    return out


def summary(m: str, pkg: Path = PKG) -> str:
    "The module's one-line summary (its notebook's, which nbdev writes as the module docstring)."
    doc = ast.get_docstring(ast.parse((pkg/f"{m}.py").read_text())) or ''
    return ' '.join(doc.split())


def table(pkg: Path = PKG) -> str:
    "A Markdown table: notebook, module, what it imports of the package, and what it holds."
    mods, deps = modules(pkg), imports(pkg)
    rows = [f"| `{nb}` | `{m}` | {', '.join(f'`{d}`' for d in deps[m]) or '—'} | {summary(m, pkg).replace('|', '/')} |"
            for m, nb in mods.items()]
    return '\n'.join(['| notebook | module | imports | what it holds |', '|---|---|---|---|', *rows])


def later_imports(pkg: Path = PKG) -> list:
    "Every import of a module whose notebook does not come before the importer's (there should be none)."
    mods, deps = modules(pkg), imports(pkg)
    return [f"{m} imports {d}" for m in mods for d in deps[m] if mods[d] >= mods[m]]


def matrix_figure(pkg: Path = PKG):
    "A matplotlib figure: a dot where the row's module imports the column's; all below the diagonal when the layers hold."
    import matplotlib.pyplot as plt
    mods, deps = list(modules(pkg)), imports(pkg)
    fig, ax = plt.subplots(figsize=(6.4, 6.4))
    for i, m in enumerate(mods):
        for d in deps[m]: ax.plot(mods.index(d), i, 'o', color='C0' if mods.index(d) < i else 'C3', ms=7)
    ax.plot([-0.5, len(mods) - 0.5], [-0.5, len(mods) - 0.5], color='0.8', lw=1, zorder=0)
    ax.set_xticks(range(len(mods)), mods, rotation=90); ax.set_yticks(range(len(mods)), mods)
    ax.set_xlim(-0.5, len(mods) - 0.5); ax.set_ylim(len(mods) - 0.5, -0.5)
    ax.set_xlabel('is imported by the row'); ax.set_ylabel('module (in notebook order)')
    ax.grid(color='0.93'); ax.set_axisbelow(True)
    fig.tight_layout()
    plt.close(fig)
    return fig


if __name__ == '__main__':
    if len(sys.argv) > 1: print(__doc__); sys.exit(0 if sys.argv[1] in ('-h', '--help') else 2)
    print(table())
