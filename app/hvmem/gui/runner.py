"""The one road for blocking work: run a callable off the GUI thread, answer on it.

A `Runner` lives in the GUI thread. `Runner.submit` hands a callable to one of its
worker threads and returns a `Job`; the worker posts the outcome to the runner by a
queued signal, so the runner's slot, and every callback and `Job` signal after it, runs
in the GUI thread. Nothing a worker does touches a widget.

The workers are Python daemon threads, at most a few per runner, each ending when no
work is queued. A network call stuck on a hung host therefore never holds the exit:
`shutdown` waits a moment, then drops what is still running, whose late answer is
discarded. (A QThreadPool would be waited for without end when Qt tears it down.)

Failures arrive as `HvmemError`. Any other exception is logged with its traceback and
wrapped into an `HvmemError` of kind INTERNAL, so the GUI has one error type to show.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from hvmem.errors import ErrorKind, HvmemError

log = logging.getLogger("hvmem.gui")

# Every runner ever made, so that tests can check that none has work left running.
_RUNNERS: weakref.WeakSet[Runner] = weakref.WeakSet()


class Job(QObject):
    """One piece of blocking work, as the GUI thread sees it.

    Signals:
        succeeded(object): the callable's return value.
        failed(object): the `HvmemError` it raised (others are wrapped).
        finished(): after either of them.
    """

    succeeded = Signal(object)
    failed = Signal(object)
    finished = Signal()

    def __init__(self, job_id: int, description: str,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job_id = job_id
        self.description = description
        self.done = False


# How long, at most, closing a window waits on the GUI thread for running work.
SHUTDOWN_WAIT_MS = 1000


class _Task:
    """Runs one callable on a worker thread and posts the outcome to the runner."""

    def __init__(self, runner: Runner, job_id: int, description: str,
                 func: Callable[[], Any]) -> None:
        self._post_signal = runner._delivered.emit  # to a QObject of the GUI thread
        self._job_id = job_id
        self._description = description
        self._func = func

    def run(self) -> None:
        try:
            value = self._func()
        except HvmemError as exc:
            self._post(self._job_id, False, exc)
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the GUI
            # Stderr shows warnings and up: a sentence there, the traceback in the file.
            log.error("%s failed unexpectedly: %r", self._description, exc)
            log.debug("%s failed unexpectedly", self._description, exc_info=True)
            wrapped = HvmemError(
                ErrorKind.INTERNAL,
                f"hvmem failed unexpectedly while doing this: {self._description}",
                details=f"{type(exc).__name__}: {exc}",
                hint="This is a bug in hvmem; the log file has the traceback.",
            )
            self._post(self._job_id, False, wrapped)
        else:
            self._post(self._job_id, True, value)

    def _post(self, job_id: int, ok: bool, value: object) -> None:
        try:
            self._post_signal(job_id, ok, value)
        except RuntimeError:
            # The runner went with its window while this call hung; nobody waits for
            # the answer any more.
            log.debug("%s answered after its window closed; dropped", self._description)


class _Workers:
    """At most `limit` daemon threads running queued tasks; each ends when none is
    left."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._queue: deque[_Task] = deque()
        self._running = 0
        self._lock = threading.Condition()
        self._names = itertools.count(1)

    def start(self, task: _Task) -> None:
        with self._lock:
            if self._running >= self.limit:
                self._queue.append(task)
                return
            self._running += 1
        threading.Thread(target=self._work, args=(task,), daemon=True,
                         name=f"hvmem-worker-{next(self._names)}").start()

    def _work(self, task: _Task | None) -> None:
        while task is not None:
            task.run()
            with self._lock:
                task = self._queue.popleft() if self._queue else None
                if task is None:
                    self._running -= 1
                    self._lock.notify_all()

    def wait(self, msecs: int) -> bool:
        """Block until no task runs or is queued, at most `msecs` ms."""
        deadline = time.monotonic() + msecs / 1000
        with self._lock:
            while self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
        return True

    def drop_queued(self) -> int:
        with self._lock:
            count = len(self._queue)
            self._queue.clear()
            return count


class Runner(QObject):
    """Runs blocking callables on worker threads; results come back on the GUI thread.

    Signals:
        busy_changed(bool): true while at least one job is running.
    """

    busy_changed = Signal(bool)
    # (job id, succeeded, value or error); emitted by workers, received in the GUI thread.
    _delivered = Signal(int, bool, object)

    def __init__(self, parent: QObject | None = None, max_threads: int = 4) -> None:
        super().__init__(parent)
        self._workers = _Workers(max_threads)
        self._ids = itertools.count(1)
        self._jobs: dict[int, tuple[Job, Callable[[Any], None] | None,
                                    Callable[[HvmemError], None] | None]] = {}
        # Queued explicitly: the emitting thread is a worker, the receiver lives here.
        self._delivered.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        _RUNNERS.add(self)

    def submit(
        self,
        description: str,
        func: Callable[[], Any],
        on_success: Callable[[Any], None] | None = None,
        on_error: Callable[[HvmemError], None] | None = None,
    ) -> Job:
        """Run `func()` on a worker; call back on the GUI thread with its outcome.

        Args:
            description: what the work is, for logs and for an unexpected failure.
            func: the blocking callable; it must not touch any widget.
            on_success: called with the return value, in the GUI thread.
            on_error: called with the `HvmemError`, in the GUI thread.

        Returns:
            The `Job`, whose signals fire after the callbacks.
        """
        job_id = next(self._ids)
        job = Job(job_id, description, self)
        was_idle = not self._jobs
        self._jobs[job_id] = (job, on_success, on_error)
        log.debug("job %s started: %s", job_id, description)

        self._workers.start(_Task(self, job_id, description, func))
        if was_idle:
            self.busy_changed.emit(True)
        return job

    def active_count(self) -> int:
        """How many submitted jobs have not been delivered yet."""
        return len(self._jobs)

    def wait_for_done(self, msecs: int = 30000) -> bool:
        """Block until the workers are done, at most `msecs` (shutdown and tests)."""
        return self._workers.wait(msecs)

    def shutdown(self, msecs: int = SHUTDOWN_WAIT_MS) -> bool:
        """Drop queued work, wait at most `msecs` for running work, then drop the
        deliveries nobody will read (at exit). A call still running goes on on its
        daemon thread; its answer is discarded.

        Returns:
            Whether every worker finished in time.
        """
        dropped = self._workers.drop_queued()
        done = self.wait_for_done(msecs)
        for job_id, (job, _ok, _err) in list(self._jobs.items()):
            log.debug("job %s dropped at shutdown: %s", job_id, job.description)
        if dropped or not done:
            log.info("%s job(s) left behind at shutdown", len(self._jobs))
        self._jobs.clear()
        return done

    @Slot(int, bool, object)
    def _deliver(self, job_id: int, ok: bool, value: object) -> None:
        entry = self._jobs.pop(job_id, None)
        if entry is None:
            return
        job, on_success, on_error = entry
        job.done = True
        log.debug("job %s %s: %s", job_id, "done" if ok else "failed", job.description)

        if ok:
            if on_success is not None:
                on_success(value)
            job.succeeded.emit(value)
        else:
            assert isinstance(value, HvmemError)
            if on_error is not None:
                on_error(value)
            job.failed.emit(value)

        job.finished.emit()
        job.deleteLater()
        if not self._jobs:
            self.busy_changed.emit(False)


def runners_with_work() -> list[Runner]:
    """Runners that still have undelivered jobs (the test guard's view)."""
    return [runner for runner in list(_RUNNERS) if runner.active_count()]
