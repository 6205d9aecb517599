"""The administrators' web console: server-rendered pages (Jinja2) under /console.

No front-end build step and nothing from the internet: the templates, the stylesheet and the
one small script are files of this package.  ``hub.console.pages`` is its one door
(``console_router``); sign-in, sessions, CSRF and throttling live in ``hub.console.session``.
"""
