"""The account's REST API (/api/v2), authenticated by bearer token or browser session."""
