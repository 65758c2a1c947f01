"""The edges people use: the `qa` command and the browser app, and the Chinese words they speak."""
