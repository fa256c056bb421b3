"""The rules of access: organizations, users, departments, sales regions and sales groups,
API keys, logging in."""
