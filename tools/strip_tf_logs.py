"""Drop TensorFlow's C++ start-up log lines (oneDNN, CUDA probing) from notebooks' saved stderr outputs.

TensorFlow writes them to the process's stderr before Python can configure logging, so a kernel saves them
into whichever cell first imports TensorFlow. They say nothing about the project; real warnings are kept.
Usage: python tools/strip_tf_logs.py nbs/*.ipynb
"""
import json, re, sys

NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\)|[IWE]\d{4} \d\d:\d\d:\d\d|"
                   r"To enable the following instructions|\s*$)")

def strip(path):
    nb = json.load(open(path, encoding='utf-8'))
    changed = False
    for cell in nb['cells']:
        outs = []
        for o in cell.get('outputs', []):
            if o.get('output_type') == 'stream' and o.get('name') == 'stderr':
                text = o['text'] if isinstance(o['text'], str) else ''.join(o['text'])
                keep = [l for l in text.splitlines(keepends=True) if not NOISE.match(l)]
                changed |= len(keep) != len(text.splitlines())
                if not keep: continue
                o['text'] = keep
            outs.append(o)
        if 'outputs' in cell: cell['outputs'] = outs
    if changed:
        with open(path, 'w', encoding='utf-8') as f: json.dump(nb, f, indent=1, ensure_ascii=False); f.write('\n')

if __name__ == '__main__':
    for p in sys.argv[1:]: strip(p)
