"""Products, quote templates, quotes and their documents."""
