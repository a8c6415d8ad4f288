"""The web app: public pages (subscribe, confirm, unsubscribe, preferences) and, in Step 6,
the editor's desk and the archive."""
