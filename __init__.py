"""standardiste: a terminal agent console for customer service."""
