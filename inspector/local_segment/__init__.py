"""The local Segment: Segment's Tracking API on the receiver's port, what Segment does to each
event (dedupe, integrations, envelope), and its delivery to the endpoint.

`calls` (what the API accepts), `pipeline` (each event's way through Segment) and `trace`
(where the events went) speak no HTTP; `api` serves the API with aiohttp and `deliveries`
sends each event on through `inspector.delivery`.
"""
