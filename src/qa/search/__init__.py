"""Finding: words and vectors of texts (keyword tokens, embedding models), and ranking by them."""
