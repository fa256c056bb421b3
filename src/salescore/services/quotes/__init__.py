"""Products, quotes and their signing."""
