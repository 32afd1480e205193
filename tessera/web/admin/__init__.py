"""The admin console (INTERFACE.md section 6, "The console"): server-rendered pages over
tessera.management, one module per page; common.py holds the guard, forms and rendering."""
