"""The inspector's core: knows nothing of Textual, Rich or aiohttp."""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8686  # not 4040: ngrok's own inspector listens there
LOCAL_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}/"  # where a default `segment-inspector` receives
