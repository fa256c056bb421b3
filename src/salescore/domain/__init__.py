"""Pure business rules: standard library only, time and ids passed in."""
