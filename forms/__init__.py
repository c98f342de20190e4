"""Flask-WTF forms, one module per form."""
