"""The web app: public pages (subscribe, confirm, unsubscribe, preferences, app.py), the
editor's desk (desk.py, desk_articles.py) and the public archive (archive.py)."""
