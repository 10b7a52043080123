"""roomchat's tooling: the bench (``python -m roomchat_tools.bench``) and, later, the rest of it."""
