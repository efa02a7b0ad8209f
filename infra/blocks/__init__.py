"""Reusable building blocks: each returns troposphere objects for a stack to declare."""
