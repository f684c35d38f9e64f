"""kube-scheduler: picks a node for every unassigned pod through a plugin framework.

Flow: informers -> SchedulingQueue -> Scheduler.schedule_one (filter, score, assume)
-> DefaultBinder POSTs `pods/<name>/binding`.
"""
