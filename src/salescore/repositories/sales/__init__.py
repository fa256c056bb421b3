"""The persistence of sales: opportunities and their lifecycle, seller shares, sales
processes and stages, configuration lists, campaigns."""
