"""gongkai."""
