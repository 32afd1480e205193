"""Creating and changing accounts, users, clients and tokens: the rules the CLI and the
management API share. Every refusal is a ManagementError whose message says what to fix.
"""
