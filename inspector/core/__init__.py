"""The inspector's core: knows nothing of Textual, Rich or aiohttp."""
