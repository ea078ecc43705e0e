"""The parse pool: worker processes, one per core, that parse feeds (and fingerprint and
match their stories, `prepare`) off the event loop, and its life: started with the service,
stopped with it without waiting for a parse that may never end.

In: a parse to run (`parse_in_pool`). Out: its result, or a `ParseError` once it has taken
`PARSE_SECONDS`. The collector thresholds of the service and its workers are set here too
(`tune_gc`).
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from watcher.dedupe import term_weight
from watcher.dedupe.lexicon import load_lists
from watcher.errors import ParseError
from watcher.models import ParsedFeed
from watcher.prepare import Prepared, prepare

# CPython collects its youngest generation every 700 net allocations of container objects,
# and a poll of 35 stories makes tens of thousands: on a cold cycle of 1,000 feeds that was
# 1.1-1.4 s of the event loop's 13-15 s, against 0.2 s with these thresholds (warm polls:
# 1,200-1,400/s against 1,700-1,900/s). Cyclic garbage waits longer, bounded by 50,000.
GC_THRESHOLDS = (50_000, 20, 20)


def tune_gc() -> None:
    """Collect cyclic garbage less often: the service's objects die by reference counting."""
    gc.set_threshold(*GC_THRESHOLDS)


WORKERS = os.cpu_count() or 1  # parse workers: one per core
WORKER_NICE = 10  # they yield a core to the event loop, which fetches, clusters and alerts


def parse_pool(workers: int = WORKERS) -> ProcessPoolExecutor:
    """Parsing is CPU-bound: a process pool keeps it off the event loop, on every core."""
    spawn = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(workers, mp_context=spawn, initializer=start_worker)


@contextmanager
def running_pool(workers: int = WORKERS) -> Iterator[ProcessPoolExecutor]:
    """The parse pool for the life of `run` or `once`, stopped at the end with `stop_pool`."""
    pool = parse_pool(workers)
    try:
        yield pool
    finally:
        stop_pool(pool)


STOP_SECONDS = 2.0  # an idle worker exits at once; one still parsing is ended after this


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Shut the pool down, its queued parses cancelled, without waiting for a parse that may
    never end (`PARSE_SECONDS` gave up on it): a worker still parsing after
    `STOP_SECONDS` is terminated. Waiting for it kept `once` from exiting, and `run` from
    stopping, for as long as the parse took."""
    workers = list(pool._processes.values())  # the executor's only handle on its workers
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + STOP_SECONDS
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            worker.terminate()
            worker.join()


def start_pool(pool: ProcessPoolExecutor, workers: int = WORKERS) -> None:
    """Start the pool's `workers` now, with the service, not on the first poll: returns once
    each has run a task, so each has finished `start_worker`."""
    ready: set[int] = set()
    for _ in range(100):  # a task holds its worker for a while, so the others take the rest
        ready.update(pool.map(_worker_pid, [0.02] * workers))
        if len(ready) == workers:
            return
    raise RuntimeError(f"{workers - len(ready)} of {workers} parse workers did not start")


def _worker_pid(hold: float) -> int:
    time.sleep(hold)
    return os.getpid()


def start_worker() -> None:
    """In a pool worker: run below the event loop's priority, exit with the service, leave
    Ctrl-C to it, load the word list every fingerprint needs, and collect cyclic garbage as
    the service does."""
    os.nice(WORKER_NICE)
    exit_with_parent()
    # Ctrl-C sends SIGINT to the terminal's whole process group: the service stops its
    # workers itself, and a worker interrupted in its queue's get printed a traceback
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    term_weight("news")  # loads wordfreq's list: about 0.3 s, paid here rather than in a poll
    load_lists()  # and what tells a story's language: about 0.4 s
    tune_gc()  # a feed's parse makes thousands of objects, and they too die by reference


def exit_with_parent() -> None:
    """In a pool worker: exit when the service dies, even by SIGKILL. A worker holds its own
    copy of the task queue's write end, so it would otherwise wait for work forever."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


# A feed's parse in the pool that takes longer fails its poll, named in the log, `watcher
# feeds` and its notice, where a parse stuck on hostile text held the poll, and its place
# among `poll.concurrency`, without a word. A 10 MB feed parses in seconds.
PARSE_SECONDS = 300.0


async def parse_in_pool(
    pool: Executor, parse: Callable[[], ParsedFeed],
    rules: tuple[Path, str, tuple[str, ...]] | None,
) -> tuple[ParsedFeed, Prepared]:  # fmt: skip
    """`prepare` of `parse` in the pool. Raises `ParseError` past `PARSE_SECONDS`."""
    parsing = asyncio.get_running_loop().run_in_executor(pool, prepare, parse, rules)
    try:
        return await asyncio.wait_for(parsing, PARSE_SECONDS)
    except TimeoutError:  # the worker goes on with it: a process cannot be interrupted
        raise ParseError(
            f"parsing took longer than {PARSE_SECONDS:g} s (the parse worker finishes it)"
        ) from None
