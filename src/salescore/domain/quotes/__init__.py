"""The rules of offers and quotes: line and offer arithmetic, a quote's lifecycle, its frozen
and hashed content, its public link (DOMAIN.md §6)."""
