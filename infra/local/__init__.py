"""Runs an app on one machine: the local AWS, its functions, its HTTP API, its events
and its site.
"""
