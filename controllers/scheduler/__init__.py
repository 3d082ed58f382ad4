"""The scheduler: binds pending pods (schedulerName default-scheduler) to nodes."""
