"""Pages for contacts, inside the client portal."""
