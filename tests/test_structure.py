"The package's modules: no import circle (imports inside functions count too) and no private name imported from another module."
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1]/'vae_mnist'


def _imports(path: Path):
    "(module, names) for every `from vae_mnist.X import ...` / `from .X import ...` / `import vae_mnist.X` in the file, at any depth."
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.level == 1 or (node.module or '').startswith('vae_mnist')):
            mod = (node.module or '').removeprefix('vae_mnist').lstrip('.')
            if mod: yield mod.split('.')[0], [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith('vae_mnist.'): yield a.name.split('.')[1], []


def _graph():
    mods = {p.stem: p for p in PKG.glob('*.py') if p.stem not in ('__init__', '_modidx')}
    return mods, {m: {d for d, _ in _imports(p) if d in mods and d != m} for m, p in mods.items()}


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
    assert 'engine' in mods and 'engine' in edges['train'] and 'engine' in edges['semisupervised']  # the one engine, used by both


def test_no_private_names_across_modules():
    mods, _ = _graph()
    private = [f"{m} imports {n} from {d}" for m, p in mods.items() for d, names in _imports(p) for n in names if n.startswith('_')]
    assert not private, private


def test_backend_libraries_only_in_the_engine():
    "TensorFlow, JAX and PyTorch are imported by the engine alone (and there only when they are the backend)."
    found = []
    for p in PKG.glob('*.py'):
        for node in ast.walk(ast.parse(p.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ''] if isinstance(node, ast.ImportFrom) else [])
            found += [(p.stem, n) for n in names if n.split('.')[0] in ('tensorflow', 'jax', 'torch')]
    assert found and {m for m, _ in found} == {'engine'}, found
