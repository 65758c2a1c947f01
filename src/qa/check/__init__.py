"""引文核对: find the quotations of a draft, locate each in the indexed sources, and judge it."""
