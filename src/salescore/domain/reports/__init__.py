"""The rules of reports: every report, and the exchange rates they convert with."""
