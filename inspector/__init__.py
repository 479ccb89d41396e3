"""segment-inspector: receive, check and answer the requests Segment sends a destination."""

__version__ = "0.1.0"
