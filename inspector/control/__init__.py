"""The control API: one inspector driven from elsewhere, by scripts, CI and attached TUIs.

`server.ControlServer` listens on its own port (never the receiver's, never the tunnel's)
and serves `api.make_app`: the hub's methods over JSON and HTTP, and its notices as a
WebSocket stream (`feed.Feed`), each call guarded by the token of `token.py`.
"""
