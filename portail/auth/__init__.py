"""Admin authentication: login and logout, server-side sessions, `login_required`."""
