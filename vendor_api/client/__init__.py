"""The agency-side client: only the standard library and ``cryptography``; it ships to
agencies and never imports the portal."""
