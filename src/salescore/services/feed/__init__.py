"""The use cases of the feed: the change feed (the event log) and idempotent POSTs."""
