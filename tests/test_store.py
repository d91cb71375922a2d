"""ResultStore: torn lines, numpy parameters, strict JSON, crashes and concurrent writers never lose a run."""

import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toposcope.experiments import ResultStore


def test_store_resumes_and_tolerates_a_torn_last_line(tmp_path):
    path = tmp_path / "runs.jsonl"
    store = ResultStore(path)
    store.add({"lr": 0.1, "seed": 0}, {"accuracy": 0.9})
    store.add({"seed": 1, "lr": 0.1}, {"accuracy": 0.8})
    with path.open("a") as f:
        f.write('{"params": {"lr": 0.1, "seed": 2}, "res')  # interrupted mid-write
    with pytest.warns(UserWarning, match="torn last line"):
        again = ResultStore(path)
    assert len(again) == 2
    assert {"seed": 0, "lr": 0.1} in again and {"lr": 0.1, "seed": 2} not in again
    assert sorted(again.frame()["accuracy"]) == [0.8, 0.9]
    assert (tmp_path / "runs.jsonl.torn").read_text().startswith('{"params": {"lr": 0.1, "seed": 2}')


def test_runs_added_after_a_torn_line_survive_the_next_open(tmp_path):
    """The reported loss: a fragment, then two more runs, then an open that refused the file."""
    path = tmp_path / "runs.jsonl"
    store = ResultStore(path)
    for seed in range(5):
        store.add({"seed": seed}, {"value": seed})
    os.truncate(path, path.stat().st_size - 9)  # the writer of run 4 was killed mid-line
    with pytest.warns(UserWarning, match="torn"):
        resumed = ResultStore(path)
    assert len(resumed) == 4 and {"seed": 4} not in resumed
    resumed.add({"seed": 4}, {"value": 4})
    resumed.add({"seed": 5}, {"value": 5})
    final = ResultStore(path)
    assert sorted(final.frame()["seed"]) == [0, 1, 2, 3, 4, 5]


def test_a_complete_last_line_without_newline_is_kept(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text(json.dumps({"params": {"seed": 0}, "result": {}}))
    store = ResultStore(path)
    store.add({"seed": 1}, {})
    assert len(ResultStore(path)) == 2


def test_bad_lines_are_quarantined_with_their_line_number_never_making_the_store_unopenable(tmp_path):
    path = tmp_path / "runs.jsonl"
    good = json.dumps({"params": {"a": 1}, "result": {}})
    path.write_text("not json\n" + good + "\n" + json.dumps({"a": 2}) + "\n" + json.dumps({"params": 3,
                    "result": {}}) + "\n")  # fmt: skip
    with pytest.warns(UserWarning) as caught:
        store = ResultStore(path)
    messages = [str(w.message) for w in caught]
    assert [m.split(" is not")[0].rsplit(":", 1)[1] for m in messages] == ["1", "3", "4"]
    assert len(store) == 1 and {"a": 1} in store
    quarantine = (tmp_path / "runs.jsonl.quarantine").read_text().splitlines()
    assert quarantine == ["not json", '{"a": 2}', '{"params": 3, "result": {}}']
    with pytest.warns(UserWarning):
        ResultStore(path).add({"a": 5}, {})
    assert len((tmp_path / "runs.jsonl.quarantine").read_text().splitlines()) == 3  # copied once, not per open
    assert path.read_text().startswith("not json\n")  # the file itself is never rewritten


def test_non_finite_parameters_are_refused_and_results_never_shadow_parameters(tmp_path):
    store = ResultStore(tmp_path / "runs.jsonl")
    for bad in (float("inf"), float("-inf"), float("nan"), np.float32("inf")):
        with pytest.raises(ValueError, match="must be finite"):
            store.add({"clip": bad}, {"accuracy": 0.5})
    with pytest.raises(ValueError, match=r"\['epochs'\] repeat parameter names"):
        store.add({"epochs": 100}, {"epochs": 37})
    assert len(store) == 0 and not (tmp_path / "runs.jsonl").exists()
    old = tmp_path / "old.jsonl"  # a file written before add refused such results
    old.write_text(json.dumps({"params": {"epochs": 100}, "result": {"epochs": 37, "acc": 0.9}}) + "\n")
    frame = ResultStore(old).frame()
    assert frame.epochs.tolist() == [100] and frame.result_epochs.tolist() == [37]


def test_an_open_writer_repairs_another_writers_torn_tail_before_appending(tmp_path):
    path = tmp_path / "runs.jsonl"
    first, second = ResultStore(path), ResultStore(path)
    first.add({"seed": 0}, {"v": 0})
    with path.open("a") as f:
        f.write('{"params": {"seed": 1}, "res')  # a third writer died mid-line
    with pytest.warns(UserWarning, match="torn"):
        second.add({"seed": 2}, {"v": 2})  # opened before the tear: must not append onto it
    assert sorted(ResultStore(path).frame().seed) == [0, 2]
    first.add({"seed": 3}, {"v": 3})
    assert sorted(ResultStore(path).frame().seed) == [0, 2, 3]


def test_a_failed_write_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "runs.jsonl"
    store = ResultStore(path)
    store.add({"seed": 0}, {"v": 0})
    before = path.read_bytes()
    real_fsync = os.fsync

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        store.add({"seed": 1}, {"v": "x" * 1000})
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert path.read_bytes() == before and {"seed": 1} not in store
    store.add({"seed": 1}, {"v": 1})  # the same process writes on, onto a clean tail
    assert sorted(ResultStore(path).frame().seed) == [0, 1]


def test_a_with_block_releases_only_its_own_claims(tmp_path):
    """Two threads share one store: one thread's block ending must not free the other's running claims."""
    import threading

    store = ResultStore(tmp_path / "runs.jsonl")
    holding, done = threading.Event(), threading.Event()

    def runner():
        with store.claim([{"seed": 0}]) as todo:
            assert todo == [{"seed": 0}]
            holding.set()
            done.wait(10)

    thread = threading.Thread(target=runner)
    thread.start()
    holding.wait(10)
    with store.claim([{"seed": 0}, {"seed": 1}]) as mine:
        assert mine == [{"seed": 1}]  # seed 0 is the other thread's
    other = ResultStore(tmp_path / "runs.jsonl")
    with other.claim([{"seed": 0}]) as todo:
        assert todo == []  # still held by the running thread after the first block ended
    done.set()
    thread.join()
    with other.claim([{"seed": 0}]) as todo:
        assert todo == [{"seed": 0}]


def test_numpy_parameters_match_on_resume(tmp_path):
    path = tmp_path / "runs.jsonl"
    ResultStore(path).add({"seed": np.int64(3), "lr": np.float32(0.1)}, {"acc": np.float32(0.5)})
    again = ResultStore(path)
    assert {"seed": 3, "lr": 0.1} in again
    assert {"seed": np.int64(3), "lr": np.float32(0.1)} in again
    assert json.loads(path.read_text())["params"] == {"lr": 0.1, "seed": 3}


def test_results_are_strict_json_and_a_bad_result_stores_nothing(tmp_path):
    path = tmp_path / "runs.jsonl"
    store = ResultStore(path)
    store.add({"seed": 0}, {"loss": float("nan"), "curve": np.array([1.0, np.inf]), "ok": np.bool_(True)})
    line = path.read_text()
    assert "NaN" not in line and "Infinity" not in line
    assert json.loads(line)["result"] == {"loss": None, "curve": [1.0, None], "ok": True}
    with pytest.raises(TypeError, match="cannot store a object"):
        store.add({"seed": 1}, {"model": object()})
    assert {"seed": 1} not in store and len(ResultStore(path)) == 1


@pytest.mark.filterwarnings("ignore:.*torn last line")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.floats(0, 1), min_size=1, max_size=4))
def test_crash_at_any_byte_then_resume_never_loses_or_duplicates(tmp_path_factory, cuts):
    """Cut the file at random byte offsets (a writer killed there), resume each time, finish the sweep."""
    path = tmp_path_factory.mktemp("crash") / "runs.jsonl"
    grid = [{"seed": s} for s in range(12)]
    for cut in cuts:
        store = ResultStore(path)
        with store.claim(grid) as todo:
            for params in todo[:3]:
                store.add(params, {"value": params["seed"] * 2})
        data = path.read_bytes()
        at = int(cut * len(data))
        os.truncate(path, at)
        complete = data[:at].count(b"\n")  # the lines wholly before the cut were finished runs
        finished = {json.loads(line)["params"]["seed"] for line in data.split(b"\n")[:complete]}
        if data[:at].endswith(b"}") and data[at : at + 1] == b"\n":  # cut right before a newline: a whole record
            finished.add(json.loads(data[:at].rsplit(b"\n", 1)[-1])["params"]["seed"])
    store = ResultStore(path)
    assert {p["seed"] for p in grid if p in store} == finished
    with store.claim(grid) as todo:
        for params in todo:
            store.add(params, {"value": params["seed"] * 2})
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted(r["params"]["seed"] for r in lines) == list(range(12))  # every run once: none lost, none twice
    assert all(r["result"]["value"] == 2 * r["params"]["seed"] for r in lines)


WRITER = """
import sys, time
from toposcope.experiments import ResultStore
store = ResultStore(sys.argv[1])
with store.claim([{"seed": s} for s in range(200)]) as todo:
    for params in todo:
        store.add(params, {"value": params["seed"], "pad": "x" * 2000})
"""


def test_a_killed_writer_loses_no_finished_run(tmp_path):
    path = tmp_path / "runs.jsonl"
    for delay in (0.4, 0.6, 0.8):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)])
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    store = ResultStore(path)
    before = len(store)
    with store.claim([{"seed": s} for s in range(200)]) as todo:
        assert len(todo) == 200 - before
        for params in todo:
            store.add(params, {"value": params["seed"], "pad": ""})
    seeds = [json.loads(line)["params"]["seed"] for line in path.read_text().splitlines()]
    assert sorted(seeds) == list(range(200))


def _worker(path, marks, barrier):
    store = ResultStore(path)
    barrier.wait()
    with store.claim([{"seed": s} for s in range(30)]) as todo:
        for params in todo:
            with open(marks, "a") as f:
                f.write(f"{params['seed']}\n")
            time.sleep(0.01)
            store.add(params, {"by": os.getpid()})


def test_two_writers_share_one_sweep_and_run_each_cell_once(tmp_path):
    path, marks = tmp_path / "runs.jsonl", tmp_path / "computed.txt"
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    workers = [ctx.Process(target=_worker, args=(path, marks, barrier)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert all(w.exitcode == 0 for w in workers)
    computed = [int(x) for x in marks.read_text().split()]
    assert sorted(computed) == list(range(30))  # no cell computed twice
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted(r["params"]["seed"] for r in records) == list(range(30))


# -- edges the mutation run found untested (benchmarks/mutation.py) ---------------------------------------


def test_stores_reading_each_others_appends_see_every_run_and_warn_of_nothing(tmp_path):
    path = tmp_path / "runs.jsonl"
    a, b = ResultStore(path), ResultStore(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for seed in range(6):
            (a if seed % 2 else b).add({"seed": seed}, {"v": seed * 10})
        a.add({"seed": 0}, {"v": -1})  # finished by the other store: read, not written again
    assert sorted(a.frame().seed) == list(range(6)) and a.frame().set_index("seed").v[0] == 0
    assert len(path.read_text().splitlines()) == 6
    with path.open("a") as f:
        f.write("\n" + json.dumps({"params": {"seed": 6}, "result": {"v": 60}}) + "\nnot json\n")
    with pytest.warns(UserWarning, match=r"runs\.jsonl:9 is not a result record"):
        b.add({"seed": 7}, {"v": 70})  # the blank line 7 is skipped, line 8 read, line 9 quarantined
    assert sorted(b.frame().seed) == list(range(8))
    assert (tmp_path / "runs.jsonl.quarantine").read_bytes() == b"not json\n"


def test_quarantine_that_cannot_be_written_still_warns(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text("not json\n")
    (tmp_path / "runs.jsonl.quarantine").mkdir()  # the copy cannot be kept: the warning still comes
    with pytest.warns(UserWarning, match="is not a result record"):
        assert len(ResultStore(path)) == 0


def test_a_torn_tail_is_kept_whole_with_its_newline(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text(json.dumps({"params": {"seed": 0}, "result": {"v": 0}}) + '\n{"params": {"se')
    with pytest.warns(UserWarning, match="torn"):
        ResultStore(path)
    assert (tmp_path / "runs.jsonl.torn").read_bytes() == b'{"params": {"se\n'


def test_a_failed_first_write_leaves_an_empty_file_and_the_write_error(tmp_path, monkeypatch):
    path = tmp_path / "new" / "runs.jsonl"
    store = ResultStore(path)

    def fail(*args):
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="I/O error"):
        store.add({"seed": 0}, {"v": 0})
    assert path.read_bytes() == b""
    monkeypatch.setattr(os, "truncate", fail)  # even when cutting back fails, the caller sees the write's error
    with pytest.raises(OSError, match="I/O error"):
        store.add({"seed": 0}, {"v": 0})


def _lock_free(path) -> bool:
    import fcntl

    locks = list(path.with_name(path.name + ".claims").glob("*.lock"))
    assert locks, "claims are lock files in <name>.claims/"
    for lock in locks:
        with open(lock, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(handle, fcntl.LOCK_UN)
    return True


def test_adding_a_claimed_run_releases_its_claim_at_once(tmp_path):
    path = tmp_path / "runs.jsonl"
    store = ResultStore(path)
    with store.claim([{"seed": 0}]) as todo:
        assert todo == [{"seed": 0}] and not _lock_free(path)
        store.add({"seed": 0}, {"v": 0})
        assert _lock_free(path)


def test_a_run_finished_elsewhere_since_the_last_read_is_not_claimed(tmp_path):
    path = tmp_path / "runs.jsonl"
    slow, fast = ResultStore(path), ResultStore(path)
    fast.add({"seed": 0}, {"v": 0})
    with slow.claim([{"seed": 0}, {"seed": 1}]) as todo:
        assert todo == [{"seed": 1}]
    assert _lock_free(path)


def test_nested_non_finite_parameter_is_named_in_full(tmp_path):
    with pytest.raises(ValueError, match=r"^parameter optim\.lr is nan: a run's parameters must be finite numbers "
                                         r"\(NaN, inf and -inf would all be stored as null, and their runs would "
                                         r"collide\)$"):  # fmt: skip
        ResultStore(tmp_path / "runs.jsonl").add({"optim": {"lr": float("nan")}}, {"v": 0})


def test_stored_values_are_plain_json_in_shortest_form(tmp_path):
    from toposcope.experiments.store import plain

    assert plain(np.float32(0.1)) == 0.1 and plain([np.float32(0.1), np.int64(2)]) == [0.1, 2]
    assert plain(np.array([1.5, np.inf])) == [1.5, None] and plain(0.30000000000000004) == 0.30000000000000004
    assert plain((1, 2)) == [1, 2] and plain(np.array(2.5)) == 2.5
    assert plain(np.array([[0.1]], np.float32)) == [[0.1]] == plain([[np.float32(0.1)]])


def test_store_warnings_point_at_the_caller(tmp_path):
    if "MUTANT_UNDER_TEST" in os.environ:
        pytest.skip("mutmut's trampolines add stack frames")
    path = tmp_path / "runs.jsonl"
    path.write_text(json.dumps({"params": {"seed": 0}, "result": {"v": 0}}) + '\n{"params": {"se')
    with pytest.warns(UserWarning, match="torn") as caught:
        store = ResultStore(path)
    assert caught[0].filename == __file__
    with path.open("a") as f:
        f.write("not json\n")
    with pytest.warns(UserWarning, match="is not a result record") as caught:
        store.add({"seed": 1}, {"v": 1})
    assert caught[0].filename == __file__
