"""Names of the metrics the API exports and the alarms read (one spelling for both)."""

HTTP_REQUESTS = "fluxa_http_requests_total"
HTTP_REQUEST_DURATION = "fluxa_http_request_duration_seconds"
QUEUE_MESSAGES = "fluxa_queue_messages"
EVENTS = "fluxa_events_total"
TASKS = "fluxa_tasks_total"
TASK_DURATION = "fluxa_task_duration_seconds"
