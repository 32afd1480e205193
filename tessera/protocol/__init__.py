"""The OAuth 2.0 / OpenID Connect rules: framework-free, storage behind the ports in ports.py."""
