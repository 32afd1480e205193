"""One module per endpoint (INTERFACE.md section 4)."""
