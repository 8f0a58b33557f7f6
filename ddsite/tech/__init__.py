"""Pages for agents, inside TECH."""
