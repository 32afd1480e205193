"""The HTTP adapter: parse each request once, call the protocol, render the answer."""
