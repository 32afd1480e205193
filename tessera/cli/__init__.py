"""The `tessera` command (INTERFACE.md section 1)."""
