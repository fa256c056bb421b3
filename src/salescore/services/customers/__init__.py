"""The use cases of customers: customers and their contacts."""
