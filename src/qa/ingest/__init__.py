"""Reading texts: files to Unicode, noise out, head and sections found, paragraphs cut into sentences and windows."""
