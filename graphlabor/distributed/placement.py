"""Placement hints that survive the loss of every worker they name.

The engine places tasks with *loose* worker restrictions
(``client.submit(..., workers=[address], allow_other_workers=True)``):
consecutive partitions on one worker, block ``b`` on worker ``b mod W``. If a
task must be recomputed while no worker is running (every worker was
restarted at once, as a nanny does to workers over their memory limit, or a
one-worker cluster lost its worker), the scheduler parks it as
``no-worker``; when workers come back under new addresses, distributed
(2026.8) reschedules only the parked tasks whose restrictions name a running
worker, ignoring ``allow_other_workers``, so the run waits for ever. The same
happens without any loss when every worker is *paused* at once (80% of its
memory limit): a task placed while no worker runs is parked, and when one
worker resumes, the parked tasks restricted to the other (still paused) one
stay parked.

:class:`ForgetGoneWorkers`, a scheduler plugin, clears the loose restrictions
of parked tasks that name no running worker, whenever a worker joins or
resumes: the scheduler then places them anywhere, as the loose restriction
allows. This module imports nothing of graphlabor, and is sent to
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
    """When a worker arrives or resumes, unpin parked tasks whose loose restrictions name no running worker."""

    name = NAME
    idempotent = True  # installed once per scheduler

    async def start(self, scheduler: Any) -> None:
        self.scheduler = scheduler

    def add_worker(self, scheduler: Any, worker: str) -> None:
        forget_gone_workers(scheduler, worker)

    def log_event(self, topic: str, msg: Any) -> None:
        # a paused worker resuming: logged (topic = its address) just before the
        # scheduler looks for parked tasks it can run
        if (isinstance(msg, dict) and msg.get("action") == "worker-status-change" and msg.get("status") == "running"
                and getattr(self, "scheduler", None) is not None):
            forget_gone_workers(self.scheduler, topic)


def forget_gone_workers(scheduler: Any, arriving: str | None = None) -> int:
    """Clear the worker restrictions of ``no-worker`` tasks that allow other workers and name none running.

    ``arriving``: a worker joining or resuming, counted as running. Returns
    the number of tasks unpinned. Runs on the scheduler (its event loop),
    before it looks for parked tasks the new (or resumed) worker can run.

    Examples
    --------
    >>> from types import SimpleNamespace as T
    >>> gone = T(worker_restrictions={"tcp://a:1"}, loose_restrictions=True)
    >>> strict = T(worker_restrictions={"tcp://a:1"}, loose_restrictions=False)
    >>> forget_gone_workers(T(running=[T(address="tcp://b:2")], unrunnable=[gone, strict]))
    1
    >>> gone.worker_restrictions, strict.worker_restrictions
    (None, {'tcp://a:1'})
    >>> paused = T(worker_restrictions={"tcp://a:1"}, loose_restrictions=True)  # a:1 alive but paused
    >>> forget_gone_workers(T(running=[], unrunnable=[paused]), "tcp://b:2"), paused.worker_restrictions
    (1, None)
    """
    alive = {ws.address for ws in scheduler.running}
    if arriving is not None:
        alive.add(arriving)
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
