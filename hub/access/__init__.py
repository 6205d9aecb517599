"""Who may do what: users, their roles and tokens (``users``), and the one place that says
which role may take which action (``roles``)."""
