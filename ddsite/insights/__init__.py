"""Insights: charts of the tickets a contact or agent may see, built on the page-extension point."""
