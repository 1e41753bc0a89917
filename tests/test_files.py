"Files (nbs/02_files.ipynb): outputs move into place whole or not at all, --force replaces only ours, stale temporaries go, one run per output."
import os
import subprocess
import sys

import pytest

from vae_mnist.files import Output, RunLock, atomic_write, atomic_write_text, check_space, clean_stale, commit, temp_path


def test_atomic_write_leaves_the_old_file_on_failure(tmp_path):
    p = atomic_write_text(tmp_path/'a.txt', 'old')
    def broken(t): open(t, 'w').write('half'); raise RuntimeError('disk on fire')
    with pytest.raises(RuntimeError): atomic_write(p, broken)
    assert p.read_text() == 'old' and sorted(q.name for q in tmp_path.iterdir()) == ['a.txt']


def test_output_refuses_what_is_there_unless_forced_and_ours(tmp_path):
    (tmp_path/'f.npz').write_bytes(b'x')
    with pytest.raises(FileExistsError, match='already exists; use force=True'): Output(tmp_path/'f.npz')
    (tmp_path/'d').mkdir(); (tmp_path/'d'/'notes.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='holds notes.txt, which this program does not write'):
        Output(tmp_path/'d', folder=True, force=True, owns=r'data\.bin')
    o = Output(tmp_path/'f.npz', force=True); o.open().write_bytes(b'new'); commit(o)
    assert (tmp_path/'f.npz').read_bytes() == b'new' and not temp_path(tmp_path/'f.npz').exists()


def test_commit_is_all_or_nothing(tmp_path):
    a, b = Output(tmp_path/'a'), Output(tmp_path/'b')
    a.open().write_text('a'); b.open().write_text('b')
    (tmp_path/'b').write_text('appeared meanwhile')  # b's destination changes while we write
    with pytest.raises(FileExistsError): commit(a, b)
    assert not (tmp_path/'a').exists() and (tmp_path/'b').read_text() == 'appeared meanwhile'
    a.abort(); b.abort()


def test_stale_temporaries_of_dead_runs_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'], capture_output=True, text=True).stdout.strip()
    stale, mine = tmp_path/f'.tmp-{dead}-x.npz', temp_path(tmp_path/'x.npz')
    stale.write_text('left by a killed run'); mine.write_text('ours, alive')
    assert clean_stale(tmp_path/'x.npz') == [stale] and mine.exists()


def test_one_run_at_a_time_and_no_room_is_refused_up_front(tmp_path):
    with RunLock(tmp_path/'out.npz'):
        with pytest.raises(OSError, match=rf'another vae-mnist run \(pid {os.getpid()}\) is using it'): RunLock(tmp_path/'out.npz').acquire()
    RunLock(tmp_path/'out.npz').acquire().release()  # free again once released
    with pytest.raises(OSError, match='needs at least 1000.0 TB'): check_space(tmp_path/'x', 1e15)
