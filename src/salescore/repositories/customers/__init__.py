"""The persistence of customers: customers and their contacts."""
