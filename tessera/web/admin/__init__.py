"""The admin console (INTERFACE.md section 6, "The console"): server-rendered pages over
tessera.management, one module per page; common.py holds the guard and rendering, forms.py
reads a posted form."""
