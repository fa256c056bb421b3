"""Use cases: one async function per user action, one transaction each."""
