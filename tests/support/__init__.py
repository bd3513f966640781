"""Test helpers shared by every test package (servers, clients, clocks, certificates, fixtures)."""
