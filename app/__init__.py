"""The application layer: the one service `cli/` calls (`app.service.Service`), and the names
`cli/` needs from the inner layers, re-exported by what they hold (`app.commands`,
`app.errors`, `app.inputs`, `app.events`, `app.reports`).

Each module loads only what it names, so a command imports only what it uses: this package's
`__init__` imports nothing.
"""
