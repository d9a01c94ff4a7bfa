"""gongkai: government information-disclosure annual reports to canonical fields."""
__version__ = "0.1.0"
