"""The web: the application factory, the staff pages, the JSON API, templates and static
files, and the rate limits that guard them."""
