"""提法演变: how a formulation was put in each document, year by year, and what changed."""
