"""Outbound HTTP: fetching documents from addresses a caller chose (client ID metadata
documents), guarded against server-side request forgery. See docs/client-metadata-documents.md.
"""
