"""Xentara security: configuration folder, users, passwords, ACLs, tokens, certificates."""
