"""Task messages: task names and headers, the publisher protocol, and reading Celery
messages as kombu writes them to SQS (bounded, for the worker's guard and the DLQ tools)."""
