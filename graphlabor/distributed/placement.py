"""Placement hints that survive the loss of every worker they name.

The engine places tasks with *loose* worker restrictions
(``client.submit(..., workers=[address], allow_other_workers=True)``):
consecutive partitions on one worker, block ``b`` on worker ``b mod W``. If a
task must be recomputed while no worker is running (every worker was
restarted at once, as a nanny does to workers over their memory limit, or a
one-worker cluster lost its worker), the scheduler parks it as
``no-worker``; when workers come back under new addresses, distributed
(2026.8) reschedules only the parked tasks whose restrictions name a running
worker, ignoring ``allow_other_workers``, so the run waits for ever.

:class:`ForgetGoneWorkers`, a scheduler plugin, drops from the loose
restrictions of parked tasks the addresses of workers that are gone, whenever
a worker joins: the scheduler then places them anywhere, as the loose
restriction allows. This module imports nothing of graphlabor, and is sent to
the scheduler by value (:func:`install`), so a scheduler without graphlabor
installed accepts it. (It imports distributed: the engine imports it only
with a client at hand.)
"""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import SchedulerPlugin

#: The plugin's name on the scheduler (installed once per scheduler).
NAME = "graphlabor-forget-gone-workers"


class ForgetGoneWorkers(SchedulerPlugin):
    """On a worker's arrival, unpin parked tasks whose loose restrictions name only workers that are gone."""

    name = NAME
    idempotent = True  # installed once per scheduler

    def add_worker(self, scheduler: Any, worker: str) -> None:
        forget_gone_workers(scheduler)


def forget_gone_workers(scheduler: Any) -> int:
    """Clear the worker restrictions of ``no-worker`` tasks that allow other workers and name none alive.

    Returns the number of tasks unpinned. Runs on the scheduler (its event
    loop), before it looks for parked tasks the new worker can run.

    Examples
    --------
    >>> from types import SimpleNamespace as T
    >>> gone = T(worker_restrictions={"tcp://a:1"}, loose_restrictions=True)
    >>> strict = T(worker_restrictions={"tcp://a:1"}, loose_restrictions=False)
    >>> forget_gone_workers(T(workers={"tcp://b:2": None}, unrunnable=[gone, strict]))
    1
    >>> gone.worker_restrictions, strict.worker_restrictions
    (None, {'tcp://a:1'})
    """
    alive = scheduler.workers
    unpinned = 0
    for ts in list(scheduler.unrunnable):
        wr = ts.worker_restrictions
        if ts.loose_restrictions and wr and not any(a in alive for a in wr):
            ts.worker_restrictions = None
            unpinned += 1
    return unpinned


def install(client: Any) -> bool:
    """Install :class:`ForgetGoneWorkers` on the scheduler of ``client`` (idempotent); False if it refuses.

    The plugin travels by value (cloudpickle), so the scheduler needs
    distributed only. A scheduler that refuses plugins (its
    ``distributed.scheduler.pickle`` off) runs without it: the engine then
    recovers from losing some workers, but not from losing all at once.
    """
    import sys

    import cloudpickle  # type: ignore[import-untyped]

    module = sys.modules[__name__]
    if module.__name__ not in cloudpickle.list_registry_pickle_by_value():
        cloudpickle.register_pickle_by_value(module)
    try:
        client.register_plugin(ForgetGoneWorkers(), name=NAME)
    except Exception:
        return False
    return True
