"""The index on disk: segments, builds switched atomically, the embedding cache, and bringing it up to date."""
