"""The package's layers: each module imports only modules whose notebooks come before it (so no circle), no private
name crosses a module, the backends' libraries live in the engine alone, and the scripts we ship (bench/, tools/) import
only names the package has."""
import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PKG = REPO/'vae_mnist'


def _imports(path: Path):
    "(module, names) for every `from vae_mnist.X import ...` / `from .X import ...` / `import vae_mnist.X` in the file, at any depth."
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.level == 1 or (node.module or '').startswith('vae_mnist')):
            mod = (node.module or '').removeprefix('vae_mnist').lstrip('.')
            if mod: yield mod.split('.')[0], [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith('vae_mnist.'): yield a.name.split('.')[1], []


def _modules() -> dict:
    "module name -> its notebook's file name, read from the header nbdev writes."
    mods = {}
    for p in sorted(PKG.glob('*.py')):
        m = re.search(r"File to edit: \.\./nbs/(\S+\.ipynb)", p.read_text())
        if p.stem not in ('__init__', '_modidx'): mods[p.stem] = m and m[1]
    return mods


def _graph():
    mods = _modules()
    return mods, {m: {d for d, _ in _imports(PKG/f"{m}.py") if d in mods and d != m} for m in mods}


def test_every_module_comes_from_a_notebook():
    mods = _modules()
    assert mods and all(mods.values()), {m: nb for m, nb in mods.items() if not nb}
    assert all((REPO/'nbs'/nb).is_file() for nb in mods.values())


def test_layers_follow_the_notebook_order():
    "A module imports only modules of earlier notebooks: a reader following the numbers meets every name before its use."
    mods, edges = _graph()
    later = [f"{m} ({mods[m]}) imports {d} ({mods[d]})" for m in mods for d in sorted(edges[m]) if mods[d] >= mods[m]]
    assert not later, later
    assert 'engine' in edges['runs'] and 'runs' in edges['train'] and 'runs' in edges['semisupervised']  # one engine, one run owner


def test_no_import_circle():
    mods, edges = _graph()
    done, cycles = set(), []
    def visit(m, path):
        for d in sorted(edges[m]):
            if d in path: cycles.append(path[path.index(d):] + [d])
            elif d not in done: visit(d, path + [d])
        done.add(m)
    for m in sorted(mods): visit(m, [m])
    assert not cycles, f"import circles: {cycles}"


def test_no_private_names_across_modules():
    files = [PKG/f"{m}.py" for m in _modules()] + sorted((REPO/'bench').glob('*.py')) + sorted((REPO/'tools').glob('*.py'))
    private = [f"{p.relative_to(REPO)} imports {n} from {d}" for p in files for d, names in _imports(p) for n in names if n.startswith('_')]
    assert not private, private


def _defined(mod: str) -> set:
    "The names module `mod` defines or imports at its top level (what `from vae_mnist.mod import name` finds)."
    tree, names = ast.parse((PKG/f"{mod}.py").read_text()), set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)): names |= {(a.asname or a.name).split('.')[0] for a in node.names}
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                names |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def test_shipped_scripts_import_what_exists():
    "bench/ and tools/ import only modules and names the package has: a rename cannot leave a script failing at its first import."
    mods, missing = _modules(), []
    scripts = sorted((REPO/'bench').glob('*.py')) + sorted((REPO/'tools').glob('*.py')) + sorted((REPO/'tests').glob('*.py'))
    for p in scripts:
        for d, names in _imports(p):
            if d not in mods: missing.append(f"{p.relative_to(REPO)}: no module vae_mnist.{d}"); continue
            missing += [f"{p.relative_to(REPO)}: vae_mnist.{d} has no {n}" for n in names if n not in _defined(d)]
    assert not missing, missing


def test_backend_libraries_only_in_the_engine_and_predict():
    "TensorFlow, JAX and PyTorch are imported by the engine (training) and predict (inference) alone, there only when they are the backend."
    found = []
    for p in PKG.glob('*.py'):
        for node in ast.walk(ast.parse(p.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ''] if isinstance(node, ast.ImportFrom) else [])
            found += [(p.stem, n) for n in names if n.split('.')[0] in ('tensorflow', 'jax', 'torch')]
    assert found and {m for m, _ in found} == {'engine', 'predict'}, found


def test_modules_stay_small():
    "No module over 300 lines or a tenth of the package; none with more than 20 public names."
    sizes = {m: len((PKG/f"{m}.py").read_text().splitlines()) for m in _modules()}
    total = sum(sizes.values())
    big = {m: n for m, n in sizes.items() if n > 300 or n > total / 10}
    assert not big, f"{big} of {total} lines"
    crowded = {}
    for m in sizes:
        tree = ast.parse((PKG/f"{m}.py").read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(getattr(t, 'id', '') == '__all__' for t in node.targets):
                n = len(node.value.elts)
                if n > 20: crowded[m] = n
    assert not crowded, crowded


def test_the_structure_page_shows_the_package_as_it_is():
    "nbs/structure.ipynb's saved table is what tools/layers.py computes from the package now (re-execute it after a change)."
    import json, sys
    sys.path.insert(0, str(REPO/'tools'))
    from layers import table
    nb = json.loads((REPO/'nbs'/'structure.ipynb').read_text())
    saved = [''.join(o['data']['text/markdown']) for c in nb['cells'] if c['cell_type'] == 'code'
             for o in c.get('outputs', []) if 'text/markdown' in o.get('data', {})]
    assert saved == [table()], "nbs/structure.ipynb is stale: make execute NB=nbs/structure.ipynb, then commit it"
