"""The routes of feed: the change feed (the event log) and idempotent POSTs."""
