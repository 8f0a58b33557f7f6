"""Bare Flask "hello", the yardstick for a signed-in page without DeskDirector calls."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    """The smallest page Flask can serve."""
    return "Hello"
