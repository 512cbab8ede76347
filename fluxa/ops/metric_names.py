"""Names of the metrics the API exports and the alarms read (one spelling for both)."""

HTTP_REQUESTS = "fluxa_http_requests_total"
HTTP_REQUEST_DURATION = "fluxa_http_request_duration_seconds"
