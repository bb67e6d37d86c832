"""The REST API (``/api/v1/``): the project-wide parts (errors, idempotency, pagination,
throttling, scoping, schema) and the ledger/balance endpoints. Each app's own endpoints
live in its ``api`` package."""
