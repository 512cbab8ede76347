"""Celery side of Fluxa: the app, tasks, retry and dead-letter policy, beat schedule."""
