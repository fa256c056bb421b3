"""The rules of customers: customers and their contacts."""
