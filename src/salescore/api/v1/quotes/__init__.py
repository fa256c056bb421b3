"""The routes of products and quotes."""
