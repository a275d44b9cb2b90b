"""Run a sweep's independent jobs on dask.distributed: a local cluster by default, or any
running scheduler (docs/sweeps.md).

:class:`Sweep` is a context manager around a ``distributed.Client``:

- without ``scheduler`` it starts a ``LocalCluster`` of ``jobs`` single-threaded worker
  processes, so a sweep on one machine needs nothing new;
- with ``scheduler`` (``--scheduler ADDRESS`` or ``APSQ_SCHEDULER``) it connects to a running
  ``dask scheduler`` and its workers. An address that cannot be reached raises
  :class:`SweepError` with one line.

Before any job runs, every worker must have this very project installed: the same
:func:`project_fingerprint` (version and a digest of the package's Python files). A worker
without the project, or with another revision, is refused by name.

:meth:`Sweep.map` submits the jobs, prints progress as they finish, and returns the results
in submission order. A job that raises is retried (``retries``); one that still fails is
reported with its label and the last lines of its error, after every other job has finished
(:class:`SweepFailed`). A worker that dies mid-job has its job rerun elsewhere by the
scheduler. Ctrl-C cancels the jobs still outstanding.

The scheduling, retries and transport are dask's; this module only adds the checks and the
reporting the project's sweeps share.
"""

import hashlib
import logging
import os
import time
from importlib import metadata
from pathlib import Path


__all__ = ["SweepError", "SweepFailed", "Sweep", "project_fingerprint", "add_sweep_options",
           "SCHEDULER_ENV"]


#: Environment variable naming a scheduler (what Makefile targets pass on).
SCHEDULER_ENV = "APSQ_SCHEDULER"


class SweepError(ValueError):
    """The sweep cannot start: the message is one line naming the thing and its value."""


class SweepFailed(Exception):
    """Some jobs failed after every other job finished.

    Members
    -------
    failures : list of (str, BaseException)
        Label and error of each failed job.
    results : list
        Every job's result in submission order (``None`` for the failed ones).
    """

    def __init__(self, failures, results):
        self.failures, self.results = failures, results
        lines = [f"{len(failures)} job(s) failed:"]
        for label, error in failures:
            tail = str(error).strip().splitlines()[-8:] or [type(error).__name__]
            lines.append(f"  {label}: {type(error).__name__}: " + "\n    ".join(tail))
        super().__init__("\n".join(lines))


#: The packages of the project (``[tool.setuptools] packages`` in pyproject.toml); a test
#: keeps the two lists equal.
PACKAGES = ("apsq_rae", "apsq_rae.golden", "apsq_rae.hdl", "apsq_rae.gen", "apsq_rae.area",
            "apsq_rae.area.cells", "apsq_rae.fpga", "apsq_rae.explore", "apsq_rae.tb",
            "apsq_rae.formal", "apsq_rae.mutate", "apsq_rae.sweep")


def project_fingerprint():
    """``"<version> <digest>"`` of the installed project: its version and a SHA-256 of the
    Python files of every package in :data:`PACKAGES` (package, file name, content), so that
    two installs of the same revision agree wherever they live, wheel or editable."""
    import importlib
    digest = hashlib.sha256()
    for package in PACKAGES:
        folder = Path(importlib.import_module(package).__path__[0])
        for path in sorted(folder.glob("*.py")):
            digest.update(f"{package}/{path.name}".encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    try:
        version = metadata.version("apsq-rae")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return f"{version} {digest.hexdigest()[:16]}"


def _worker_fingerprint():
    # Runs on each worker: a worker without the project fails to unpickle this function
    # (the module is missing) and the error comes back instead.
    return project_fingerprint()


def add_sweep_options(parser, default_jobs):
    """``--jobs`` and ``--scheduler`` for a sweep command."""
    parser.add_argument("--jobs", type=int, default=default_jobs, metavar="N",
                        help=f"local worker processes when no scheduler is given (>= 1); "
                             f"default {default_jobs}")
    parser.add_argument("--scheduler", default=os.environ.get(SCHEDULER_ENV), metavar="ADDRESS",
                        help=f"address of a running dask scheduler (tcp://host:8786) to send "
                             f"the jobs to instead; default ${SCHEDULER_ENV} if set, else a "
                             f"local cluster of --jobs workers")


class Sweep:
    """Independent jobs on a dask cluster (a context manager).

    Parameters
    ----------
    jobs : int
        Workers of the local cluster (ignored with ``scheduler``).
    scheduler : str, optional
        Address of a running scheduler.
    name : str
        Prefix of the progress lines (``[name] ...``).
    log : callable
        Where progress goes (``print`` by default).
    retries : int
        Extra attempts of a job that raises.
    connect_timeout : float
        Seconds to wait for a scheduler, and for its first worker.
    """

    def __init__(self, *, jobs=1, scheduler=None, name="sweep", log=print, retries=1,
                 connect_timeout=5.0):
        if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
            raise SweepError(f"--jobs = {jobs!r} is out of range (legal: >= 1)")
        self.jobs, self.scheduler, self.name, self.log = jobs, scheduler, name, log
        self.retries, self.connect_timeout = retries, connect_timeout
        self.client = self.cluster = None

    def __enter__(self):
        from distributed import Client, LocalCluster
        if self.scheduler:
            try:
                self.client = Client(self.scheduler, timeout=f"{self.connect_timeout}s")
            except (OSError, TimeoutError, ValueError) as error:
                message = str(error).splitlines()[0] if str(error) else type(error).__name__
                raise SweepError(f"--scheduler = {self.scheduler!r}: cannot reach a dask "
                                 f"scheduler there ({message})") from None
        else:
            # A free port for the scheduler's HTTP server: 8787 may belong to another cluster.
            self.cluster = LocalCluster(n_workers=self.jobs, threads_per_worker=1,
                                        processes=True, dashboard_address=":0",
                                        silence_logs=logging.CRITICAL)
            self.client = Client(self.cluster)
        try:
            self._check_workers()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        info = self.client.scheduler_info()
        link = (self.client.dashboard_link
                if self.scheduler and "dashboard" in info.get("services", {}) else None)
        where = f"scheduler {self.scheduler}" if self.scheduler else "a local cluster"
        self.log(f"[{self.name}] {len(info['workers'])} worker(s) on "
                 f"{where}" + (f"; dashboard {link}" if link else ""))
        return self

    def __exit__(self, *exc):
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None
        return False

    def _check_workers(self):
        try:
            self.client.wait_for_workers(1, timeout=self.connect_timeout)
        except TimeoutError:
            raise SweepError(f"--scheduler = {self.scheduler!r}: no worker joined within "
                             f"{self.connect_timeout:g} s") from None
        want = project_fingerprint()
        found = self.client.run(_worker_fingerprint, on_error="return")
        for worker, got in sorted(found.items()):
            if isinstance(got, BaseException):
                raise SweepError(f"worker {worker} cannot run apsq-rae jobs ({type(got).__name__}: "
                                 f"{str(got).splitlines()[0] if str(got) else ''}): install "
                                 f"this project there") from None
            if got != want:
                raise SweepError(f"worker {worker} has apsq-rae {got}, this machine {want}: "
                                 f"install the same revision on every worker")

    def map(self, fn, args, labels):
        """Run ``fn(*a)`` for each ``a`` in ``args``; return the results in that order.

        Raises
        ------
        SweepFailed
            When a job still fails after its retries (the others have finished).
        """
        from distributed import as_completed
        args, labels = list(args), list(labels)
        started = time.monotonic()
        futures = [self.client.submit(fn, *a, retries=self.retries, pure=False,
                                      key=f"{self.name}-{k}-{os.urandom(4).hex()}")
                   for k, a in enumerate(args)]
        index = {f.key: k for k, f in enumerate(futures)}
        results, failures = [None] * len(futures), []
        done = 0
        try:
            for future in as_completed(futures):
                k = index[future.key]
                if future.status == "error":
                    failures.append((labels[k], future.exception()))
                else:
                    results[k] = future.result()
                done += 1
                running = [labels[j] for j, f in enumerate(futures) if not f.done()][:3]
                self.log(f"[{self.name}] {done}/{len(futures)} done ({labels[k]}"
                         f"{', failed' if future.status == 'error' else ''}), "
                         f"{time.monotonic() - started:.0f} s"
                         + (f"; running {', '.join(running)}"
                            + (" ..." if len(futures) - done > len(running) else "")
                            if running else ""))
        except KeyboardInterrupt:
            self.client.cancel(futures)
            self.log(f"[{self.name}] interrupted: {len(futures) - done} job(s) cancelled")
            raise
        if failures:
            raise SweepFailed(failures, results)
        return results
