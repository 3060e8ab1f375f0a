"""Helpers shared by every test package: free ports and servers that start and stop."""
