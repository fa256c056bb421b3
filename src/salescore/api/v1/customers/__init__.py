"""The routes of customers: customers and their contacts."""
